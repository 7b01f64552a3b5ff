//! `handoff notify`: the notifier on its own (rules, outbox, delivery,
//! acknowledgements), and the operator's commands: `subscribers` (who
//! receives what), `dlq list` and `dlq retry` (notifications that ran out
//! of retries), `--resend` (send notifications kept as history).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use handoff_notify::config::{Channel, NotifyConfig};
use handoff_notify::outbox;
use handoff_notify::projection::open_store;
use handoff_notify::service::{self, NotifyServiceConfig};
use handoff_store::{Store, StoreLocation};

use handoff_http::Guard;

use crate::api_limits::ApiLimitArgs;
use crate::kafka_args::{KafkaArgs, RegistryArgs};
use crate::{health, http_server, shutdown};

/// Where the notifier keeps its outbox and which rules and subscribers it
/// runs: shared by `notify` and `up`.
#[derive(Args, Debug, Clone)]
pub struct NotifyStoreArgs {
    /// The notifier's store (outbox, timers, offsets): a SQLite file path,
    /// or postgres://user:pass@host/db. Default data/notify.db
    /// (`up`: <data-dir>/notify.db).
    #[arg(long, env = "HANDOFF_NOTIFY_STORE")]
    pub notify_store: Option<String>,
    /// Rules, delivery settings and subscribers. `notify` defaults to the
    /// deploy/notify.toml this build was made with; `up` defaults to the
    /// same with every subscriber on the handoff.notifications.v1 topic
    /// (no webhook secrets or SMTP relay needed).
    #[arg(long, env = "HANDOFF_NOTIFY_CONFIG")]
    pub notify_config: Option<PathBuf>,
}

impl NotifyStoreArgs {
    pub fn location(&self, default: &str) -> StoreLocation {
        StoreLocation::parse(self.notify_store.as_deref().unwrap_or(default))
    }

    /// The given file, else the shipped one (on the topic only if asked).
    pub fn load(&self, topic_only_by_default: bool) -> Result<NotifyConfig> {
        Ok(match &self.notify_config {
            Some(path) => NotifyConfig::load(path)?,
            None if topic_only_by_default => NotifyConfig::shipped().on_topic_only(),
            None => NotifyConfig::shipped(),
        })
    }
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct NotifyArgs {
    #[command(subcommand)]
    pub command: Option<NotifyCommand>,
    #[command(flatten)]
    pub run: NotifyRunArgs,
}

#[derive(Subcommand, Debug)]
pub enum NotifyCommand {
    /// List the subscribers a config defines: office, channel, filters.
    Subscribers {
        #[command(flatten)]
        store: NotifyStoreArgs,
    },
    /// Notifications that ran out of retries.
    #[command(subcommand)]
    Dlq(DlqCommand),
}

#[derive(Subcommand, Debug)]
pub enum DlqCommand {
    /// List dead-lettered notifications with their last error.
    List {
        #[command(flatten)]
        store: NotifyStoreArgs,
    },
    /// Make dead-lettered notifications pending again, with a fresh retry
    /// budget (a running notifier sends them within a second).
    Retry {
        #[command(flatten)]
        store: NotifyStoreArgs,
        /// These notifications (repeatable).
        #[arg(long, conflicts_with = "all")]
        id: Vec<i64>,
        /// Every dead-lettered notification.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args, Debug)]
pub struct NotifyRunArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub store: NotifyStoreArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The agencies' bearer tokens, for acknowledgements (see `handoff
    /// token new`). Without it every acknowledgement is refused (401).
    #[arg(long, env = "HANDOFF_TOKENS")]
    pub tokens: Option<PathBuf>,
    /// Consumer group of the notifier.
    #[arg(long, default_value = "handoff-notify")]
    pub group: String,
    /// Where POST /v1/notifications/{id}/ack and /metrics listen.
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub http_listen: SocketAddr,
    #[command(flatten)]
    pub limits: ApiLimitArgs,
    /// Send the notifications kept as history (made from events that were
    /// on the topics before the notifier first started) that happened on
    /// or after this date (YYYY-MM-DD, or `all`), then run.
    #[arg(long, value_name = "SINCE")]
    pub resend: Option<String>,
    /// With --resend: list what would be sent, per rule and subscriber,
    /// and exit without sending.
    #[arg(long, requires = "resend")]
    pub dry_run: bool,
}

pub async fn run(args: NotifyArgs) -> Result<ExitCode> {
    match args.command {
        Some(NotifyCommand::Subscribers { store }) => subscribers(&store.load(false)?),
        Some(NotifyCommand::Dlq(DlqCommand::List { store })) => dlq_list(&store).await,
        Some(NotifyCommand::Dlq(DlqCommand::Retry { store, id, all })) => {
            if id.is_empty() && !all {
                bail!("name the notifications to retry with --id N (repeatable), or pass --all");
            }
            let n = outbox::retry_dead(&open(&store).await?, &id).await?;
            println!("{n} dead-lettered notification(s) pending again");
            Ok(ExitCode::SUCCESS)
        }
        None => serve(args.run).await,
    }
}

async fn open(store: &NotifyStoreArgs) -> Result<Store> {
    let location = store.location("data/notify.db");
    open_store(&location)
        .await
        .with_context(|| format!("opening the notifier's store {}", location.describe()))
}

fn subscribers(config: &NotifyConfig) -> Result<ExitCode> {
    for s in &config.subscribers {
        let channel = match &s.channel {
            Channel::Webhook { url, secret_env } => {
                let set = std::env::var(secret_env).is_ok_and(|v| !v.is_empty());
                format!(
                    "webhook {url} (secret in {secret_env}: {})",
                    if set { "set" } else { "NOT SET" }
                )
            }
            Channel::Email { to } => {
                format!("e-mail to {to} via {}", config.delivery.smtp_url)
            }
            Channel::Topic => "topic handoff.notifications.v1".to_owned(),
        };
        let list = |items: Vec<&str>, all: &str| {
            if items.is_empty() {
                all.to_owned()
            } else {
                items.join(", ")
            }
        };
        println!("{}  ({}, {})", s.id, s.agency.symbol(), s.office);
        println!(
            "    roles:    {}",
            s.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "    rules:    {}",
            list(
                s.rules.iter().map(|r| r.as_str()).collect(),
                "all for its roles"
            )
        );
        println!(
            "    aor:      {}",
            list(s.aor.iter().map(String::as_str).collect(), "all")
        );
        println!(
            "    courts:   {}",
            list(s.court.iter().map(String::as_str).collect(), "all")
        );
        println!("    channel:  {channel}");
    }
    println!("{} subscriber(s)", config.subscribers.len());
    Ok(ExitCode::SUCCESS)
}

async fn dlq_list(store: &NotifyStoreArgs) -> Result<ExitCode> {
    let dead = outbox::in_state(&open(store).await?, outbox::DEAD).await?;
    for row in &dead {
        let n = &row.notification;
        println!(
            "{:>8}  {:<22} {:<24} seq {:<6} attempts {:<3} {}",
            n.id,
            n.subscriber,
            n.rule,
            n.sequence,
            row.attempts,
            row.last_error.as_deref().unwrap_or("")
        );
    }
    println!(
        "{} dead-lettered notification(s){}",
        dead.len(),
        if dead.is_empty() {
            ""
        } else {
            "; `handoff notify dlq retry --all` sends them again"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `--resend SINCE`: the first millisecond to resend from.
fn resend_since(text: &str) -> Result<i64> {
    if text == "all" {
        return Ok(i64::MIN);
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("--resend {text:?}: give a date as YYYY-MM-DD, or `all`"))?;
    Ok(date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis())
}

async fn serve(args: NotifyRunArgs) -> Result<ExitCode> {
    let config = args.store.load(false)?;
    let location = args.store.location("data/notify.db");
    if let Some(since) = &args.resend {
        let since = resend_since(since)?;
        let store = open(&args.store).await?;
        if args.dry_run {
            let mut total = 0;
            for (rule, subscriber, n) in outbox::history_since(&store, since).await? {
                println!("{n:>8}  {rule:<24} to {subscriber}");
                total += n;
            }
            println!(
                "{total} notification(s) kept as history would be sent (dry run: nothing sent)"
            );
            return Ok(ExitCode::SUCCESS);
        }
        let n = outbox::resend_history(&store, since).await?;
        println!("resend    {n} notification(s) kept as history are pending again");
    }
    let stop = shutdown::on_signal();
    let kafka = args.kafka.or_local()?;
    let codec = args.registry.codec();
    let tokens = match &args.tokens {
        Some(path) => handoff_auth::Tokens::load(path)?,
        None => handoff_auth::Tokens::default(),
    };
    let notifier = service::start(
        &kafka,
        codec,
        NotifyServiceConfig {
            store: location.clone(),
            group: args.group.clone(),
            config: Arc::new(config),
            guard: Arc::new(Guard::new(tokens, args.limits.limits()?)),
        },
        stop.child_token(),
    )
    .await
    .context("starting the notifier")?;
    let api = health::router(&kafka, &args.registry.registry_url)?
        .merge(handoff_notify::api::standalone_router(notifier.ack.clone()));
    let app = handoff_http::app(api, handoff_notify::api::describe_webhooks);
    let (address, server) = http_server::serve(app, args.http_listen, stop.child_token()).await?;
    println!("notify    {} (group {})", location.describe(), args.group);
    if notifier.first_start {
        println!("history   events already on the topics are kept as history, not sent");
    }
    println!(
        "http      http://{address} (/healthz, /readyz, POST /v1/notifications/{{id}}/ack, /metrics)"
    );
    println!("ready. Ctrl-C or SIGTERM to stop.");
    let failed = tokio::select! {
        _ = stop.cancelled() => false,
        _ = notifier.failed.cancelled() => true,
    };
    stop.cancel();
    for task in notifier.tasks.into_iter().chain([server]) {
        let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
    }
    if failed {
        bail!("the notifier stopped on an error (see the log above)");
    }
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}
