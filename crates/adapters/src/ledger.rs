//! The ledger of published event ids, on disk. An id goes in only after
//! the broker acknowledged its event, so the ledger never claims what was
//! not published; it lets ingest skip a record whose events are already on
//! the bus (a row exported twice, or a re-run after a failure) without
//! holding every id of a multi-gigabyte export in memory.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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

/// Two connections to one file: ingest asks the reader which ids of the
/// next batch are known while the batch before it is recorded through the
/// writer on another thread (WAL lets a reader run beside a writer).
///
/// Ids are hashes, so each lands on a random page of an index. Written
/// straight into one index of millions, every id of a batch dirtied a page
/// of its own and each commit rewrote thousands of pages: ingest slowed
/// as the ledger grew. New ids therefore go into a small index, `recent`,
/// whose pages stay few and cached; once it holds `RECENT_LIMIT` ids they
/// are merged into `published` in key order, which touches each page of
/// the large index once. An id is known if either index holds it.
#[derive(Clone)]
pub struct Ledger {
    path: String,
    reader: Connection,
    writer: Connection,
    /// Ids in `recent`; shared by the clones, only the writer changes it.
    recent: Arc<AtomicUsize>,
}

/// SQLite binds at most this many parameters per statement here (each id
/// is bound once and used in both indexes' lookups).
const CHUNK: usize = 500;

/// Ids held in `recent` before they are merged into `published`. A larger
/// `recent` makes each commit dirty more of its pages; a smaller one merges
/// into `published` more often. The two balance near the square root of a
/// batch's ids times the history's (2,000 × 2 million gives about 63,000).
const RECENT_LIMIT: usize = 50_000;

impl Ledger {
    pub async fn open(path: &Path) -> Result<Self, LedgerError> {
        let err = |source| LedgerError::new(&path.display().to_string(), source);
        let writer = open_private(path).await?;
        writer
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS published (event_id BLOB PRIMARY KEY) WITHOUT ROWID;
                 CREATE TABLE IF NOT EXISTS recent (event_id BLOB PRIMARY KEY) WITHOUT ROWID;",
            )
            .await
            .map_err(err)?;
        let mut rows = writer
            .query("SELECT count(*) FROM recent", ())
            .await
            .map_err(err)?;
        let recent: i64 = match rows.next().await.map_err(err)? {
            Some(row) => row.get(0).map_err(err)?,
            None => 0,
        };
        let reader = open_private(path).await?;
        Ok(Ledger {
            path: path.display().to_string(),
            reader,
            writer,
            recent: Arc::new(AtomicUsize::new(recent as usize)),
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
        for chunk in ids.chunks(CHUNK) {
            let marks = (1..=chunk.len())
                .map(|n| format!("?{n}"))
                .collect::<Vec<_>>()
                .join(",");
            let sql = format!(
                "SELECT event_id FROM published WHERE event_id IN ({marks})
                 UNION ALL SELECT event_id FROM recent WHERE event_id IN ({marks})"
            );
            let mut rows = self
                .reader
                .query(&sql, params_from_iter(blobs(chunk)))
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

    /// Records acknowledged ids, in one transaction (with the merge into
    /// `published` when `recent` is full). One caller at a time: the
    /// writer's transaction is not shared.
    pub async fn record(&self, ids: &[Uuid]) -> Result<(), LedgerError> {
        self.writer
            .execute("BEGIN", ())
            .await
            .map_err(|e| self.err(e))?;
        if let Err(e) = self.record_in_transaction(ids).await {
            let _ = self.writer.execute("ROLLBACK", ()).await;
            return Err(self.err(e));
        }
        self.writer
            .execute("COMMIT", ())
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn record_in_transaction(&self, ids: &[Uuid]) -> Result<(), libsql::Error> {
        let mut added = 0;
        for chunk in ids.chunks(CHUNK) {
            let marks = vec!["(?)"; chunk.len()].join(",");
            let sql = format!("INSERT OR IGNORE INTO recent (event_id) VALUES {marks}");
            added += self
                .writer
                .execute(&sql, params_from_iter(blobs(chunk)))
                .await? as usize;
        }
        let held = self.recent.load(Ordering::Relaxed) + added;
        if held < RECENT_LIMIT {
            self.recent.store(held, Ordering::Relaxed);
            return Ok(());
        }
        self.writer
            .execute_batch(
                "INSERT OR IGNORE INTO published (event_id)
                     SELECT event_id FROM recent ORDER BY event_id;
                 DELETE FROM recent;",
            )
            .await?;
        self.recent.store(0, Ordering::Relaxed);
        Ok(())
    }
}

fn blobs(ids: &[Uuid]) -> Vec<Value> {
    ids.iter()
        .map(|id| Value::Blob(id.as_bytes().to_vec()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(from: u128, n: u128) -> Vec<Uuid> {
        // Spread over the key space as hashed ids are.
        (from..from + n)
            .map(|i| Uuid::from_u128(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)))
            .collect()
    }

    #[tokio::test]
    async fn ids_stay_known_across_the_merge_and_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.db");
        let ledger = Ledger::open(&path).await.unwrap();
        // Enough batches to fill `recent` once and start it again.
        let batch = 2_000u128;
        let batches = (RECENT_LIMIT as u128 / batch) + 3;
        for b in 0..batches {
            ledger.record(&ids(b * batch, batch)).await.unwrap();
        }
        let all = ids(0, batches * batch);
        let unseen = ids(batches * batch, 1_000);
        assert_eq!(ledger.recent.load(Ordering::Relaxed), 3 * batch as usize);
        let mut probe = all.clone();
        probe.extend(&unseen);
        let mut known = ledger.known(&probe).await.unwrap();
        known.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(known, expected, "every recorded id, and no other");

        // A new process sees the same, and counts what waits in `recent`.
        drop(ledger);
        let reopened = Ledger::open(&path).await.unwrap();
        assert_eq!(reopened.recent.load(Ordering::Relaxed), 3 * batch as usize);
        assert_eq!(reopened.known(&probe).await.unwrap().len(), all.len());
        assert!(reopened.known(&unseen).await.unwrap().is_empty());
        // Recording ids `recent` holds again adds nothing to it.
        let last = all.len() - batch as usize;
        reopened.record(&all[last..]).await.unwrap();
        assert_eq!(reopened.recent.load(Ordering::Relaxed), 3 * batch as usize);
    }
}
