//! The outbox's states and every statement that moves a notification
//! between them, for the delivery loop, the acknowledgement endpoint and
//! the operator's commands:
//!
//! - `pending`: to be sent (by `next_attempt_at`), in sequence order per
//!   subscriber;
//! - `delivered`: the channel accepted it;
//! - `dead`: the retry budget ran out; `handoff notify dlq retry` makes it
//!   pending again;
//! - `history`: made from events recorded before the notifier's first
//!   start (a rebuild or replay), kept but not sent unless an operator
//!   resends it.

use handoff_events::Timestamp;
use handoff_http::Time;
use handoff_store::{Store, StoreError, Value};

use crate::notification::Notification;

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";
pub const HISTORY: &str = "history";
pub const STATES: [&str; 4] = [PENDING, DELIVERED, DEAD, HISTORY];

/// A notification with its delivery bookkeeping.
#[derive(Debug, Clone)]
pub struct Row {
    pub notification: Notification,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// When the row was written (wall clock, ms).
    pub created_at: i64,
}

const COLUMNS: &str = "id, idempotency_key, subscriber, seq, rule, priority, a_number, occurred_at, payload, state, attempts, next_attempt_at, last_error, created_at";

fn from_row(row: Vec<Value>) -> Row {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let int = |v: &Value| v.as_i64().unwrap_or_default();
    Row {
        notification: Notification {
            id: int(&row[0]),
            idempotency_key: text(&row[1]),
            subscriber: text(&row[2]),
            sequence: int(&row[3]),
            rule: text(&row[4]),
            priority: text(&row[5]),
            a_number: text(&row[6]),
            occurred_at: Time(Timestamp(int(&row[7]))),
            payload: serde_json::from_str(row[8].as_str().unwrap_or("null")).unwrap_or_default(),
        },
        state: text(&row[9]),
        attempts: int(&row[10]) as u32,
        next_attempt_at: int(&row[11]),
        last_error: row[12].as_str().map(str::to_owned),
        created_at: int(&row[13]),
    }
}

/// The subscriber's first `limit` notifications still to send, lowest
/// pending sequence number first (later ones wait for earlier ones).
pub async fn next_pending(
    store: &Store,
    subscriber: &str,
    limit: usize,
) -> Result<Vec<Row>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM outbox WHERE subscriber = ?1 AND state = 'pending' ORDER BY seq LIMIT ?2"),
            vec![subscriber.into(), (limit as i64).into()],
        )
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Marks the notifications `ids`, each accepted by its channel,
/// delivered at `at_ms`: one write for a run of them, so a loop sending
/// a backlog takes the store's write lock once per run, not per
/// notification, while the notifier's sink holds it for its batches.
pub async fn mark_delivered(store: &Store, ids: &[i64], at_ms: i64) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("?{}", i + 2)).collect();
    let mut params: Vec<Value> = vec![at_ms.into()];
    params.extend(ids.iter().map(|&id| Value::from(id)));
    store
        .execute(
            &format!(
                "UPDATE outbox SET state = 'delivered', delivered_at = ?1, attempts = attempts + 1, last_error = NULL WHERE id IN ({})",
                placeholders.join(", ")
            ),
            params,
        )
        .await
        .map(|_| ())
}

/// Records a failed attempt: pending again at `retry_at`, or dead when
/// `retry_at` is None.
pub async fn mark_failed(
    store: &Store,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
) -> Result<(), StoreError> {
    let (state, at) = match retry_at {
        Some(at) => (PENDING, at),
        None => (DEAD, 0),
    };
    store
        .execute(
            "UPDATE outbox SET state = ?2, next_attempt_at = ?3, attempts = attempts + 1, last_error = ?4 WHERE id = ?1",
            vec![id.into(), state.into(), at.into(), error.into()],
        )
        .await
        .map(|_| ())
}

/// The highest sequence number delivered to a subscriber (0 if none),
/// which its heartbeat reports.
pub async fn last_delivered(store: &Store, subscriber: &str) -> Result<i64, StoreError> {
    let rows = store
        .query(
            "SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE subscriber = ?1 AND state = 'delivered'",
            vec![subscriber.into()],
        )
        .await?;
    Ok(rows.first().and_then(|r| r[0].as_i64()).unwrap_or_default())
}

/// Notifications in one state, oldest first.
pub async fn in_state(store: &Store, state: &str) -> Result<Vec<Row>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM outbox WHERE state = ?1 ORDER BY subscriber, seq"),
            vec![state.into()],
        )
        .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub async fn get(store: &Store, id: i64) -> Result<Option<Row>, StoreError> {
    let rows = store
        .query(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            vec![id.into()],
        )
        .await?;
    Ok(rows.into_iter().next().map(from_row))
}

/// Makes dead notifications pending again with a fresh retry budget
/// (all of them, or those with the given ids). Returns how many.
pub async fn retry_dead(store: &Store, ids: &[i64]) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return store
            .execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE state = 'dead'",
                vec![],
            )
            .await;
    }
    let mut n = 0;
    for id in ids {
        n += store
            .execute(
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE state = 'dead' AND id = ?1",
                vec![(*id).into()],
            )
            .await?;
    }
    Ok(n)
}

/// Notifications kept as history that happened at or after `since_ms`:
/// (rule, subscriber, count).
pub async fn history_since(
    store: &Store,
    since_ms: i64,
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let rows = store
        .query(
            "SELECT rule, subscriber, COUNT(*) FROM outbox WHERE state = 'history' AND occurred_at >= ?1 GROUP BY rule, subscriber ORDER BY rule, subscriber",
            vec![since_ms.into()],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_str().unwrap_or_default().to_owned(),
                r[2].as_i64().unwrap_or_default(),
            )
        })
        .collect())
}

/// Makes history from `since_ms` on pending: the operator's resend.
pub async fn resend_history(store: &Store, since_ms: i64) -> Result<u64, StoreError> {
    store
        .execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE state = 'history' AND occurred_at >= ?1",
            vec![since_ms.into()],
        )
        .await
}

/// Records an acknowledgement (the first one counts). Returns false if
/// the notification was already acknowledged.
pub async fn acknowledge(
    store: &Store,
    id: i64,
    at_ms: i64,
    by: &str,
    follow_up: bool,
) -> Result<bool, StoreError> {
    let n = store
        .execute(
            "UPDATE outbox SET acked_at = ?2, acked_by = ?3, follow_up = ?4 WHERE id = ?1 AND acked_at IS NULL",
            vec![id.into(), at_ms.into(), by.into(), i64::from(follow_up).into()],
        )
        .await?;
    Ok(n > 0)
}

/// Which notifications a listing asks for: one subscriber (or several),
/// after a sequence number, in a state, acknowledged or not.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// The subscribers to list (the caller's agency's); never empty.
    pub subscribers: Vec<String>,
    /// Only sequence numbers above this (a receiver catching up after a
    /// gap names the last one it has).
    pub after_sequence: Option<i64>,
    /// One of the states above.
    pub state: Option<String>,
    pub acknowledged: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

/// A notification with what a receiver or an inbox shows of its handling.
#[derive(Debug, Clone)]
pub struct Listed {
    pub row: Row,
    pub delivered_at: Option<i64>,
    pub acked_at: Option<i64>,
    pub acked_by: Option<String>,
    pub follow_up: Option<bool>,
}

/// One page of a listing, in (subscriber, sequence) order, and how many
/// the whole listing holds.
pub async fn list(store: &Store, listing: &Listing) -> Result<(Vec<Listed>, i64), StoreError> {
    let mut conditions = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let param = |params: &mut Vec<Value>, v: Value| {
        params.push(v);
        format!("?{}", params.len())
    };
    let names: Vec<String> = listing
        .subscribers
        .iter()
        .map(|s| param(&mut params, s.as_str().into()))
        .collect();
    conditions.push(format!("subscriber IN ({})", names.join(", ")));
    if let Some(after) = listing.after_sequence {
        conditions.push(format!("seq > {}", param(&mut params, after.into())));
    }
    if let Some(state) = &listing.state {
        conditions.push(format!(
            "state = {}",
            param(&mut params, state.as_str().into())
        ));
    }
    match listing.acknowledged {
        Some(true) => conditions.push("acked_at IS NOT NULL".into()),
        Some(false) => conditions.push("acked_at IS NULL".into()),
        None => {}
    }
    let clause = conditions.join(" AND ");
    let total = store
        .query(
            &format!("SELECT COUNT(*) FROM outbox WHERE {clause}"),
            params.clone(),
        )
        .await?
        .first()
        .and_then(|r| r[0].as_i64())
        .unwrap_or_default();
    if listing.limit == 0 {
        // A count only (the inbox's summary): no page to read.
        return Ok((Vec::new(), total));
    }
    let limit = param(&mut params, listing.limit.into());
    let offset = param(&mut params, listing.offset.into());
    let rows = store
        .query(
            &format!(
                "SELECT {COLUMNS}, delivered_at, acked_at, acked_by, follow_up FROM outbox WHERE {clause} ORDER BY subscriber, seq LIMIT {limit} OFFSET {offset}"
            ),
            params,
        )
        .await?;
    let listed = rows
        .into_iter()
        .map(|mut r| {
            let extra = r.split_off(14);
            Listed {
                row: from_row(r),
                delivered_at: extra[0].as_i64(),
                acked_at: extra[1].as_i64(),
                acked_by: extra[2].as_str().map(str::to_owned),
                follow_up: extra[3].as_i64().map(|n| n != 0),
            }
        })
        .collect();
    Ok((listed, total))
}

/// Dead notifications per subscriber, for the operations page.
pub async fn dead_per_subscriber(store: &Store) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = store
        .query(
            "SELECT subscriber, COUNT(*) FROM outbox WHERE state = 'dead' GROUP BY subscriber ORDER BY subscriber",
            vec![],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_i64().unwrap_or_default(),
            )
        })
        .collect())
}
