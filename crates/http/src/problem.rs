//! Problem details (RFC 9457): the one shape of every error answer, on
//! every endpoint, so an agency system handles failures with one parser.
//! `type` names the kind of problem (stable, for programs), `title` says it
//! in a few words, `detail` says what was wrong with this request and how
//! to fix it, and `parameter` names the query or path parameter or body
//! field at fault when there is one.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What went wrong, as RFC 9457 describes it. Boxed: errors are the cold
/// path, and every handler's `Result` stays small.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Problem(Box<Details>);

impl std::ops::Deref for Problem {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut Details {
        &mut self.0
    }
}

impl utoipa::PartialSchema for Problem {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        Details::schema()
    }
}

impl ToSchema for Problem {
    fn name() -> std::borrow::Cow<'static, str> {
        "Problem".into()
    }
}

/// The members of a problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:handoff:problem:bad-parameter",
    "title": "A parameter is not valid",
    "status": 400,
    "detail": "`limit` must be a whole number from 0 to 1000, not \"-1\"",
    "parameter": "limit"
}))]
pub struct Details {
    /// The kind of problem: `urn:handoff:problem:<kind>`, or `about:blank`
    /// when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The HTTP status, repeated for clients that lose it.
    pub status: u16,
    /// What is wrong with this request, and how to fix it.
    pub detail: String,
    /// The query or path parameter, or body field, at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// For `too-large`: the largest body accepted, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_bytes: Option<u64>,
    /// For `rate-limited`: seconds to wait (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// The kinds of problem, each with its status and title.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadParameter,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    UnsupportedMediaType,
    Unprocessable,
    RateLimited,
    Unavailable,
    Timeout,
    Internal,
}

impl Kind {
    fn parts(self) -> (StatusCode, &'static str, &'static str) {
        use Kind::*;
        match self {
            BadParameter => (
                StatusCode::BAD_REQUEST,
                "bad-parameter",
                "A parameter is not valid",
            ),
            Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "No valid bearer token",
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not granted to the caller's agency",
            ),
            NotFound => (StatusCode::NOT_FOUND, "not-found", "Nothing found"),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed here",
            ),
            TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "The body is larger than the limit",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "The body's media type is not accepted",
            ),
            Unprocessable => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "The body cannot be used",
            ),
            RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests for this token",
            ),
            Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "A service this answer needs is unavailable",
            ),
            Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "The answer took longer than the time limit",
            ),
            Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "An error inside the service",
            ),
        }
    }

    /// The kind an answer of `status` is, when nothing more is known.
    pub fn of_status(status: StatusCode) -> Option<Kind> {
        use Kind::*;
        Some(match status {
            StatusCode::BAD_REQUEST => BadParameter,
            StatusCode::UNAUTHORIZED => Unauthorized,
            StatusCode::FORBIDDEN => Forbidden,
            StatusCode::NOT_FOUND => NotFound,
            StatusCode::METHOD_NOT_ALLOWED => MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Unprocessable,
            StatusCode::TOO_MANY_REQUESTS => RateLimited,
            StatusCode::SERVICE_UNAVAILABLE => Unavailable,
            StatusCode::INTERNAL_SERVER_ERROR => Internal,
            _ => return None,
        })
    }
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        let (status, slug, title) = kind.parts();
        Problem(Box::new(Details {
            kind: format!("urn:handoff:problem:{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            parameter: None,
            limit_bytes: None,
            retry_after_seconds: None,
        }))
    }

    /// A problem for a status no kind covers: `about:blank`, titled by the
    /// status itself, as RFC 9457 asks.
    pub fn of_status(status: StatusCode, detail: impl Into<String>) -> Problem {
        match Kind::of_status(status) {
            Some(kind) => Problem::new(kind, detail),
            None => Problem(Box::new(Details {
                kind: "about:blank".to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                parameter: None,
                limit_bytes: None,
                retry_after_seconds: None,
            })),
        }
    }

    /// A parameter (or body field) `name` is not valid: `detail` says why.
    pub fn bad_parameter(name: &str, detail: impl Into<String>) -> Problem {
        Problem::new(Kind::BadParameter, detail).at(name)
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(Kind::NotFound, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(Kind::Forbidden, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Problem {
        Problem::new(Kind::Unavailable, detail)
    }

    pub fn unprocessable(detail: impl Into<String>) -> Problem {
        Problem::new(Kind::Unprocessable, detail)
    }

    /// The body is over `limit` bytes; `how` says where bigger input goes.
    pub fn too_large(limit: u64, how: &str) -> Problem {
        let mut p = Problem::new(
            Kind::TooLarge,
            format!(
                "the body is larger than the limit of {} ({limit} bytes); {how}",
                human_bytes(limit)
            ),
        );
        p.limit_bytes = Some(limit);
        p
    }

    pub fn rate_limited(wait: Duration, per_second: u32) -> Problem {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let seconds = seconds.max(1);
        let mut p = Problem::new(
            Kind::RateLimited,
            format!(
                "this token has used its {per_second} requests a second; retry after {seconds} s"
            ),
        );
        p.retry_after_seconds = Some(seconds);
        p
    }

    /// Names the parameter or field at fault.
    pub fn at(mut self, parameter: &str) -> Problem {
        self.parameter = Some(parameter.to_owned());
        self
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry = self.retry_after_seconds;
        let body = serde_json::to_vec(&self).expect("a problem serialises");
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = retry {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_answers_as_problem_json_with_its_status() {
        let r = Problem::rate_limited(Duration::from_millis(1500), 20).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        let p = Problem::too_large(256 << 20, "use a drop folder");
        assert!(p.detail.contains("256 MiB"), "{}", p.detail);
        assert_eq!(p.limit_bytes, Some(256 << 20));
        let q = Problem::of_status(StatusCode::IM_A_TEAPOT, "no");
        assert_eq!((q.kind.as_str(), q.status), ("about:blank", 418));
        assert_eq!(
            Problem::bad_parameter("limit", "x").parameter.as_deref(),
            Some("limit")
        );
    }
}
