//! The notifier killed with SIGKILL during delivery, several times, and
//! restarted each time, while a generated history is ingested: no
//! notification is lost, and a notification sent twice (sent, then killed
//! before it was marked delivered) carries its original idempotency key
//! and sequence number.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use handoff_e2e::receivers::WebhookReceiver;
use handoff_e2e::views::agency_topic_ends;
use handoff_e2e::{handoff_bin, ingest_in_background, Stack};
use handoff_notify::projection::open_store;
use handoff_store::StoreLocation;
use rand::{Rng, SeedableRng};

const CHILDREN: u64 = 600;
const KILLS: usize = 3;
const SECRET: &str = "crash-test-secret";

struct Notifier(Option<Child>);

impl Drop for Notifier {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(stack: &Stack, config: &Path, store: &Path, log: &Path) -> Child {
    Command::new(handoff_bin())
        .args(["notify", "--brokers", &stack.kafka.brokers])
        .args(["--registry-url", stack.registry_url()])
        .arg("--notify-config")
        .arg(config)
        .arg("--notify-store")
        .arg(store)
        .args(["--http-listen", "127.0.0.1:0"])
        .env("HANDOFF_TEST_SECRET_CRASH", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("handoff notify starts")
}

fn config(hooks: &WebhookReceiver) -> String {
    let mut text = String::from(
        "[delivery]\nbackoff_initial_ms = 100\nbackoff_max_ms = 1000\nheartbeat_seconds = 0\n",
    );
    for (id, agency, roles) in [
        ("orr", "HHS_ORR", "\"orr\""),
        ("ero", "ICE", "\"ero_field_office\""),
        (
            "ero-sup",
            "ICE",
            "\"ero_supervisor\", \"field_office_director\"",
        ),
        ("opla", "ICE", "\"opla\""),
        ("eoir", "DOJ_EOIR", "\"eoir\""),
    ] {
        text.push_str(&format!(
            "[[subscriber]]\nid = \"{id}\"\nagency = \"{agency}\"\noffice = \"{id}\"\nroles = [{roles}]\nchannel = {{ webhook = {{ url = \"{}\", secret_env = \"HANDOFF_TEST_SECRET_CRASH\" }} }}\n",
            hooks.url(id)
        ));
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_notifier_loses_nothing_and_resends_with_the_original_key() {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let hooks = WebhookReceiver::start(SECRET).await;
    // A slow receiver, so that kills fall between sending and marking.
    hooks.set_delay(Duration::from_millis(20));
    let dir = stack.data_dir().to_owned();
    let config_path = dir.join("notify.toml");
    std::fs::write(&config_path, config(&hooks)).unwrap();
    let store_path = dir.join("notify.db");
    let gen = tempfile::tempdir().unwrap();
    handoff_gen::generate(
        &handoff_gen::GenConfig {
            children: CHILDREN,
            ..handoff_gen::GenConfig::default()
        },
        gen.path(),
        |_| {},
    )
    .unwrap();

    let mut logs = 0;
    let mut next_log = || {
        logs += 1;
        dir.join(format!("notify-{logs}.log"))
    };
    let mut notifier = Notifier(Some(start(&stack, &config_path, &store_path, &next_log())));
    // The store exists once the notifier marked its (empty) history.
    let location = StoreLocation::Sqlite(store_path.clone());
    let store = loop {
        if store_path.exists() {
            if let Ok(s) = open_store(&location).await {
                if !s
                    .query("SELECT 1 FROM clock WHERE name = 'first_start'", vec![])
                    .await
                    .unwrap()
                    .is_empty()
                {
                    break s;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let ingest = ingest_in_background(&stack, gen.path());

    let seed: u64 = rand::rng().random();
    println!("kill points seeded with {seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut at_kills = Vec::new();
    for _ in 0..KILLS {
        let before = hooks.received().len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while hooks.received().len() == before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no delivery in 120 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..1500))).await;
        let mut child = notifier.0.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        at_kills.push(hooks.received().len());
        notifier.0 = Some(start(&stack, &config_path, &store_path, &next_log()));
    }
    ingest.join().unwrap();
    println!("received at each kill: {at_kills:?}");

    // Everything applied and delivered.
    let kafka = stack.kafka.clone();
    let total: i64 = tokio::task::spawn_blocking(move || agency_topic_ends(&kafka))
        .await
        .unwrap()
        .values()
        .sum();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let rows = store
            .query(
                "SELECT (SELECT CAST(COALESCE(SUM(next), 0) AS BIGINT) FROM sink_offsets), (SELECT COUNT(*) FROM outbox WHERE state <> 'delivered')",
                vec![],
            )
            .await
            .unwrap();
        let (applied, undelivered) = (rows[0][0].as_i64().unwrap(), rows[0][1].as_i64().unwrap());
        if applied >= total && undelivered == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "applied {applied} of {total}, {undelivered} not delivered"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    drop(notifier);

    let outbox: BTreeMap<String, (String, i64)> = store
        .query(
            "SELECT idempotency_key, subscriber, seq FROM outbox",
            vec![],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                (r[1].as_str().unwrap().to_owned(), r[2].as_i64().unwrap()),
            )
        })
        .collect();
    assert!(outbox.len() > 100, "{} notifications", outbox.len());
    let received: Vec<_> = hooks
        .received()
        .into_iter()
        .filter(|r| r.body["type"] == "notification")
        .collect();
    let mut seen = BTreeSet::new();
    let mut resent = 0;
    for r in &received {
        assert!(r.signature_valid);
        let key = r.idempotency_key.clone().unwrap();
        let (subscriber, seq) = outbox
            .get(&key)
            .unwrap_or_else(|| panic!("{key} was sent but is not in the outbox"));
        assert_eq!(&r.hook, subscriber);
        assert_eq!(r.sequence, Some(*seq), "a resend keeps its sequence number");
        if !seen.insert(key) {
            resent += 1;
        }
    }
    let missing: Vec<&String> = outbox.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(missing.is_empty(), "never received: {missing:?}");
    println!(
        "{} notifications, {} requests received, {resent} resent after a kill",
        outbox.len(),
        received.len()
    );
    stack.stop().await;
}
