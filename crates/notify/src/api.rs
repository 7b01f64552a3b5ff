//! `POST /v1/notifications/{id}/ack`: the receiving agency confirms it
//! has a notification, optionally saying it acted (`follow_up`). Only the
//! agency of the notification's subscriber may acknowledge it. ERO's
//! acknowledgement of a missed hearing with a follow-up stops that
//! hearing's escalation to the field office director (rule 6).
//! `GET /metrics` (standalone `handoff notify`) serves the notifier's
//! metrics; `handoff up` folds them into the views' `/metrics`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Json};
use handoff_auth::TokenEntry;
use handoff_events::{Agency, Timestamp};
use handoff_http::limits::time_limit;
use handoff_http::{Guard, Kind, Problem};
use handoff_store::Store;
use serde::{Deserialize, Serialize};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem, PathsBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::NotifyConfig;
use crate::metrics::Metrics;
use crate::notification::{Heartbeat, WebhookNotification};
use crate::outbox;
use crate::projection::apply_timer_op;
use crate::rules::{follow_up_timer, Rule};

pub struct AckState {
    pub store: Store,
    pub config: Arc<NotifyConfig>,
    pub guard: Arc<Guard>,
    pub metrics: Arc<Metrics>,
}

/// The acknowledgement routes (merged into `handoff up`'s server).
pub fn router(state: Arc<AckState>) -> OpenApiRouter {
    let limit = state.guard.limits().timeout;
    OpenApiRouter::new()
        .routes(routes!(ack))
        .layer(middleware::from_fn_with_state(limit, time_limit))
        .with_state(state)
}

/// The acknowledgement routes plus `/metrics`, for `handoff notify`.
pub fn standalone_router(state: Arc<AckState>) -> OpenApiRouter {
    router(state.clone()).merge(
        OpenApiRouter::new()
            .routes(routes!(metrics))
            .with_state(state),
    )
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// The agency acted on it (for ERO and a missed hearing: followed up).
    #[serde(default)]
    pub follow_up: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AckAnswer {
    pub id: i64,
    pub acknowledged: bool,
    /// It had been acknowledged before; nothing changed.
    pub already_acknowledged: bool,
    /// The acknowledgement stopped the escalation of a missed hearing to
    /// the field office director.
    pub escalation_stopped: bool,
}

/// The receiving agency confirms it has a notification and, with
/// `follow_up`, that it acted on it.
#[utoipa::path(
    post,
    path = "/v1/notifications/{id}/ack",
    tag = "notifications",
    params(("id" = i64, Path, minimum = 1, description = "The notification's `id`, as delivered.")),
    request_body(content = Option<Ack>, content_type = "application/json",
        description = "Optional; without a body, `follow_up` is false."),
    security(("bearer" = [])),
    responses((status = 200, description = "Acknowledged (now or before).", body = AckAnswer))
)]
async fn ack(
    State(state): State<Arc<AckState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AckAnswer>, Problem> {
    let token = state.guard.admit(&headers)?;
    let ack = read_ack(&headers, &body)?;
    let id = id.parse::<i64>().map_err(|_| {
        Problem::bad_parameter(
            "id",
            format!("notification id {id:?} is not a number; use the `id` of the notification"),
        )
    })?;
    let row = outbox::get(&state.store, id)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?
        .ok_or_else(|| Problem::not_found(format!("no notification {id}")).at("id"))?;
    let n = &row.notification;
    let agency = state
        .config
        .subscribers
        .iter()
        .find(|s| s.id == n.subscriber)
        .map(|s| s.agency);
    if agency != Some(token.agency) {
        return Err(Problem::forbidden(format!(
            "notification {id} was sent to another agency; {} may acknowledge only its own",
            token.agency.symbol()
        )));
    }
    let first = acknowledge(&state.store, &row, &token, ack.follow_up)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    Ok(Json(AckAnswer {
        id,
        acknowledged: true,
        already_acknowledged: !first,
        escalation_stopped: first && stops_escalation(&row, token.agency, ack.follow_up),
    }))
}

/// The acknowledgement's body: none, or an `Ack` as JSON. Only an empty
/// body is "none": blanks alone are a JSON document that is not there.
fn read_ack(headers: &HeaderMap, body: &[u8]) -> Result<Ack, Problem> {
    if body.is_empty() {
        return Ok(Ack::default());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim() == "application/json");
    if !json {
        return Err(Problem::new(
            Kind::UnsupportedMediaType,
            "the body is JSON ({\"follow_up\": true}); send it with Content-Type: application/json",
        ));
    }
    let refused = |e: &dyn std::fmt::Display| {
        Problem::bad_parameter(
            "follow_up",
            format!("the body must be {{\"follow_up\": true|false}} or empty: {e}"),
        )
    };
    // Serde would also read a struct from a JSON array (`[]`, `[true]`):
    // only an object is the documented body.
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| refused(&e))?;
    if !value.is_object() {
        return Err(refused(&"it is not a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| refused(&e))
}

/// A document of the webhooks alone, for a receiver to check its bodies
/// against.
pub fn webhook_document() -> OpenApi {
    let mut doc = OpenApi::default();
    describe_webhooks(&mut doc);
    doc
}

/// The OpenAPI `webhooks` the notifier sends to a subscriber's URL, and
/// the schemas they use, added to `doc`.
pub fn describe_webhooks(doc: &mut OpenApi) {
    let hook = |summary: &str, schema: &str| {
        PathItem::new(
            HttpMethod::Post,
            OperationBuilder::new()
                .summary(Some(summary))
                .description(Some(
                    "Signed: `X-Handoff-Signature: sha256=<hex HMAC-SHA256 of the body with the subscriber's secret>`; `X-Handoff-Sequence` is the subscriber's gap-free sequence number and `Idempotency-Key` (notifications only) is the same on every redelivery. Answer 2xx to accept; anything else is retried with backoff.",
                ))
                .request_body(Some(
                    RequestBodyBuilder::new()
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name(schema)))
                                .build(),
                        )
                        .required(Some(utoipa::openapi::Required::True))
                        .build(),
                ))
                .response("2XX", ResponseBuilder::new().description("Received.")),
        )
    };
    doc.webhooks = Some(
        PathsBuilder::new()
            .path(
                "notification",
                hook(
                    "A notification for the subscriber.",
                    &WebhookNotification::name(),
                ),
            )
            .path(
                "heartbeat",
                hook(
                    "Sent to an idle webhook: the notifier is alive.",
                    &Heartbeat::name(),
                ),
            )
            .build(),
    );
    let mut schemas = vec![
        (
            WebhookNotification::name().into_owned(),
            WebhookNotification::schema(),
        ),
        (Heartbeat::name().into_owned(), Heartbeat::schema()),
    ];
    WebhookNotification::schemas(&mut schemas);
    Heartbeat::schemas(&mut schemas);
    let components = doc.components.get_or_insert_with(Default::default);
    components.schemas.extend(schemas);
}

/// Whether an acknowledgement with `follow_up` by `agency` stops the
/// escalation of this notification's missed hearing.
pub fn stops_escalation(row: &outbox::Row, agency: Agency, follow_up: bool) -> bool {
    follow_up
        && agency == Agency::Ice
        && row.notification.rule == Rule::FailedToAppear.as_str()
        && follow_up_timer(&row.notification.idempotency_key).is_some()
}

/// Records the acknowledgement and, where it stops an escalation, cancels
/// the timer, in one transaction. Returns whether this was the first.
/// The console's inbox acknowledges through this too.
pub async fn acknowledge(
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

/// The notifier's metrics (under `handoff up`, the views' `/metrics`
/// includes them).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text.", content_type = "application/openmetrics-text", body = String))
)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_object_or_nothing_is_an_acknowledgement() {
        let mut json = HeaderMap::new();
        json.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        assert!(!read_ack(&json, b"").unwrap().follow_up);
        assert!(
            read_ack(&json, br#"{"follow_up": true}"#)
                .unwrap()
                .follow_up
        );
        for refused in [
            &b"[]"[..],
            b"[true]",
            b"true",
            b"\t",
            br#"{"follow_up": 1}"#,
        ] {
            let p = read_ack(&json, refused).unwrap_err();
            assert_eq!(p.parameter.as_deref(), Some("follow_up"), "{refused:?}");
        }
        assert_eq!(read_ack(&HeaderMap::new(), b"{}").unwrap_err().status, 415);
    }
}
