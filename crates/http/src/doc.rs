//! The parts of the OpenAPI document every service shares: the bearer
//! scheme, the problem answers each operation can give (added here from
//! what the operation has, so no handler can forget one), and the route
//! that serves the document.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Components, InfoBuilder, OpenApi, Ref, RefOr, Response};
use utoipa::{PartialSchema, ToSchema};

use crate::problem::{Problem, PROBLEM_JSON};

/// The name of the bearer scheme operations refer to.
pub const BEARER: &str = "bearer";

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build()
        .into()
}

fn rate_limited() -> RefOr<Response> {
    let RefOr::T(mut response) =
        problem("This token made more requests than its rate allows; wait `Retry-After` seconds.")
    else {
        unreachable!("built inline")
    };
    response.headers.insert(
        "Retry-After".to_owned(),
        HeaderBuilder::new()
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            ))
            .description(Some("Seconds to wait before the next request."))
            .build()
            .into(),
    );
    response.into()
}

/// Adds the problem answers `operation` can give, by what it has.
fn add_problems(operation: &mut Operation, path: &str) {
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, response: RefOr<Response>| {
        responses.entry(status.to_owned()).or_insert(response);
    };
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if has_parameters || operation.request_body.is_some() {
        add(
            "400",
            problem("A parameter is not valid; `parameter` names it and `detail` says why."),
        );
    }
    if path.contains('{') {
        add(
            "404",
            problem("Nothing is known by the identifier in the path."),
        );
    }
    if operation.security.is_some() {
        add(
            "401",
            problem("No bearer token, or one this deployment does not know."),
        );
        add(
            "403",
            problem("The data-sharing policy does not grant the caller's agency this."),
        );
        add("429", rate_limited());
    }
    if operation.request_body.is_some() {
        add(
            "413",
            problem("The body is larger than the limit, which `limit_bytes` gives."),
        );
        add(
            "415",
            problem("The body's media type is not one the operation accepts."),
        );
    }
    add(
        "503",
        problem("A service the answer needs (the store, the broker, the audit trail) is unavailable, or the answer took longer than the time limit."),
    );
}

/// Completes a document gathered from the services' routes: its title
/// and description, the bearer scheme, `Problem`, and every operation's
/// problem answers.
pub fn finish(mut doc: OpenApi, title: &str, description: &str) -> OpenApi {
    doc.info = InfoBuilder::new()
        .title(title)
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(description))
        .build();
    let components = doc.components.get_or_insert_with(Components::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    components
        .schemas
        .insert(Problem::name().into_owned(), Problem::schema());
    for (path, item) in doc.paths.paths.iter_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_problems(operation, path);
        }
    }
    doc
}

/// `GET /openapi.json`, serving `doc`.
pub fn serve(doc: OpenApi) -> Router {
    let body = serde_json::to_value(&doc).expect("the document serialises");
    Router::new().route("/openapi.json", get(move || async move { Json(body) }))
}
