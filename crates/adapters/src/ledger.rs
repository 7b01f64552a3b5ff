//! The ledger of published event ids, on disk. An id goes in only after
//! the broker acknowledged its event, so the ledger never claims what was
//! not published; it lets ingest skip a record whose events are already on
//! the bus (a row exported twice, or a re-run after a failure) without
//! holding every id of a multi-gigabyte export in memory.

use std::path::Path;
use std::time::Duration;

use libsql::{params_from_iter, Connection, Value};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
#[error("ingest ledger {path}: {source}")]
pub struct LedgerError {
    path: String,
    source: libsql::Error,
}

impl LedgerError {
    pub fn new(path: &str, source: libsql::Error) -> Self {
        LedgerError {
            path: path.to_owned(),
            source,
        }
    }
}

/// A connection to the ledger's file, created readable by its owner only:
/// besides event ids it holds EOIR's case links and waiting rows, which are
/// agency data.
pub async fn open_private(path: &Path) -> Result<Connection, LedgerError> {
    let err = |source| LedgerError::new(&path.display().to_string(), source);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        // Created here, empty, so SQLite opens a file with these bits (its
        // WAL and shared-memory files copy them).
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path);
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    let db = libsql::Builder::new_local(path)
        .build()
        .await
        .map_err(err)?;
    let conn = db.connect().map_err(err)?;
    conn.busy_timeout(Duration::from_secs(30)).map_err(err)?;
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .await
        .map_err(err)?;
    Ok(conn)
}

pub struct Ledger {
    path: String,
    conn: Connection,
}

/// SQLite binds at most this many parameters per statement here.
const CHUNK: usize = 500;

impl Ledger {
    pub async fn open(path: &Path) -> Result<Self, LedgerError> {
        let err = |source| LedgerError::new(&path.display().to_string(), source);
        let conn = open_private(path).await?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS published (event_id BLOB PRIMARY KEY) WITHOUT ROWID;",
        )
        .await
        .map_err(err)?;
        Ok(Ledger {
            path: path.display().to_string(),
            conn,
        })
    }

    fn err(&self, source: libsql::Error) -> LedgerError {
        LedgerError::new(&self.path, source)
    }

    /// The file the ledger is in (EOIR's case links live there too).
    pub fn path(&self) -> &Path {
        Path::new(&self.path)
    }

    /// Which of `ids` are already published.
    pub async fn known(&self, ids: &[Uuid]) -> Result<Vec<Uuid>, LedgerError> {
        let mut found = Vec::new();
        let mut start = 0;
        while start < ids.len() {
            let chunk = &ids[start..(start + CHUNK).min(ids.len())];
            start += chunk.len();
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!("SELECT event_id FROM published WHERE event_id IN ({marks})");
            let params: Vec<Value> = chunk
                .iter()
                .map(|id| Value::Blob(id.as_bytes().to_vec()))
                .collect();
            let mut rows = self
                .conn
                .query(&sql, params_from_iter(params))
                .await
                .map_err(|e| self.err(e))?;
            while let Some(row) = rows.next().await.map_err(|e| self.err(e))? {
                let bytes: Vec<u8> = row.get(0).map_err(|e| self.err(e))?;
                if let Ok(id) = Uuid::from_slice(&bytes) {
                    found.push(id);
                }
            }
        }
        Ok(found)
    }

    /// Records acknowledged ids, in one transaction.
    pub async fn record(&self, ids: &[Uuid]) -> Result<(), LedgerError> {
        self.conn
            .execute("BEGIN", ())
            .await
            .map_err(|e| self.err(e))?;
        let mut start = 0;
        while start < ids.len() {
            let chunk = &ids[start..(start + CHUNK).min(ids.len())];
            start += chunk.len();
            let marks = vec!["(?)"; chunk.len()].join(",");
            let sql = format!("INSERT OR IGNORE INTO published (event_id) VALUES {marks}");
            let params: Vec<Value> = chunk
                .iter()
                .map(|id| Value::Blob(id.as_bytes().to_vec()))
                .collect();
            if let Err(e) = self.conn.execute(&sql, params_from_iter(params)).await {
                let _ = self.conn.execute("ROLLBACK", ()).await;
                return Err(self.err(e));
            }
        }
        self.conn
            .execute("COMMIT", ())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
