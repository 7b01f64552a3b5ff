//! The views' HTTP API (work in progress for issue 4). Every answer is
//! filtered by the data-sharing policy for the agency the bearer token
//! speaks for, and every read of a child's record is audited: who (agency,
//! token id), what (endpoint, A-numbers returned), when.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use handoff_auth::Tokens;
use handoff_events::{ANumber, Timestamp};
use serde_json::json;

use crate::policy::Policy;
use crate::sqlite::SqliteViews;

pub struct ApiState {
    pub views: SqliteViews,
    pub policy: Policy,
    pub tokens: Arc<Tokens>,
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/children/{a_number}", get(child))
        .with_state(state)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn child(
    State(state): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = match state.tokens.authenticate(authorization) {
        Ok(token) => token.clone(),
        Err(denied) => return error(StatusCode::UNAUTHORIZED, denied.to_string()),
    };
    if !state.policy.agencies.contains_key(&token.agency) {
        return error(
            StatusCode::FORBIDDEN,
            format!("the policy grants {} no fields", token.agency.symbol()),
        );
    }
    let a_number = match ANumber::parse(&raw) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let found = match state.views.child(a_number.as_str()).await {
        Ok(found) => found,
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let returned: Vec<&str> = found
        .as_ref()
        .map(|_| vec![a_number.as_str()])
        .unwrap_or_default();
    if let Err(e) = state
        .views
        .audit(
            Timestamp::now(),
            token.agency,
            &token.id,
            "GET /v1/children/{a_number}",
            &returned,
        )
        .await
    {
        // No answer without its audit record.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("audit failed: {e}"),
        );
    }
    match found {
        None => error(
            StatusCode::NOT_FOUND,
            format!("no record of {}", a_number.masked()),
        ),
        Some(child) => {
            let record = serde_json::to_value(&child).unwrap_or_default();
            Json(json!({"child": state.policy.filter(token.agency, &record)})).into_response()
        }
    }
}
