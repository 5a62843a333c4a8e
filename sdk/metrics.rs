//! Metrics: counters, gauges and histograms defined by name. Labels are encoded in the name the way the
//! proxy expects (for Envoy, e.g. `my_metric.method.GET` with a tag-extraction rule). Define metrics in
//! a root context (typically at plugin start) and use them from any callback.

use crate::abi::{env, MetricType};
use crate::error::{check, Error};

/// Defines (or finds) a metric of `kind` called `name`; returns its id. Errors: [`Error::BadArgument`]
/// for an invalid name.
pub fn define(kind: MetricType, name: &str) -> Result<u32, Error> {
    let mut id = 0u32;
    // SAFETY: the pointer describes `name`; `id` is a valid out-pointer.
    check(unsafe { env::proxy_define_metric(kind.into(), name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

/// The current value of metric `id`. Errors: [`Error::NotFound`] for an unknown metric.
pub fn value(id: u32) -> Result<u64, Error> {
    let mut value = 0u64;
    // SAFETY: `value` is a valid out-pointer.
    check(unsafe { env::proxy_get_metric(id, &mut value) })?;
    Ok(value)
}

/// Adds `delta` to counter or gauge `id`. Errors: [`Error::NotFound`] for an unknown metric,
/// [`Error::BadArgument`] for a histogram or a negative delta on a counter.
pub fn increment(id: u32, delta: i64) -> Result<(), Error> {
    // SAFETY: no pointers.
    check(unsafe { env::proxy_increment_metric(id, delta) })
}

/// Sets gauge `id` to `value`, or records `value` in histogram `id`. Errors: [`Error::NotFound`] for an
/// unknown metric, [`Error::BadArgument`] for a counter.
pub fn record(id: u32, value: u64) -> Result<(), Error> {
    // SAFETY: no pointers.
    check(unsafe { env::proxy_record_metric(id, value) })
}

/// A counter: a value that only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter(u32);

impl Counter {
    /// Defines (or finds) the counter `name`. Errors: as [`define`].
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
    /// Defines (or finds) the gauge `name`. Errors: as [`define`].
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
    /// Defines (or finds) the histogram `name`. Errors: as [`define`].
    pub fn new(name: &str) -> Result<Self, Error> {
        define(MetricType::Histogram, name).map(Histogram)
    }

    /// Records one value. Errors: as [`record`].
    pub fn record(&self, value: u64) -> Result<(), Error> {
        record(self.0, value)
    }
}
