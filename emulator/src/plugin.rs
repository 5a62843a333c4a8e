//! The plugin under test and how a callback into it fails: [`Plugin`] (compiled into the test, or a
//! built `.wasm`), [`Mode`], [`CallbackFailure`], and [`emulator_tests!`](crate::emulator_tests), which
//! runs one test body in both modes.

use crate::{glue, module, InProcess, PluginInstance};
use proxywasm::dispatcher::{Dispatcher, RootContextFactory};

/// Defines each test once and runs it in both modes: `native` (the plugin compiled into the test) and
/// `wasm` (the crate's built `.wasm` in the wasm runner; see [`Plugin::wasm_for_test`] for where it is
/// looked up). The `wasm` test fails, naming the command that (re)builds the module, when the module is
/// missing or older than the plugin's sources ([`module`]): it never passes without having run. Each
/// `fn name(plugin) { … }` becomes a module `name` with the tests `native` and `wasm`; the body builds its
/// emulator with [`EmulatorBuilder::load`](crate::EmulatorBuilder::load).
///
/// ```ignore
/// proxywasm_emulator::emulator_tests! {
///     plugin: new_root;
///
///     fn adds_a_header(plugin) {
///         let host = Emulator::builder().load(plugin);
///         let stream = host.new_http_stream();
///         host.request_headers(stream, &[(":path", "/")], true);
///         assert_eq!(host.http_stream(stream).request_headers.len(), 2);
///     }
/// }
/// ```
#[macro_export]
macro_rules! emulator_tests {
    (plugin: $factory:expr; $( $(#[$meta:meta])* fn $name:ident($plugin:ident) $body:block )*) => {
        $(
            $(#[$meta])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn body($plugin: &$crate::Plugin) $body

                #[test]
                fn native() {
                    body(&$crate::Plugin::Native($factory));
                }

                #[test]
                fn wasm() {
                    body(&$crate::Plugin::wasm_for_test(
                        env!("CARGO_MANIFEST_DIR"),
                        env!("CARGO_CRATE_NAME"),
                    ));
                }
            }
        )*
    };
}

/// The plugin instance an emulator drives.
pub(crate) enum Instance {
    Native(InProcess<Dispatcher>),
    Wasm(Box<glue::runner::WasmInstance>),
}

impl Instance {
    pub(crate) fn plugin(&mut self) -> &mut dyn PluginInstance {
        match self {
            Instance::Native(native) => native,
            Instance::Wasm(wasm) => &mut **wasm,
        }
    }
}

/// Which build of a plugin an [`Emulator`](crate::Emulator) drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The plugin compiled into the test, called directly.
    Native,
    /// The plugin's `.wasm` module, run in wasmtime.
    Wasm,
}

/// A plugin to test: compiled into the test (its root-context factory) or a built `.wasm` module. Tests
/// written once for both use [`emulator_tests!`].
#[derive(Debug, Clone)]
pub enum Plugin {
    /// The plugin compiled into this test binary.
    Native(RootContextFactory),
    /// A compiled module.
    Wasm(std::path::PathBuf),
}

impl Plugin {
    /// The built `.wasm` of the crate under test, for a test in wasm mode, as found by
    /// [`Plugin::wasm_module_for_test`].
    ///
    /// # Panics
    ///
    /// When the module is missing or stale: the test fails with the reason and the command that fixes
    /// it.
    pub fn wasm_for_test(manifest_dir: &str, crate_name: &str) -> Plugin {
        Plugin::Wasm(Plugin::wasm_module_for_test(manifest_dir, crate_name))
    }

    /// The path of the crate's built `.wasm` for the ABI version this test binary was built for:
    /// `<dir>/<ABI version>/<crate_name>.wasm`, where `<dir>` is `$PROXYWASM_PLUGIN_DIR`, else
    /// `$CARGO_TARGET_DIR/plugins`, else `target/plugins` of the nearest folder above `manifest_dir` that
    /// holds a `Cargo.lock` (where `scripts/plugins` puts them).
    ///
    /// # Panics
    ///
    /// When the module does not exist, or is older than a source of the plugin or of the SDK
    /// ([`module::check_module`]); the message names the command that (re)builds it.
    pub fn wasm_module_for_test(manifest_dir: &str, crate_name: &str) -> std::path::PathBuf {
        module::built_module(
            std::path::Path::new(manifest_dir),
            crate_name,
            proxywasm::abi::ABI_VERSION,
        )
        .unwrap_or_else(|problem| panic!("wasm mode cannot run: {problem}"))
    }

    /// The mode an emulator for this plugin runs in.
    pub fn mode(&self) -> Mode {
        match self {
            Plugin::Native(_) => Mode::Native,
            Plugin::Wasm(_) => Mode::Wasm,
        }
    }
}

/// Why a callback into the plugin failed. Natively a panic; in wasm a trap (a panic aborts the guest, an
/// out-of-bounds access, running out of fuel or stack); in both a result the ABI version does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackFailure {
    /// The callback, e.g. `proxy_on_request_headers`.
    pub callback: &'static str,
    /// What happened.
    pub kind: FailureKind,
}

/// What went wrong in a [`CallbackFailure`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The plugin panicked (native mode), with the panic message.
    Panicked(String),
    /// The guest trapped (wasm mode), with wasmtime's description and backtrace.
    Trapped(String),
    /// The callback returned a value the ABI version does not define.
    BadResult(u64),
}

impl CallbackFailure {
    /// A panic caught around a native callback.
    pub fn panicked(callback: &'static str, payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-text panic payload".to_string());
        CallbackFailure {
            callback,
            kind: FailureKind::Panicked(message),
        }
    }

    /// A trap raised by wasmtime during a wasm callback.
    pub fn trapped(callback: &'static str, error: wasmtime::Error) -> Self {
        CallbackFailure {
            callback,
            kind: FailureKind::Trapped(format!("{error:?}")),
        }
    }

    /// A callback result outside the version's enumeration.
    pub fn bad_result(callback: &'static str, value: u64) -> Self {
        CallbackFailure {
            callback,
            kind: FailureKind::BadResult(value),
        }
    }
}

impl std::fmt::Display for CallbackFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let callback = self.callback;
        match &self.kind {
            FailureKind::Panicked(message) => {
                write!(f, "plugin callback `{callback}` panicked: {message}")
            }
            FailureKind::Trapped(message) => {
                write!(f, "plugin callback `{callback}` trapped: {message}")
            }
            FailureKind::BadResult(value) => write!(
                f,
                "plugin callback `{callback}` returned {value}, which ABI {} does not define",
                proxywasm::abi::ABI_VERSION
            ),
        }
    }
}

impl std::error::Error for CallbackFailure {}
