//! Kafka header helpers.

use rdkafka::message::{Header, Headers, OwnedHeaders};

/// Builds Kafka headers from (name, value) pairs.
pub fn owned(pairs: &[(&str, String)]) -> OwnedHeaders {
    pairs
        .iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value.as_bytes()),
            })
        })
}

/// The first value of a header as text, if present and UTF-8.
pub fn get<'a, H: Headers>(headers: &'a H, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .and_then(|v| std::str::from_utf8(v).ok())
}
