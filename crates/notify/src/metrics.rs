//! The notifier's Prometheus metrics: notifications made, delivered and
//! dead-lettered per rule and channel, failed attempts, time from outbox
//! to delivery, and the outbox backlog. A dead letter is also a log line
//! at error level: an operator learns of it both ways.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Labels {
    pub rule: String,
    pub channel: String,
}

pub struct Metrics {
    registry: Registry,
    pub delivered: Family<Labels, Counter>,
    pub failed_attempts: Family<Labels, Counter>,
    pub dead_lettered: Family<Labels, Counter>,
    pub delivery_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("handoff_notify");
        let delivered = Family::<Labels, Counter>::default();
        registry.register(
            "delivered",
            "Notifications the channel accepted",
            delivered.clone(),
        );
        let failed_attempts = Family::<Labels, Counter>::default();
        registry.register(
            "failed_attempts",
            "Delivery attempts that failed and will be retried or dead-lettered",
            failed_attempts.clone(),
        );
        let dead_lettered = Family::<Labels, Counter>::default();
        registry.register(
            "dead_lettered",
            "Notifications that ran out of retries (handoff notify dlq list)",
            dead_lettered.clone(),
        );
        // 10 ms to about 80 minutes: retries stretch delivery a long way.
        let delivery_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 20));
        registry.register(
            "delivery_seconds",
            "From the outbox row being written to the channel accepting it",
            delivery_seconds.clone(),
        );
        Metrics {
            registry,
            delivered,
            failed_attempts,
            dead_lettered,
            delivery_seconds,
        }
    }
}

impl Metrics {
    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
