//! The limits that keep one caller from taking the service down: a rate
//! per token, a time limit on every answer, and the layers that make every
//! failure (a timeout, a panic, a rejection axum produced itself) a problem
//! answer.

use std::any::Any;
use std::time::Duration;

use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;

use crate::problem::{Kind, Problem};
use crate::uniform;

/// Limits on every request; the defaults suit one agency system polling
/// and a few people reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests a second each token may make, on average (default 20).
    pub per_second: u32,
    /// Requests a token may make at once before the rate applies
    /// (default 40).
    pub burst: u32,
    /// Longest a request may take before it is answered 503 (default 60 s:
    /// an ingest of a 256 MiB export takes about that long).
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_second: 20,
            burst: 40,
            timeout: Duration::from_secs(60),
        }
    }
}

/// `app` under the contract: answers within `limits.timeout`, a panic
/// answered 500 (and logged) rather than a dropped connection, and every
/// error answer a problem.
pub fn apply(app: Router, limits: &Limits) -> Router {
    app.layer(CatchPanicLayer::custom(panicked))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.timeout,
        ))
        .layer(middleware::from_fn_with_state(
            uniform::Context {
                timeout: limits.timeout,
            },
            uniform::problems,
        ))
}

fn panicked(panic: Box<dyn Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = what, "a request handler panicked");
    Problem::new(
        Kind::Internal,
        "the service failed on this request; it is logged, and the request can be retried",
    )
    .into_response()
}
