//! `GET /v1/children/{a_number}`: one child's merged record, with the
//! fields the caller's agency may read.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use handoff_events::{ANumber, ANumberError};
use handoff_http::Problem;

use super::{audit_failed, store_failed, Answer, ApiState};
use crate::answers::{ChildAnswer, ChildRecord};
use crate::audit;

/// The spellings of an A-number the API takes, as the path parameter's
/// pattern gives them: an optional `A`, then 7 to 9 digits with `-`, `.`
/// or spaces after any of them. Anything else is refused before it is
/// parsed, so no spelling outside the pattern is accepted; all zeros is
/// well-formed but nobody's (404).
fn a_number(raw: &str) -> Result<Option<ANumber>, Problem> {
    let body = raw.strip_prefix(['A', 'a']).unwrap_or(raw);
    let spelled = body.starts_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || " .-".contains(c));
    if !spelled {
        return Err(Problem::bad_parameter(
            "a_number",
            "an A-number is an optional A and 7 to 9 digits (A012345678, 012-345-678)",
        ));
    }
    match ANumber::parse(raw) {
        Ok(a) => Ok(Some(a)),
        Err(ANumberError::AllZeros { .. }) => Ok(None),
        Err(e) => Err(Problem::bad_parameter("a_number", e.to_string())),
    }
}

/// One child's merged state and timeline across ICE, ORR and EOIR, with
/// the fields the caller's agency may read.
#[utoipa::path(
    get,
    path = "/v1/children/{a_number}",
    tag = "views",
    params(("a_number" = String, Path, pattern = "^[Aa]?[0-9][ .-]*([0-9][ .-]*){6,8}$",
        description = "The A-number, with or without the A and separators.")),
    security(("bearer" = [])),
    responses((status = 200, description = "The record, filtered by the policy's `child` view.", body = ChildAnswer))
)]
pub async fn child(
    State(state): State<Arc<ApiState>>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "child")?;
    let Some(a_number) = a_number(&raw)? else {
        return Err(Problem::not_found("no child has an A-number of all zeros").at("a_number"));
    };
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
        Problem::not_found(format!("no record of {}", a_number.masked())).at("a_number")
    })?;
    let record = serde_json::to_value(ChildRecord::from(&child)).unwrap_or_default();
    let filtered = state.policy.filter(token.agency, "child", &record);
    Ok(Json(serde_json::json!({ "child": filtered })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pattern_and_the_check_agree() {
        assert!(a_number("A012-345-678").unwrap().is_some());
        assert!(a_number("012345678").unwrap().is_some());
        assert!(a_number("A000-000-000").unwrap().is_none());
        for bad in [
            " A012345678",
            "A",
            "",
            "0",
            "AA012345678",
            "A-012345678",
            "A01234567x",
            "A0123456789",
        ] {
            assert_eq!(
                a_number(bad).unwrap_err().parameter.as_deref(),
                Some("a_number"),
                "{bad:?}"
            );
        }
    }
}
