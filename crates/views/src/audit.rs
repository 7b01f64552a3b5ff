//! The audit trail: every read of a child's data is recorded (who: agency
//! and token id; what: endpoint and A-numbers returned; when) in the store
//! before the answer leaves, and copied to `handoff.audit.v1` by a
//! publisher that works through the rows not yet published (an outbox, so
//! a broker outage delays the copy but never loses it).

use std::time::Duration;

use handoff_bus::KafkaConfig;
use handoff_events::{topics, Agency, Timestamp};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::schema::open_store;
use crate::store::{Store, StoreError, StoreLocation, Value};

/// One read of children's data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub agency: String,
    pub token_id: String,
    pub endpoint: String,
    pub a_numbers: Vec<String>,
}

pub async fn record(
    store: &Store,
    agency: Agency,
    token_id: &str,
    endpoint: &str,
    a_numbers: &[String],
) -> Result<(), StoreError> {
    store
        .execute(
            "INSERT INTO audit (at, agency, token_id, endpoint, a_numbers) VALUES (?1, ?2, ?3, ?4, ?5)",
            vec![
                Timestamp::now().0.into(),
                agency.symbol().into(),
                token_id.into(),
                endpoint.into(),
                a_numbers.join(",").into(),
            ],
        )
        .await
        .map(|_| ())
}

fn from_row(r: &[Value]) -> AuditRecord {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    AuditRecord {
        id: r[0].as_i64().unwrap_or_default(),
        at: r[1]
            .as_i64()
            .map(|ms| Timestamp(ms).to_rfc3339())
            .unwrap_or_default(),
        agency: text(&r[2]),
        token_id: text(&r[3]),
        endpoint: text(&r[4]),
        a_numbers: text(&r[5])
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    }
}

/// The audit records, oldest first.
pub async fn log(store: &Store) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = store
        .query(
            "SELECT id, at, agency, token_id, endpoint, a_numbers FROM audit ORDER BY id",
            vec![],
        )
        .await?;
    Ok(rows.iter().map(|r| from_row(r)).collect())
}

/// Copies audit rows to `handoff.audit.v1` (JSON, keyed by token id) until
/// `shutdown`, marking each published once the broker acknowledged it.
/// Several instances on one PostgreSQL store may copy a row twice; the
/// record's `id` lets an auditor count each once.
pub async fn publish(location: StoreLocation, kafka: KafkaConfig, shutdown: CancellationToken) {
    let producer: FutureProducer = match kafka.producer().create() {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "the audit publisher cannot create a producer");
            return;
        }
    };
    let store = loop {
        match open_store(&location).await {
            Ok(store) => break store,
            Err(e) => tracing::warn!(error = %e, "audit publisher: store not ready"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    };
    loop {
        if let Err(e) = publish_pending(&store, &producer).await {
            tracing::warn!(error = %e, "audit publisher: will retry");
        }
        tokio::select! {
            _ = shutdown.cancelled() => {
                // One last pass so reads just before shutdown go out too.
                let _ = publish_pending(&store, &producer).await;
                return;
            }
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn publish_pending(store: &Store, producer: &FutureProducer) -> Result<(), String> {
    let rows = store
        .query(
            "SELECT id, at, agency, token_id, endpoint, a_numbers FROM audit WHERE published = 0 ORDER BY id LIMIT 500",
            vec![],
        )
        .await
        .map_err(|e| e.to_string())?;
    for row in rows {
        let record = from_row(&row);
        let payload = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
        producer
            .send(
                FutureRecord::to(topics::AUDIT)
                    .key(&record.token_id)
                    .payload(&payload),
                Duration::from_secs(30),
            )
            .await
            .map_err(|(e, _)| format!("sending audit record {}: {e}", record.id))?;
        store
            .execute(
                "UPDATE audit SET published = 1 WHERE id = ?1",
                vec![record.id.into()],
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
