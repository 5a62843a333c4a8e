//! The SDK's error type: one variant per failure status the spec defines, plus decoding failures.
//!
//! `Error`, its mapping from and to status codes and its messages are generated from the spec's
//! `status` enumeration (`sdk/generated/error.rs`); this module adds what is not an ABI fact.

use crate::abi::Status;
use crate::codec::DecodeError;

include!("generated/error.rs");

impl Error {
    /// The error for a non-zero status code; `None` for 0 (success).
    pub fn from_status_code(code: u32) -> Option<Error> {
        match Status::try_from(code) {
            Ok(status) => Error::from_status(status),
            Err(_) => Some(Error::UnknownStatus(code)),
        }
    }
}

/// Turns a raw status code into a `Result` (success checked inline: every hostcall wrapper does this).
#[inline(always)]
pub(crate) fn check(code: u32) -> Result<(), Error> {
    if code == 0 {
        Ok(())
    } else {
        Err(failure(code))
    }
}

/// The error for a non-zero status code.
#[cold]
#[inline(never)]
fn failure(code: u32) -> Error {
    Error::from_status_code(code).unwrap_or(Error::UnknownStatus(code))
}

impl From<crate::task::TaskError> for Error {
    fn from(e: crate::task::TaskError) -> Self {
        Error::Task(e)
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Malformed(e)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_one_for_one_and_back() {
        for &status in Status::ALL {
            match Error::from_status(status) {
                None => assert_eq!(status, Status::Ok),
                Some(e) => assert_eq!(e.status_code(), u32::from(status), "{status}"),
            }
        }
    }

    #[test]
    fn unknown_codes_are_kept() {
        assert_eq!(Error::from_status_code(5), Some(Error::UnknownStatus(5)));
        assert_eq!(Error::from_status_code(0), None);
        assert_eq!(check(8), Err(Error::CasMismatch));
    }
}
