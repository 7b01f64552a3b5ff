//! The webhook channel: the notification as JSON, POSTed, signed with
//! HMAC-SHA256 over the exact body bytes under the subscriber's secret, so
//! the receiver can tell it came from Handoff and was not altered. Any
//! 2xx is delivery; anything else (or no answer within the timeout) is a
//! failed attempt to retry.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// `sha256=<hex>` of the body under the secret: the `X-Handoff-Signature`
/// header's value.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` under `secret` (what a
/// receiver does; compared in constant time).
pub fn verify(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_part) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_part) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// An error and what caused it ("error sending request" alone does not
/// tell an operator the receiver refused the connection).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub struct Webhook {
    pub url: String,
    pub secret: Vec<u8>,
    pub client: reqwest::Client,
}

impl Webhook {
    pub fn new(url: &str, secret: Vec<u8>) -> Self {
        Webhook {
            url: url.to_owned(),
            secret,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout builds"),
        }
    }

    /// POSTs `body`, signed, with the idempotency key and sequence as
    /// headers too (a receiver can dedupe without parsing the body).
    pub async fn post(
        &self,
        body: &Value,
        idempotency_key: Option<&str>,
        sequence: i64,
    ) -> Result<(), String> {
        let bytes = serde_json::to_vec(body).expect("JSON values serialise");
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-handoff-signature", signature(&self.secret, &bytes))
            .header("x-handoff-sequence", sequence.to_string());
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request
            .body(bytes)
            .send()
            .await
            .map_err(|e| format!("POST {}: {}", self.url, with_causes(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("POST {}: the receiver answered {status}", self.url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_and_secret() {
        let sig = signature(b"secret", b"{\"a\":1}");
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
        assert!(verify(b"secret", b"{\"a\":1}", &sig));
        assert!(!verify(b"secret", b"{\"a\":2}", &sig));
        assert!(!verify(b"other", b"{\"a\":1}", &sig));
        assert!(!verify(b"secret", b"{\"a\":1}", "sha256=zz"));
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
