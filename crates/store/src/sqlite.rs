//! SQLite (libsql, the engine the embedded broker already links): the
//! embedded default, one file in the data directory. `BEGIN IMMEDIATE`
//! takes the write lock at the start of a batch, so two writers never
//! interleave and a reader always sees whole batches.
//!
//! Writers in one process (a sink's batches, the delivery loops marking
//! notifications delivered, the API's audit rows) also queue on one async
//! lock per database file before they ask SQLite. SQLite's own busy
//! handler polls a locked database with sleeps of 1, 2, 5, 10, 15, 20, 25
//! ms and more, so a writer that arrived a moment after another often
//! slept far longer than the other held the lock (in back-to-back runs at
//! 1,000 events/s, the notifier's p99 was 221 ms without this lock and
//! 105 ms with it). The async lock hands over the moment the holder is
//! done. SQLite still guards the file across processes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, OnceLock};
use std::time::Duration;

use libsql::params::Params;
use libsql::{Connection, Statement};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::value::Value;

/// How long SQLite waits for another process's lock, and how long a
/// writer waits for this process's before it asks SQLite anyway (which
/// then waits this long again before it gives up with "database is
/// locked", as it did before the lock: a transaction abandoned half way
/// fails its successors instead of hanging them).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many prepared statements are kept per connection; the
/// statements Handoff runs are a few dozen fixed texts, so the limit only
/// guards against text built per call.
const MAX_STATEMENTS: usize = 256;

pub struct SqliteDb {
    pub(crate) path: PathBuf,
    conn: Connection,
    /// Prepared statements by their text. Parsing and planning a statement
    /// again for every event was a fifth of the views' CPU time.
    statements: StdMutex<HashMap<String, Arc<Statement>>>,
    /// This process's writer lock for the file.
    writers: Arc<Mutex<()>>,
    /// Held from `begin` to `commit` or `rollback`.
    in_transaction: StdMutex<Option<OwnedMutexGuard<()>>>,
}

/// The writer lock of the database file at `path`, one per file in this
/// process whichever way the path was spelled.
fn writer_lock(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<StdMutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    LOCKS
        .get_or_init(Default::default)
        .lock()
        .expect("no panic holds the lock")
        .entry(key)
        .or_default()
        .clone()
}

impl SqliteDb {
    pub async fn open(path: &Path) -> libsql::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let db = libsql::Builder::new_local(path).build().await?;
        let conn = db.connect()?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
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
            statements: StdMutex::new(HashMap::new()),
            writers: writer_lock(path),
            in_transaction: StdMutex::new(None),
        })
    }

    /// This process's writer lock, or `None` after `BUSY_TIMEOUT` (SQLite's
    /// own locking then decides).
    async fn lock_writers(&self) -> Option<OwnedMutexGuard<()>> {
        tokio::time::timeout(BUSY_TIMEOUT, self.writers.clone().lock_owned())
            .await
            .ok()
    }

    /// The statement for `sql`, prepared on first use. A statement is
    /// used to the end and reset before anything awaits, so one statement
    /// never serves two callers at once.
    async fn statement(&self, sql: &str) -> libsql::Result<Arc<Statement>> {
        if let Some(prepared) = self
            .statements
            .lock()
            .expect("no panic holds the lock")
            .get(sql)
        {
            return Ok(prepared.clone());
        }
        let prepared = Arc::new(self.conn.prepare(sql).await?);
        let mut cache = self.statements.lock().expect("no panic holds the lock");
        if cache.len() >= MAX_STATEMENTS {
            cache.clear();
        }
        cache.insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    fn holds_transaction(&self) -> bool {
        self.in_transaction
            .lock()
            .expect("no panic holds the lock")
            .is_some()
    }

    pub async fn batch(&self, sql: &str) -> libsql::Result<()> {
        self.conn.execute_batch(sql).await.map(|_| ())
    }

    /// A statement that writes: inside this connection's transaction it
    /// runs at once; alone, it queues for the file's writer lock first.
    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> libsql::Result<u64> {
        let params = Params::Positional(params.into_iter().map(Into::into).collect());
        let _turn = match self.holds_transaction() {
            true => None,
            false => self.lock_writers().await,
        };
        let statement = self.statement(sql).await?;
        let result = statement.execute(params).await;
        statement.reset();
        result.map(|changed| changed as u64)
    }

    pub async fn query(&self, sql: &str, params: Vec<Value>) -> libsql::Result<Vec<Vec<Value>>> {
        let params = Params::Positional(params.into_iter().map(Into::into).collect());
        let statement = self.statement(sql).await?;
        let result = async {
            let mut rows = statement.query(params).await?;
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
        .await;
        // Reset, so the statement holds no read transaction open.
        statement.reset();
        result
    }

    pub async fn begin(&self) -> libsql::Result<()> {
        let turn = self.lock_writers().await;
        self.conn.execute("BEGIN IMMEDIATE", ()).await?;
        *self.in_transaction.lock().expect("no panic holds the lock") = turn;
        Ok(())
    }

    /// Ends the transaction (`COMMIT` or `ROLLBACK`) and hands the writer
    /// lock on, whether or not the statement succeeded: a connection left
    /// in a failed transaction must not stop every other writer here.
    pub async fn end(&self, sql: &str) -> libsql::Result<()> {
        let result = self.conn.execute_batch(sql).await.map(|_| ());
        self.in_transaction
            .lock()
            .expect("no panic holds the lock")
            .take();
        result
    }
}
