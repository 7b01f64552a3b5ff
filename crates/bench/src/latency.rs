//! Latency: a FailedToAppear sent to the broker until ORR's webhook has
//! it, with `handoff notify` (its own process) between them, at steady
//! rates of mixed traffic: every event type of a child's life, one FTA in
//! each child's two dozen events. The load generator sends on a fixed
//! schedule without waiting for acknowledgements, so a slow notifier shows
//! as latency, not as a slower load.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use handoff_bus::EventProducer;
use handoff_events::{samples, ANumber, Event, Timestamp};
use tokio_util::sync::CancellationToken;

use crate::process::Service;
use crate::scale::say;
use crate::stack::{args, BenchStack};
use crate::{write, BenchError, Scale};

/// The rates asked for, in events/s of mixed traffic: 1,000 (the p99
/// target), 10,000 (the rate that must be sustained) and steps between and
/// beyond them to find where this machine stops keeping up.
pub const RATES: [u64; 6] = [100, 1_000, 2_000, 5_000, 10_000, 20_000];

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LatencyFigures {
    /// The rate asked for and the rate the load generator achieved.
    pub target_per_s: u64,
    pub sent_per_s: f64,
    pub events: u64,
    pub ftas: usize,
    /// FTAs whose notification reached ORR within the wait.
    pub delivered: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The webhook receiver: when each (hook, rule, A-number) first arrived.
#[derive(Default)]
struct Arrivals {
    at: Mutex<HashMap<(String, String, String), Instant>>,
}

async fn accept(
    State(arrivals): State<Arc<Arrivals>>,
    UrlPath(hook): UrlPath<String>,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    let now = Instant::now();
    if body["type"] == "notification" {
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
        arrivals
            .at
            .lock()
            .expect("no panic holds the lock")
            .entry((hook, text("rule"), text("a_number")))
            .or_insert(now);
    }
    StatusCode::OK
}

async fn serve_webhooks(
    arrivals: Arc<Arrivals>,
    stop: CancellationToken,
) -> Result<SocketAddr, BenchError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| BenchError::Run(format!("the webhook receiver cannot listen: {e}")))?;
    let address = listener
        .local_addr()
        .map_err(|e| BenchError::Run(format!("the webhook receiver: {e}")))?;
    let app = Router::new()
        .route("/hooks/{hook}", post(accept))
        .with_state(arrivals);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(stop.cancelled_owned())
            .await;
    });
    Ok(address)
}

fn notify_config(hooks: SocketAddr) -> String {
    let hook = |id: &str| {
        format!("{{ webhook = {{ url = \"http://{hooks}/hooks/{id}\", secret_env = \"HANDOFF_BENCH_SECRET\" }} }}")
    };
    format!(
        r#"
[[subscriber]]
id = "orr"
agency = "HHS_ORR"
office = "ORR Post-Release Services"
roles = ["orr"]
channel = {orr}

[[subscriber]]
id = "ero"
agency = "ICE"
office = "ERO field offices"
roles = ["ero_field_office", "ero_supervisor", "field_office_director", "opla"]
channel = {ero}

[[subscriber]]
id = "eoir"
agency = "DOJ_EOIR"
office = "EOIR"
roles = ["eoir"]
channel = {eoir}
"#,
        orr = hook("orr"),
        ero = hook("ero"),
        eoir = hook("eoir"),
    )
}

/// A child's events, stamped as happening now (an FTA for a hearing an
/// hour ago), so they are live traffic rather than history.
fn child_events(serial: u64) -> Vec<Event> {
    let a = ANumber::parse(&format!("A{:09}", 700_000_000 + serial)).expect("valid A-number");
    let now = Timestamp::now();
    samples::one_of_each(a)
        .into_iter()
        .map(|mut event| {
            let meta = event.meta_mut();
            meta.occurred_at = Timestamp(now.0 - 60_000);
            meta.recorded_at = now;
            if let Event::FailedToAppear(fta) = &mut event {
                fta.hearing_at = Timestamp(now.0 - 3_600_000);
            }
            event
        })
        .collect()
}

/// Runs each rate for its duration on a fresh stack with one notifier.
pub async fn run(
    bin: &std::path::Path,
    dir: &std::path::Path,
    scale: Scale,
) -> Result<(Vec<LatencyFigures>, f64), BenchError> {
    // The smoke run stops at 2,000 events/s: a debug build on a loaded
    // CI machine is not what the higher rates are for.
    let (seconds, rates) = match scale {
        Scale::Quick => (2, &RATES[..3]),
        Scale::Full => (30, &RATES[..]),
    };
    let mut stack = BenchStack::start(bin, dir).await?;
    let arrivals = Arc::new(Arrivals::default());
    let stop = CancellationToken::new();
    let hooks = serve_webhooks(arrivals.clone(), stop.clone()).await?;
    let config = dir.join("notify-latency.toml");
    write(&config, &notify_config(hooks))?;
    let mut list = args(&["notify"]);
    list.extend(stack.client_args());
    list.extend(args(&[
        "--notify-store",
        &dir.join("notify-latency.db").display().to_string(),
        "--notify-config",
        &config.display().to_string(),
        "--group",
        "bench-latency",
        "--http-listen",
        "127.0.0.1:0",
    ]));
    let mut notifier = Service::start_with_env(
        bin,
        "notify-latency",
        &list,
        &[("HANDOFF_BENCH_SECRET", "bench-secret")],
        dir,
    )?;
    let producer = EventProducer::new(&stack.kafka, stack.codec())
        .map_err(|e| BenchError::Run(format!("the load generator's producer: {e}")))?;
    let mut serial = 0;
    // Warm-up: until one child's FTA has come through, the notifier is
    // still joining its group; the rates are measured on a live pipeline.
    say("latency: waiting for the notifier to deliver a first FTA");
    let warm_up = one_rate(&producer, &arrivals, 24, 1, &mut serial).await?;
    if warm_up.delivered == 0 {
        return Err(notifier.failure("delivered nothing for a minute"));
    }
    let mut figures = Vec::new();
    for &rate in rates {
        say(&format!("latency at {rate} events/s for {seconds} s"));
        let f = one_rate(&producer, &arrivals, rate, seconds, &mut serial).await?;
        if notifier.exited() {
            return Err(notifier.failure("exited during the latency run"));
        }
        stack.check()?;
        figures.push(f);
    }
    stop.cancel();
    let finished = tokio::task::spawn_blocking(move || notifier.stop())
        .await
        .expect("stopping the notifier does not panic")?;
    Ok((figures, finished.peak_rss_mb))
}

async fn one_rate(
    producer: &EventProducer,
    arrivals: &Arrivals,
    rate: u64,
    seconds: u64,
    serial: &mut u64,
) -> Result<LatencyFigures, BenchError> {
    let total = rate * seconds;
    // Encoded before the clock starts: the load is sending, not encoding.
    let mut load = Vec::with_capacity(total as usize);
    while (load.len() as u64) < total {
        for event in child_events(*serial) {
            let payload = producer
                .codec()
                .encode(&event)
                .await
                .map_err(|e| BenchError::Run(format!("encoding the load: {e}")))?;
            load.push((event, payload));
        }
        *serial += 1;
    }
    load.truncate(total as usize);
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut acks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for (i, (event, payload)) in load.into_iter().enumerate() {
        let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        if let Event::FailedToAppear(fta) = &event {
            let a = fta.meta.a_number.as_ref().map(|a| a.as_str().to_owned());
            sent_at.insert(a.unwrap_or_default(), Instant::now());
        }
        let producer = producer.clone();
        acks.spawn(async move { producer.publish_encoded(&event, &payload, None).await });
    }
    let sending = started.elapsed().as_secs_f64();
    while let Some(ack) = acks.join_next().await {
        ack.expect("a publish does not panic")
            .map_err(|e| BenchError::Run(format!("the load generator: {e}")))?;
    }
    // Every FTA's notification, or a minute without a new one.
    let mut last_count = 0;
    let mut last_change = Instant::now();
    let latencies = loop {
        let got: Vec<Duration> = {
            let at = arrivals.at.lock().expect("no panic holds the lock");
            sent_at
                .iter()
                .filter_map(|(a, sent)| {
                    at.get(&("orr".to_owned(), "failed_to_appear".to_owned(), a.clone()))
                        .map(|t| t.duration_since(*sent))
                })
                .collect()
        };
        if got.len() == sent_at.len() || last_change.elapsed() > Duration::from_secs(60) {
            break got;
        }
        if got.len() != last_count {
            last_count = got.len();
            last_change = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut ms: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        if ms.is_empty() {
            f64::NAN
        } else {
            ms[((ms.len() - 1) as f64 * q).round() as usize]
        }
    };
    Ok(LatencyFigures {
        target_per_s: rate,
        sent_per_s: total as f64 / sending.max(1e-9),
        events: total,
        ftas: sent_at.len(),
        delivered: ms.len(),
        p50_ms: pick(0.5),
        p99_ms: pick(0.99),
        max_ms: pick(1.0),
    })
}
