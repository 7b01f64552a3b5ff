//! `POST /v1/notifications/{id}/ack`: the receiving agency confirms it
//! has a notification, optionally saying it acted (`follow_up`). Only the
//! agency of the notification's subscriber may acknowledge it. ERO's
//! acknowledgement of a missed hearing with a follow-up stops that
//! hearing's escalation to the field office director (rule 6).
//! `GET /metrics` (standalone `handoff notify`) serves the notifier's
//! metrics; `handoff up` folds them into the views' `/metrics`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use handoff_auth::{TokenEntry, Tokens};
use handoff_events::{Agency, Timestamp};
use handoff_store::Store;
use serde::Deserialize;
use serde_json::json;

use crate::config::NotifyConfig;
use crate::metrics::Metrics;
use crate::outbox;
use crate::projection::apply_timer_op;
use crate::rules::{follow_up_timer, Rule};

pub struct AckState {
    pub store: Store,
    pub config: Arc<NotifyConfig>,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<Metrics>,
}

/// The acknowledgement routes (merged into `handoff up`'s server).
pub fn router(state: Arc<AckState>) -> Router {
    Router::new()
        .route("/v1/notifications/{id}/ack", post(ack))
        .with_state(state)
}

/// The acknowledgement routes plus `/metrics`, for `handoff notify`.
pub fn standalone_router(state: Arc<AckState>) -> Router {
    router(state.clone()).merge(
        Router::new()
            .route("/metrics", get(metrics))
            .with_state(state),
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The agency acted on it (for ERO and a missed hearing: followed up).
    #[serde(default)]
    pub follow_up: bool,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

async fn ack(
    State(state): State<Arc<AckState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<Ack>>,
) -> Response {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let token = match state.tokens.authenticate(authorization) {
        Ok(token) => token.clone(),
        Err(denied) => return refuse(StatusCode::UNAUTHORIZED, denied.to_string()),
    };
    let Ok(id) = id.parse::<i64>() else {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("notification id {id:?} is not a number; use the `id` of the notification"),
        );
    };
    let ack = body.map(|Json(a)| a).unwrap_or_default();
    let row = match outbox::get(&state.store, id).await {
        Ok(Some(row)) => row,
        Ok(None) => return refuse(StatusCode::NOT_FOUND, format!("no notification {id}")),
        Err(e) => return refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    let n = &row.notification;
    let agency = state
        .config
        .subscribers
        .iter()
        .find(|s| s.id == n.subscriber)
        .map(|s| s.agency);
    if agency != Some(token.agency) {
        return refuse(
            StatusCode::FORBIDDEN,
            format!(
                "notification {id} was sent to another agency; {} may acknowledge only its own",
                token.agency.symbol()
            ),
        );
    }
    match acknowledge(&state.store, &row, &token, ack.follow_up).await {
        Ok(first) => Json(json!({
            "id": id,
            "acknowledged": true,
            "already_acknowledged": !first,
            "escalation_stopped": first && stops_escalation(&row, token.agency, ack.follow_up),
        }))
        .into_response(),
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

fn stops_escalation(row: &outbox::Row, agency: Agency, follow_up: bool) -> bool {
    follow_up
        && agency == Agency::Ice
        && row.notification.rule == Rule::FailedToAppear.as_str()
        && follow_up_timer(&row.notification.idempotency_key).is_some()
}

/// Records the acknowledgement and, where it stops an escalation, cancels
/// the timer, in one transaction. Returns whether this was the first.
async fn acknowledge(
    store: &Store,
    row: &outbox::Row,
    by: &TokenEntry,
    follow_up: bool,
) -> Result<bool, handoff_store::StoreError> {
    store
        .in_transaction(async |store| {
            let first = outbox::acknowledge(
                store,
                row.notification.id,
                Timestamp::now().0,
                &by.id,
                follow_up,
            )
            .await?;
            if first && stops_escalation(row, by.agency, follow_up) {
                if let Some(cancel) = follow_up_timer(&row.notification.idempotency_key) {
                    apply_timer_op(store, &cancel).await?;
                }
            }
            Ok(first)
        })
        .await
}

async fn metrics(State(state): State<Arc<AckState>>) -> Response {
    (
        [(
            "content-type",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
