//! `handoff up --demo`: a small synthetic history on the bus, read back
//! and summarised, so a newcomer sees events flow within a minute.
//! Every value is made up.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use anyhow::{bail, Result};
use handoff_bus::{EventProducer, KafkaConfig};
use handoff_events::{samples, topics, ANumber, Codec, Event};
use handoff_views::api::ApiState;
use handoff_views::queries::Queries;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;

/// Synthetic A-numbers of the demo children (never assigned to anyone:
/// the 0000001xx range is only used here and in tests).
const CHILDREN: [&str; 3] = ["A000000101", "A000000102", "A000000103"];

pub async fn run(kafka: &KafkaConfig, codec: Codec, views: &ApiState) -> Result<()> {
    let producer = EventProducer::new(kafka, codec.clone())?;
    let mut published = Vec::new();
    for child in CHILDREN {
        let a: ANumber = child.parse()?;
        for event in samples::one_of_each(a) {
            producer.publish(&event, None).await?;
            published.push(event);
        }
    }
    println!(
        "demo: published {} events for {} synthetic children",
        published.len(),
        CHILDREN.len()
    );

    let wanted: HashSet<String> = published
        .iter()
        .map(|e| e.meta().event_id.clone())
        .collect();
    let group = format!("handoff-demo-{}", unique_suffix());
    let consumer: StreamConsumer = kafka.consumer(&group).create()?;
    consumer.subscribe(&topics::AGENCY)?;
    let mut seen: Vec<(String, Event)> = Vec::new();
    let mut seen_ids = HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen_ids.len() < wanted.len() {
        let message = match tokio::time::timeout_at(deadline, consumer.recv()).await {
            Ok(m) => m?,
            Err(_) => bail!(
                "demo: only {} of {} events came back within 60 s",
                seen_ids.len(),
                wanted.len()
            ),
        };
        let Some(payload) = message.payload() else {
            continue;
        };
        let event = codec.decode(payload).await?;
        if wanted.contains(&event.meta().event_id) && seen_ids.insert(event.meta().event_id.clone())
        {
            seen.push((message.topic().to_owned(), event));
        }
    }
    let mut per_topic: BTreeMap<&str, usize> = BTreeMap::new();
    for (topic, _) in &seen {
        *per_topic.entry(topic.as_str()).or_default() += 1;
    }
    println!("demo: read every event back from the bus:");
    for (topic, n) in per_topic {
        println!("  {topic:<18} {n:>4} events");
    }
    let first = CHILDREN[0];
    let mut timeline: Vec<&Event> = seen
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.meta().a_number.as_ref().map(ANumber::as_str) == Some(first))
        .collect();
    timeline.sort_by_key(|e| (e.meta().occurred_at, e.record_name()));
    println!("demo: timeline of synthetic child {first}, across agencies, in event time:");
    for event in timeline {
        let m = event.meta();
        println!(
            "  {}  {:<9} {}",
            m.occurred_at.to_datetime().format("%Y-%m-%d"),
            m.source_agency.symbol(),
            event.record_name()
        );
    }
    show_view(views, first, published.len() / CHILDREN.len()).await
}

/// Waits for the views to hold the whole story of `a_number`, then prints
/// the merged record as each agency sees it.
async fn show_view(api: &ApiState, a_number: &str, events: usize) -> Result<()> {
    let views = Queries {
        store: &api.store,
        catalogue: &api.catalogue,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let state = loop {
        if let Some(state) = views.child(a_number).await? {
            if state.events >= events {
                break state;
            }
        }
        if tokio::time::Instant::now() > deadline {
            bail!("demo: the views did not catch up within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!(
        "demo: the views merged {} events from {} agencies into one record:",
        state.events,
        state.agencies.len()
    );
    println!("  NTA {:?}, court {}, {} hearings, {} failure(s) to appear ({} followed up by ERO, {} recorded by OPLA too)",
        state.nta_status,
        state.court.as_deref().unwrap_or("-"),
        state.hearings.len(),
        state.ftas.len(),
        state.ftas.iter().filter(|f| !f.follow_ups.is_empty()).count(),
        state.ftas.iter().filter(|f| f.opla_recorded).count(),
    );
    if let Some(latest) = state.latest_address() {
        let a = &latest.address;
        println!(
            "  latest address from {} on {}: {}, {} {}{}",
            latest.agency.symbol(),
            latest.at.to_datetime().format("%Y-%m-%d"),
            a.city.as_deref().unwrap_or("-"),
            a.state.as_deref().unwrap_or("-"),
            a.postal_code.as_deref().unwrap_or("-"),
            if a.missing_secondary_unit {
                " (missing the apartment number)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Nanoseconds since the epoch: a fresh consumer group per demo run, so it
/// reads the topics from the start.
fn unique_suffix() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos().to_string())
        .unwrap_or_default()
}
