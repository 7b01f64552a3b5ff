//! One way to run an HTTP server for every subcommand: bind (saying which
//! option to change if the address is taken), serve until the stop
//! signal, let requests in flight finish.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Serves `app` on `listen` until `stop`; returns the bound address (the
/// port is known even for port 0) and the server's task.
pub async fn serve(
    app: Router,
    listen: SocketAddr,
    stop: CancellationToken,
) -> Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}; pass another --http-listen"))?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await
        {
            tracing::error!(error = %e, "http server failed");
        }
    });
    Ok((address, task))
}
