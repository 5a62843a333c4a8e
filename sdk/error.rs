//! The SDK's error type: one variant per status code the host can return, plus decoding failures.

use crate::abi::Status;
use crate::codec::DecodeError;
use core::fmt;

/// Why an SDK call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The host has no such item (header, property, shared-data key, queue, call).
    NotFound,
    /// The host rejected an argument, or the call is not allowed in the current callback or context.
    BadArgument,
    /// The host could not serialize the value it was asked for.
    SerializationFailure,
    /// The host could not parse a value the plugin passed.
    ParseFailure,
    /// A pointer or length fell outside the plugin's memory.
    InvalidMemoryAccess,
    /// The shared queue is empty.
    Empty,
    /// The shared-data entry changed since its compare-and-swap value was read: read it again and retry.
    CasMismatch,
    /// The host failed for a reason of its own.
    InternalFailure,
    /// The host, or the selected ABI version, does not provide this operation.
    Unimplemented,
    /// The host returned a status code the ABI does not define.
    UnknownStatus(u32),
    /// The host handed back bytes the SDK could not decode.
    Malformed(DecodeError),
    /// An asynchronous operation ([`crate::task`]) failed or was misused.
    Task(crate::task::TaskError),
}

impl Error {
    /// The error for a non-zero status code; `None` for 0 (success).
    pub fn from_status_code(code: u32) -> Option<Error> {
        match Status::try_from(code) {
            Ok(status) => Error::from_status(status),
            Err(_) => Some(Error::UnknownStatus(code)),
        }
    }

    /// The error for a status; `None` for [`Status::Ok`].
    pub fn from_status(status: Status) -> Option<Error> {
        Some(match status {
            Status::Ok => return None,
            Status::NotFound => Error::NotFound,
            Status::BadArgument => Error::BadArgument,
            Status::SerializationFailure => Error::SerializationFailure,
            Status::ParseFailure => Error::ParseFailure,
            Status::InvalidMemoryAccess => Error::InvalidMemoryAccess,
            Status::Empty => Error::Empty,
            Status::CasMismatch => Error::CasMismatch,
            Status::InternalFailure => Error::InternalFailure,
            Status::Unimplemented => Error::Unimplemented,
        })
    }

    /// The status code a host would use for this error (`internal_failure` for decoding failures and
    /// task errors).
    pub fn status_code(&self) -> u32 {
        match self {
            Error::NotFound => Status::NotFound.into(),
            Error::BadArgument => Status::BadArgument.into(),
            Error::SerializationFailure => Status::SerializationFailure.into(),
            Error::ParseFailure => Status::ParseFailure.into(),
            Error::InvalidMemoryAccess => Status::InvalidMemoryAccess.into(),
            Error::Empty => Status::Empty.into(),
            Error::CasMismatch => Status::CasMismatch.into(),
            Error::InternalFailure | Error::Malformed(_) | Error::Task(_) => {
                Status::InternalFailure.into()
            }
            Error::Unimplemented => Status::Unimplemented.into(),
            Error::UnknownStatus(code) => *code,
        }
    }
}

/// Turns a raw status code into a `Result`.
pub(crate) fn check(code: u32) -> Result<(), Error> {
    match Error::from_status_code(code) {
        None => Ok(()),
        Some(e) => Err(e),
    }
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound => f.write_str("not found"),
            Error::BadArgument => f.write_str("bad argument, or not allowed in this callback"),
            Error::SerializationFailure => f.write_str("the host could not serialize the value"),
            Error::ParseFailure => f.write_str("the host could not parse the value"),
            Error::InvalidMemoryAccess => f.write_str("invalid memory access"),
            Error::Empty => f.write_str("the queue is empty"),
            Error::CasMismatch => f.write_str("compare-and-swap mismatch"),
            Error::InternalFailure => f.write_str("internal failure in the host"),
            Error::Unimplemented => {
                f.write_str("not implemented by the host or the selected ABI version")
            }
            Error::UnknownStatus(code) => write!(f, "unknown status code {code}"),
            Error::Malformed(e) => write!(f, "malformed data from the host: {e}"),
            Error::Task(e) => write!(f, "{e}"),
        }
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
