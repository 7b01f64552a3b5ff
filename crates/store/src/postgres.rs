//! PostgreSQL: the store several instances of a service share. Each
//! batch is one transaction; the keys a batch touches (A-numbers) are
//! locked with transaction-scoped advisory locks, taken in sorted order so
//! two instances never deadlock, so two instances updating the same child
//! one after the other each see the other's committed rows.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, NoTls, Statement};

use super::value::Value;

pub struct PgDb {
    pub(crate) url: String,
    conn: Mutex<Option<Conn>>,
}

/// A connection and the statements prepared on it, by their SQL. The
/// stores run a handful of statements millions of times: preparing each
/// once saves the server a parse and plan, and the client a round trip,
/// per row.
struct Conn {
    client: Arc<Client>,
    statements: HashMap<String, Statement>,
}

impl Conn {
    async fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&placeholders(sql)).await?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
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
            conn: Mutex::new(Some(Conn {
                client: Arc::new(client),
                statements: HashMap::new(),
            })),
        })
    }

    /// The live connection, reconnecting if the server closed the last one
    /// (a restart): the failed batch is retried on the new connection,
    /// whose statements are prepared afresh.
    async fn conn(&self) -> Result<MutexGuard<'_, Option<Conn>>, tokio_postgres::Error> {
        let mut guard = self.conn.lock().await;
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = Some(Conn {
                client: Arc::new(connect(&self.url).await?),
                statements: HashMap::new(),
            });
        }
        Ok(guard)
    }

    /// The client and `sql` prepared on it. The lock is not held while
    /// the statement runs, so statements issued together (a batch of
    /// inserts joined) are pipelined on the one connection, in order.
    async fn prepared(&self, sql: &str) -> Result<(Arc<Client>, Statement), tokio_postgres::Error> {
        let mut guard = self.conn().await?;
        let conn = guard.as_mut().expect("connected");
        let statement = conn.statement(sql).await?;
        Ok((conn.client.clone(), statement))
    }

    pub async fn batch(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        let guard = self.conn().await?;
        let conn = guard.as_ref().expect("connected");
        conn.client.batch_execute(sql).await
    }

    pub async fn execute(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<u64, tokio_postgres::Error> {
        let (client, statement) = self.prepared(sql).await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|v| v as _).collect();
        client.execute(&statement, &refs).await
    }

    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, tokio_postgres::Error> {
        let (client, statement) = self.prepared(sql).await?;
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
            params.iter().map(|v| v as _).collect();
        let rows = client.query(&statement, &refs).await?;
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
