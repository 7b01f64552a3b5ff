//! Who may call, and how often: the bearer token is checked against every
//! known digest (in constant time, see `handoff_auth`), then counted
//! against its own rate, so one agency system's runaway loop slows only
//! itself.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use handoff_auth::{Denied, TokenEntry, Tokens};
use handoff_events::Agency;

use crate::limits::Limits;
use crate::problem::{Kind, Problem};

pub struct Guard {
    tokens: Arc<Tokens>,
    limits: Limits,
    /// Keyed by token id; only authenticated tokens get a key, so the map
    /// is bounded by the tokens file.
    rate: DefaultKeyedRateLimiter<String>,
}

impl Guard {
    pub fn new(tokens: Tokens, limits: Limits) -> Guard {
        let per_second = NonZeroU32::new(limits.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.burst).unwrap_or(per_second);
        Guard {
            tokens: Arc::new(tokens),
            limits,
            rate: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
        }
    }

    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The caller's token, if it is known and within its rate.
    pub fn admit(&self, headers: &HeaderMap) -> Result<TokenEntry, Problem> {
        let token = self
            .tokens
            .authenticate(authorization(headers))
            .map_err(denied)?;
        self.count(token)?;
        Ok(token.clone())
    }

    /// The caller's token, if it is known, within its rate and speaks for
    /// `agency` (403 otherwise).
    pub fn admit_for(&self, headers: &HeaderMap, agency: Agency) -> Result<TokenEntry, Problem> {
        let token = self
            .tokens
            .authorize(authorization(headers), agency)
            .map_err(denied)?;
        self.count(token)?;
        Ok(token.clone())
    }

    /// The token a person signs in to the console with (the secret
    /// itself, as pasted), if it is known.
    pub fn sign_in(&self, secret: &str) -> Result<TokenEntry, Problem> {
        let token = self
            .tokens
            .authenticate(Some(&format!("Bearer {}", secret.trim())))
            .map_err(denied)?;
        Ok(token.clone())
    }

    /// Counts a request of a signed-in session against its token's rate,
    /// as every API request is.
    pub fn count(&self, token: &TokenEntry) -> Result<(), Problem> {
        self.rate.check_key(&token.id).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Problem::rate_limited(wait, self.limits.per_second)
        })
    }
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok())
}

fn denied(denied: Denied) -> Problem {
    match denied {
        Denied::WrongAgency { .. } => Problem::new(Kind::Forbidden, denied.to_string()),
        _ => Problem::new(Kind::Unauthorized, denied.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_over_its_rate_is_told_when_to_retry_and_others_are_not_slowed() {
        let (a, ta) = handoff_auth::new_token("a", Agency::Ice);
        let (b, tb) = handoff_auth::new_token("b", Agency::HhsOrr);
        let guard = Guard::new(
            Tokens {
                tokens: vec![ta, tb],
            },
            Limits {
                per_second: 1,
                burst: 2,
                ..Limits::default()
            },
        );
        let header = |s: &str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", format!("Bearer {s}").parse().unwrap());
            h
        };
        assert!(guard.admit(&header(&a)).is_ok());
        assert!(guard.admit(&header(&a)).is_ok());
        let refused = guard.admit(&header(&a)).unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.retry_after_seconds, Some(1));
        assert!(guard.admit(&header(&b)).is_ok(), "b has its own rate");
        assert_eq!(
            guard
                .admit_for(&header(&b), Agency::Ice)
                .unwrap_err()
                .status,
            403
        );
        assert_eq!(guard.admit(&HeaderMap::new()).unwrap_err().status, 401);
    }
}
