//! Why a page cannot be shown, as a page a person can act on: the status
//! an API client would get, and what to do next.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::layout::{alert, page, Section};

#[derive(Debug)]
pub enum PageError {
    /// No live session: to the sign-in page.
    SignIn,
    /// The data-sharing policy does not grant this to the agency.
    Forbidden(String),
    NotFound(String),
    /// A filter or form field that cannot be read: (field, what is wrong).
    BadInput(&'static str, String),
    /// A form without this session's CSRF token.
    Forged,
    TooMany(String),
    Unavailable(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            PageError::SignIn => return Redirect::to("/sign-in").into_response(),
            PageError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not available to your agency", why),
            PageError::NotFound(why) => (StatusCode::NOT_FOUND, "Not found", why),
            PageError::BadInput(field, why) => (
                StatusCode::BAD_REQUEST,
                "Check what you entered",
                format!("{}: {why}", crate::labels::sentence(field)),
            ),
            PageError::Forged => (
                StatusCode::FORBIDDEN,
                "The form has expired",
                "The form did not carry this session's security token, so nothing was changed. Go back, reload the page and submit it again.".to_owned(),
            ),
            PageError::TooMany(why) => (StatusCode::TOO_MANY_REQUESTS, "Too many requests", why),
            PageError::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, "Not available right now", why),
        };
        let body = page(
            title,
            None,
            Section::None,
            html! {
                (alert(if status == StatusCode::NOT_FOUND { "warning" } else { "error" }, title, html! { (text) }))
                p { a class="usa-link" href="/" { "Back to your worklists" } }
            },
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.into_string(),
        )
            .into_response()
    }
}
