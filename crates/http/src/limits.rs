//! The limits that keep one caller from taking the service down: a rate
//! per token, a time limit on every answer (each service's routes set
//! theirs: a read is quick, an upload of a large export is not), and the
//! layers that make every failure (a timeout, a panic, a rejection axum
//! produced itself) a problem answer.

use std::any::Any;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

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
    /// Longest a read or an acknowledgement may take before it is
    /// answered 503 (default 30 s).
    pub timeout: Duration,
    /// Longest an upload (HTTP ingest) may take, body and publishing
    /// (default 30 min: a 256 MiB export is a few million records).
    pub upload_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_second: 20,
            burst: 40,
            timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// `app` under the contract: a panic answered 500 (and logged) rather than
/// a dropped connection, and every error answer a problem.
pub fn apply(app: Router) -> Router {
    app.layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(uniform::problems))
}

/// A route layer's middleware: the request is answered within `limit`, or
/// 503 `timeout` (`.layer(from_fn_with_state(limit, time_limit))`). What
/// the handler had done by then stands: a cancelled ingest's published
/// events are in its ledger, and a re-send skips them.
pub async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            Kind::Timeout,
            format!(
                "no answer within the limit of {} s; narrow the request (a smaller limit, a later since) or retry later",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{header, Request};
    use axum::routing::{get, post};
    use axum::Json;
    use tower::ServiceExt;

    use super::*;
    use crate::problem::PROBLEM_JSON;

    async fn problem_of(app: &Router, method: &str, uri: &str) -> (Response, Problem) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::from("x"))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        assert_eq!(parts.headers[header::CONTENT_TYPE], PROBLEM_JSON, "{uri}");
        let problem: Problem = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(problem.status, parts.status.as_u16());
        (Response::from_parts(parts, Body::empty()), problem)
    }

    #[tokio::test]
    async fn every_failure_answers_as_a_problem() {
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }
        async fn panics() -> &'static str {
            panic!("a bug")
        }
        async fn json(Json(v): Json<serde_json::Value>) -> Json<serde_json::Value> {
            Json(v)
        }
        let app = apply(
            Router::new()
                .route("/slow", get(slow))
                .route("/panic", get(panics))
                .route("/json", post(json))
                .layer(middleware::from_fn_with_state(
                    Duration::from_millis(100),
                    time_limit,
                )),
        );
        let (_, p) = problem_of(&app, "GET", "/slow").await;
        assert_eq!(
            (p.status, p.kind.as_str()),
            (503, "urn:handoff:problem:timeout")
        );
        let (_, p) = problem_of(&app, "GET", "/panic").await;
        assert_eq!(p.status, 500);
        assert!(
            !p.detail.contains("a bug"),
            "no internals leak: {}",
            p.detail
        );
        let (_, p) = problem_of(&app, "POST", "/json").await;
        assert_eq!(p.status, 415);
        assert!(p.detail.contains("application/json"), "{}", p.detail);
        let (_, p) = problem_of(&app, "GET", "/nowhere").await;
        assert_eq!(p.status, 404);
        let (response, p) = problem_of(&app, "DELETE", "/json").await;
        assert_eq!(p.status, 405);
        assert_eq!(response.headers()[header::ALLOW], "POST", "Allow is kept");
    }
}
