//! `handoff views`: the view builder and its API on their own, against a
//! running cluster and registry. One instance reads every partition by
//! assignment; several with `--scale-out`, one `--group` and one
//! PostgreSQL `--store` share the work through the consumer group and
//! build the same views as one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use handoff_bus::Membership;
use handoff_views::service::{self, ViewsConfig};
use handoff_views::StoreLocation;

use crate::kafka_args::{KafkaArgs, RegistryArgs};
use handoff_http::Guard;

use crate::api_limits::ApiLimitArgs;
use crate::{health, http_server, shutdown};

/// Where the views live and who may read them: shared by `views` and `up`.
#[derive(Args, Debug, Clone)]
pub struct ViewsStoreArgs {
    /// The views' store: a SQLite file path, or postgres://user:pass@host/db
    /// (shared by several `handoff views` instances). `up` defaults to
    /// <data-dir>/views.db.
    #[arg(long, env = "HANDOFF_STORE")]
    pub store: Option<String>,
    /// The agencies' bearer tokens (hashed; see `handoff token new`). Without
    /// it every API request is refused (401).
    #[arg(long, env = "HANDOFF_TOKENS")]
    pub tokens: Option<PathBuf>,
    /// The data-sharing policy (default: the deploy/policy.toml this build
    /// was made with).
    #[arg(long, env = "HANDOFF_POLICY")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub limits: ApiLimitArgs,
}

impl ViewsStoreArgs {
    pub fn config(
        &self,
        default_store: &str,
        group: &str,
        membership: Membership,
    ) -> Result<ViewsConfig> {
        let tokens = match &self.tokens {
            Some(path) => handoff_auth::Tokens::load(path)?,
            None => handoff_auth::Tokens::default(),
        };
        let policy = match &self.policy {
            Some(path) => handoff_views::policy::Policy::load(path)?,
            None => handoff_views::policy::Policy::shipped(),
        };
        let store = StoreLocation::parse(self.store.as_deref().unwrap_or(default_store));
        if membership == Membership::Group && !matches!(store, StoreLocation::Postgres(_)) {
            anyhow::bail!(
                "--scale-out shares the work of several instances through one store, so it needs a PostgreSQL --store (postgres://...); {} is a SQLite file only one instance can write",
                store.describe()
            );
        }
        Ok(ViewsConfig {
            store,
            group: group.to_owned(),
            membership,
            policy,
            guard: Arc::new(Guard::new(tokens, self.limits.limits()?)),
        })
    }
}

#[derive(Args, Debug)]
pub struct ViewsArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub store: ViewsStoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Consumer group: with --scale-out, the instances sharing one
    /// PostgreSQL store share it; alone, lag is committed under it.
    #[arg(long, default_value = "handoff-views")]
    pub group: String,
    /// Share the partitions with other `handoff views` instances on the
    /// same PostgreSQL store through the consumer group. Without it this
    /// instance reads every partition by assignment and joins no group.
    #[arg(long)]
    pub scale_out: bool,
    /// Where the views API (and /healthz, /readyz, /metrics, /openapi.json)
    /// listens.
    #[arg(long, default_value = "127.0.0.1:8082")]
    pub http_listen: SocketAddr,
}

pub async fn run(args: ViewsArgs) -> Result<ExitCode> {
    let stop = shutdown::on_signal();
    let kafka = args.kafka.or_local()?;
    let codec = args.registry.codec();
    let membership = if args.scale_out {
        Membership::Group
    } else {
        Membership::Alone
    };
    let config = args
        .store
        .config("data/views.db", &args.group, membership)?;
    let location = config.store.describe();
    let views = service::start(&kafka, codec, config, stop.child_token())
        .await
        .context("starting the views")?;
    let console = handoff_console::Console::new(
        views.api.clone(),
        None,
        handoff_console::Operations {
            consumers: vec![("views", views.stats.clone())],
            kafka: kafka.clone(),
            registry_url: args.registry.registry_url.clone(),
            rejects_dir: None,
        },
    );
    let api = health::router(&kafka, &args.registry.registry_url)?
        .merge(handoff_views::api::router(views.api.clone()))
        .merge(handoff_console::router(Arc::new(console)));
    let app = handoff_http::app(api, |_| {});
    let (address, server) = http_server::serve(app, args.http_listen, stop.child_token()).await?;
    match membership {
        Membership::Alone => println!("views     {location} (alone: every partition)"),
        Membership::Group => println!("views     {location} (scale-out, group {})", args.group),
    }
    println!("console   http://{address}/ (sign in with an agency token)");
    println!("http      http://{address} (/healthz, /readyz, /v1/..., /openapi.json, /metrics)");
    println!("ready. Ctrl-C or SIGTERM to stop.");
    let failed = tokio::select! {
        _ = stop.cancelled() => false,
        _ = views.failed.cancelled() => true,
    };
    stop.cancel();
    for task in views.tasks.into_iter().chain([server]) {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    if failed {
        anyhow::bail!("the views stopped on an error (see the log above)");
    }
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}
