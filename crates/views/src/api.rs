//! The views' HTTP API. Every answer is filtered by the data-sharing
//! policy for the agency the bearer token speaks for (401 without a valid
//! token, 403 for a view the policy does not grant), and every read of
//! children's data is audited before it is answered: no answer without
//! its audit record.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate};
use handoff_auth::{TokenEntry, Tokens};
use handoff_events::{ANumber, Catalogue, Timestamp};
use serde_json::json;

use crate::audit;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::queries::{Page, Paging, Queries};
use crate::rows::DATA_QUALITY_KINDS;
use crate::store::Store;

pub struct ApiState {
    pub store: Store,
    pub catalogue: Arc<Catalogue>,
    pub policy: Policy,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/v1/children/{a_number}", get(child))
        .route("/v1/views/{view}", get(agency_view))
        .route("/v1/fta", get(fta))
        .route("/v1/nta-backlog", get(nta_backlog))
        .route("/v1/hearings/upcoming", get(upcoming))
        .route("/v1/data-quality", get(data_quality))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .with_state(state)
}

type Params = Query<HashMap<String, String>>;

/// An answer that is not the data asked for: a status and what is wrong.
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        message: message.into(),
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    error(StatusCode::BAD_REQUEST, message)
}

type Answer = Result<Response, ApiError>;

impl ApiState {
    fn queries(&self) -> Queries<'_> {
        Queries {
            store: &self.store,
            catalogue: &self.catalogue,
        }
    }

    /// The caller's token, if it is valid and the policy grants its agency `view`.
    fn authorize(&self, headers: &HeaderMap, view: &str) -> Result<TokenEntry, ApiError> {
        let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
        let token = self
            .tokens
            .authenticate(authorization)
            .map_err(|denied| error(StatusCode::UNAUTHORIZED, denied.to_string()))?;
        if !self.policy.may_read(token.agency, view) {
            return Err(error(
                StatusCode::FORBIDDEN,
                format!(
                    "the data-sharing policy does not grant {} the `{view}` view",
                    token.agency.symbol()
                ),
            ));
        }
        Ok(token.clone())
    }

    /// Filters a page by policy, audits the A-numbers in it, answers it.
    async fn answer(&self, token: &TokenEntry, view: &str, endpoint: &str, page: Page) -> Answer {
        let items: Vec<serde_json::Value> = page
            .items
            .iter()
            .map(|item| self.policy.filter(token.agency, view, item))
            .collect();
        let mut returned: Vec<String> = page
            .items
            .iter()
            .filter_map(|i| i["a_number"].as_str().map(str::to_owned))
            .collect();
        returned.sort();
        returned.dedup();
        audit::record(&self.store, token.agency, &token.id, endpoint, &returned)
            .await
            .map_err(audit_failed)?;
        Ok(Json(json!({
            "items": items,
            "total": page.total,
            "offset": page.offset,
            "next_offset": page.next_offset,
        }))
        .into_response())
    }
}

fn store_failed(e: impl std::fmt::Display) -> ApiError {
    error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// No answer leaves without its audit record.
fn audit_failed(e: impl std::fmt::Display) -> ApiError {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("audit failed, so no answer: {e}"),
    )
}

fn number(
    params: &HashMap<String, String>,
    name: &str,
    default: i64,
    max: i64,
) -> Result<i64, ApiError> {
    match params.get(name) {
        None => Ok(default),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(bad(format!(
                "`{name}` must be a whole number from 0 to {max}, not {raw:?}"
            ))),
        },
    }
}

fn paging(params: &HashMap<String, String>) -> Result<Paging, ApiError> {
    Ok(Paging {
        limit: number(params, "limit", 100, 1000)?,
        offset: number(params, "offset", 0, i64::MAX)?,
    })
}

/// Whether a bare date in a parameter means the start or the end of the day.
#[derive(Clone, Copy)]
enum Day {
    Start,
    End,
}

/// An instant: RFC 3339, or a date (UTC) meaning the start or end of that day.
fn instant(
    params: &HashMap<String, String>,
    name: &str,
    day_means: Day,
) -> Result<Option<Timestamp>, ApiError> {
    let Some(raw) = params.get(name) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(Timestamp::from_datetime(t.to_utc())));
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        let day = match day_means {
            Day::Start => day,
            Day::End => day.succ_opt().unwrap_or(day),
        };
        return Ok(Some(Timestamp::start_of(day)));
    }
    Err(bad(format!(
        "`{name}` must be a date (2024-09-30) or an RFC 3339 time (2024-09-30T12:00:00Z), not {raw:?}"
    )))
}

fn as_of(params: &HashMap<String, String>) -> Result<Timestamp, ApiError> {
    // A date means the end of that day: "as of 2024-09-30" includes it.
    Ok(instant(params, "as_of", Day::End)?.unwrap_or_else(Timestamp::now))
}

async fn child(
    State(state): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "child")?;
    let a_number = ANumber::parse(&raw).map_err(|e| bad(e.to_string()))?;
    let found = state
        .queries()
        .child(a_number.as_str())
        .await
        .map_err(store_failed)?;
    let returned: Vec<String> = found.iter().map(|_| a_number.as_str().to_owned()).collect();
    audit::record(
        &state.store,
        token.agency,
        &token.id,
        "GET /v1/children/{a_number}",
        &returned,
    )
    .await
    .map_err(audit_failed)?;
    let child = found.ok_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            format!("no record of {}", a_number.masked()),
        )
    })?;
    let record = serde_json::to_value(&child).unwrap_or_default();
    Ok(Json(json!({"child": state.policy.filter(token.agency, "child", &record)})).into_response())
}

async fn agency_view(
    State(state): State<Arc<ApiState>>,
    Path(view): Path<String>,
    Query(params): Params,
    headers: HeaderMap,
) -> Answer {
    if !["ice", "hhs_orr", "doj_eoir"].contains(&view.as_str()) {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("no view `{view}`; the agency views are ice, hhs_orr, doj_eoir"),
        ));
    }
    let token = state.authorize(&headers, &view)?;
    let page = state
        .queries()
        .agency_view(&view, as_of(&params)?, paging(&params)?)
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, &view, "GET /v1/views/{view}", page)
        .await
}

async fn fta(
    State(state): State<Arc<ApiState>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "fta")?;
    let since = instant(&params, "since", Day::Start)?;
    let aor = params.get("aor").map(String::as_str);
    let court = params.get("court").map(String::as_str);
    let page = state
        .queries()
        .ftas(since, aor, court, paging(&params)?)
        .await
        .map_err(store_failed)?;
    state.answer(&token, "fta", "GET /v1/fta", page).await
}

async fn nta_backlog(
    State(state): State<Arc<ApiState>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "nta_backlog")?;
    let days = number(&params, "older_than_days", 60, 36_500)?;
    let page = state
        .queries()
        .nta_backlog(days, as_of(&params)?, paging(&params)?)
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "nta_backlog", "GET /v1/nta-backlog", page)
        .await
}

async fn upcoming(
    State(state): State<Arc<ApiState>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "hearings_upcoming")?;
    let days = number(&params, "days", 14, 3650)?;
    let page = state
        .queries()
        .upcoming_hearings(days, as_of(&params)?, paging(&params)?)
        .await
        .map_err(store_failed)?;
    state
        .answer(
            &token,
            "hearings_upcoming",
            "GET /v1/hearings/upcoming",
            page,
        )
        .await
}

async fn data_quality(
    State(state): State<Arc<ApiState>>,
    Query(params): Params,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "data_quality")?;
    let days = number(&params, "older_than_days", 60, 36_500)?;
    let as_of = as_of(&params)?;
    let Some(kind) = params.get("kind") else {
        // Without a kind: how many findings of each (counts only, no child data).
        let counts = state
            .queries()
            .data_quality_summary(days, as_of)
            .await
            .map_err(store_failed)?;
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .into_iter()
            .map(|(kind, n)| (kind.to_owned(), json!(n)))
            .collect();
        return Ok(Json(json!({"as_of": as_of.to_rfc3339(), "counts": counts})).into_response());
    };
    if !DATA_QUALITY_KINDS.contains(&kind.as_str()) {
        return Err(bad(format!(
            "no data-quality kind `{kind}`; the kinds are {}",
            DATA_QUALITY_KINDS.join(", ")
        )));
    }
    let page = state
        .queries()
        .data_quality(kind, days, as_of, paging(&params)?)
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "data_quality", "GET /v1/data-quality", page)
        .await
}

async fn openapi() -> Response {
    Json(crate::openapi::document()).into_response()
}

async fn metrics(State(state): State<Arc<ApiState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
