//! The views as a running service: the sink on the three agency topics,
//! the audit publisher, and the API state, started together by
//! `handoff views` and by `handoff up`.

use std::sync::Arc;

use handoff_bus::{KafkaConfig, Membership, SinkRunner, SinkRunnerConfig};
use handoff_events::{topics, Catalogue, Codec};
use handoff_http::Guard;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::ApiState;
use crate::metrics::Metrics;
use crate::policy::Policy;
use crate::projection::Views;
use crate::schema::open_store;
use crate::store::StoreLocation;

pub struct ViewsConfig {
    pub store: StoreLocation,
    /// Under `Membership::Group`, instances sharing one PostgreSQL store
    /// share this consumer group; alone, lag is committed under it.
    pub group: String,
    pub membership: Membership,
    pub policy: Policy,
    /// Tokens and limits, shared with the other services on the listener.
    pub guard: Arc<Guard>,
}

pub struct RunningViews {
    /// The sink loop and the audit publisher; they end on shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    pub api: Arc<ApiState>,
    /// The sink's counters and lag per partition (the console's
    /// operations page reads them).
    pub stats: Arc<handoff_bus::SinkStats>,
    /// Fires if the sink stops on an error it cannot get past: the caller
    /// should stop too rather than serve views that no longer advance.
    pub failed: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot start the views consumer: {0}")]
    Consumer(#[from] handoff_bus::SinkRunError),
}

pub async fn start(
    kafka: &KafkaConfig,
    codec: Codec,
    config: ViewsConfig,
    shutdown: CancellationToken,
) -> Result<RunningViews, StartError> {
    let catalogue = Arc::new(Catalogue::embedded());
    let metrics = Arc::new(Metrics::default());
    let views = Views::open(&config.store, catalogue.clone(), metrics.clone()).await?;
    let runner = SinkRunner::new(
        kafka,
        SinkRunnerConfig {
            membership: config.membership,
            ..SinkRunnerConfig::new(&config.group, &topics::AGENCY)
        },
        codec,
        views,
    )?;
    let stats = runner.stats();
    metrics.watch_sink(stats.clone());
    let failed = CancellationToken::new();
    let (sink_stop, sink_failed) = (shutdown.clone(), failed.clone());
    let sink = tokio::spawn(async move {
        if let Err(e) = runner.run(sink_stop).await {
            tracing::error!(error = %e, "the views stopped");
            sink_failed.cancel();
        }
    });
    let audit = tokio::spawn(crate::audit::publish(
        config.store.clone(),
        kafka.clone(),
        shutdown,
    ));
    let api = Arc::new(ApiState {
        store: open_store(&config.store).await?,
        catalogue,
        policy: config.policy,
        guard: config.guard,
        metrics,
    });
    Ok(RunningViews {
        tasks: vec![sink, audit],
        api,
        stats,
        failed,
    })
}
