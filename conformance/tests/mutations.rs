//! A deterministic mutation corpus over a small valid module, so CI exercises what the fuzzer does:
//! the audit must return a report or a parse error for every mutant, never panic.

mod common;

use proxywasm_conformance::{audit, AbiChoice};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Offsets of the section headers' size fields: each section is an id byte then a LEB128 size.
fn section_size_offsets(module: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut at = 8;
    while at < module.len() {
        let size_at = at + 1;
        let (mut size, mut shift, mut i) = (0usize, 0, size_at);
        while let Some(&b) = module.get(i) {
            size |= usize::from(b & 0x7f) << shift;
            shift += 7;
            i += 1;
            if b & 0x80 == 0 || shift > 28 {
                break;
            }
        }
        offsets.push(size_at);
        at = i + size;
    }
    offsets
}

fn mutate(rng: &mut Rng, module: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut m = module.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(6) {
            // Bit flip.
            0 => {
                let i = rng.below(m.len());
                if let Some(b) = m.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            // Truncation.
            1 => m.truncate(rng.below(m.len() + 1)),
            // Byte insertion.
            2 => {
                let i = rng.below(m.len() + 1);
                m.insert(i, rng.next() as u8);
            }
            // Byte overwrite with an interesting value.
            3 => {
                let i = rng.below(m.len());
                let v = [0x00, 0x7f, 0x80, 0xff, 0x01][rng.below(5)];
                if let Some(b) = m.get_mut(i) {
                    *b = v;
                }
            }
            // LEB128 size inflation of a section: replace the size with a huge or off-by-some value.
            4 => {
                if let Some(&at) = sizes.get(rng.below(sizes.len())) {
                    if at < m.len() {
                        let inflated: &[u8] = match rng.below(3) {
                            0 => &[0xff, 0xff, 0xff, 0xff, 0x0f],
                            1 => &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
                            _ => &[0xff, 0x7f],
                        };
                        let end = (at + 1).min(m.len());
                        m.splice(at..end, inflated.iter().copied());
                    }
                }
            }
            // Duplicate a chunk (repeats sections or entries).
            _ => {
                let a = rng.below(m.len());
                let b = (a + rng.below(32)).min(m.len());
                let chunk: Vec<u8> = m.get(a..b).map(<[u8]>::to_vec).unwrap_or_default();
                let at = rng.below(m.len() + 1);
                m.splice(at..at, chunk);
            }
        }
    }
    m
}

#[test]
fn thousands_of_mutants_never_panic() {
    let module = common::small_valid_module();
    assert!(audit(&module, AbiChoice::Auto, None).is_ok_and(|r| r.ok));
    let sizes = section_size_offsets(&module);
    assert!(!sizes.is_empty());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut parsed, mut rejected) = (0, 0);
    for _ in 0..4000 {
        let mutant = mutate(&mut rng, &module, &sizes);
        match audit(&mutant, AbiChoice::Auto, None) {
            Ok(report) => {
                parsed += 1;
                assert_eq!(
                    report.ok,
                    !report
                        .findings
                        .iter()
                        .any(|f| f.severity == proxywasm_conformance::Severity::Error)
                );
            }
            Err(e) => {
                rejected += 1;
                assert!(!e.message.contains('\n'));
            }
        }
        for abi in proxywasm_conformance::symbols::versions() {
            let _ = audit(&mutant, AbiChoice::Version(abi), None);
        }
    }
    eprintln!("mutants: {parsed} parsed, {rejected} rejected");
    assert!(rejected > 0);
}
