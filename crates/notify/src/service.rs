//! The notifier as a running service, started by `handoff notify` and by
//! `handoff up`: on first start it marks the history already on the
//! topics (never re-sent), then runs the sink that fills the outbox and
//! the delivery tasks that empty it, and holds the acknowledgement API.

use std::sync::Arc;

use handoff_bus::{KafkaConfig, SinkRunner, SinkRunnerConfig};
use handoff_events::{topics, Catalogue, Codec};
use handoff_http::Guard;
use handoff_store::{StoreError, StoreLocation};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::AckState;
use crate::config::NotifyConfig;
use crate::delivery::{self, DeliveryError};
use crate::metrics::Metrics;
use crate::projection::{mark_history, open_store, Notifier};

pub struct NotifyServiceConfig {
    pub store: StoreLocation,
    pub group: String,
    pub config: Arc<NotifyConfig>,
    /// Tokens and limits, shared with the other services on the listener.
    pub guard: Arc<Guard>,
}

pub struct RunningNotifier {
    /// The sink and the delivery tasks; they end on shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    pub ack: Arc<AckState>,
    /// The sink's counters and lag per partition.
    pub stats: Arc<handoff_bus::SinkStats>,
    /// Whether this start marked what was already on the topics as history.
    pub first_start: bool,
    /// Fires if the sink stops on an error it cannot get past.
    pub failed: CancellationToken,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error("cannot read where the agency topics end: {0}")]
    Watermarks(String),
    #[error("cannot start the notifier's consumer: {0}")]
    Consumer(#[from] handoff_bus::SinkRunError),
}

pub async fn start(
    kafka: &KafkaConfig,
    codec: Codec,
    config: NotifyServiceConfig,
    shutdown: CancellationToken,
) -> Result<RunningNotifier, StartError> {
    // Everything that can be wrong with the configuration fails here,
    // before anything is consumed.
    let senders = delivery::senders(&config.config, kafka, codec.clone(), |name| {
        std::env::var(name).ok()
    })?;
    let store = open_store(&config.store).await?;
    let watermark_kafka = kafka.clone();
    let ends = tokio::task::spawn_blocking(move || {
        handoff_bus::watermarks::topic_ends(&watermark_kafka, &topics::AGENCY)
    })
    .await
    .map_err(|e| StartError::Watermarks(e.to_string()))?
    .map_err(|e| StartError::Watermarks(e.to_string()))?;
    let first_start = mark_history(&store, &ends).await?;
    if first_start && ends.values().any(|end| *end > 0) {
        tracing::info!(
            records = ends.values().sum::<i64>(),
            "first start: notifications from events already on the topics are kept as history, not sent (handoff notify --resend to send them)"
        );
    }
    // A counter, not a `Notify`: a delivery loop busy reading the outbox
    // when new notifications are committed still sees that it changed.
    let (wake, woken) = watch::channel(0u64);
    let metrics = Arc::new(Metrics::default());
    let notifier = Notifier::open(
        &config.store,
        Arc::new(Catalogue::embedded()),
        config.config.clone(),
        wake,
    )
    .await?;
    let runner = SinkRunner::new(
        kafka,
        SinkRunnerConfig::new(&config.group, &topics::AGENCY),
        codec,
        notifier,
    )?;
    let stats = runner.stats();
    let failed = CancellationToken::new();
    let (sink_stop, sink_failed) = (shutdown.clone(), failed.clone());
    let mut tasks = vec![tokio::spawn(async move {
        if let Err(e) = runner.run(sink_stop).await {
            tracing::error!(error = %e, "the notifier stopped");
            sink_failed.cancel();
        }
    })];
    tasks.extend(delivery::start(
        &config.store,
        &config.config.delivery,
        senders,
        metrics.clone(),
        woken,
        shutdown,
    ));
    let ack = Arc::new(AckState {
        store,
        config: config.config,
        guard: config.guard,
        metrics,
    });
    Ok(RunningNotifier {
        tasks,
        ack,
        stats,
        first_start,
        failed,
    })
}
