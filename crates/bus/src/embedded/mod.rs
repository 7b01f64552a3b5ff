//! The embedded local broker: the Kafka wire protocol of Nisshi
//! (Apache-2.0; the maintained successor of Tansu) inside the handoff
//! process, so a newcomer needs no JVM and nothing else installed.
//! Production points `--brokers` at a real Kafka cluster instead and this
//! is not started.
//!
//! Its storage is ours by default (`Engine::Log`: records in segment
//! files, as Kafka keeps them, see `handoff-log`); the library's SQLite
//! engine stays selectable for a release. Our own accept loop (`serve`)
//! binds the port, so the address is known before anyone connects, and
//! stops on a token; stopping waits until the storage has closed its
//! SQLite file for the next start on it.

pub mod log_storage;
pub mod long_poll;
pub mod memory;
pub mod serve;
pub mod sqlite_engine;
pub mod tansu_file;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use handoff_log::Log;
use nisshi_storage::{ArcDynStorage, StorageContainer};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use log_storage::LogStorage;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no free port on 127.0.0.1: {0}")]
    NoPort(std::io::Error),
    #[error("the embedded broker failed to start: {0}")]
    Start(String),
    #[error("{0} is taken by another program; pass another port with --broker-port, or 0 for any free one")]
    PortTaken(SocketAddr),
    #[error("{path} holds the broker data of the SQLite engine (every record a row), which the default log engine does not read; nothing was changed. Run `handoff broker migrate --data-dir {dir}` to copy its topics and records, at the same offsets, into the log engine (the old file is kept as broker.sqlite-engine.db), or start with --broker-storage sqlite to keep using it")]
    SqliteEngineData { path: PathBuf, dir: PathBuf },
    #[error("{path} was written by the Tansu 0.6 broker of an earlier Handoff, which this build's broker (Nisshi 0.8) cannot open; nothing was changed. Run `handoff broker migrate --data-dir {dir}` to copy its topics and records, at the same offsets, into the log engine (the old file is kept as broker.tansu-0.6.db beside it), so the views' and the notifier's stores stay valid")]
    TansuFile { path: PathBuf, dir: PathBuf },
    #[error("migrating the broker's data: {0}")]
    Migrate(String),
}

/// Where the embedded broker keeps what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Records in Handoff's log (`<data>/broker/log/`: segment files of
    /// batches as produced), topics, groups and committed offsets in
    /// SQLite beside it (`<data>/broker/state.db`). The default.
    Log { fsync: Fsync },
    /// The broker library's SQLite engine, every record a row
    /// (`<data>/broker.db`): the engine of earlier releases, kept for one
    /// release for data directories not yet migrated.
    Sqlite,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::Log {
            fsync: Fsync::default(),
        }
    }
}

/// When the log's appended batches reach the disk (they reach the OS,
/// which survives a killed process, before each produce is answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fsync {
    /// Before each produce is answered: nothing acknowledged is lost to a
    /// power cut either, at a disk flush per batch.
    Always,
    /// Once a second, as Kafka leaves it to the OS: a power cut may lose
    /// the last second's acknowledged records.
    #[default]
    Interval,
}

/// How often `Fsync::Interval` flushes.
const FSYNC_INTERVAL: Duration = Duration::from_secs(1);

pub struct EmbeddedBroker {
    pub addr: SocketAddr,
    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub brokers: String,
    /// The SQLite file the broker holds open: all of the SQLite engine's
    /// data, or the log engine's small state.
    pub storage_file: PathBuf,
    pub engine: Engine,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
    log: Option<Arc<Log>>,
}

impl EmbeddedBroker {
    /// Starts a broker on the default engine in `data_dir`, listening on
    /// `port` (0 picks a free one).
    pub async fn start(data_dir: &Path, port: u16) -> Result<Self, EmbeddedError> {
        Self::start_with(data_dir, port, Engine::default()).await
    }

    /// Starts a broker on `engine` in `data_dir`.
    pub async fn start_with(
        data_dir: &Path,
        port: u16,
        engine: Engine,
    ) -> Result<Self, EmbeddedError> {
        let data_dir = std::path::absolute(data_dir).map_err(|source| EmbeddedError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        std::fs::create_dir_all(&data_dir).map_err(|source| EmbeddedError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    EmbeddedError::PortTaken(SocketAddr::from(([127, 0, 0, 1], port)))
                }
                _ => EmbeddedError::NoPort(e),
            })?;
        let addr = listener.local_addr().map_err(EmbeddedError::NoPort)?;
        let advertised =
            Url::parse(&format!("tcp://127.0.0.1:{}", addr.port())).expect("valid url");
        let sqlite_file = data_dir.join("broker.db");
        let (storage_file, storage, log, appended) = match engine {
            Engine::Sqlite => {
                if tansu_file::is_tansu_file(&sqlite_file).await? {
                    return Err(EmbeddedError::TansuFile {
                        path: sqlite_file,
                        dir: data_dir.clone(),
                    });
                }
                let storage = sqlite_storage(&sqlite_file, &advertised).await?;
                (sqlite_file, storage, None, None)
            }
            Engine::Log { fsync } => {
                if tansu_file::is_tansu_file(&sqlite_file).await? {
                    return Err(EmbeddedError::TansuFile {
                        path: sqlite_file,
                        dir: data_dir.clone(),
                    });
                }
                if sqlite_file.exists() {
                    return Err(EmbeddedError::SqliteEngineData {
                        path: sqlite_file,
                        dir: data_dir.clone(),
                    });
                }
                let dir = data_dir.join("broker");
                let state_file = dir.join("state.db");
                std::fs::create_dir_all(&dir).map_err(|source| EmbeddedError::DataDir {
                    path: dir.clone(),
                    source,
                })?;
                let state = sqlite_storage(&state_file, &advertised).await?;
                let (log, repaired) = Log::open(&dir.join("log"), log_settings(fsync))
                    .map_err(|e| EmbeddedError::Start(e.to_string()))?;
                for (topic, partition, cut) in repaired {
                    tracing::warn!(
                        topic,
                        partition,
                        cut_bytes = cut.cut_bytes,
                        "the broker's log was cut back to its last whole batch (a crash during a write)"
                    );
                }
                let log = Arc::new(log);
                let log_storage = LogStorage::new(state, log.clone());
                let appended = log_storage.appended();
                let storage: ArcDynStorage = Arc::new(log_storage);
                (state_file, storage, Some(log), Some(appended))
            }
        };
        memory::return_large_buffers();
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(listener, storage, appended, log.clone(), stop.clone()));
        Ok(EmbeddedBroker {
            addr,
            brokers: addr.to_string(),
            storage_file,
            engine,
            stop,
            task: Some(task),
            log,
        })
    }

    /// Client settings for this broker: librdkafka's defaults, as for a
    /// Kafka cluster.
    pub fn kafka_config(&self) -> crate::KafkaConfig {
        crate::KafkaConfig::new(self.brokers.clone())
    }

    /// Stops the broker, writes its log to the disk, and waits until its
    /// storage is released.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        if let Some(log) = self.log.take() {
            if let Err(e) = log.sync_all() {
                tracing::error!(error = %e, "the broker's log could not be written to the disk at stop");
            }
        }
        wait_released(&self.storage_file).await;
    }
}

/// Serves until `stop`, flushing the log on `Fsync::Interval`'s schedule.
async fn run(
    listener: tokio::net::TcpListener,
    storage: ArcDynStorage,
    appended: Option<Arc<tokio::sync::Notify>>,
    log: Option<Arc<Log>>,
    stop: CancellationToken,
) {
    let flusher = log
        .filter(|log| log.settings().fsync != handoff_log::Fsync::Always)
        .map(|log| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(FSYNC_INTERVAL);
                loop {
                    tokio::select! {
                        _ = tick.tick() => {}
                        () = stop.cancelled() => return,
                    }
                    let log = log.clone();
                    let synced = tokio::task::spawn_blocking(move || log.sync_all()).await;
                    if let Ok(Err(e)) = synced {
                        tracing::error!(error = %e, "the broker's log could not be written to the disk");
                    }
                }
            })
        });
    if let Err(e) = serve::serve(listener, storage, appended, stop).await {
        tracing::error!(error = %e, "embedded broker stopped with an error");
    }
    if let Some(flusher) = flusher {
        let _ = flusher.await;
    }
}

fn log_settings(fsync: Fsync) -> handoff_log::Settings {
    handoff_log::Settings {
        fsync: match fsync {
            Fsync::Always => handoff_log::Fsync::Always,
            Fsync::Interval => handoff_log::Fsync::Interval(FSYNC_INTERVAL),
        },
        ..handoff_log::Settings::default()
    }
}

/// The broker library's SQLite engine on `file`.
async fn sqlite_storage(file: &Path, advertised: &Url) -> Result<ArcDynStorage, EmbeddedError> {
    let mut builder = StorageContainer::builder()
        .node_id(serve::NODE_ID)
        .cluster_id(serve::CLUSTER_ID)
        .advertised_listener(advertised.clone())
        .storage(storage_url(file)?)
        .silent(true);
    builder.with_factory(Arc::new(nisshi_storage_sql::LiteEngineFactory));
    builder
        .build()
        .await
        .map_err(|e| EmbeddedError::Start(e.to_string()))
}

/// Waits until no file descriptor of this process refers to the broker's
/// SQLite file or its write-ahead log. Aborting the broker's task ends its
/// accept loop at once, but the connection tasks it spawned, each holding
/// the storage, are cancelled by the runtime a moment later, and the last
/// of them closes the file. A broker started on the same file before then
/// finds it locked, and a file renamed before then (a migration's swap)
/// has its write-ahead log checkpointed and removed under the new name.
/// Linux shows the open files in `/proc/self/fd`; elsewhere this returns at
/// once.
async fn wait_released(file: &Path) {
    let Ok(file) = std::fs::canonicalize(file) else {
        return; // never created
    };
    let mut wal = file.clone().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    let held = || {
        std::fs::read_dir("/proc/self/fd").is_ok_and(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|target| target == file || target == wal)
            })
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while held() {
        if Instant::now() > deadline {
            tracing::warn!(file = %file.display(), "the stopped broker still holds its file after 10 s");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The broker resolves a `sqlite:` URL's path against the current
/// directory, so an absolute file is given as a path relative to it.
fn storage_url(file: &Path) -> Result<Url, EmbeddedError> {
    let cwd = std::env::current_dir().map_err(|source| EmbeddedError::DataDir {
        path: file.to_owned(),
        source,
    })?;
    let ups = cwd.components().count().saturating_sub(1);
    let relative = file.strip_prefix("/").unwrap_or(file);
    let path = format!("{}{}", "../".repeat(ups), relative.display());
    Url::parse(&format!("sqlite:{path}"))
        .map_err(|e| EmbeddedError::Start(format!("storage url: {e}")))
}
