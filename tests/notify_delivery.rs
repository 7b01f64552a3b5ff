//! Notifications delivered for real: webhooks to an HTTP server that
//! checks every signature with its own HMAC, e-mail to a real SMTP server
//! (aiosmtpd), Avro records on handoff.notifications.v1. Each
//! notification arrives once, in gap-free sequence per subscriber; a
//! receiver that was down gets everything once it is back; an
//! acknowledgement with a follow-up stops rule 6's escalation.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use handoff_auth::{new_token, Tokens};
use handoff_e2e::conformance::{assert_instants_are_rfc3339, assert_matches_schema};
use handoff_e2e::receivers::{SmtpReceiver, WebhookReceiver};
use handoff_e2e::stores::TestStore;
use handoff_e2e::views::{self, agency_topic_ends, applied};
use handoff_e2e::{both_stores, repo_root, run_ingest, Stack};
use handoff_events::{samples, topics, ANumber, Agency, Catalogue, Event, Timestamp};
use handoff_http::Guard;
use handoff_notify::config::NotifyConfig;
use handoff_notify::projection::open_store;
use handoff_notify::service::{self, NotifyServiceConfig, RunningNotifier};
use handoff_store::{Store, StoreLocation};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "test-webhook-secret";

/// Webhooks for ORR, ERO and EOIR, e-mail for the ERO supervisors, the
/// topic for OPLA. Fast retries so the tests need not wait long.
fn config(
    hooks: &WebhookReceiver,
    smtp: &str,
    secret_env: &str,
    extra_rules: &str,
) -> NotifyConfig {
    let hook = |id: &str| {
        format!(
            "{{ webhook = {{ url = \"{}\", secret_env = \"{secret_env}\" }} }}",
            hooks.url(id)
        )
    };
    let text = format!(
        r#"
[rules]
{extra_rules}

[delivery]
max_attempts = 1000
backoff_initial_ms = 100
backoff_max_ms = 1000
heartbeat_seconds = 1
smtp_url = "{smtp}"
email_from = "handoff-test@example.gov"

[[subscriber]]
id = "orr"
agency = "HHS_ORR"
office = "ORR"
roles = ["orr"]
channel = {orr}

[[subscriber]]
id = "ero"
agency = "ICE"
office = "ERO"
roles = ["ero_field_office"]
channel = {ero}

[[subscriber]]
id = "ero-sup"
agency = "ICE"
office = "ERO supervisors"
roles = ["ero_supervisor", "field_office_director"]
channel = {{ email = {{ to = "ero-sup@example.gov" }} }}

[[subscriber]]
id = "opla"
agency = "ICE"
office = "OPLA"
roles = ["opla"]
channel = "topic"

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
    );
    NotifyConfig::parse(&text, "test").unwrap()
}

async fn start_notifier(
    stack: &Stack,
    location: &StoreLocation,
    config: NotifyConfig,
    tokens: Tokens,
    stop: &CancellationToken,
) -> RunningNotifier {
    service::start(
        &stack.kafka,
        stack.codec(),
        NotifyServiceConfig {
            store: location.clone(),
            group: "notifier".into(),
            config: Arc::new(config),
            guard: Arc::new(Guard::new(tokens, views::generous_limits())),
        },
        stop.child_token(),
    )
    .await
    .unwrap()
}

async fn count(store: &Store, sql: &str) -> i64 {
    store.query(sql, vec![]).await.unwrap()[0][0]
        .as_i64()
        .unwrap()
}

/// Waits until the notifier has stored the end of every agency partition
/// (as it is now), fired every deadline due by the latest event time, and
/// sent everything it made.
async fn wait_all_delivered(stack: &Stack, store: &Store, within: Duration) {
    let kafka = stack.kafka.clone();
    let ends = tokio::task::spawn_blocking(move || agency_topic_ends(&kafka))
        .await
        .unwrap();
    if let Err(behind) = handoff_store::offsets::wait_reached(store, &ends, within).await {
        panic!("the notifier did not apply everything within {within:?}: {behind:?}");
    }
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let unfired = count(store, handoff_notify::schema::EVENT_TIME_TIMERS_UNFIRED).await;
        let pending = count(store, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'").await;
        if unfired == 0 && pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{unfired} deadlines unfired, {pending} notifications pending"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// (subscriber, idempotency key, sequence) of every outbox row.
async fn outbox(store: &Store) -> Vec<(String, String, i64, String)> {
    store
        .query(
            "SELECT subscriber, idempotency_key, seq, state FROM outbox ORDER BY subscriber, seq",
            vec![],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().to_owned(),
                r[2].as_i64().unwrap(),
                r[3].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Marks a new notifier store's history as empty, so that what is on the
/// topics already counts as live when the notifier starts.
async fn mark_all_live(stack: &Stack, store: &Store) {
    let zero: std::collections::HashMap<(String, i32), i64> = agency_topic_ends(&stack.kafka)
        .into_keys()
        .map(|tp| (tp, 0))
        .collect();
    assert!(handoff_notify::projection::mark_history(store, &zero)
        .await
        .unwrap());
}

fn ingest_fixtures(stack: &Stack) {
    let fixtures = repo_root().join("tests/fixtures");
    for agency in ["ice", "hhs", "doj"] {
        let out = run_ingest(stack, agency, &fixtures.join(agency), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Every Notification record on handoff.notifications.v1, read to where
/// the topic ends now (call it once everything was delivered), decoded
/// with the schema the registry holds for them; there must be `expected`.
async fn topic_notifications(stack: &Stack, expected: usize) -> Vec<apache_avro::types::Value> {
    let kafka = stack.kafka.clone();
    let ends = tokio::task::spawn_blocking(move || {
        handoff_bus::watermarks::topic_ends(&kafka, &[topics::NOTIFICATIONS]).unwrap()
    })
    .await
    .unwrap();
    let total = ends.values().sum::<i64>() as usize;
    assert_eq!(total, expected, "notifications on the topic");
    let consumer: BaseConsumer = stack
        .kafka
        .consumer("notifications-reader")
        .create()
        .unwrap();
    let mut tpl = rdkafka::TopicPartitionList::new();
    for (topic, partition) in ends.keys() {
        tpl.add_partition_offset(topic, *partition, rdkafka::Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let schema = Catalogue::embedded().records["Notification"].schema.clone();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while out.len() < total {
        assert!(
            std::time::Instant::now() < deadline,
            "read {} of {total} notifications on the topic",
            out.len()
        );
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap();
                assert_eq!(payload[0], 0, "Confluent framing");
                let id = u32::from_be_bytes(payload[1..5].try_into().unwrap());
                let registered =
                    handoff_e2e::get_json(&format!("{}/schemas/ids/{id}", stack.registry_url()))
                        .await;
                assert!(registered["schema"]
                    .as_str()
                    .unwrap()
                    .contains("Notification"));
                out.push(
                    apache_avro::reader::datum::GenericDatumReader::builder(&schema)
                        .build()
                        .and_then(|r| r.read_value(&mut &payload[5..]))
                        .unwrap(),
                );
            }
            Some(Err(e)) => panic!("{e}"),
            None => {}
        }
    }
    out
}

fn field<'a>(record: &'a apache_avro::types::Value, name: &str) -> &'a apache_avro::types::Value {
    match record {
        apache_avro::types::Value::Record(fields) => {
            &fields.iter().find(|(n, _)| n == name).unwrap().1
        }
        other => panic!("not a record: {other:?}"),
    }
}

both_stores!(
    every_channel_delivers_each_notification_once_signed_and_in_sequence,
    channels_story
);

async fn channels_story(test_store: TestStore) {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_CHANNELS", SECRET);
    let location = test_store.location();
    let stop = CancellationToken::new();
    let notifier = start_notifier(
        &stack,
        &location,
        config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_CHANNELS", ""),
        Tokens::default(),
        &stop,
    )
    .await;
    assert!(notifier.first_start);
    ingest_fixtures(&stack);
    let store = open_store(&location).await.unwrap();
    wait_all_delivered(&stack, &store, Duration::from_secs(120)).await;

    let rows = outbox(&store).await;
    let by_rule: BTreeMap<String, i64> = store
        .query("SELECT rule, COUNT(*) FROM outbox GROUP BY rule", vec![])
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r[0].as_str().unwrap().to_owned(), r[1].as_i64().unwrap()))
        .collect();
    assert_eq!(by_rule.get("failed_to_appear"), Some(&6), "{by_rule:?}");
    assert_eq!(by_rule.get("safety_concern"), Some(&2), "{by_rule:?}");
    assert!(rows.iter().all(|r| r.3 == "delivered"), "{rows:?}");

    // Webhooks: each row once, signed, in sequence order 1..n, each body
    // as the OpenAPI document's `webhooks` describe it.
    let doc = serde_json::to_value(handoff_notify::api::webhook_document()).unwrap();
    let notification = serde_json::json!({"$ref": "#/components/schemas/WebhookNotification"});
    let heartbeat = serde_json::json!({"$ref": "#/components/schemas/Heartbeat"});
    for hook in ["orr", "ero", "eoir"] {
        let expected: Vec<(String, i64)> = rows
            .iter()
            .filter(|r| r.0 == hook)
            .map(|r| (r.1.clone(), r.2))
            .collect();
        assert!(!expected.is_empty(), "{hook} receives something");
        let got: Vec<(String, i64)> = hooks
            .notifications(hook)
            .iter()
            .map(|r| {
                assert!(r.signature_valid, "bad signature on {r:?}");
                assert_eq!(
                    r.body["idempotency_key"].as_str(),
                    r.idempotency_key.as_deref()
                );
                assert_eq!(r.body["sequence"].as_i64(), r.sequence);
                assert_matches_schema(&doc, &notification, &r.body, hook);
                assert_instants_are_rfc3339(&r.body, hook);
                (r.idempotency_key.clone().unwrap(), r.sequence.unwrap())
            })
            .collect();
        assert_eq!(got, expected, "{hook}: once each, in order");
        let sequences: Vec<i64> = got.iter().map(|g| g.1).collect();
        assert_eq!(sequences, (1..=sequences.len() as i64).collect::<Vec<_>>());
    }
    // Heartbeats: signed too, reporting the last sequence delivered.
    let beats: Vec<_> = hooks
        .received()
        .into_iter()
        .filter(|r| r.body["type"] == "heartbeat")
        .collect();
    assert!(!beats.is_empty(), "idle webhooks get heartbeats");
    assert!(beats.iter().all(|b| b.signature_valid));
    for beat in &beats {
        assert_matches_schema(&doc, &heartbeat, &beat.body, "heartbeat");
        assert_instants_are_rfc3339(&beat.body, "heartbeat");
    }

    // E-mail: one message per row, the Message-ID stable per key.
    let mails = smtp.messages();
    let expected_mail = rows.iter().filter(|r| r.0 == "ero-sup").count();
    assert!(expected_mail > 0);
    assert_eq!(mails.len(), expected_mail, "{mails:?}");
    let ids: BTreeSet<&str> = mails
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), mails.len(), "distinct Message-IDs");
    assert!(mails
        .iter()
        .all(|m| m["rcpt_tos"][0] == "ero-sup@example.gov"
            && m["subject"].as_str().unwrap().starts_with("[Handoff]")));
    assert!(mails.iter().any(|m| m["subject"]
        .as_str()
        .unwrap()
        .contains("safety_concern (high priority)")));

    // The topic: OPLA's rows as Avro records, keyed by subscriber.
    let opla: Vec<(String, i64)> = rows
        .iter()
        .filter(|r| r.0 == "opla")
        .map(|r| (r.1.clone(), r.2))
        .collect();
    let records = topic_notifications(&stack, opla.len()).await;
    let got: Vec<(String, i64)> = records
        .iter()
        .map(|r| {
            let key = match field(r, "idempotency_key") {
                apache_avro::types::Value::String(s) => s.clone(),
                other => panic!("{other:?}"),
            };
            let seq = match field(r, "sequence") {
                apache_avro::types::Value::Long(n) => *n,
                other => panic!("{other:?}"),
            };
            (key, seq)
        })
        .collect();
    assert_eq!(got, opla);

    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_then_back_gets_everything_once_and_dead_letters_can_be_retried() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let mut hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_DOWN", SECRET);
    hooks.down().await;
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let stop = CancellationToken::new();
    let settings = config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_DOWN", "");
    let notifier = start_notifier(&stack, &location, settings, Tokens::default(), &stop).await;
    ingest_fixtures(&stack);
    let store = open_store(&location).await.unwrap();
    // Let attempts fail for a while.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE attempts >= 3 AND subscriber = 'orr'",
    )
    .await
        == 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed attempts recorded"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(hooks.received().is_empty());
    let failing = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL",
    )
    .await;
    assert!(failing > 0);
    hooks.up().await;
    wait_all_delivered(&stack, &store, Duration::from_secs(120)).await;
    let rows = outbox(&store).await;
    for hook in ["orr", "ero", "eoir"] {
        let keys: Vec<String> = hooks
            .notifications(hook)
            .iter()
            .map(|r| r.idempotency_key.clone().unwrap())
            .collect();
        let expected: Vec<String> = rows
            .iter()
            .filter(|r| r.0 == hook)
            .map(|r| r.1.clone())
            .collect();
        assert_eq!(
            keys, expected,
            "{hook}: everything once, in order, after the outage"
        );
    }
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }

    // Dead letters: a budget of 2 against a receiver that stays down.
    hooks.down().await;
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify-dlq.db"));
    let stop = CancellationToken::new();
    let mut settings = config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_DOWN", "");
    settings.delivery.max_attempts = 2;
    // The marks of a first start would make the fixtures history.
    let fresh = open_store(&location).await.unwrap();
    mark_all_live(&stack, &fresh).await;
    let notifier = start_notifier(&stack, &location, settings, Tokens::default(), &stop).await;
    assert!(!notifier.first_start);
    // Every webhook notification runs out of its budget; the e-mail and
    // topic ones are delivered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let webhook = "subscriber IN ('orr', 'ero', 'eoir')";
        let dead = count(
            &fresh,
            &format!("SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND {webhook}"),
        )
        .await;
        let all = count(
            &fresh,
            &format!("SELECT COUNT(*) FROM outbox WHERE {webhook}"),
        )
        .await;
        let applied = applied(&fresh).await;
        if dead > 0 && dead == all && applied > 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let again = count(
                &fresh,
                &format!("SELECT COUNT(*) FROM outbox WHERE {webhook}"),
            )
            .await;
            if again == all {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{dead} of {all} dead"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let dead_before = count(&fresh, "SELECT COUNT(*) FROM outbox WHERE state = 'dead'").await;
    let listed = std::process::Command::new(handoff_e2e::handoff_bin())
        .args(["notify", "dlq", "list", "--notify-store"])
        .arg(stack.data_dir().join("notify-dlq.db"))
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&format!("{dead_before} dead-lettered")),
        "{listed}"
    );
    assert!(
        listed.contains("Connection refused"),
        "the last error is shown: {listed}"
    );
    hooks.up().await;
    let retried = std::process::Command::new(handoff_e2e::handoff_bin())
        .args(["notify", "dlq", "retry", "--all", "--notify-store"])
        .arg(stack.data_dir().join("notify-dlq.db"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&retried.stdout).contains(&format!("{dead_before} dead-lettered"))
    );
    wait_all_delivered(&stack, &fresh, Duration::from_secs(60)).await;
    assert_eq!(
        count(
            &fresh,
            "SELECT COUNT(*) FROM outbox WHERE state <> 'delivered'"
        )
        .await,
        0
    );
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}

/// An FTA recorded now for a new child's hearing at `hearing_at`.
fn fta(a: &str, hearing_at: Timestamp) -> Event {
    let a = ANumber::parse(a).unwrap();
    let mut meta = samples::meta(&a, Agency::DojEoir, "fta", "FailedToAppear", 0);
    meta.occurred_at = Timestamp::now();
    meta.recorded_at = meta.occurred_at;
    Event::FailedToAppear(handoff_events::doj::FailedToAppear {
        meta,
        schedule_id: Some(format!("S-{}", a.as_str())),
        hearing_at,
        court: "HOU".into(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_follow_up_stops_the_escalation() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_ACK", SECRET);
    let (ice_secret, ice) = new_token("ice-ero", Agency::Ice);
    let (orr_secret, orr) = new_token("orr", Agency::HhsOrr);
    let tokens = Tokens {
        tokens: vec![ice, orr],
    };
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let stop = CancellationToken::new();
    // Escalate one day after the hearing; the hearings were a day ago
    // less 20 seconds, so the deadline falls during the test.
    let settings = config(
        &hooks,
        &smtp.url(),
        "HANDOFF_TEST_SECRET_ACK",
        "fta_follow_up_within_days = 1",
    );
    let notifier = start_notifier(&stack, &location, settings, tokens, &stop).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let app = handoff_http::app(
        handoff_notify::api::router(notifier.ack.clone()),
        handoff_notify::api::describe_webhooks,
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let hearing = Timestamp(Timestamp::now().0 - 86_400_000 + 20_000);
    let producer = handoff_bus::EventProducer::new(&stack.kafka, stack.codec()).unwrap();
    for a in ["A300000001", "A300000002"] {
        producer.publish(&fta(a, hearing), None).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let ero = loop {
        let got = hooks.notifications("ero");
        if got.len() == 2 {
            break got;
        }
        assert!(tokio::time::Instant::now() < deadline, "{got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let followed = ero
        .iter()
        .find(|r| r.body["a_number"] == "A300000001")
        .unwrap();
    let id = followed.body["id"].as_i64().unwrap();
    let http = reqwest::Client::new();
    let ack = |token: Option<&str>, id: String| {
        let mut request = http
            .post(format!("{api}/v1/notifications/{id}/ack"))
            .json(&serde_json::json!({"follow_up": true}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(ack(None, id.to_string()).await.unwrap().status(), 401);
    assert_eq!(
        ack(Some(&orr_secret), id.to_string())
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        ack(Some(&ice_secret), "999999".into())
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        ack(Some(&ice_secret), "x".into()).await.unwrap().status(),
        400
    );
    let answer: serde_json::Value = ack(Some(&ice_secret), id.to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["escalation_stopped"], true, "{answer}");
    let again: serde_json::Value = ack(Some(&ice_secret), id.to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["already_acknowledged"], true, "{again}");
    // ORR acknowledging its own notification of the other child, even
    // with a follow-up, does not stop ERO's escalation.
    let orr_copy = hooks
        .notifications("orr")
        .into_iter()
        .find(|r| r.body["a_number"] == "A300000002")
        .unwrap();
    let answer: serde_json::Value = ack(
        Some(&orr_secret),
        orr_copy.body["id"].as_i64().unwrap().to_string(),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(answer["acknowledged"], true, "{answer}");
    assert_eq!(answer["escalation_stopped"], false, "{answer}");

    // The deadline passes: only the child without a follow-up escalates.
    let store = open_store(&location).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mails = smtp.messages();
        if !mails.is_empty() {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let mails = smtp.messages();
            assert_eq!(mails.len(), 1, "{mails:?}");
            assert!(mails[0]["subject"]
                .as_str()
                .unwrap()
                .contains("fta_without_follow_up"));
            assert!(mails[0]["body"].as_str().unwrap().contains("A300000002"));
            break;
        }
        if tokio::time::Instant::now() > deadline {
            let timers = store.query("SELECT * FROM timers", vec![]).await.unwrap();
            let clock = store.query("SELECT * FROM clock", vec![]).await.unwrap();
            let rows = outbox(&store).await;
            panic!("no escalation: timers {timers:?}, clock {clock:?}, outbox {rows:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE rule = 'fta_without_follow_up'"
        )
        .await,
        1
    );
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}

/// A deadline must fire while events keep arriving: the notifier used to
/// fire timers only after a second with no record, which steady traffic
/// never gives. One FTA's follow-up deadline falls ten seconds in; other
/// children's FTAs arrive every 300 ms throughout, and the escalation
/// must reach the supervisors before that traffic stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_fires_under_steady_traffic() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_STEADY", SECRET);
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let stop = CancellationToken::new();
    let settings = config(
        &hooks,
        &smtp.url(),
        "HANDOFF_TEST_SECRET_STEADY",
        "fta_follow_up_within_days = 1",
    );
    let tokens = Tokens { tokens: vec![] };
    let notifier = start_notifier(&stack, &location, settings, tokens, &stop).await;
    let producer = handoff_bus::EventProducer::new(&stack.kafka, stack.codec()).unwrap();
    let due_soon = Timestamp(Timestamp::now().0 - 86_400_000 + 10_000);
    producer
        .publish(&fta("A310000001", due_soon), None)
        .await
        .unwrap();

    let mut last_sent = tokio::time::Instant::now();
    let mut longest_gap = Duration::ZERO;
    let deadline = last_sent + Duration::from_secs(60);
    let mut n = 0;
    let escalation = loop {
        if let Some(mail) = smtp.messages().into_iter().next() {
            break mail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no escalation after 60 s of steady traffic"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        n += 1;
        // Hearings now: these children's deadlines are a day away.
        let other = format!("A3200{n:05}");
        producer
            .publish(&fta(&other, Timestamp::now()), None)
            .await
            .unwrap();
        longest_gap = longest_gap.max(last_sent.elapsed());
        last_sent = tokio::time::Instant::now();
    };
    // The traffic never paused for the second the old rule waited for.
    assert!(longest_gap < Duration::from_secs(1), "{longest_gap:?}");
    assert!(n >= 20, "only {n} events of traffic before the deadline");
    assert!(escalation["subject"]
        .as_str()
        .unwrap()
        .contains("fta_without_follow_up"));
    assert!(escalation["body"].as_str().unwrap().contains("A310000001"));
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}

/// Time from the broker acknowledging an FTA to ERO's webhook receiving
/// its notification, for FTAs published one every 50 ms. Printed for the
/// issue note (the benchmark makes it formal); the test asserts each FTA
/// reached ERO once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fta_to_webhook_latency() {
    const FTAS: usize = 200;
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_LATENCY", SECRET);
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let stop = CancellationToken::new();
    let settings = config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_LATENCY", "");
    let notifier = start_notifier(&stack, &location, settings, Tokens::default(), &stop).await;
    let producer = handoff_bus::EventProducer::new(&stack.kafka, stack.codec()).unwrap();
    let hearing = Timestamp(Timestamp::now().0 - 3_600_000);
    let mut acked = BTreeMap::new();
    for i in 0..FTAS {
        let a = format!("A4{i:08}");
        producer.publish(&fta(&a, hearing), None).await.unwrap();
        acked.insert(a, std::time::Instant::now());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while hooks.notifications("ero").len() < FTAS {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut latencies: Vec<Duration> = hooks
        .notifications("ero")
        .iter()
        .map(|r| {
            let a = r.body["a_number"].as_str().unwrap();
            r.at.duration_since(acked[a])
        })
        .collect();
    assert_eq!(latencies.len(), FTAS, "each FTA reached ERO once");
    latencies.sort();
    println!(
        "FTA acknowledged by the broker -> ERO webhook: p50 {:?}, p99 {:?}, max {:?} ({FTAS} FTAs, one per 50 ms, debug build)",
        latencies[FTAS / 2],
        latencies[FTAS * 99 / 100],
        latencies[FTAS - 1]
    );
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}

/// A notifier started on topics that already hold a history keeps that
/// history's notifications without sending them; `--resend --dry-run`
/// lists them, `--resend` sends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_kept_not_sent_until_an_operator_resends_it() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_HISTORY", SECRET);
    ingest_fixtures(&stack);
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let stop = CancellationToken::new();
    let settings = config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_HISTORY", "");
    let text = toml::to_string(&settings).unwrap();
    let notifier = start_notifier(&stack, &location, settings, Tokens::default(), &stop).await;
    assert!(notifier.first_start);
    let store = open_store(&location).await.unwrap();
    wait_all_delivered(&stack, &store, Duration::from_secs(60)).await;
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    let kept = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE state = 'history'",
    )
    .await;
    assert!(kept > 10, "{kept} kept as history");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE state <> 'history'"
        )
        .await,
        0
    );
    assert!(hooks
        .received()
        .iter()
        .all(|r| r.body["type"] != "notification"));
    assert!(smtp.messages().is_empty());

    let config_path = stack.data_dir().join("notify.toml");
    std::fs::write(&config_path, text).unwrap();
    let notify = |extra: &[&str]| {
        let mut command = std::process::Command::new(handoff_e2e::handoff_bin());
        command
            .args(["notify", "--brokers", &stack.kafka.brokers])
            .args(["--registry-url", stack.registry_url()])
            .arg("--notify-config")
            .arg(&config_path)
            .arg("--notify-store")
            .arg(stack.data_dir().join("notify.db"))
            .args(["--http-listen", "127.0.0.1:0"])
            .args(extra)
            .env("HANDOFF_TEST_SECRET_HISTORY", SECRET);
        command
    };
    let dry = notify(&["--resend", "all", "--dry-run"]).output().unwrap();
    let dry = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(
        dry.contains(&format!(
            "{kept} notification(s) kept as history would be sent"
        )),
        "{dry}"
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM outbox WHERE state = 'history'"
        )
        .await,
        kept
    );
    let mut child = notify(&["--resend", "all"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE state = 'delivered'",
    )
    .await
        < kept
    {
        assert!(tokio::time::Instant::now() < deadline, "resend incomplete");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let webhook_rows = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE subscriber IN ('orr', 'ero', 'eoir')",
    )
    .await;
    let received = ["orr", "ero", "eoir"]
        .iter()
        .map(|h| hooks.notifications(h).len() as i64)
        .sum::<i64>();
    assert_eq!(received, webhook_rows);
    stack.stop().await;
}

/// A generated history through the real receivers: each rule reaches
/// each office it addresses once per case the generator planted
/// (`truth.json`), every webhook signed and in gap-free sequence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_history_notifies_each_planted_case_once() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    let smtp = SmtpReceiver::start(stack.data_dir());
    std::env::set_var("HANDOFF_TEST_SECRET_TRUTH", SECRET);
    let gen = handoff_gen::GenConfig {
        children: 1500,
        ..handoff_gen::GenConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let truth = handoff_gen::generate(&gen, dir.path(), |_| {}).unwrap();
    for agency in ["ice", "hhs", "doj"] {
        let out = run_ingest(&stack, agency, &dir.path().join(agency), &[]);
        assert!(out.status.success());
    }
    // The whole history at once, as live: a notifier that ran all along.
    // (Fed one agency export at a time with pauses between, a deadline can
    // fall by the event clock before a later export brings the event that
    // cancels it; the README says so.)
    let location = StoreLocation::Sqlite(stack.data_dir().join("notify.db"));
    let store = open_store(&location).await.unwrap();
    mark_all_live(&stack, &store).await;
    let stop = CancellationToken::new();
    let settings = config(&hooks, &smtp.url(), "HANDOFF_TEST_SECRET_TRUTH", "");
    let notifier = start_notifier(&stack, &location, settings, Tokens::default(), &stop).await;
    wait_all_delivered(&stack, &store, Duration::from_secs(300)).await;

    // What each office received, by rule.
    let mut received: BTreeMap<(String, String), u64> = BTreeMap::new();
    for hook in ["orr", "ero", "eoir"] {
        let got = hooks.notifications(hook);
        assert!(got.iter().all(|r| r.signature_valid));
        let sequences: Vec<i64> = got.iter().map(|r| r.sequence.unwrap()).collect();
        assert_eq!(
            sequences,
            (1..=got.len() as i64).collect::<Vec<_>>(),
            "{hook}"
        );
        for r in got {
            let rule = r.body["rule"].as_str().unwrap().to_owned();
            *received.entry((hook.to_owned(), rule)).or_default() += 1;
        }
    }
    for mail in smtp.messages() {
        let subject = mail["subject"].as_str().unwrap();
        let rule = subject.split_whitespace().nth(1).unwrap().to_owned();
        *received.entry(("ero-sup".to_owned(), rule)).or_default() += 1;
    }
    let opla = count(
        &store,
        "SELECT COUNT(*) FROM outbox WHERE subscriber = 'opla'",
    )
    .await;
    for record in topic_notifications(&stack, opla as usize).await {
        let apache_avro::types::Value::String(rule) = field(&record, "rule") else {
            panic!("rule is a string");
        };
        *received
            .entry(("opla".to_owned(), rule.clone()))
            .or_default() += 1;
    }

    let f = &truth.facts;
    let changes = |agency: &str| f.address_changes.get(agency).copied().unwrap_or(0);
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut expect = |offices: &[&str], rule: &str, n: u64| {
        assert!(n > 0, "the history plants {rule}");
        for office in offices {
            *expected
                .entry(((*office).to_owned(), rule.to_owned()))
                .or_default() += n;
        }
    };
    expect(&["orr", "ero", "opla"], "failed_to_appear", f.fta_events);
    expect(
        &["eoir"],
        "address_changed",
        changes("ICE") + changes("HHS_ORR"),
    );
    expect(&["orr"], "address_changed", changes("ICE"));
    expect(&["ero"], "address_changed", changes("HHS_ORR"));
    // Every planted bad address is a release address, reported by ORR.
    expect(
        &["orr"],
        "bad_address",
        f.bad_release_addresses.values().sum(),
    );
    // Once per child, however long overdue.
    expect(
        &["ero"],
        "nta_not_served",
        f.released_without_served_nta_over_60_days,
    );
    expect(
        &["eoir", "opla"],
        "hearing_without_outcome",
        f.hearings_without_outcome,
    );
    expect(&["orr", "ero-sup"], "safety_concern", f.safety_concerns);
    expect(
        &["ero-sup"],
        "fta_without_follow_up",
        f.ftas_without_follow_up,
    );
    assert_eq!(received, expected);
    stop.cancel();
    for task in notifier.tasks {
        task.await.unwrap();
    }
    stack.stop().await;
}
