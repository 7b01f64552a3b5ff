//! `handoff up --demo`: a small generated history (500 synthetic
//! children, every value made up) written in the agencies' native layouts,
//! ingested through the adapters, and shown coming out of the views: one
//! child's story merged across the three agencies, each agency's view, and
//! the data-quality findings beside what `truth.json` says they must be.
//! Run again on the same data directory, it publishes nothing twice.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use handoff_adapters::ingest::expand;
use handoff_adapters::{ingest_files, Layout, Ledger, Progress, Publisher, RejectWriter};
use handoff_bus::{EventProducer, KafkaConfig};
use handoff_events::{topics, Agency, Codec, Timestamp};
use handoff_gen::{GenConfig, Truth};
use handoff_notify::api::AckState;
use handoff_store::offsets;
use handoff_views::api::ApiState;
use handoff_views::narrow::{Narrow, Sort};
use handoff_views::queries::{Paging, Queries};

use crate::demo_tokens::DemoTokens;

const CHILDREN: u64 = 500;

/// The running stack the demo shows.
pub struct Stack<'a> {
    pub views: &'a ApiState,
    pub notify: &'a AckState,
    /// Where the API answers.
    pub http: SocketAddr,
    /// The demo's own tokens; `None` when `--tokens` was given.
    pub tokens: Option<&'a DemoTokens>,
}

pub async fn run(
    kafka: &KafkaConfig,
    codec: Codec,
    stack: Stack<'_>,
    data_dir: &Path,
) -> Result<()> {
    let Stack {
        views,
        notify,
        http,
        tokens,
    } = stack;
    let dir = data_dir.join("demo");
    let config = GenConfig {
        children: CHILDREN,
        ..GenConfig::default()
    };
    let truth = handoff_gen::generate(&config, &dir, |_| {}).context("demo: generating")?;
    println!(
        "demo: generated {CHILDREN} synthetic children's exports in {} (ICE CSV, ORR JSON Lines, EOIR tables)",
        dir.display()
    );

    let producer = EventProducer::new(kafka, codec)?;
    let ledger = Ledger::open(&dir.join("ledger.db")).await?;
    let rejects = RejectWriter::create(&dir.join("rejects.jsonl"))?;
    let mut publisher = Publisher::new(producer, ledger, rejects);
    for (agency, layout) in [
        ("ice", Layout::Ice),
        ("hhs", Layout::Hhs),
        ("doj", Layout::Doj { public: false }),
    ] {
        let files = expand(&[dir.join(agency)])?;
        let never = tokio_util::sync::CancellationToken::new();
        ingest_files(
            layout,
            &files,
            &mut publisher,
            &mut Progress::new(0, false),
            &never,
        )
        .await?;
    }
    let summary = publisher.finish().await?;
    if let Some((file, why)) = summary.failed_files().next() {
        bail!("demo: the generated {file} could not be read: {why}");
    }
    let total = summary.total();
    println!(
        "demo: ingested {} records: {} events published, {} duplicate rows, {} rejected (reasons in {})",
        total.records,
        total.events_published,
        total.duplicates,
        total.rejected.values().sum::<u64>(),
        dir.join("rejects.jsonl").display()
    );

    wait_caught_up(kafka, views, notify).await?;
    let queries = Queries {
        store: &views.store,
        catalogue: &views.catalogue,
    };
    let child = show_child(&queries).await?;
    show_views(&queries, &truth).await?;
    show_report(views, &truth).await?;
    show_notifications(notify).await?;
    show_api(http, tokens, child.as_deref());
    show_console(http, tokens);
    Ok(())
}

/// Where to point a browser, and a token per agency to sign in with.
fn show_console(http: SocketAddr, tokens: Option<&DemoTokens>) {
    println!("demo: the console: open http://{http}/ in a browser and sign in with a token:");
    match tokens {
        Some(tokens) => {
            for agency in Agency::ALL {
                println!("  {:<9} {}", agency.symbol(), tokens.secret(agency));
            }
        }
        None => println!("  (a token of --tokens; `handoff token new` makes one)"),
    }
}

/// Three requests to the API that work as printed.
fn show_api(http: SocketAddr, tokens: Option<&DemoTokens>, child: Option<&str>) {
    let Some(tokens) = tokens else {
        println!("demo: the API answers on http://{http} to the tokens of --tokens");
        return;
    };
    println!(
        "demo: the API, with this stack's demo tokens (one per agency, in {}):",
        tokens.secrets_file.display()
    );
    let bearer = |agency| format!("-H 'Authorization: Bearer {}'", tokens.secret(agency));
    if let Some(a_number) = child {
        println!(
            "  curl -sf {} http://{http}/v1/children/{a_number}",
            bearer(Agency::HhsOrr)
        );
    }
    println!(
        "  curl -sf {} 'http://{http}/v1/fta?limit=5'",
        bearer(Agency::HhsOrr)
    );
    println!(
        "  curl -sf {} http://{http}/v1/data-quality",
        bearer(Agency::Ice)
    );
}

/// One analyst's report from the same views, and how to replay the
/// history as of another date.
async fn show_report(views: &ApiState, truth: &Truth) -> Result<()> {
    let source = handoff_replay::report::Source {
        store: &views.store,
        catalogue: views.catalogue.clone(),
        as_of: Timestamp::start_of(truth.config.as_of.succ_opt().unwrap_or(truth.config.as_of)),
    };
    let table = handoff_replay::report::run(&source, "fta-by-fiscal-year", None).await?;
    print!("demo: handoff report {}", table.to_text());
    let mid = truth.config.from + (truth.config.to - truth.config.from) / 2;
    println!("demo: the views as they stood on {mid}: handoff replay --into asof.db --as-of {mid} (then handoff report <name> --store asof.db)");
    Ok(())
}

/// What the notifier made of the history, per rule and state.
async fn show_notifications(notify: &AckState) -> Result<()> {
    let counts = notify
        .store
        .query(
            "SELECT rule, state, COUNT(*) FROM outbox GROUP BY rule, state ORDER BY rule, state",
            vec![],
        )
        .await?;
    println!(
        "demo: notifications (rule, state, count); delivered ones are on handoff.notifications.v1:"
    );
    for row in counts {
        println!(
            "  {:<24} {:<10} {:>6}",
            row[0].as_str().unwrap_or_default(),
            row[1].as_str().unwrap_or_default(),
            row[2].as_i64().unwrap_or_default()
        );
    }
    Ok(())
}

/// How long the demo waits for the views and the notifier before it says
/// they did not get there: a debug build applies the 500-child history in
/// well under a minute on two cores.
const CATCH_UP_BOUND: Duration = Duration::from_secs(300);

/// Waits until the views and the notifier hold the whole history: each
/// has stored, on every agency partition, an offset at or past where the
/// partition ended once the demo's ingest was acknowledged (read then, so
/// a re-run, which publishes nothing new, waits for the whole history
/// too); then until the notifier has fired the deadlines that fell within
/// the history and sent what it made. Only then are the numbers printed
/// final, every run.
async fn wait_caught_up(kafka: &KafkaConfig, views: &ApiState, notify: &AckState) -> Result<()> {
    let topics_kafka = kafka.clone();
    let ends = tokio::task::spawn_blocking(move || {
        handoff_bus::watermarks::topic_ends(&topics_kafka, &topics::AGENCY)
    })
    .await?
    .context("demo: reading where the agency topics end")?;
    for (sink, store) in [("views", &views.store), ("notifier", &notify.store)] {
        if let Err(behind) = offsets::wait_reached(store, &ends, CATCH_UP_BOUND).await {
            let list: Vec<String> = behind.iter().map(ToString::to_string).collect();
            bail!(
                "demo: the {sink} did not apply the whole history within {} s; still behind on {} (see the log for why)",
                CATCH_UP_BOUND.as_secs(),
                list.join(", ")
            );
        }
    }
    let deadline = tokio::time::Instant::now() + CATCH_UP_BOUND;
    loop {
        let unfired = notify
            .store
            .query(handoff_notify::schema::EVENT_TIME_TIMERS_UNFIRED, vec![])
            .await?
            .first()
            .and_then(|r| r[0].as_i64())
            .unwrap_or(0);
        let pending = notify
            .store
            .query(
                "SELECT COUNT(*) FROM outbox WHERE state = ?1",
                vec![handoff_notify::outbox::PENDING.into()],
            )
            .await?
            .first()
            .and_then(|r| r[0].as_i64())
            .unwrap_or(0);
        if unfired == 0 && pending == 0 {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!(
                "demo: after {} s the notifier still has {unfired} of the history's deadlines unfired and {pending} notifications unsent",
                CATCH_UP_BOUND.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One child who missed a hearing: the story the three agencies hold.
/// Returns the child's A-number.
async fn show_child(queries: &Queries<'_>) -> Result<Option<String>> {
    let first = queries
        .ftas(
            &Narrow::default(),
            Sort::default(),
            Paging {
                limit: 1,
                offset: 0,
            },
        )
        .await?;
    let Some(a_number) = first.items.first().and_then(|i| i.a_number.as_deref()) else {
        return Ok(None);
    };
    let Some(state) = queries.child(a_number).await? else {
        return Ok(None);
    };
    println!(
        "demo: synthetic child {a_number}, merged from {} agencies in event time:",
        state.agencies.len()
    );
    for entry in &state.timeline {
        println!(
            "  {}  {:<9} {}",
            entry.at.to_datetime().format("%Y-%m-%d"),
            entry.agency.symbol(),
            entry.event
        );
    }
    if let Some(latest) = state.latest_address() {
        println!(
            "  latest address from {} ({}), {} {}",
            latest.agency.symbol(),
            latest.at.to_datetime().format("%Y-%m-%d"),
            latest.address.city.as_deref().unwrap_or("-"),
            latest.address.state.as_deref().unwrap_or("-"),
        );
    }
    Ok(Some(a_number.to_owned()))
}

/// Each agency's view and the data-quality findings, against truth.json.
async fn show_views(queries: &Queries<'_>, truth: &Truth) -> Result<()> {
    let as_of = Timestamp::start_of(truth.config.as_of.succ_opt().unwrap_or(truth.config.as_of));
    let none = Paging {
        limit: 0,
        offset: 0,
    };
    let all = Narrow::default();
    println!("demo: the views as of {}:", truth.config.as_of);
    let views = [
        (
            "ice",
            queries
                .ice_view(&all, Sort::default(), as_of, none)
                .await?
                .total,
            "children ICE knows",
        ),
        (
            "hhs_orr",
            queries
                .orr_view(&all, Sort::default(), as_of, none)
                .await?
                .total,
            "children ORR released",
        ),
        (
            "doj_eoir",
            queries
                .eoir_view(&all, Sort::default(), as_of, none)
                .await?
                .total,
            "open immigration court cases",
        ),
    ];
    for (view, n, what) in views {
        println!("  /v1/views/{view:<9} {n:>6} {what}");
    }
    let f = &truth.facts;
    let counts = queries.data_quality_summary(60, as_of).await?;
    println!("demo: data quality (found by the views / planted by the generator):");
    for (kind, found) in counts {
        let planted = match kind {
            "fta_without_follow_up" => f.ftas_without_follow_up,
            "fta_missing_in_opla" => f.eoir_fta_missing_in_opla,
            "fta_missing_in_eoir" => f.opla_fta_missing_in_eoir,
            "address_disagreement" => f.address_disagreements,
            "bad_address" => f.bad_latest_addresses.values().sum(),
            "single_agency" => f.single_agency_a_numbers,
            "nta_not_served" => f.released_without_served_nta_over_60_days,
            _ => f.hearings_without_outcome,
        };
        println!("  {kind:<24} {found:>6} / {planted}");
    }
    Ok(())
}
