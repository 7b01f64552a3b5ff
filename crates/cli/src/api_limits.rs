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
    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "HANDOFF_REQUEST_TIMEOUT", default_value_t = Limits::default().timeout.as_secs())]
    pub request_timeout: u64,
}

impl ApiLimitArgs {
    pub fn limits(&self) -> anyhow::Result<Limits> {
        if self.rate_limit == 0 || self.rate_burst == 0 || self.request_timeout == 0 {
            anyhow::bail!(
                "--rate-limit, --rate-burst and --request-timeout must be at least 1 (got {}, {}, {})",
                self.rate_limit,
                self.rate_burst,
                self.request_timeout
            );
        }
        Ok(Limits {
            per_second: self.rate_limit,
            burst: self.rate_burst,
            timeout: Duration::from_secs(self.request_timeout),
        })
    }
}
