//! The OpenAPI 3.1 document served at `/openapi.json`. Written from one
//! table of the endpoints and their parameters, and a test checks every
//! route the router serves is in it.

use serde_json::{json, Map, Value};

use crate::rows::DATA_QUALITY_KINDS;

/// (name, where, type, description)
type Param = (&'static str, &'static str, &'static str, &'static str);

const AS_OF: Param = (
    "as_of",
    "query",
    "string",
    "The instant to answer for: RFC 3339, or a date meaning the end of that day (UTC). Default: now.",
);
const LIMIT: Param = (
    "limit",
    "query",
    "integer",
    "Items per page, 0 to 1000. Default 100.",
);
const OFFSET: Param = (
    "offset",
    "query",
    "integer",
    "Items to skip: the previous page's next_offset.",
);

/// (path, policy view, summary, parameters)
pub const ENDPOINTS: [(&str, &str, &str, &[Param]); 6] = [
    (
        "/v1/children/{a_number}",
        "child",
        "One child's merged state and timeline across ICE, ORR and EOIR, with the fields the caller's agency may read.",
        &[("a_number", "path", "string", "The A-number, with or without separators.")],
    ),
    (
        "/v1/views/{view}",
        "ice, hhs_orr or doj_eoir",
        "An agency's view: ice (every child ICE knows: NTA status and age, court status, next hearing, FTAs and follow-ups, latest address, area of responsibility, open safety concerns), hhs_orr (released children), doj_eoir (open cases with the latest address from any agency and whether it differs from EOIR's).",
        &[("view", "path", "string", "ice, hhs_orr or doj_eoir."), AS_OF, LIMIT, OFFSET],
    ),
    (
        "/v1/fta",
        "fta",
        "Missed hearings (failures to appear), oldest first, with ICE's follow-up and whether OPLA recorded them.",
        &[
            ("since", "query", "string", "Only hearings at or after: RFC 3339, or a date meaning its start."),
            ("aor", "query", "string", "Only this ICE area of responsibility (e.g. HOU)."),
            ("court", "query", "string", "Only this immigration court (EOIR base city code)."),
            LIMIT,
            OFFSET,
        ],
    ),
    (
        "/v1/nta-backlog",
        "nta_backlog",
        "Released children not served a Notice to Appear more than older_than_days after release, longest waiting first.",
        &[("older_than_days", "query", "integer", "Default 60."), AS_OF, LIMIT, OFFSET],
    ),
    (
        "/v1/hearings/upcoming",
        "hearings_upcoming",
        "Hearings still on the calendar in the next `days`.",
        &[("days", "query", "integer", "Default 14."), AS_OF, LIMIT, OFFSET],
    ),
    (
        "/v1/data-quality",
        "data_quality",
        "Data-quality findings of one kind; without `kind`, the count of each kind.",
        &[
            ("kind", "query", "string", "One of the kinds listed in the schema."),
            ("older_than_days", "query", "integer", "For nta_not_served: days since release. Default 60."),
            AS_OF,
            LIMIT,
            OFFSET,
        ],
    ),
];

fn parameter((name, place, ty, description): &Param) -> Value {
    let mut schema = json!({"type": ty});
    if *name == "kind" {
        schema["enum"] = json!(DATA_QUALITY_KINDS);
    }
    json!({
        "name": name, "in": place, "required": *place == "path",
        "description": description, "schema": schema,
    })
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (path, view, summary, params) in ENDPOINTS {
        let responses = json!({
            "200": {"description": format!("The answer, filtered by the data-sharing policy for the `{view}` view.")},
            "400": {"description": "A parameter is not valid; the error says which and why."},
            "401": {"description": "No bearer token, or one this deployment does not know."},
            "403": {"description": "The policy does not grant the caller's agency this view."},
            "503": {"description": "The store (or the audit record every read needs) is unavailable."},
        });
        paths.insert(
            path.to_owned(),
            json!({"get": {
                "summary": summary,
                "security": [{"bearer": []}],
                "parameters": params.iter().map(parameter).collect::<Vec<_>>(),
                "responses": responses,
            }}),
        );
    }
    paths.insert(
        "/metrics".to_owned(),
        json!({"get": {"summary": "Prometheus metrics: events applied per type, consumer lag per partition, store latency.",
            "responses": {"200": {"description": "OpenMetrics text."}}}}),
    );
    paths.insert(
        "/openapi.json".to_owned(),
        json!({"get": {"summary": "This document.", "responses": {"200": {"description": "OpenAPI 3.1."}}}}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Handoff views API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Per-agency views of unaccompanied children's cases across ICE, HHS ORR and DOJ EOIR. Every answer is limited by the data-sharing policy (deploy/policy.toml) and every read of a child's data is audited. List answers are pages: {items, total, offset, next_offset}.",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
            "description": "A per-agency token (`handoff token new`); only its SHA-256 is stored."}}},
        "paths": paths,
    })
}
