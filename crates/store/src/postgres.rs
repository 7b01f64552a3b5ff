//! PostgreSQL: the store several instances of a service share. Each
//! batch is one transaction; the keys a batch touches (A-numbers) are
//! locked with transaction-scoped advisory locks, taken in sorted order so
//! two instances never deadlock, so two instances updating the same child
//! one after the other each see the other's committed rows.

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use super::value::Value;

pub struct PgDb {
    pub(crate) url: String,
    client: Mutex<Option<Client>>,
}

/// `?1` placeholders (the views' SQL is written once, SQLite style) as
/// PostgreSQL's `$1`.
pub(crate) fn placeholders(sql: &str) -> String {
    sql.replace('?', "$")
}

async fn connect(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    // The idempotent schema statements run at every open; their "already
    // exists, skipping" notices would bury the log.
    client
        .batch_execute("SET client_min_messages = warning")
        .await?;
    Ok(client)
}

impl PgDb {
    pub async fn open(url: &str) -> Result<Self, tokio_postgres::Error> {
        let client = connect(url).await?;
        Ok(PgDb {
            url: url.to_owned(),
            client: Mutex::new(Some(client)),
        })
    }

    /// The live client, reconnecting if the server closed the last one
    /// (a restart): the failed batch is retried on the new connection.
    async fn client(
        &self,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Client>>, tokio_postgres::Error> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(connect(&self.url).await?);
        }
        Ok(guard)
    }

    pub async fn batch(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        let guard = self.client().await?;
        guard.as_ref().expect("connected").batch_execute(sql).await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<u64, tokio_postgres::Error> {
        let guard = self.client().await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|v| v as _).collect();
        guard
            .as_ref()
            .expect("connected")
            .execute(&placeholders(sql), &refs)
            .await
    }

    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, tokio_postgres::Error> {
        let guard = self.client().await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|v| v as _).collect();
        let rows = guard
            .as_ref()
            .expect("connected")
            .query(&placeholders(sql), &refs)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut values = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                use tokio_postgres::types::Type;
                let ty = column.type_();
                let value = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?.into()
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)?.into()
                } else if *ty == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(i)?.into()
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(i)?.into()
                } else {
                    row.try_get::<_, Option<String>>(i)?.into()
                };
                values.push(value);
            }
            out.push(values);
        }
        Ok(out)
    }

    /// Locks the keys a batch touches until the transaction ends.
    pub async fn lock_keys(&self, keys: &[String]) -> Result<(), tokio_postgres::Error> {
        for a in keys {
            self.execute(
                "SELECT pg_advisory_xact_lock(hashtext(?1))",
                vec![a.as_str().into()],
            )
            .await?;
        }
        Ok(())
    }
}
