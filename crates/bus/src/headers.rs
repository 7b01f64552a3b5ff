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

/// Every header of a record as owned (name, value) pairs, in order; a
/// header without a value gives an empty one.
pub fn pairs<H: Headers>(headers: Option<&H>) -> Vec<(String, Vec<u8>)> {
    headers
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}
