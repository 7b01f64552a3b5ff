//! The notifier as a sink: each batch of events, the notifications and
//! timers they produce, and the consumer offsets are written in one
//! transaction. A redelivered event is recognised by its id and produces
//! nothing; a notification's idempotency key (cause, rule, subscriber)
//! keeps it to one row however often it is produced. Timers fire when the
//! sink is idle (everything on the broker applied, so a cancelling event
//! on another topic cannot be missed), by event time: the clock is the
//! latest event time seen, moving on at the wall clock's pace from the
//! moment it was seen, and never ahead of the wall clock. In live
//! operation that is the wall clock (quiet weekends included); a history
//! loaded in minutes fires its deadlines as they fell then, not every
//! reminder up to today.
//!
//! History is not re-sent: on its first start the notifier marks where
//! each agency partition ends (`mark_history`); notifications caused by
//! events before the marks, or by deadlines that fell by their time, go
//! to the outbox as `history`, which only an operator's resend sends.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use handoff_bus::sink::{block_on_side_thread, TopicPartition};
use handoff_bus::{Delivered, OffsetAdvance, OffsetReader, Sink, SinkError};
use handoff_events::codec::{from_datum, to_datum};
use handoff_events::{Catalogue, Event, Timestamp};
use handoff_store::{offsets, Store, StoreError, StoreLocation, Value};
use handoff_story::ChildState;

use crate::config::NotifyConfig;
use crate::matching::recipients;
use crate::outbox::{HISTORY, PENDING};
use crate::rules::{on_event, on_timer, Rule, Timer, TimerOp, Trigger};
use crate::schema::TABLES;

fn sink_error(e: StoreError) -> SinkError {
    SinkError::Store(e.to_string())
}

pub async fn open_store(location: &StoreLocation) -> Result<Store, StoreError> {
    Store::open(location, TABLES).await
}

/// On the first start only: records where each partition ends now, so
/// that what is already on the topics counts as history. Returns whether
/// this was the first start.
pub async fn mark_history(
    store: &Store,
    ends: &HashMap<TopicPartition, i64>,
) -> Result<bool, StoreError> {
    store
        .in_transaction(async |store| {
            let marked = store
                .query("SELECT at FROM clock WHERE name = 'first_start'", vec![])
                .await?;
            if !marked.is_empty() {
                return Ok(false);
            }
            for ((topic, partition), end) in ends {
                store
                    .execute(
                        "INSERT INTO history_marks VALUES (?1, ?2, ?3)",
                        vec![topic.as_str().into(), (*partition).into(), (*end).into()],
                    )
                    .await?;
            }
            store
                .execute(
                    "INSERT INTO clock VALUES ('first_start', ?1)",
                    vec![Timestamp::now().0.into()],
                )
                .await?;
            Ok(true)
        })
        .await
}

/// Sets or cancels a timer (in the caller's transaction, if any).
pub async fn apply_timer_op(store: &Store, op: &TimerOp) -> Result<(), StoreError> {
    match op {
        TimerOp::Set(t) => store
            .execute(
                "INSERT INTO timers VALUES (?1, ?2, ?3, ?4, ?5, 0)
                 ON CONFLICT (rule, a_number, key) DO UPDATE SET due = excluded.due, repeat_every = excluded.repeat_every",
                vec![
                    t.rule.as_str().into(),
                    t.a_number.as_str().into(),
                    t.key.as_str().into(),
                    t.due.0.into(),
                    t.repeat_every_ms.into(),
                ],
            )
            .await
            .map(|_| ()),
        TimerOp::Cancel { rule, a_number, key } => store
            .execute(
                "DELETE FROM timers WHERE rule = ?1 AND a_number = ?2 AND key = ?3",
                vec![rule.as_str().into(), a_number.as_str().into(), key.as_str().into()],
            )
            .await
            .map(|_| ()),
    }
}

pub struct Notifier {
    store: Store,
    catalogue: Arc<Catalogue>,
    config: Arc<NotifyConfig>,
    /// Where history ends on each partition (see `mark_history`).
    marks: HashMap<TopicPartition, i64>,
    /// Woken after a batch that added pending notifications.
    wake: tokio::sync::watch::Sender<u64>,
    enqueued: bool,
}

impl Notifier {
    pub async fn open(
        location: &StoreLocation,
        catalogue: Arc<Catalogue>,
        config: Arc<NotifyConfig>,
        wake: tokio::sync::watch::Sender<u64>,
    ) -> Result<Self, StoreError> {
        let store = open_store(location).await?;
        let marks = store
            .query(
                "SELECT topic, partition, end_offset FROM history_marks",
                vec![],
            )
            .await?
            .into_iter()
            .map(|r| {
                (
                    (
                        r[0].as_str().unwrap_or_default().to_owned(),
                        r[1].as_i64().unwrap_or_default() as i32,
                    ),
                    r[2].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        Ok(Notifier {
            store,
            catalogue,
            config,
            marks,
            wake,
            enqueued: false,
        })
    }

    async fn clock_at(&self, name: &str) -> Result<Option<i64>, SinkError> {
        let rows = self
            .store
            .query("SELECT at FROM clock WHERE name = ?1", vec![name.into()])
            .await
            .map_err(sink_error)?;
        Ok(rows.first().and_then(|r| r[0].as_i64()))
    }

    async fn set_clock(&self, name: &str, to: Timestamp) -> Result<(), SinkError> {
        self.store
            .execute(
                "INSERT INTO clock VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET at = excluded.at",
                vec![name.into(), to.0.into()],
            )
            .await
            .map(|_| ())
            .map_err(sink_error)
    }

    async fn advance_clock(&self, name: &str, to: Timestamp) -> Result<(), SinkError> {
        self.store
            .execute(
                "INSERT INTO clock VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET at = CASE WHEN excluded.at > clock.at THEN excluded.at ELSE clock.at END",
                vec![name.into(), to.0.into()],
            )
            .await
            .map(|_| ())
            .map_err(sink_error)
    }

    async fn events_of(&self, a_number: &str) -> Result<Vec<Event>, SinkError> {
        let rows = self
            .store
            .query(
                "SELECT event_type, datum FROM child_events WHERE a_number = ?1",
                vec![a_number.into()],
            )
            .await
            .map_err(sink_error)?;
        rows.into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let kind = row.next().and_then(Value::into_string).unwrap_or_default();
                let datum = row.next().and_then(Value::into_bytes).unwrap_or_default();
                from_datum(&self.catalogue, &kind, &datum)
                    .map_err(|e| SinkError::Store(e.to_string()))
            })
            .collect()
    }

    /// Writes one outbox row per recipient, unless the key already has
    /// one: pending, or kept as history.
    async fn enqueue(
        &mut self,
        trigger: &Trigger,
        a_number: &str,
        history: bool,
    ) -> Result<(), SinkError> {
        if !self.config.enabled(trigger.rule) {
            return Ok(());
        }
        for subscriber in recipients(trigger, &self.config.subscribers) {
            let key = format!(
                "{}|{}|{}",
                trigger.cause,
                trigger.rule.as_str(),
                subscriber.id
            );
            let exists = self
                .store
                .query(
                    "SELECT 1 FROM outbox WHERE idempotency_key = ?1",
                    vec![key.as_str().into()],
                )
                .await
                .map_err(sink_error)?;
            if !exists.is_empty() {
                continue;
            }
            self.store
                .execute(
                    "INSERT INTO subscriber_seq VALUES (?1, 1) ON CONFLICT (subscriber) DO UPDATE SET next = subscriber_seq.next + 1",
                    vec![subscriber.id.as_str().into()],
                )
                .await
                .map_err(sink_error)?;
            let seq = self
                .store
                .query(
                    "SELECT next FROM subscriber_seq WHERE subscriber = ?1",
                    vec![subscriber.id.as_str().into()],
                )
                .await
                .map_err(sink_error)?[0][0]
                .as_i64()
                .unwrap_or(1);
            let priority = serde_json::to_value(trigger.priority)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            self.store
                .execute(
                    "INSERT INTO outbox (idempotency_key, subscriber, seq, rule, priority, a_number, occurred_at, payload, state, attempts, next_attempt_at, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, 0, ?10)",
                    vec![
                        key.into(),
                        subscriber.id.as_str().into(),
                        seq.into(),
                        trigger.rule.as_str().into(),
                        priority.into(),
                        a_number.into(),
                        trigger.at.0.into(),
                        serde_json::to_string(&trigger.payload)
                            .expect("a payload serialises")
                            .into(),
                        if history { HISTORY } else { PENDING }.into(),
                        Timestamp::now().0.into(),
                    ],
                )
                .await
                .map_err(sink_error)?;
            self.enqueued |= !history;
        }
        Ok(())
    }

    async fn apply_in_transaction(
        &mut self,
        events: &[Delivered],
        advances: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        for a in advances {
            let moved = offsets::advance(&self.store, &a.topic, a.partition, a.from, a.to)
                .await
                .map_err(sink_error)?;
            if !moved {
                return Err(SinkError::OffsetMoved);
            }
        }
        let touched: BTreeSet<String> = events
            .iter()
            .filter_map(|d| d.event.meta().a_number.as_ref())
            .map(|a| a.as_str().to_owned())
            .collect();
        let touched: Vec<String> = touched.into_iter().collect();
        self.store.lock_keys(&touched).await.map_err(sink_error)?;
        let mut latest = None;
        let mut latest_history = None;
        for (index, delivered) in events.iter().enumerate() {
            let event = &delivered.event;
            let meta = event.meta();
            latest = latest.max(Some(meta.occurred_at));
            let history = self
                .marks
                .get(&(delivered.topic.clone(), delivered.partition))
                .is_some_and(|end| delivered.offset < *end);
            if history {
                latest_history = latest_history.max(Some(meta.occurred_at));
            }
            let Some(a) = &meta.a_number else {
                continue; // statistical records notify no one
            };
            let datum = to_datum(&self.catalogue, event).map_err(|e| SinkError::Rejected {
                index,
                reason: e.to_string(),
            })?;
            let inserted = self
                .store
                .execute(
                    "INSERT INTO child_events VALUES (?1, ?2, ?3, ?4) ON CONFLICT (event_id) DO NOTHING",
                    vec![
                        meta.event_id.as_str().into(),
                        a.as_str().into(),
                        event.record_name().into(),
                        datum.into(),
                    ],
                )
                .await
                .map_err(sink_error)?;
            if inserted == 0 {
                continue; // a redelivery: its notifications exist already
            }
            let all = self.events_of(a.as_str()).await?;
            let without: Vec<Event> = all
                .iter()
                .filter(|e| e.meta().event_id != meta.event_id)
                .cloned()
                .collect();
            let before = ChildState::from_events(a.as_str(), &without);
            let after = ChildState::from_events(a.as_str(), &all);
            let effects = on_event(event, &before, &after, &self.config.rules);
            for op in &effects.timers {
                apply_timer_op(&self.store, op).await.map_err(sink_error)?;
            }
            for trigger in &effects.triggers {
                self.enqueue(trigger, a.as_str(), history).await?;
            }
        }
        // An event dated after the wall clock (a typo in a source system)
        // must not run the timers' clock into the future.
        let now = Timestamp::now();
        if let Some(latest) = latest.map(|l| l.min(now)) {
            if self
                .clock_at("event_time")
                .await?
                .is_none_or(|t| latest.0 > t)
            {
                self.advance_clock("event_time", latest).await?;
                self.set_clock("event_time_seen_at", now).await?;
            }
        }
        if let Some(latest) = latest_history {
            self.advance_clock("history_until", latest.min(now)).await?;
        }
        Ok(())
    }

    /// The timers' clock: the latest event time, or now once live.
    async fn clock(&self) -> Result<Option<Timestamp>, SinkError> {
        let Some(event_time) = self.clock_at("event_time").await? else {
            return Ok(None);
        };
        let seen_at = self
            .clock_at("event_time_seen_at")
            .await?
            .unwrap_or(event_time);
        let now = Timestamp::now().0;
        Ok(Some(Timestamp(
            (event_time + (now - seen_at).max(0))
                .min(now)
                .max(event_time),
        )))
    }

    /// Fires up to `TIMER_PAGE` timers due by `clock`, in order, starting
    /// after `after` (the last timer of the page before). Every timer it
    /// looks at leaves the due set (fired, or found moot, and deleted; or
    /// moved past the clock), so a page never sees one twice.
    async fn fire_due_page(
        &mut self,
        clock: Timestamp,
        history_until: Option<i64>,
        after: Option<&TimerKey>,
    ) -> Result<TimerPage, SinkError> {
        // The first page starts below every timer, so one query serves all
        // pages (`due >= ?3` lets the store walk the index from there).
        let start = after.cloned().unwrap_or(TimerKey {
            due: i64::MIN,
            rule: String::new(),
            a_number: String::new(),
            key: String::new(),
        });
        let sql = "SELECT rule, a_number, key, due, repeat_every, firings FROM timers WHERE due <= ?1 AND due >= ?3 AND (due, rule, a_number, key) > (?3, ?4, ?5, ?6) ORDER BY due, rule, a_number, key LIMIT ?2";
        let params = vec![
            clock.0.into(),
            TIMER_PAGE.into(),
            start.due.into(),
            start.rule.into(),
            start.a_number.into(),
            start.key.into(),
        ];
        let due = self.store.query(sql, params).await.map_err(sink_error)?;
        let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= TIMER_PAGE;
        let mut page = TimerPage::default();
        let mut states: HashMap<String, ChildState> = HashMap::new();
        for row in due {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            let looked_at = TimerKey {
                due: row[3].as_i64().unwrap_or_default(),
                rule: text(&row[0]),
                a_number: text(&row[1]),
                key: text(&row[2]),
            };
            let rule = Rule::parse(&looked_at.rule);
            page.last = Some(looked_at.clone());
            let Some(rule) = rule else {
                continue;
            };
            let mut timer = Timer {
                rule,
                a_number: looked_at.a_number,
                key: looked_at.key,
                due: Timestamp(looked_at.due),
                repeat_every_ms: row[4].as_i64(),
            };
            let mut firings = row[5].as_i64().unwrap_or_default() as u32;
            if !states.contains_key(&timer.a_number) {
                let events = self.events_of(&timer.a_number).await?;
                states.insert(
                    timer.a_number.clone(),
                    ChildState::from_events(&timer.a_number, &events),
                );
            }
            let state = &states[&timer.a_number];
            // One firing however late: a reminder overdue by several
            // intervals (the notifier was down, or a history was loaded)
            // is sent once, and the next falls after the clock.
            let mut live = false;
            if let Some(trigger) = on_timer(&timer, firings, state) {
                let history = history_until.is_some_and(|h| timer.due.0 <= h);
                self.enqueue(&trigger, &timer.a_number, history).await?;
                page.fired += 1;
                firings += 1;
                if let Some(every) = timer.repeat_every_ms.filter(|e| *e > 0) {
                    while timer.due <= clock {
                        timer.due = Timestamp(timer.due.0 + every);
                    }
                    live = true;
                }
            }
            let key = vec![
                rule.as_str().into(),
                timer.a_number.as_str().into(),
                timer.key.as_str().into(),
            ];
            if live {
                let mut params = key;
                params.extend([timer.due.0.into(), i64::from(firings).into()]);
                self.store
                    .execute(
                        "UPDATE timers SET due = ?4, firings = ?5 WHERE rule = ?1 AND a_number = ?2 AND key = ?3",
                        params,
                    )
                    .await
                    .map_err(sink_error)?;
            } else {
                self.store
                    .execute(
                        "DELETE FROM timers WHERE rule = ?1 AND a_number = ?2 AND key = ?3",
                        key,
                    )
                    .await
                    .map_err(sink_error)?;
            }
        }
        if !full {
            page.last = None;
        }
        Ok(page)
    }
}

/// Timers fired per transaction. A history's catch-up leaves hundreds of
/// thousands due at once (every released child's NTA deadline): fired in
/// one transaction they held every child's state in memory, over 1 GB at
/// 448,820 children (BENCHMARKS.md), and the write lock for minutes.
const TIMER_PAGE: i64 = 500;

/// A timer's place in the firing order (`due, rule, a_number, key`).
#[derive(Debug, Clone)]
struct TimerKey {
    due: i64,
    rule: String,
    a_number: String,
    key: String,
}

/// What one page of due timers did.
#[derive(Debug, Default)]
struct TimerPage {
    fired: usize,
    /// The last timer looked at, when the page was full (more may be due).
    last: Option<TimerKey>,
}

struct Reader(StoreLocation);

impl OffsetReader for Reader {
    fn stored(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        block_on_side_thread(async {
            let store = open_store(&self.0).await.map_err(sink_error)?;
            offsets::stored(&store, partitions)
                .await
                .map_err(sink_error)
        })
    }
}

impl Sink for Notifier {
    fn offset_reader(&self) -> Arc<dyn OffsetReader> {
        Arc::new(Reader(self.store.location()))
    }

    async fn apply(
        &mut self,
        events: &[Delivered],
        offsets: &[OffsetAdvance],
    ) -> Result<(), SinkError> {
        self.store.begin().await.map_err(sink_error)?;
        self.enqueued = false;
        match self.apply_in_transaction(events, offsets).await {
            Ok(()) => {
                self.store.commit().await.map_err(sink_error)?;
                if self.enqueued {
                    self.wake.send_modify(|n| *n = n.wrapping_add(1));
                }
                Ok(())
            }
            Err(e) => {
                self.store.rollback().await;
                Err(e)
            }
        }
    }

    async fn idle(&mut self) -> Result<(), SinkError> {
        // Most seconds nothing is due: look before taking the write lock.
        let Some(clock) = self.clock().await? else {
            return Ok(());
        };
        let due = self
            .store
            .query(
                "SELECT 1 FROM timers WHERE due <= ?1 LIMIT 1",
                vec![clock.0.into()],
            )
            .await
            .map_err(sink_error)?;
        if due.is_empty() {
            return Ok(());
        }
        let history_until = self.clock_at("history_until").await?;
        let mut fired = 0;
        let mut after = None;
        loop {
            self.store.begin().await.map_err(sink_error)?;
            self.enqueued = false;
            let page = match self
                .fire_due_page(clock, history_until, after.as_ref())
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    self.store.rollback().await;
                    return Err(e);
                }
            };
            self.store.commit().await.map_err(sink_error)?;
            if self.enqueued {
                self.wake.send_modify(|n| *n = n.wrapping_add(1));
            }
            fired += page.fired;
            match page.last {
                Some(last) => after = Some(last),
                None => break,
            }
        }
        if fired > 0 {
            tracing::info!(fired, "timers fired");
        }
        Ok(())
    }
}
