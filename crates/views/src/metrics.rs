//! The views' Prometheus metrics (`GET /metrics`): events applied per
//! type, consumer lag per partition, store latency per batch. Lag comes
//! from the consumer's own statistics (see `handoff_bus::SinkStats::lag`).

use std::sync::Arc;

use handoff_bus::SinkStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventType {
    pub event_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabel {
    pub topic: String,
    pub partition: String,
}

pub struct Metrics {
    registry: Registry,
    pub events_applied: Family<EventType, Counter>,
    pub store_latency: Histogram,
    lag: Family<PartitionLabel, Gauge>,
    sink: std::sync::Mutex<Option<Arc<SinkStats>>>,
    also: std::sync::Mutex<Vec<Extra>>,
}

/// Another service's exposition, served on the same `/metrics` (`handoff
/// up` adds the notifier's).
pub type Extra = Box<dyn Fn() -> String + Send + Sync>;

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("handoff_views");
        let events_applied = Family::<EventType, Counter>::default();
        registry.register(
            "events_applied",
            "Events written to the views, by event type",
            events_applied.clone(),
        );
        // 1 ms to about 16 s.
        let store_latency = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "store_batch_seconds",
            "Time to write one batch and its offsets to the store",
            store_latency.clone(),
        );
        let lag = Family::<PartitionLabel, Gauge>::default();
        registry.register(
            "consumer_lag",
            "Records on the broker not yet applied, per partition",
            lag.clone(),
        );
        Metrics {
            registry,
            events_applied,
            store_latency,
            lag,
            sink: std::sync::Mutex::new(None),
            also: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl Metrics {
    /// Where lag is read from when metrics are rendered.
    pub fn watch_sink(&self, stats: Arc<SinkStats>) {
        *self.sink.lock().expect("metrics lock") = Some(stats);
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        if let Some(stats) = self.sink.lock().expect("metrics lock").as_ref() {
            for ((topic, partition), lag) in stats.lag() {
                self.lag
                    .get_or_create(&PartitionLabel {
                        topic,
                        partition: partition.to_string(),
                    })
                    .set(lag);
            }
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        // One exposition ends with one `# EOF`.
        let also = self.also.lock().expect("metrics lock");
        if !also.is_empty() {
            let eof = "# EOF\n";
            let mut joined = out.trim_end_matches(eof).to_owned();
            for extra in also.iter() {
                joined.push_str(extra().trim_end_matches(eof));
            }
            joined.push_str(eof);
            out = joined;
        }
        out
    }

    /// Serves another exposition on the same `/metrics`.
    pub fn also_render(&self, extra: Extra) {
        self.also.lock().expect("metrics lock").push(extra);
    }
}
