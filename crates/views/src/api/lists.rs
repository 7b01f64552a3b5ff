//! The agency views and the lists: pages of items, each filtered by the
//! policy and audited (`ApiState::answer`).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;
use handoff_http::Time;

use super::params::{
    AsOfQuery, BacklogFilter, CourtFilter, EoirFilter, FtaFilter, IceFilter, KindQuery, OlderThan,
    OrrFilter, PagingQuery, SortQuery, Window,
};
use super::{store_failed, Answer, ApiState};
use crate::answers::{
    EoirCase, Finding, FindingCounts, IceChild, MissedHearing, OrrChild, Page, UnservedNta,
    UpcomingHearing,
};
use crate::narrow::sortable;

/// ICE's view: every child ICE knows, with NTA status and age, court
/// status, next hearing, FTAs and follow-ups, latest address, area of
/// responsibility, open safety concerns.
///
/// Sortable by `a_number`, `area_of_responsibility`, `court`,
/// `nta_status_at`, `fta_count`, `latest_address_at`,
/// `open_safety_concerns`.
#[utoipa::path(
    get,
    path = "/v1/views/ice",
    tag = "views",
    params(IceFilter, SortQuery, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `ice` view.", body = Page<IceChild>))
)]
pub async fn ice_view(
    State(state): State<Arc<ApiState>>,
    Query(filter): Query<IceFilter>,
    Query(sort): Query<SortQuery>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "ice")?;
    let page = state
        .queries()
        .ice_view(
            &filter.narrow()?,
            sort.sort(sortable::ICE)?,
            as_of.as_of()?,
            paging.paging()?,
        )
        .await
        .map_err(store_failed)?;
    state.answer(&token, "ice", "GET /v1/views/ice", page).await
}

/// ORR's view: released children, with court status, next hearing and
/// FTAs.
///
/// Sortable by `a_number`, `released_at`, `court`, `fta_count`,
/// `last_fta_at`.
#[utoipa::path(
    get,
    path = "/v1/views/hhs_orr",
    tag = "views",
    params(OrrFilter, SortQuery, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `hhs_orr` view.", body = Page<OrrChild>))
)]
pub async fn orr_view(
    State(state): State<Arc<ApiState>>,
    Query(filter): Query<OrrFilter>,
    Query(sort): Query<SortQuery>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "hhs_orr")?;
    let page = state
        .queries()
        .orr_view(
            &filter.narrow()?,
            sort.sort(sortable::HHS_ORR)?,
            as_of.as_of()?,
            paging.paging()?,
        )
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "hhs_orr", "GET /v1/views/hhs_orr", page)
        .await
}

/// EOIR's view: open cases with the latest address from any agency and
/// whether it differs from EOIR's.
///
/// Sortable by `a_number`, `court`, `latest_address_at`.
#[utoipa::path(
    get,
    path = "/v1/views/doj_eoir",
    tag = "views",
    params(EoirFilter, SortQuery, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `doj_eoir` view.", body = Page<EoirCase>))
)]
pub async fn eoir_view(
    State(state): State<Arc<ApiState>>,
    Query(filter): Query<EoirFilter>,
    Query(sort): Query<SortQuery>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "doj_eoir")?;
    let page = state
        .queries()
        .eoir_view(
            &filter.narrow()?,
            sort.sort(sortable::DOJ_EOIR)?,
            as_of.as_of()?,
            paging.paging()?,
        )
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "doj_eoir", "GET /v1/views/doj_eoir", page)
        .await
}

/// Missed hearings (failures to appear), oldest first, with ICE's
/// follow-up and whether OPLA recorded them.
///
/// Sortable by `hearing_at`, `a_number`, `court`,
/// `area_of_responsibility`.
#[utoipa::path(
    get,
    path = "/v1/fta",
    tag = "views",
    params(FtaFilter, SortQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `fta` view.", body = Page<MissedHearing>))
)]
pub async fn fta(
    State(state): State<Arc<ApiState>>,
    Query(filter): Query<FtaFilter>,
    Query(sort): Query<SortQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "fta")?;
    let page = state
        .queries()
        .ftas(
            &filter.narrow()?,
            sort.sort(sortable::FTA)?,
            paging.paging()?,
        )
        .await
        .map_err(store_failed)?;
    state.answer(&token, "fta", "GET /v1/fta", page).await
}

/// Released children not served a Notice to Appear more than
/// `older_than_days` after release, longest waiting first.
///
/// Sortable by `released_at`, `a_number`, `area_of_responsibility`.
#[utoipa::path(
    get,
    path = "/v1/nta-backlog",
    tag = "views",
    params(OlderThan, BacklogFilter, SortQuery, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `nta_backlog` view.", body = Page<UnservedNta>))
)]
pub async fn nta_backlog(
    State(state): State<Arc<ApiState>>,
    Query(older): Query<OlderThan>,
    Query(filter): Query<BacklogFilter>,
    Query(sort): Query<SortQuery>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "nta_backlog")?;
    let page = state
        .queries()
        .nta_backlog(
            older.days()?,
            &filter.narrow()?,
            sort.sort(sortable::NTA_BACKLOG)?,
            as_of.as_of()?,
            paging.paging()?,
        )
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "nta_backlog", "GET /v1/nta-backlog", page)
        .await
}

/// Hearings still on the calendar in the next `days`.
///
/// Sortable by `hearing_at`, `a_number`, `court`.
#[utoipa::path(
    get,
    path = "/v1/hearings/upcoming",
    tag = "views",
    params(Window, CourtFilter, SortQuery, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page, filtered by the policy's `hearings_upcoming` view.", body = Page<UpcomingHearing>))
)]
pub async fn upcoming(
    State(state): State<Arc<ApiState>>,
    Query(window): Query<Window>,
    Query(filter): Query<CourtFilter>,
    Query(sort): Query<SortQuery>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "hearings_upcoming")?;
    let page = state
        .queries()
        .upcoming_hearings(
            window.days()?,
            &filter.narrow(),
            sort.sort(sortable::UPCOMING)?,
            as_of.as_of()?,
            paging.paging()?,
        )
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

/// Data-quality findings of one `kind`; without `kind`, the count of
/// each kind (counts only, no child data).
#[utoipa::path(
    get,
    path = "/v1/data-quality",
    tag = "views",
    params(KindQuery, OlderThan, AsOfQuery, PagingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "With `kind`: a page of findings, filtered by the policy's `data_quality` view. Without: the counts.",
            body = inline(FindingsOrCounts)),
    )
)]
pub async fn data_quality(
    State(state): State<Arc<ApiState>>,
    Query(kind): Query<KindQuery>,
    Query(older): Query<OlderThan>,
    Query(as_of): Query<AsOfQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Answer {
    let token = state.authorize(&headers, "data_quality")?;
    let days = older.days()?;
    let as_of = as_of.as_of()?;
    let paging = paging.paging()?;
    let Some(kind) = kind.kind()? else {
        let counts = state
            .queries()
            .data_quality_summary(days, as_of)
            .await
            .map_err(store_failed)?;
        return Ok(Json(FindingsOrCounts::Counts(FindingCounts {
            as_of: Time(as_of),
            counts: counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect(),
        }))
        .into_response());
    };
    let page = state
        .queries()
        .data_quality(kind, days, as_of, paging)
        .await
        .map_err(store_failed)?;
    state
        .answer(&token, "data_quality", "GET /v1/data-quality", page)
        .await
}

/// The two answers of `/v1/data-quality`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[allow(dead_code)] // `Findings` is built by `answer`, as filtered JSON.
#[serde(untagged)]
enum FindingsOrCounts {
    Findings(Page<Finding>),
    Counts(FindingCounts),
}
