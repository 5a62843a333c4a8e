//! Logging through the host: explicit functions per level, formatted macros, and a [`log`](mod@::log) crate
//! backend so `log::info!` works in plugins and honours the host's log level.
//!
//! Available in every callback and in every ABI version.

use crate::abi::{env, LogLevel};
use crate::error::{check, Error};

/// Logs `message` at `level`. Errors: whatever the host returns (normally none).
pub fn log(level: LogLevel, message: &str) -> Result<(), Error> {
    check(env::safe::proxy_log(level.into(), message.as_bytes()))
}

/// The host's current log level: messages below it are dropped. Errors: [`Error::Unimplemented`]
/// under ABI 0.1.0 and 0.2.0, which lack `proxy_get_log_level`.
pub fn log_level() -> Result<LogLevel, Error> {
    let mut raw = 0u32;
    check(env::safe::proxy_get_log_level(&mut raw))?;
    LogLevel::try_from(raw).map_err(|_| Error::BadArgument)
}

macro_rules! level_fns {
    ($($(#[$doc:meta])* $name:ident => $level:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(message: &str) {
            let _ = log(LogLevel::$level, message);
        }
    )*};
}

level_fns! {
    /// Logs at trace level, ignoring errors.
    trace => Trace;
    /// Logs at debug level, ignoring errors.
    debug => Debug;
    /// Logs at info level, ignoring errors.
    info => Info;
    /// Logs at warn level, ignoring errors.
    warn => Warn;
    /// Logs at error level, ignoring errors.
    error => Error;
    /// Logs at critical level, ignoring errors.
    critical => Critical;
}

/// Logs a formatted message at trace level: `proxywasm::tracef!("{} bytes", n)`.
#[macro_export]
macro_rules! tracef { ($($arg:tt)*) => { $crate::logging::trace(&::std::format!($($arg)*)) }; }
/// Logs a formatted message at debug level.
#[macro_export]
macro_rules! debugf { ($($arg:tt)*) => { $crate::logging::debug(&::std::format!($($arg)*)) }; }
/// Logs a formatted message at info level.
#[macro_export]
macro_rules! infof { ($($arg:tt)*) => { $crate::logging::info(&::std::format!($($arg)*)) }; }
/// Logs a formatted message at warn level.
#[macro_export]
macro_rules! warnf { ($($arg:tt)*) => { $crate::logging::warn(&::std::format!($($arg)*)) }; }
/// Logs a formatted message at error level.
#[macro_export]
macro_rules! errorf { ($($arg:tt)*) => { $crate::logging::error(&::std::format!($($arg)*)) }; }
/// Logs a formatted message at critical level.
#[macro_export]
macro_rules! criticalf { ($($arg:tt)*) => { $crate::logging::critical(&::std::format!($($arg)*)) }; }

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

fn to_host(level: log::Level) -> LogLevel {
    match level {
        log::Level::Trace => LogLevel::Trace,
        log::Level::Debug => LogLevel::Debug,
        log::Level::Info => LogLevel::Info,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Error => LogLevel::Error,
    }
}

fn to_filter(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Trace => log::LevelFilter::Trace,
        LogLevel::Debug => log::LevelFilter::Debug,
        LogLevel::Info => log::LevelFilter::Info,
        LogLevel::Warn => log::LevelFilter::Warn,
        LogLevel::Error | LogLevel::Critical => log::LevelFilter::Error,
    }
}

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let _ = log(to_host(record.level()), &record.args().to_string());
        }
    }

    fn flush(&self) {}
}

/// Installs the [`log`](mod@::log) crate backend (idempotent), with the host's log level as the maximum level when
/// the host reports one (ABI 0.2.1), and `Trace` otherwise (the host filters by itself).
pub fn init_log_backend() {
    let _ = log::set_logger(&LOGGER);
    refresh_log_level();
}

/// Reads the host's log level again and applies it to the [`log`](mod@::log) crate backend.
pub fn refresh_log_level() {
    log::set_max_level(log_level().map_or(log::LevelFilter::Trace, to_filter));
}
