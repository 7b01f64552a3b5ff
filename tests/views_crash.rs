//! Effectively-once views: `handoff views` is killed with SIGKILL at
//! random points, several times, while a 10,000-child history is being
//! ingested, and restarted each time. Its tables must end equal, by a
//! content checksum, to those of an uninterrupted run over the same
//! topics. On PostgreSQL two instances share the store in one consumer
//! group (one of them killed each round), which also shows several
//! instances together build the same views as one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use handoff_e2e::stores::TestStore;
use handoff_e2e::views::{agency_topic_ends, applied, wait_caught_up, TestViews};
use handoff_e2e::{both_stores, handoff_bin, ingest_in_background, run_ingest, Stack};
use handoff_views::checksum::content_checksum;
use handoff_views::schema::open_store;
use rand::{Rng, SeedableRng};

const CHILDREN: u64 = 10_000;
const KILLS: usize = 4;

/// The `handoff views` processes of a test, killed however the test ends
/// (a failed assertion must not leave them running). Each process logs to
/// its own file; when the test fails, the end of every log is printed, so
/// a stall can be told from a crash.
struct Instances {
    running: Vec<Child>,
    logs: Vec<PathBuf>,
    /// Further arguments for every instance.
    extra: Vec<String>,
}

impl Instances {
    fn start(&mut self, stack: &Stack, store: &TestStore) -> Child {
        // On PostgreSQL the instances share the partitions through a group.
        let scale_out: &[&str] = match store {
            TestStore::Sqlite(_) => &[],
            TestStore::Postgres { .. } => &["--scale-out"],
        };
        let log = stack
            .data_dir()
            .join(format!("views-{}.log", self.logs.len()));
        let file = std::fs::File::create(&log).expect("log file");
        self.logs.push(log);
        Command::new(handoff_bin())
            .args(["views", "--brokers", &stack.kafka.brokers])
            .args(["--registry-url", stack.registry_url()])
            .args(["--store", &store.arg()])
            .args(["--group", "crash", "--http-listen", "127.0.0.1:0"])
            .args(scale_out)
            .args(&self.extra)
            .env("RUST_LOG", "info,handoff_bus=debug")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("handoff views starts")
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.running {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            // Kept past the test's temporary directory, for a post-mortem.
            let keep = std::env::temp_dir().join(format!("views-crash-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&keep);
            for log in &self.logs {
                if let Some(name) = log.file_name() {
                    let _ = std::fs::copy(log, keep.join(name));
                }
                let text = std::fs::read_to_string(log).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(40)..];
                println!(
                    "--- last lines of {} (kept in {}):\n{}",
                    log.display(),
                    keep.display(),
                    tail.join("\n")
                );
            }
        }
    }
}

both_stores!(killed_views_end_equal_to_an_uninterrupted_run, crash_story);

async fn crash_story(store: TestStore) {
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = handoff_gen::GenConfig {
        children: CHILDREN,
        ..handoff_gen::GenConfig::default()
    };
    handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();

    // The ingest runs on its own thread while the views are killed.
    let ingest = ingest_in_background(&stack, dir.path());

    let instances = match store {
        TestStore::Sqlite(_) => 1,
        TestStore::Postgres { .. } => 2,
    };
    let seed: u64 = rand::rng().random();
    println!("kill points seeded with {seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut running = Instances {
        running: Vec::new(),
        logs: Vec::new(),
        extra: Vec::new(),
    };
    for _ in 0..instances {
        let child = running.start(&stack, &store);
        running.running.push(child);
    }
    let reader = loop {
        // The first instance creates the tables.
        if let Ok(s) = open_store(&store.location()).await {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // Each kill falls at a random moment after the running instances
    // applied something new, so every kill interrupts real work.
    let mut progress_at_kills = Vec::new();
    'kills: for _ in 0..KILLS {
        let before = applied(&reader).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while applied(&reader).await == before {
            // Nothing left to apply: the views caught up with a finished
            // ingest, so a further kill would interrupt no work.
            if ingest.is_finished() && before == log_end(&stack).await {
                break 'kills;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the views made no progress in 120 s after a restart (at {before})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..8000))).await;
        let victim = rng.random_range(0..running.running.len());
        running.running[victim].kill().unwrap(); // SIGKILL: no clean shutdown
        running.running[victim].wait().unwrap();
        progress_at_kills.push(applied(&reader).await);
        running.running[victim] = running.start(&stack, &store);
    }
    ingest.join().unwrap();
    let total = log_end(&stack).await;
    println!("applied at each kill: {progress_at_kills:?} of {total}");
    assert!(
        progress_at_kills
            .iter()
            .filter(|n| **n > 0 && **n < total)
            .count()
            >= 2,
        "at least two kills fell mid-way: {progress_at_kills:?} of {total}"
    );
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(600)).await;
    drop(running);
    let (crashed, rows) = content_checksum(&reader).await.unwrap();

    // The same topics, read once without interruption, into a fresh store.
    let reference = match store {
        TestStore::Sqlite(_) => TestStore::sqlite(),
        TestStore::Postgres { .. } => TestStore::postgres(),
    };
    let views = TestViews::start(&stack, &reference, "reference").await;
    wait_caught_up(
        &stack.kafka,
        &reference.location(),
        Duration::from_secs(600),
    )
    .await;
    let (uninterrupted, reference_rows) = content_checksum(&views.running.api.store).await.unwrap();
    views.stop().await;
    assert!(rows > CHILDREN, "{rows} rows");
    assert_eq!(rows, reference_rows);
    assert_eq!(
        crashed, uninterrupted,
        "the crashed run's tables differ from the uninterrupted run's"
    );
    stack.stop().await;
}

/// Records in the agency topics: what the views apply when caught up.
async fn log_end(stack: &Stack) -> i64 {
    let kafka = stack.kafka.clone();
    tokio::task::spawn_blocking(move || agency_topic_ends(&kafka))
        .await
        .unwrap()
        .values()
        .sum()
}

/// Scale-out on PostgreSQL: the member holding every partition of the
/// group is killed, and a new member started in its place must be given
/// them and catch up on what was published meanwhile, within the bound a
/// dead member costs: its session timeout (10 s), the coordinator's first
/// join delay (3 s) and the catch-up itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_member_takes_over_from_a_killed_member_that_held_every_partition() {
    takeover(&[]).await;
}

/// The same with static membership: the restarted instance comes back
/// under the dead one's `group.instance.id`, which a coordinator that
/// honours it lets take the partitions back without waiting out the
/// dead member's session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_member_restarted_under_its_id_takes_its_partitions_back() {
    takeover(&["-X", "group.instance.id=views-crash-1"]).await;
}

async fn takeover(extra: &[&str]) {
    const BOUND: Duration = Duration::from_secs(45);
    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let store = TestStore::postgres();
    let dir = tempfile::tempdir().unwrap();
    let config = handoff_gen::GenConfig {
        children: 300,
        ..handoff_gen::GenConfig::default()
    };
    handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    for agency in ["ice", "hhs"] {
        let out = run_ingest(&stack, agency, &dir.path().join(agency), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut running = Instances {
        running: Vec::new(),
        logs: Vec::new(),
        extra: extra.iter().map(|a| (*a).to_owned()).collect(),
    };
    // Alone in the group, the first member holds all nine partitions; it
    // has read every one of the six with records when it is caught up.
    let first = running.start(&stack, &store);
    running.running.push(first);
    wait_caught_up(&stack.kafka, &store.location(), Duration::from_secs(120)).await;
    running.running[0].kill().unwrap(); // SIGKILL: it never leaves the group
    running.running[0].wait().unwrap();
    let started = tokio::time::Instant::now();
    running.running[0] = running.start(&stack, &store);
    let out = run_ingest(&stack, "doj", &dir.path().join("doj"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_caught_up(&stack.kafka, &store.location(), BOUND).await;
    println!(
        "{extra:?}: the new member held the dead member's partitions and caught up {:?} after it started",
        started.elapsed()
    );
    drop(running);
    stack.stop().await;
}
