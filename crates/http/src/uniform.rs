//! Makes every error answer a problem, whoever produced it: a handler
//! answers problems itself, but axum's own rejections (a wrong method, an
//! unknown path, a body that is not JSON) answer in plain text or with no
//! body. This layer rewrites those, keeping what they said as the detail.
//! The console's pages answer errors as pages (HTML) for a person to read,
//! and are left as they are.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::{Problem, PROBLEM_JSON};

/// The most of a non-problem error body read to become the detail.
const MAX_DETAIL: usize = 16 << 10;

pub async fn problems(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || is_problem(&response) || is_page(&response) {
        return response;
    }
    // Headers such a response carries (`Allow` on a 405) stay.
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let text = match axum::body::to_bytes(body, MAX_DETAIL).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_owned(),
        Err(_) => String::new(),
    };
    let detail = match (status, text.is_empty()) {
        (StatusCode::NOT_FOUND, true) => {
            format!("there is no endpoint {path}; /openapi.json lists them")
        }
        (StatusCode::METHOD_NOT_ALLOWED, _) => {
            format!("{method} is not allowed on {path}; /openapi.json lists the methods")
        }
        (_, true) => status.canonical_reason().unwrap_or("error").to_owned(),
        (_, false) => text,
    };
    with_headers(parts, Problem::of_status(status, detail))
}

fn with_headers(parts: axum::http::response::Parts, problem: Problem) -> Response {
    let mut response = problem.into_response();
    for (name, value) in parts.headers {
        if let Some(name) = name {
            response.headers_mut().entry(name).or_insert(value);
        }
    }
    response
}

fn is_page(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_problem(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}
