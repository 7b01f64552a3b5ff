//! The embedded local broker: Nisshi (Apache-2.0, the Kafka wire
//! protocol; the maintained successor of Tansu) running inside the handoff
//! process on SQLite in the data directory, so a newcomer needs no JVM and
//! nothing else installed. Production points `--brokers` at a real Kafka
//! cluster instead and this is not started.
//!
//! The broker does not report the port it bound and has no shutdown
//! handle of ours: we reserve a free port first, wait until it accepts
//! connections, and stop it by aborting its task, then wait until the
//! storage has closed the SQLite file for the next start on it.

pub mod tansu_file;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nisshi_broker::broker::Broker;
use nisshi_broker::coordinator::group::administrator::Controller;
use nisshi_storage::ArcDynStorage;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

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
    #[error("the embedded broker did not accept connections on {0} within 30 s; is the port taken? pass another with --broker-port")]
    NotListening(SocketAddr),
    #[error("{path} was written by the Tansu 0.6 broker of an earlier Handoff, which this build's broker (Nisshi 0.8) cannot open; nothing was changed. Run `handoff broker migrate --data-dir {dir}` to copy its topics and records, at the same offsets, into a new broker.db (the old file is kept as broker.tansu-0.6.db beside it), so the views' and the notifier's stores stay valid")]
    TansuFile { path: PathBuf, dir: PathBuf },
    #[error("migrating the Tansu 0.6 broker file: {0}")]
    Migrate(String),
}

pub struct EmbeddedBroker {
    pub addr: SocketAddr,
    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub brokers: String,
    pub storage_file: PathBuf,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a broker storing in `<data_dir>/broker.db`, listening on
    /// `port` (0 picks a free one).
    pub async fn start(data_dir: &Path, port: u16) -> Result<Self, EmbeddedError> {
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let port = if port == 0 { free_port()? } else { port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let storage_file = std::path::absolute(data_dir.join("broker.db")).map_err(|source| {
            EmbeddedError::DataDir {
                path: data_dir.to_owned(),
                source,
            }
        })?;
        let listener = Url::parse(&format!("tcp://127.0.0.1:{port}")).expect("valid url");
        if tansu_file::is_tansu_file(&storage_file).await? {
            return Err(EmbeddedError::TansuFile {
                path: storage_file,
                dir: data_dir.to_owned(),
            });
        }
        let storage = storage_url(&storage_file)?;
        let mut broker = build(&listener, &storage).await?;
        let task = tokio::spawn(async move {
            if let Err(e) = broker.serve(Instant::now()).await {
                tracing::error!(error = %e, "embedded broker stopped with an error");
            }
        });
        wait_listening(addr).await?;
        Ok(EmbeddedBroker {
            addr,
            brokers: addr.to_string(),
            storage_file,
            task: Some(task),
        })
    }

    /// Client settings for this broker: librdkafka's defaults, as for a
    /// Kafka cluster.
    pub fn kafka_config(&self) -> crate::KafkaConfig {
        crate::KafkaConfig::new(self.brokers.clone())
    }

    /// Stops the broker and waits until its storage is released.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
            wait_released(&self.storage_file).await;
        }
    }
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
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

async fn build(
    listener: &Url,
    storage: &Url,
) -> Result<Broker<Controller<ArcDynStorage>, ArcDynStorage>, EmbeddedError> {
    Broker::<Controller<ArcDynStorage>, ArcDynStorage>::builder()
        .node_id(111)
        .cluster_id("handoff-local")
        .incarnation_id(uuid::Uuid::now_v7())
        .advertised_listener(listener.clone())
        .storage(storage.clone())
        .listener(listener.clone())
        .silent(true)
        .build()
        .await
        .map_err(|e| EmbeddedError::Start(e.to_string()))
}

fn free_port() -> Result<u16, EmbeddedError> {
    let listener = StdListener::bind("127.0.0.1:0").map_err(EmbeddedError::NoPort)?;
    let port = listener.local_addr().map_err(EmbeddedError::NoPort)?.port();
    Ok(port)
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

async fn wait_listening(addr: SocketAddr) -> Result<(), EmbeddedError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Err(EmbeddedError::NotListening(addr))
}
