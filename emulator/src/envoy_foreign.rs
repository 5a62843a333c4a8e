//! The foreign functions Envoy registers itself, which a plugin may call by name without the test
//! registering them (a function the test registers under the same name takes precedence).
//!
//! - `set_envoy_filter_state` (Envoy's source/extensions/common/wasm/foreign.cc, then
//!   `Context::setEnvoyFilterState` in context.cc): the arguments are a `SetEnvoyFilterStateArguments`
//!   protobuf (`path` = field 1, `value` = field 2, `span` = field 3); the value is stored in the current
//!   stream's filter state under `path` itself, with no `wasm.` prefix; without a stream the answer is
//!   `not_found`, and arguments that do not parse are `bad_argument`. Deliberate difference: Envoy also
//!   answers `not_found` when no filter-state object factory is registered for `path` (e.g.
//!   `envoy.tcp_proxy.cluster` has one); the emulator cannot know the proxy's registry and accepts any
//!   non-empty path.

use super::state::State;
use proxywasm::abi::Status;

/// The fields of a `SetEnvoyFilterStateArguments` message.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FilterStateArguments {
    pub path: Vec<u8>,
    pub value: Vec<u8>,
    pub span: u64,
}

fn varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Decodes the protobuf wire format of `SetEnvoyFilterStateArguments`; `None` when it does not parse.
pub(crate) fn decode_filter_state_arguments(bytes: &[u8]) -> Option<FilterStateArguments> {
    let mut args = FilterStateArguments::default();
    let mut at = 0;
    while at < bytes.len() {
        let key = varint(bytes, &mut at)?;
        match (key >> 3, key & 7) {
            (field, 2) => {
                let len = usize::try_from(varint(bytes, &mut at)?).ok()?;
                let end = at.checked_add(len)?;
                let data = bytes.get(at..end)?.to_vec();
                at = end;
                match field {
                    1 => args.path = data,
                    2 => args.value = data,
                    _ => {}
                }
            }
            (field, 0) => {
                let v = varint(bytes, &mut at)?;
                if field == 3 {
                    args.span = v;
                }
            }
            (_, 5) => at = at.checked_add(4).filter(|&e| e <= bytes.len())?,
            (_, 1) => at = at.checked_add(8).filter(|&e| e <= bytes.len())?,
            _ => return None,
        }
    }
    Some(args)
}

/// Runs Envoy's built-in foreign function `name`, if it is one the emulator models.
pub(crate) fn call(
    state: &mut State,
    name: &str,
    arguments: &[u8],
) -> Option<Result<Vec<u8>, Status>> {
    match name {
        "set_envoy_filter_state" => Some(set_envoy_filter_state(state, arguments)),
        _ => None,
    }
}

fn set_envoy_filter_state(state: &mut State, arguments: &[u8]) -> Result<Vec<u8>, Status> {
    let args = decode_filter_state_arguments(arguments).ok_or(Status::BadArgument)?;
    if args.path.is_empty() {
        return Err(Status::NotFound);
    }
    let current = state.current;
    if !state.http.contains_key(&current) && !state.tcp.contains_key(&current) {
        return Err(Status::NotFound);
    }
    state.filter_state.insert((current, args.path), args.value);
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_arguments_and_refuses_truncated_ones() {
        // path "p" (field 1), value "vv" (field 2), span 2 (field 3), and an unknown fixed32 field 4.
        let bytes = [
            0x0a, 1, b'p', 0x12, 2, b'v', b'v', 0x18, 2, 0x25, 0, 0, 0, 0,
        ];
        assert_eq!(
            decode_filter_state_arguments(&bytes),
            Some(FilterStateArguments {
                path: b"p".to_vec(),
                value: b"vv".to_vec(),
                span: 2
            })
        );
        for cut in 1..bytes.len() - 4 {
            if cut != 3 && cut != 7 && cut != 9 {
                assert_eq!(decode_filter_state_arguments(&bytes[..cut]), None, "{cut}");
            }
        }
        assert_eq!(decode_filter_state_arguments(&[0x0a, 200]), None);
    }
}
