//! `handoff up`: the whole stack on one data directory. Starts the
//! embedded broker unless `--brokers` names a cluster, creates the topics,
//! starts the schema registry (unless `--registry-url` names one),
//! registers the schemas, serves the health endpoints, and on Ctrl-C or
//! SIGTERM stops everything it started and exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use handoff_bus::ensure_topics;
use handoff_events::{Catalogue, Codec};
use handoff_registry::RegistryConfig;

use crate::commands::notify::NotifyStoreArgs;
use crate::commands::topics::TopicLayoutArgs;
use crate::commands::views::ViewsStoreArgs;
use crate::kafka_args::KafkaArgs;
use crate::{demo, demo_tokens, health, http_server, shutdown};

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub layout: TopicLayoutArgs,
    /// Where every stateful part keeps its files.
    #[arg(long, env = "HANDOFF_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// Port of the embedded broker on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 9092)]
    pub broker_port: u16,
    #[cfg(feature = "embedded-broker")]
    #[command(flatten)]
    pub broker_storage: crate::broker_storage_args::BrokerStorageArgs,
    /// Where the schema registry listens.
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub registry_listen: SocketAddr,
    /// Use this schema registry instead of starting one.
    #[arg(long, env = "HANDOFF_REGISTRY_URL")]
    pub registry_url: Option<String>,
    /// Where the HTTP server (health endpoints) listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub http_listen: SocketAddr,
    /// Publish a small synthetic history and show it coming back.
    #[arg(long)]
    pub demo: bool,
    /// The views' store, tokens and policy. With --tokens, agency systems
    /// can also POST exports to /v1/ingest/{agency}.
    #[command(flatten)]
    pub views: ViewsStoreArgs,
    /// The notifier's store and rules. Without --notify-config every
    /// subscriber of deploy/notify.toml receives on the
    /// handoff.notifications.v1 topic.
    #[command(flatten)]
    pub notify: NotifyStoreArgs,
    /// Largest export accepted over HTTP, in MiB (bigger: use a drop folder).
    #[arg(long, default_value_t = 256)]
    pub max_upload_mib: usize,
    /// Log every line on the terminal. Without it (and without RUST_LOG)
    /// they go to <data-dir>/handoff.log, and only warnings and errors
    /// also reach the terminal.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `log_file`: where the log lines go, when not to the terminal.
pub async fn run(mut args: UpArgs, log_file: Option<PathBuf>) -> Result<ExitCode> {
    let stop = shutdown::on_signal();
    let _lock = lock_data_dir(&args.data_dir)?;
    if let Some(file) = &log_file {
        println!(
            "logs      {} (warnings and errors here too; -v for every line here)",
            file.display()
        );
    }

    #[cfg(feature = "embedded-broker")]
    let mut embedded = None;
    let cluster = args.kafka.cluster()?;
    let external = cluster.is_some();
    let kafka = match cluster {
        Some(kafka) => kafka,
        None => {
            #[cfg(feature = "embedded-broker")]
            {
                let engine = args.broker_storage.engine();
                let broker = handoff_bus::embedded::EmbeddedBroker::start_with(
                    &args.data_dir,
                    args.broker_port,
                    engine,
                )
                .await
                .context("starting the embedded broker")?;
                let mut kafka = broker.kafka_config();
                args.kafka.apply(&mut kafka)?;
                // Named as the other files are, inside the data directory
                // as given (the broker itself holds the absolute path).
                let files = match engine {
                    handoff_bus::embedded::Engine::Sqlite => args.data_dir.join("broker.db"),
                    handoff_bus::embedded::Engine::Log { .. } => args.data_dir.join("broker"),
                };
                println!(
                    "broker    {} (embedded, {}, {})",
                    broker.brokers,
                    crate::broker_storage_args::describe(engine),
                    files.display()
                );
                embedded = Some(broker);
                kafka
            }
            #[cfg(not(feature = "embedded-broker"))]
            anyhow::bail!("this build has no embedded broker: pass --brokers host:port")
        }
    };
    if external {
        println!("broker    {} (external cluster)", kafka.brokers);
    }

    let layout = args.layout.config();
    let created = ensure_topics(&kafka, &layout)
        .await
        .context("creating topics")?;
    println!(
        "topics    {} ({} created)",
        layout
            .specs()
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", "),
        created.len()
    );

    let services = stop.child_token();
    let mut tasks = Vec::new();
    let registry_url = match &args.registry_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let config = RegistryConfig {
                listen: args.registry_listen,
                ..RegistryConfig::default()
            };
            let registry = handoff_registry::start(&kafka, &config, services.clone())
                .await
                .context("starting the schema registry")?;
            tasks.push(registry.task);
            registry.url
        }
    };
    println!("registry  {registry_url}");

    let codec = Codec::new(&registry_url, Arc::new(Catalogue::embedded()));
    let ids = codec.register_catalogue().await.context(
        "registering schemas/ (run `handoff schemas check` to see what is incompatible)",
    )?;
    println!("schemas   {} subjects registered", ids.len());

    // The demo without --tokens brings its own, so its API answers.
    let demo_tokens = if args.demo && args.views.tokens.is_none() {
        let tokens = demo_tokens::in_data_dir(&args.data_dir)?;
        args.views.tokens = Some(tokens.file.clone());
        Some(tokens)
    } else {
        None
    };

    // The views: a sink on the three agency topics, resuming from the
    // offsets stored with its tables, and their API.
    let default_store = args.data_dir.join("views.db");
    let views_config = args.views.config(
        &default_store.to_string_lossy(),
        "handoff-views",
        handoff_bus::Membership::Alone,
    )?;
    let store = views_config.store.clone();
    let views =
        handoff_views::service::start(&kafka, codec.clone(), views_config, services.clone())
            .await
            .context("starting the views")?;
    println!("views     {}", store.describe());

    // The notifier: rules over the same topics, an outbox, delivery.
    let notify_config = args.notify.load(true)?;
    let subscribers = notify_config.subscribers.len();
    let notify_store = args
        .notify
        .location(&args.data_dir.join("notify.db").to_string_lossy());
    let notifier = handoff_notify::service::start(
        &kafka,
        codec.clone(),
        handoff_notify::service::NotifyServiceConfig {
            store: notify_store.clone(),
            group: "handoff-notify".into(),
            config: Arc::new(notify_config),
            guard: views.api.guard.clone(),
        },
        services.clone(),
    )
    .await
    .context("starting the notifier")?;
    let notify_metrics = notifier.ack.metrics.clone();
    views
        .api
        .metrics
        .also_render(Box::new(move || notify_metrics.render()));
    println!(
        "notify    {} ({subscribers} subscribers{})",
        notify_store.describe(),
        if args.notify.notify_config.is_none() {
            ", all on the handoff.notifications.v1 topic"
        } else {
            ""
        }
    );

    let mut api = health::router(&kafka, &registry_url)?
        .merge(handoff_views::api::router(views.api.clone()))
        .merge(handoff_notify::api::router(notifier.ack.clone()));
    let guard = views.api.guard.clone();
    let tokens = guard.tokens().tokens.len();
    let mut http_ingest = "off (no --tokens): the API refuses every request".to_owned();
    if args.views.tokens.is_some() {
        let ingest = handoff_adapters::http::HttpIngest {
            producer: handoff_bus::EventProducer::new(&kafka, codec.clone())?,
            guard: guard.clone(),
            ledger: args.data_dir.join("ingest-ledger.db"),
            rejects_dir: args.data_dir.join("rejects"),
            max_body: args.max_upload_mib << 20,
        };
        http_ingest = format!("POST /v1/ingest/{{ice,hhs,doj}} ({tokens} tokens)");
        api = api.merge(handoff_adapters::http::router(Arc::new(ingest)));
    }
    let console = handoff_console::Console::new(
        views.api.clone(),
        Some(notifier.ack.clone()),
        handoff_console::Operations {
            consumers: vec![
                ("views", views.stats.clone()),
                ("notifier", notifier.stats.clone()),
            ],
            kafka: kafka.clone(),
            registry_url: registry_url.clone(),
            rejects_dir: args
                .views
                .tokens
                .is_some()
                .then(|| args.data_dir.join("rejects")),
        },
    );
    api = api.merge(handoff_console::router(Arc::new(console)));
    let app = handoff_http::app(api, handoff_notify::api::describe_webhooks);
    let (address, server) = http_server::serve(app, args.http_listen, services.clone()).await?;
    tasks.push(server);
    println!("console   http://{address}/ (sign in with an agency token)");
    println!("http      http://{address} (/healthz, /readyz, /v1/..., /openapi.json, /metrics)");
    println!("ingest    {http_ingest}");

    if args.demo {
        demo::run(
            &kafka,
            codec.clone(),
            demo::Stack {
                views: &views.api,
                notify: &notifier.ack,
                http: address,
                tokens: demo_tokens.as_ref(),
            },
            &args.data_dir,
        )
        .await?;
    }
    println!("ready. Ctrl-C or SIGTERM to stop.");

    let failed = tokio::select! {
        _ = stop.cancelled() => false,
        _ = views.failed.cancelled() => true,
        _ = notifier.failed.cancelled() => true,
    };
    services.cancel();
    for task in tasks.into_iter().chain(views.tasks).chain(notifier.tasks) {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    #[cfg(feature = "embedded-broker")]
    if let Some(broker) = embedded {
        broker.stop().await;
    }
    if failed {
        anyhow::bail!("the views or the notifier stopped on an error (see the log above)");
    }
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Holds `<data-dir>/handoff.lock` for the life of the process: two stacks
/// on one data directory would corrupt each other's files.
fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    let path = dir.join("handoff.lock");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another handoff is already running on {}; stop it, or pass another --data-dir",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}
