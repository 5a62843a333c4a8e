//! The date format of host profiles: `YYYY-MM-DD`. This file is the one home of that rule: the
//! conformance crate checks the dates of `--host` targets with it, and the generator
//! (`codegen/src/hosts.rs`) includes this same file with `#[path]` to check the dates in
//! `spec/hosts/*.json`, since neither crate depends on the other.

/// Whether `text` is written `YYYY-MM-DD`: ten characters, dashes at offsets 4 and 7, digits elsewhere
/// (the calendar is not checked).
pub fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::is_date;

    #[test]
    fn only_year_month_day_with_dashes_is_a_date() {
        assert!(is_date("2024-12-19"));
        assert!(!is_date("2024-12-1"));
        assert!(!is_date("2024/12/19"));
        assert!(!is_date("20241-2-19"));
        assert!(!is_date(""));
    }
}
