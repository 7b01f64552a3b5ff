//! The embedded broker's accept loop: each connection served by the
//! broker library's Kafka protocol service (`nisshi_broker::service`)
//! over the storage we give it. The library's own `Broker` builds its
//! storage from a URL among the engines it knows, so an engine of ours
//! needs a loop of ours; it also lets us bind the port ourselves (no race
//! for a "free" port) and stop it with a token. The protocol's layers are
//! the library's (`nisshi_broker::service::services`), put together here
//! so that fetches go through `LongPoll`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use nisshi_broker::coordinator::group::administrator::{Controller, GroupCoordinatorConfig};
use nisshi_broker::service::{auth, coordinator, storage as storage_routes};
use nisshi_service::{
    BytesFrameLayer, BytesFrameService, FrameRouteService, TcpBytesLayer, TcpBytesService,
    TcpContext, TcpContextLayer, TcpContextService,
};
use nisshi_storage::{ArcDynStorage, BrokerRegistrationRequest, Storage};
use rama::extensions::Extensions;
use rama::tcp::TcpStream;
use rama::{Layer, Service};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::long_poll::LongPoll;
use super::EmbeddedError;

type Connection = TcpContextService<
    TcpBytesService<BytesFrameService<LongPoll<FrameRouteService<nisshi_broker::Error>>>>,
>;

/// Kafka's `node.id` for the one broker.
pub const NODE_ID: i32 = 111;
pub const CLUSTER_ID: &str = "handoff-local";
/// How often the storage's maintenance runs (the library's default).
const MAINTENANCE: Duration = Duration::from_secs(600);

/// Registers the broker with `storage`, then serves connections on
/// `listener` until `stop` is cancelled; then waits for the connections'
/// tasks to end, so the storage is free when this returns. `appended`, the
/// log engine's signal after each append, lets fetches wait for data.
pub async fn serve(
    listener: TcpListener,
    storage: ArcDynStorage,
    appended: Option<Arc<Notify>>,
    stop: CancellationToken,
) -> Result<(), EmbeddedError> {
    register(&storage).await?;
    let groups = Controller::new(storage.clone(), GroupCoordinatorConfig::default());
    let mut connections = JoinSet::new();
    let mut maintenance = tokio::time::interval(MAINTENANCE);
    maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: say so, and
                        // do not spin.
                        tracing::error!(error = %e, "the embedded broker could not accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = connection(groups.clone(), storage.clone(), appended.clone())?;
                connections.spawn(async move {
                    let stream = TcpStream::from_tokio_tcp_stream(stream, Extensions::default());
                    if let Err(e) = service.serve(stream).await {
                        tracing::debug!(%peer, error = ?e, "a broker connection ended");
                    }
                });
            }
            _ = maintenance.tick() => {
                if let Err(e) = storage.maintain(SystemTime::now()).await {
                    tracing::warn!(error = %e, "the broker's storage maintenance failed");
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stop.cancelled() => break,
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// The Kafka protocol for one connection: the library's routes for
/// storage, groups and SASL (which answers that none is configured), with
/// fetches waiting through `LongPoll`.
fn connection(
    groups: Controller<ArcDynStorage>,
    storage: ArcDynStorage,
    appended: Option<Arc<Notify>>,
) -> Result<Connection, EmbeddedError> {
    let routes = storage_routes::services(FrameRouteService::builder(), storage)
        .and_then(|builder| coordinator::services(builder, groups))
        .and_then(auth::services)
        .and_then(|builder| builder.build().map_err(Into::into))
        .map_err(|e| EmbeddedError::Start(e.to_string()))?;
    Ok((
        TcpContextLayer::new(TcpContext::default().cluster_id(Some(CLUSTER_ID.into()))),
        TcpBytesLayer,
        BytesFrameLayer::default(),
    )
        .into_layer(LongPoll::new(routes, appended)))
}

/// Registers the one broker with `storage`: the SQLite engine keeps its
/// topics under the cluster this creates, so nothing can be stored before.
pub async fn register(storage: &impl Storage) -> Result<(), EmbeddedError> {
    storage
        .register_broker(BrokerRegistrationRequest {
            broker_id: NODE_ID,
            cluster_id: CLUSTER_ID.to_owned(),
            incarnation_id: uuid::Uuid::now_v7(),
            rack: None,
        })
        .await
        .map_err(|e| EmbeddedError::Start(e.to_string()))
}
