//! A service's API as one app: the routes its parts registered with
//! their OpenAPI paths, the document they make served at
//! `/openapi.json`, and the contract's layers over all of it.

use std::sync::Arc;

use axum::middleware;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::declared::{self, Declared};
use crate::doc;
use crate::limits;

const TITLE: &str = "Handoff API";

const DESCRIPTION: &str = "Per-agency views of unaccompanied children's cases across ICE, HHS ORR and DOJ EOIR, their acknowledgements of notifications, and HTTP ingest of their exports.

Every answer is limited by the data-sharing policy (deploy/policy.toml) and every read of a child's data is audited. Instants are RFC 3339 UTC with milliseconds (2024-05-09T14:30:00.000Z), dates YYYY-MM-DD, enumerations lower-case strings listed in the schemas. List answers are pages: {items, total, offset, next_offset}. Every error is a problem (RFC 9457, application/problem+json) naming the parameter at fault; a query parameter an operation does not list here is refused (400), never ignored. Each token has a rate (429 with Retry-After beyond it) and every request a time limit (503).";

/// `api` under the contract, with `/openapi.json`; `complete` adds what
/// the routes cannot say (the notifier's webhooks). The routes carry
/// their own time limits; a query parameter the document does not give
/// the operation is refused (`declared`).
pub fn app(api: OpenApiRouter, complete: impl FnOnce(&mut OpenApi)) -> Router {
    let (router, document) = api.split_for_parts();
    let mut document = doc::finish(document, TITLE, DESCRIPTION);
    complete(&mut document);
    let declared = Arc::new(Declared::of(&document));
    let router = router.route_layer(middleware::from_fn_with_state(
        declared,
        declared::refuse_undeclared,
    ));
    limits::apply(router.merge(doc::serve(document)))
}
