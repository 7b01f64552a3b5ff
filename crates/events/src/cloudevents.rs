//! CloudEvents Kafka-binding headers and the W3C `traceparent`.
//!
//! Kept free of rdkafka: the bus turns these pairs into Kafka headers, and
//! any consumer can route or dedupe on them without decoding Avro.

use rand::Rng;

use crate::event::Event;

pub const SPEC_VERSION: &str = "1.0";
/// Confluent-framed Avro, as the `content-type` of the binding.
pub const CONTENT_TYPE: &str = "application/vnd.confluent.avro";

/// The headers every published event carries, as (name, value) pairs.
pub fn headers(event: &Event, traceparent: Option<&str>) -> Vec<(&'static str, String)> {
    let meta = event.meta();
    vec![
        ("ce_id", meta.event_id.clone()),
        (
            "ce_source",
            format!(
                "/handoff/{}/{}",
                meta.source_agency.short(),
                meta.source_system
            ),
        ),
        ("ce_type", event.full_name()),
        ("ce_time", meta.occurred_at.to_rfc3339()),
        ("ce_specversion", SPEC_VERSION.to_owned()),
        ("content-type", CONTENT_TYPE.to_owned()),
        (
            "traceparent",
            traceparent
                .map(str::to_owned)
                .unwrap_or_else(new_traceparent),
        ),
    ]
}

/// A fresh W3C trace context: version 00, random trace and span ids, sampled.
pub fn new_traceparent() -> String {
    let mut rng = rand::rng();
    let trace: u128 = rng.random_range(1..=u128::MAX);
    let span: u64 = rng.random_range(1..=u64::MAX);
    format!("00-{trace:032x}-{span:016x}-01")
}

/// Checks the shape `00-<32 hex>-<16 hex>-<2 hex>` with non-zero ids.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_hexdigit());
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && parts[1].chars().any(|c| c != '0')
        && hex(parts[2], 16)
        && parts[2].chars().any(|c| c != '0')
        && hex(parts[3], 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_traceparents_are_valid_and_distinct() {
        let a = new_traceparent();
        assert!(is_valid_traceparent(&a), "{a}");
        assert_ne!(a, new_traceparent());
        assert!(!is_valid_traceparent("00-0000-00-01"));
        assert!(!is_valid_traceparent(&format!(
            "00-{}-{}-01",
            "0".repeat(32),
            "1".repeat(16)
        )));
    }
}
