//! `GET /v1/notifications`: a subscriber's notifications as an API, for a
//! receiver that sees a gap in the sequence numbers (or was down) to catch
//! up without an operator: everything after the last sequence number it
//! has, in order, paged. Only the caller's agency's subscribers; what a
//! listed notification carries is what was delivered to that subscriber;
//! every A-number in an answer is audited, as every read of children's
//! data is.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use handoff_events::Agency;
use handoff_http::Problem;
use handoff_notify::api::AckState;
use handoff_notify::notification::ListedNotification;
use handoff_notify::outbox::{self, Listing, STATES};
use handoff_views::answers::Page;
use handoff_views::api::params::PagingQuery;
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::IntoParams;

use crate::Console;

fn states() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(STATES))
        .into()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// One of your agency's subscribers (deploy/notify.toml's `id`);
    /// without it, all of them.
    subscriber: Option<String>,
    /// Only sequence numbers above this: the last one you received.
    /// Sequence numbers are per subscriber, so this needs `subscriber`.
    #[param(value_type = Option<i64>, minimum = 0)]
    after_sequence: Option<String>,
    /// Only notifications in this delivery state.
    #[param(schema_with = states)]
    state: Option<String>,
    /// `false`: only those not yet acknowledged; `true`: only those that are.
    #[param(value_type = Option<bool>)]
    acknowledged: Option<String>,
}

impl ListingQuery {
    /// The listing asked for, of `agency`'s subscribers.
    pub fn listing(&self, notify: &AckState, agency: Agency) -> Result<Listing, Problem> {
        let own = own_subscribers(notify, agency);
        let subscribers = match &self.subscriber {
            None => own,
            Some(s) if own.contains(s) => vec![s.clone()],
            Some(s) if notify.config.subscribers.iter().any(|x| &x.id == s) => {
                return Err(Problem::forbidden(format!(
                    "subscriber `{s}` belongs to another agency; {} may list only its own",
                    agency.symbol()
                )))
            }
            Some(s) => {
                return Err(Problem::bad_parameter(
                    "subscriber",
                    format!("no subscriber `{s}`; yours are: {}", own.join(", ")),
                ))
            }
        };
        let after_sequence = match &self.after_sequence {
            None => None,
            Some(_) if self.subscriber.is_none() => {
                return Err(Problem::bad_parameter(
                    "after_sequence",
                    "sequence numbers are per subscriber: give `subscriber` too",
                ))
            }
            Some(raw) => Some(raw.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                Problem::bad_parameter(
                    "after_sequence",
                    format!("`after_sequence` is the last sequence number you have (0 or more), not {raw:?}"),
                )
            })?),
        };
        let state = match self.state.as_deref() {
            None => None,
            Some(s) if STATES.contains(&s) => Some(s.to_owned()),
            Some(s) => {
                return Err(Problem::bad_parameter(
                    "state",
                    format!("no state `{s}`; the states are {}", STATES.join(", ")),
                ))
            }
        };
        let acknowledged = match self.acknowledged.as_deref() {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => {
                return Err(Problem::bad_parameter(
                    "acknowledged",
                    format!("`acknowledged` is true or false, not {other:?}"),
                ))
            }
        };
        Ok(Listing {
            subscribers,
            after_sequence,
            state,
            acknowledged,
            limit: 100,
            offset: 0,
        })
    }
}

/// The ids of `agency`'s subscribers.
pub fn own_subscribers(notify: &AckState, agency: Agency) -> Vec<String> {
    notify
        .config
        .subscribers
        .iter()
        .filter(|s| s.agency == agency)
        .map(|s| s.id.clone())
        .collect()
}

/// Notifications of your agency's subscribers, in sequence order per
/// subscriber: with `subscriber` and `after_sequence`, everything you
/// have not received.
#[utoipa::path(
    get,
    path = "/v1/notifications",
    tag = "notifications",
    params(ListingQuery, PagingQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of notifications, as delivered, with their handling.", body = Page<ListedNotification>))
)]
pub async fn notifications(
    State(console): State<Arc<Console>>,
    Query(query): Query<ListingQuery>,
    Query(paging): Query<PagingQuery>,
    headers: HeaderMap,
) -> Result<Json<Page<ListedNotification>>, Problem> {
    let token = console.views.guard.admit(&headers)?;
    let notify = console.notify.as_ref().ok_or_else(|| {
        Problem::unavailable(
            "this listener does not run the notifier (`handoff views` alone); the notification listing is served by `handoff up`",
        )
    })?;
    let paging = paging.paging()?;
    let listing = Listing {
        limit: paging.limit,
        offset: paging.offset,
        ..query.listing(notify, token.agency)?
    };
    let (rows, total) = outbox::list(&notify.store, &listing)
        .await
        .map_err(|e| Problem::unavailable(e.to_string()))?;
    let mut a_numbers: Vec<String> = rows
        .iter()
        .map(|r| r.row.notification.a_number.clone())
        .collect();
    a_numbers.sort();
    a_numbers.dedup();
    handoff_views::audit::record(
        &console.views.store,
        token.agency,
        &token.id,
        "GET /v1/notifications",
        &a_numbers,
    )
    .await
    .map_err(|e| Problem::unavailable(format!("audit failed, so no answer: {e}")))?;
    let items: Vec<ListedNotification> = rows.into_iter().map(Into::into).collect();
    let end = paging.offset + items.len() as i64;
    Ok(Json(Page {
        next_offset: (end < total).then_some(end),
        items,
        total,
        offset: paging.offset,
    }))
}
