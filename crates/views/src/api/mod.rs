//! The views' HTTP API. Every answer is filtered by the data-sharing
//! policy for the agency the bearer token speaks for (401 without a valid
//! token, 403 for a view the policy does not grant), and every read of
//! children's data is audited before it is answered: no answer without
//! its audit record. Errors are problem details (`handoff_http`).
//!
//! - `params`: the query parameters, read and checked.
//! - `child`: one child's record; `lists`: the agency views and lists.

mod child;
mod lists;
pub mod params;

use std::sync::Arc;

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::{middleware, Json};
use handoff_auth::TokenEntry;
use handoff_events::Catalogue;
use handoff_http::limits::time_limit;
use handoff_http::{Guard, Problem};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::answers::Page;
use crate::audit;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::queries::Queries;
use crate::store::Store;

pub struct ApiState {
    pub store: Store,
    pub catalogue: Arc<Catalogue>,
    pub policy: Policy,
    pub guard: Arc<Guard>,
    pub metrics: Arc<Metrics>,
}

/// The views' routes with their OpenAPI paths (the caller serves the
/// document, merged with the other services' on one listener).
pub fn router(state: Arc<ApiState>) -> OpenApiRouter {
    let limit = state.guard.limits().timeout;
    OpenApiRouter::new()
        .routes(routes!(child::child))
        .routes(routes!(lists::ice_view))
        .routes(routes!(lists::orr_view))
        .routes(routes!(lists::eoir_view))
        .routes(routes!(lists::fta))
        .routes(routes!(lists::nta_backlog))
        .routes(routes!(lists::upcoming))
        .routes(routes!(lists::data_quality))
        .routes(routes!(metrics))
        .layer(middleware::from_fn_with_state(limit, time_limit))
        .with_state(state)
}

type Answer = Result<Response, Problem>;

impl ApiState {
    fn queries(&self) -> Queries<'_> {
        Queries {
            store: &self.store,
            catalogue: &self.catalogue,
        }
    }

    /// The caller's token, if it is valid, within its rate, and the policy
    /// grants its agency `view`.
    fn authorize(&self, headers: &HeaderMap, view: &str) -> Result<TokenEntry, Problem> {
        let token = self.guard.admit(headers)?;
        if !self.policy.may_read(token.agency, view) {
            return Err(Problem::forbidden(format!(
                "the data-sharing policy does not grant {} the `{view}` view",
                token.agency.symbol()
            )));
        }
        Ok(token)
    }

    /// Filters a page by policy, audits the A-numbers in it, answers it.
    async fn answer<T: Serialize>(
        &self,
        token: &TokenEntry,
        view: &str,
        endpoint: &str,
        page: Page<T>,
    ) -> Answer {
        let page = page.map(|item| {
            let value = serde_json::to_value(item).unwrap_or_default();
            self.policy.filter(token.agency, view, &value)
        });
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
        Ok(Json(page).into_response())
    }
}

fn store_failed(e: impl std::fmt::Display) -> Problem {
    Problem::unavailable(e.to_string())
}

/// No answer leaves without its audit record.
fn audit_failed(e: impl std::fmt::Display) -> Problem {
    Problem::unavailable(format!("audit failed, so no answer: {e}"))
}

/// Prometheus metrics: events applied per type, consumer lag per
/// partition, store latency.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "OpenMetrics text.", content_type = "application/openmetrics-text", body = String))
)]
async fn metrics(axum::extract::State(state): axum::extract::State<Arc<ApiState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
