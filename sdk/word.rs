//! Words of state read on hot paths: the async layer's per-poll words (the task being polled, the call
//! being delivered, counters) and the dispatcher's flag for registered calls. A wasm plugin without
//! threads keeps each in a plain static, read in place; elsewhere (native tests, one plugin instance per
//! thread) each is a thread-local, as the rest of the SDK's state.
//! Either way a word is written only by the thread that owns it, so relaxed loads and stores suffice.

use std::sync::atomic::{AtomicU64, Ordering};

/// One word of state: `get`, `set` and `replace`, as a `Cell<u64>`.
pub(crate) struct Word(AtomicU64);

impl Word {
    pub(crate) const fn new(value: u64) -> Self {
        Word(AtomicU64::new(value))
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    #[inline(always)]
    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Sets `value` and returns the old one (a load and a store: only the owning thread writes).
    #[inline(always)]
    pub(crate) fn replace(&self, value: u64) -> u64 {
        let old = self.get();
        self.set(value);
        old
    }

    /// Calls `f` with the word: the same spelling as a thread-local's `with`.
    #[inline(always)]
    #[cfg_attr(
        not(all(target_family = "wasm", not(target_feature = "atomics"))),
        allow(dead_code)
    )]
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&Word) -> R) -> R {
        f(self)
    }
}

/// Declares words: statics on wasm without threads, thread-locals elsewhere; read as `NAME.with(Word::get)`.
macro_rules! words {
    ($($(#[$meta:meta])* static $name:ident = $init:expr;)*) => {
        $(
            #[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
            $(#[$meta])*
            static $name: $crate::word::Word = $crate::word::Word::new($init);
        )*
        #[cfg(not(all(target_family = "wasm", not(target_feature = "atomics"))))]
        thread_local! {
            $(
                $(#[$meta])*
                static $name: $crate::word::Word = const { $crate::word::Word::new($init) };
            )*
        }
    };
}
pub(crate) use words;
