//! SQLite (libsql, the engine the embedded broker already links): the
//! embedded default, one file in the data directory. `BEGIN IMMEDIATE`
//! takes the write lock at the start of a batch, so two writers never
//! interleave and a reader always sees whole batches.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libsql::params::Params;
use libsql::Connection;

use super::value::Value;

pub struct SqliteDb {
    pub(crate) path: PathBuf,
    conn: Connection,
}

impl SqliteDb {
    pub async fn open(path: &Path) -> libsql::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let db = libsql::Builder::new_local(path).build().await?;
        let conn = db.connect()?;
        conn.busy_timeout(Duration::from_secs(30))?;
        // Write-ahead log: readers (the API, the delivery loops) no longer
        // wait for the sink's write transactions, and a commit is one
        // append instead of a journal, a rewrite and several fsyncs.
        // `synchronous = NORMAL` keeps every commit across a crash of the
        // process; a power cut may lose the last commits, which is safe
        // here because each store keeps its Kafka offsets in the same
        // transactions: the sink reads those records again.
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .await?;
        Ok(SqliteDb {
            path: path.to_owned(),
            conn,
        })
    }

    pub async fn batch(&self, sql: &str) -> libsql::Result<()> {
        self.conn.execute_batch(sql).await.map(|_| ())
    }

    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> libsql::Result<u64> {
        let params = Params::Positional(params.into_iter().map(Into::into).collect());
        self.conn.execute(sql, params).await
    }

    pub async fn query(&self, sql: &str, params: Vec<Value>) -> libsql::Result<Vec<Vec<Value>>> {
        let params = Params::Positional(params.into_iter().map(Into::into).collect());
        let mut rows = self.conn.query(sql, params).await?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await? {
            let mut values = Vec::with_capacity(row.column_count() as usize);
            for i in 0..row.column_count() {
                values.push(row.get_value(i)?.into());
            }
            out.push(values);
        }
        Ok(out)
    }

    pub async fn begin(&self) -> libsql::Result<()> {
        self.conn.execute("BEGIN IMMEDIATE", ()).await.map(|_| ())
    }
}
