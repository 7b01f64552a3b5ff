//! Signing in with an agency token, and out. The token is the bearer
//! token of the tokens file the API uses (`handoff token new`); the page
//! exchanges it for a session and never shows or logs it again.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use serde::Deserialize;

use crate::layout::{alert, page, Section};
use crate::{Console, PageError};

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub struct SignInQuery {
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn form(
    State(console): State<Arc<Console>>,
    Query(q): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    if console.sessions.current(&headers).is_some() {
        return Redirect::to("/").into_response();
    }
    let (csrf, jar) = console.sessions.sign_in_form(&headers);
    let notice = q.signed_out.is_some().then(|| {
        alert(
            "success",
            "Signed out",
            html! { "Your session has ended. Sign in again to continue." },
        )
    });
    (jar, sign_in_page(&csrf, notice)).into_response()
}

fn sign_in_page(csrf: &str, notice: Option<Markup>) -> Markup {
    page(
        "Sign in",
        None,
        Section::None,
        html! {
            @if let Some(notice) = notice { (notice) }
            p class="usa-intro" {
                "Sign in with your agency's Handoff token: the same token your agency's systems use for the API. "
                "You will see what the data-sharing policy grants your agency, and every child's record you open is audited."
            }
            form class="usa-form usa-form--large" method="post" action="/sign-in" {
                fieldset class="usa-fieldset" {
                    legend class="usa-legend usa-legend--large" { "Agency token" }
                    input type="hidden" name="csrf" value=(csrf);
                    label class="usa-label" for="token" { "Token" }
                    span class="usa-hint" id="token-hint" { "Ask your Handoff administrator; on the demo stack, `handoff up --demo` prints one per agency." }
                    input class="usa-input handoff-token" id="token" name="token" type="password"
                        autocomplete="off" required aria-describedby="token-hint";
                    button class="usa-button margin-top-3" type="submit" { "Sign in" }
                }
            }
        },
    )
}

pub async fn submit(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if !console.sessions.sign_in_form_is_ours(&headers, &form.csrf) {
        return PageError::Forged.into_response();
    }
    match console.views.guard.sign_in(&form.token) {
        Ok(token) => {
            tracing::info!(token_id = %token.id, agency = token.agency.symbol(), "console sign-in");
            let jar = console.sessions.start(&headers, token);
            (jar, Redirect::to("/")).into_response()
        }
        Err(_) => {
            let (csrf, jar) = console.sessions.sign_in_form(&headers);
            let notice = alert(
                "error",
                "That token is not known",
                html! { "Check that you pasted the whole token. Tokens are issued per agency system by your Handoff administrator." },
            );
            (
                StatusCode::UNAUTHORIZED,
                jar,
                sign_in_page(&csrf, Some(notice)),
            )
                .into_response()
        }
    }
}

pub async fn sign_out(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    let me = console
        .sessions
        .current(&headers)
        .ok_or(PageError::SignIn)?;
    console.check_csrf(&me, &form.csrf)?;
    let jar = console.sessions.end(&headers, &me.id);
    Ok((jar, Redirect::to("/sign-in?signed_out=1")).into_response())
}
