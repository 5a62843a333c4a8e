//! Metrics: counters, gauges and histograms defined by name. Labels are encoded in the name the way the
//! proxy expects (for Envoy, e.g. `my_metric.method.GET` with a tag-extraction rule).
//!
//! # Define once
//!
//! Envoy hands out a new metric id, and keeps a new entry for it for the life of the VM, on every
//! `proxy_define_metric`, even for a name it has seen (`Context::defineMetric` in
//! source/extensions/common/wasm/context.cc): defining per request grows the proxy's memory without
//! bound while the counts still look right. So:
//! - define metrics once, in a root context (`on_plugin_start`), keep the typed handles ([`Counter`],
//!   [`Gauge`], [`Histogram`]) and share them with the stream contexts;
//! - and as a safety net, [`define`] (and so every `new`) remembers the id of each kind and name it has
//!   defined in this VM and returns it again without asking the host: a handle created per request costs
//!   a lookup, never a host allocation.
//!
//! The host emulator counts definitions the way Envoy allocates them
//! (`Emulator::metric_definitions`), so a test can check that a plugin defines each metric once.

use crate::abi::{env, MetricType};
use crate::error::{check, Error};
use std::cell::RefCell;

thread_local! {
    /// The ids this VM was given: (kind, name, id), searched in order. A plugin defines a handful of
    /// metrics, so a scan beats a map here and links far less code than `BTreeMap` or `HashMap`.
    static DEFINED: RefCell<Vec<(u32, Box<str>, u32)>> = const { RefCell::new(Vec::new()) };
}

/// Forgets the remembered ids (a new emulated VM starts on this thread).
pub(crate) fn forget_definitions() {
    DEFINED.with(|d| d.borrow_mut().clear());
}

/// The id of the metric of `kind` called `name`: the one this VM already defined, else a new definition
/// from the host. Errors: [`Error::BadArgument`] for an invalid name or kind.
pub fn define(kind: MetricType, name: &str) -> Result<u32, Error> {
    let raw_kind: u32 = kind.into();
    let known = DEFINED.with(|d| {
        d.borrow()
            .iter()
            .find(|(k, n, _)| *k == raw_kind && **n == *name)
            .map(|&(_, _, id)| id)
    });
    if let Some(id) = known {
        return Ok(id);
    }
    let mut id = 0u32;
    check(env::safe::proxy_define_metric(
        raw_kind,
        name.as_bytes(),
        &mut id,
    ))?;
    DEFINED.with(|d| d.borrow_mut().push((raw_kind, name.into(), id)));
    Ok(id)
}

/// The current value of metric `id`. Errors: [`Error::NotFound`] for an unknown metric.
pub fn value(id: u32) -> Result<u64, Error> {
    let mut value = 0u64;
    check(env::safe::proxy_get_metric(id, &mut value))?;
    Ok(value)
}

/// Adds `delta` to counter or gauge `id`. Errors: [`Error::NotFound`] for an unknown metric,
/// [`Error::BadArgument`] for a histogram or a counter delta of 0 or less (Envoy's `incrementMetric`).
pub fn increment(id: u32, delta: i64) -> Result<(), Error> {
    check(env::safe::proxy_increment_metric(id, delta))
}

/// Sets gauge `id` to `value`, records `value` in histogram `id`, or adds `value` to counter `id`
/// (Envoy's `recordMetric`). Errors: [`Error::NotFound`] for an unknown metric.
pub fn record(id: u32, value: u64) -> Result<(), Error> {
    check(env::safe::proxy_record_metric(id, value))
}

/// A counter: a value that only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter(u32);

impl Counter {
    /// The counter `name`, defined once per VM (see the module docs). Errors: as [`define`].
    pub fn new(name: &str) -> Result<Self, Error> {
        define(MetricType::Counter, name).map(Counter)
    }

    /// Adds `n`. Errors: as [`increment`].
    pub fn add(&self, n: u64) -> Result<(), Error> {
        increment(self.0, i64::try_from(n).map_err(|_| Error::BadArgument)?)
    }

    /// Adds 1. Errors: as [`increment`].
    pub fn increment(&self) -> Result<(), Error> {
        increment(self.0, 1)
    }

    /// The current value. Errors: as [`value`].
    pub fn value(&self) -> Result<u64, Error> {
        value(self.0)
    }
}

/// A gauge: a value that goes up and down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gauge(u32);

impl Gauge {
    /// The gauge `name`, defined once per VM (see the module docs). Errors: as [`define`].
    pub fn new(name: &str) -> Result<Self, Error> {
        define(MetricType::Gauge, name).map(Gauge)
    }

    /// Adds `delta` (negative to decrease). Errors: as [`increment`].
    pub fn add(&self, delta: i64) -> Result<(), Error> {
        increment(self.0, delta)
    }

    /// Sets the value. Errors: as [`record`].
    pub fn set(&self, value: u64) -> Result<(), Error> {
        record(self.0, value)
    }

    /// The current value. Errors: as [`value`].
    pub fn value(&self) -> Result<u64, Error> {
        value(self.0)
    }
}

/// A histogram: a distribution of recorded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Histogram(u32);

impl Histogram {
    /// The histogram `name`, defined once per VM (see the module docs). Errors: as [`define`].
    pub fn new(name: &str) -> Result<Self, Error> {
        define(MetricType::Histogram, name).map(Histogram)
    }

    /// Records one value. Errors: as [`record`].
    pub fn record(&self, value: u64) -> Result<(), Error> {
        record(self.0, value)
    }
}
