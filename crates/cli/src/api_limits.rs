//! The options that set the API's limits (`handoff_http::Limits`), shared
//! by every subcommand that serves the API.

use std::time::Duration;

use clap::Args;
use handoff_http::Limits;

#[derive(Args, Debug, Clone)]
pub struct ApiLimitArgs {
    /// Requests a second each token may make, on average; beyond it the
    /// API answers 429 with Retry-After.
    #[arg(long, env = "HANDOFF_RATE_LIMIT", default_value_t = Limits::default().per_second)]
    pub rate_limit: u32,
    /// Requests a token may make at once before the rate applies.
    #[arg(long, env = "HANDOFF_RATE_BURST", default_value_t = Limits::default().burst)]
    pub rate_burst: u32,
    /// Seconds a read or an acknowledgement may take before it is
    /// answered 503.
    #[arg(long, env = "HANDOFF_REQUEST_TIMEOUT", default_value_t = Limits::default().timeout.as_secs())]
    pub request_timeout: u64,
    /// Seconds an upload to POST /v1/ingest/{agency} may take, body and
    /// publishing, before it is answered 503.
    #[arg(long, env = "HANDOFF_UPLOAD_TIMEOUT", default_value_t = Limits::default().upload_timeout.as_secs())]
    pub upload_timeout: u64,
}

impl ApiLimitArgs {
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let values = [
            ("--rate-limit", u64::from(self.rate_limit)),
            ("--rate-burst", u64::from(self.rate_burst)),
            ("--request-timeout", self.request_timeout),
            ("--upload-timeout", self.upload_timeout),
        ];
        if let Some((name, _)) = values.iter().find(|(_, v)| *v == 0) {
            anyhow::bail!("{name} must be at least 1");
        }
        Ok(Limits {
            per_second: self.rate_limit,
            burst: self.rate_burst,
            timeout: Duration::from_secs(self.request_timeout),
            upload_timeout: Duration::from_secs(self.upload_timeout),
        })
    }
}
