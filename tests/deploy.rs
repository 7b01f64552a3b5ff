//! The production deployment as far as this machine allows: the check CI
//! runs on docker-compose.yml and deploy/ (and that it catches what it
//! claims to), and every service started the way the compose file starts
//! it, from a config file and the environment, against the local broker.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use handoff_e2e::{get_text, handoff_bin, python, repo_root, ServiceProcess, Stack};
use handoff_events::topics;

fn check_deploy(root: &Path) -> Output {
    Command::new(python())
        .arg(repo_root().join("scripts/check_deploy.py"))
        .arg("--root")
        .arg(root)
        .arg("--handoff")
        .arg(handoff_bin())
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn the_deployment_files_match_the_code_and_a_drifted_copy_is_caught() {
    let ok = check_deploy(&repo_root());
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // It looked at the real thing: every handoff service of compose and k8s.
    let commands = out
        .lines()
        .find(|l| l.starts_with("commands"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(commands >= 14, "{out}");

    let copy = tempfile::tempdir().unwrap();
    let root = copy.path();
    std::fs::copy(
        repo_root().join("docker-compose.yml"),
        root.join("docker-compose.yml"),
    )
    .unwrap();
    copy_tree(&repo_root().join("deploy"), &root.join("deploy"));
    edit(
        &root.join("docker-compose.yml"),
        "\"--http-listen\", \"0.0.0.0:8083\"",
        "\"--http-listn\", \"0.0.0.0:8083\"",
    );
    edit(
        &root.join("deploy/compose/kafka/acls.sh"),
        "allow handoff-audit Read topic handoff.audit.v1\n",
        "",
    );
    edit(
        &root.join("deploy/k8s/users.yaml"),
        "name: handoff.hhs.v1, patternType: literal }\n        operations: [Write]",
        "name: handoff.ice.v1, patternType: literal }\n        operations: [Write]",
    );
    edit(
        &root.join("deploy/k8s/topics.yaml"),
        "partitions: 12",
        "partitions: 6",
    );
    edit(
        &root.join("deploy/k8s/handoff.yaml"),
        "[\"ingest\", \"doj\"",
        "[\"ingest\", \"eoir\"",
    );
    let drifted = check_deploy(root);
    let err = String::from_utf8_lossy(&drifted.stderr);
    assert!(!drifted.status.success(), "{err}");
    for expected in [
        "service notify: `handoff notify` has no flag --http-listn",
        "acls.sh: missing ACL: handoff-audit may Read topic handoff.audit.v1",
        "users.yaml: missing ACL: hhs may Write topic handoff.hhs.v1",
        "users.yaml: ACL the code does not expect: hhs may Write topic handoff.ice.v1",
        "KafkaTopic handoff.ice.v1: partitions is 6, Handoff creates 12",
        "Deployment ingest-doj: `handoff ingest eoir --watch",
    ] {
        assert!(err.contains(expected), "`{expected}` not in:\n{err}");
    }
    // The misspelt flag is caught twice: by --help and by the parser.
    assert!(err.contains("7 problem(s)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_service_starts_from_the_config_file_and_environment_and_answers_its_probes() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The compose file's shape: the cluster in the shared file's [kafka]
    // table, each service's own settings in HANDOFF_KAFKA__* variables.
    let config = dir.path().join("handoff.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\n\"bootstrap.servers\" = \"{}\"\n",
            stack.kafka.brokers
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let env = |client: &'static str| {
        vec![
            ("HANDOFF_CONFIG", config.to_owned()),
            ("HANDOFF_KAFKA__SECURITY_PROTOCOL", "plaintext".to_owned()),
            ("HANDOFF_KAFKA__CLIENT_ID", client.to_owned()),
        ]
    };
    let start = |args: &[&str], env: Vec<(&'static str, String)>, line: &str| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServiceProcess::start(args, &env, line)
    };

    // Two registry instances on the one `_schemas` log, as a deployment
    // runs them: the adapter uses one, the consumers the other, so the
    // consumers' registry can be stopped and started again on its port.
    let registry_for = |port: u16, client| {
        let listen = format!("127.0.0.1:{port}");
        start(&["registry", "--listen", &listen], env(client), "registry")
    };
    let ingest_registry = registry_for(0, "handoff-registry");
    let consumers_port = free_port();
    let mut registry = registry_for(consumers_port, "handoff-registry");
    for r in [&ingest_registry, &registry] {
        let body = r.wait_ok("/readyz", Duration::from_secs(30)).await;
        assert_eq!(body["log"], "ok");
    }
    let with_registry = |client, url: &str| {
        let mut e = env(client);
        e.push(("HANDOFF_REGISTRY_URL", url.to_owned()));
        e
    };
    let consumers_registry = registry.url.clone();

    let d = dir.path();
    let views_db = d.join("views.db");
    let notify_db = d.join("notify.db");
    let drop_dir = d.join("drop");
    std::fs::create_dir(&drop_dir).unwrap();
    let ledger = d.join("ledger.db");
    let notify_config = d.join("notify.toml");
    std::fs::write(
        &notify_config,
        "[[subscriber]]\nid = \"orr\"\nagency = \"HHS_ORR\"\noffice = \"ORR\"\nroles = [\"orr\"]\nchannel = \"topic\"\n",
    )
    .unwrap();
    let views = start(
        &[
            "views",
            "--store",
            views_db.to_str().unwrap(),
            "--http-listen",
            "127.0.0.1:0",
        ],
        with_registry("handoff-views", &consumers_registry),
        "http",
    );
    let notify = start(
        &[
            "notify",
            "--notify-store",
            notify_db.to_str().unwrap(),
            "--notify-config",
            notify_config.to_str().unwrap(),
            "--http-listen",
            "127.0.0.1:0",
        ],
        with_registry("handoff-notify", &consumers_registry),
        "http",
    );
    let ingest = start(
        &[
            "ingest",
            "hhs",
            "--watch",
            drop_dir.to_str().unwrap(),
            "--ledger",
            ledger.to_str().unwrap(),
            "--http-listen",
            "127.0.0.1:0",
        ],
        with_registry("hhs", &ingest_registry.url),
        "http",
    );
    for service in [&registry, &ingest_registry, &views, &notify, &ingest] {
        let alive = service.wait_ok("/healthz", Duration::from_secs(10)).await;
        assert_eq!(alive["status"], "ok", "{}", service.name);
    }
    for service in [&views, &notify, &ingest] {
        let ready = service.wait_ok("/readyz", Duration::from_secs(30)).await;
        assert_eq!(ready["broker"], "ok", "{}: {ready}", service.name);
        assert_eq!(ready["registry"], "ok", "{}: {ready}", service.name);
    }

    // With their registry gone the consumers are unready, not dead.
    drop(registry);
    for service in [&views, &notify] {
        let body = service
            .wait_status("/readyz", 503, Duration::from_secs(20))
            .await;
        // A problem, as every error answer is, naming the part not ready.
        assert_eq!(body["type"], "urn:handoff:problem:unavailable", "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("registry: registry unreachable"),
            "{}: {body}",
            service.name
        );
        let alive = service.wait_ok("/healthz", Duration::from_secs(5)).await;
        assert_eq!(alive["status"], "ok");
    }

    // The adapter publishes through the same settings meanwhile.
    std::fs::copy(
        repo_root().join("tests/fixtures/hhs/uc_path.jsonl"),
        drop_dir.join("uc_path.jsonl"),
    )
    .unwrap();
    let summary = drop_dir.join("done/uc_path.jsonl.summary.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !summary.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the drop folder's file was not published within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let published = summary["files"]["uc_path.jsonl"]["events_published"]
        .as_u64()
        .unwrap_or(0);
    assert!(published > 0, "{summary}");

    // The views cannot decode the new events yet: they wait for the
    // registry instead of setting the events aside as undecodable.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(applied(&views.url).await, 0);
    registry = registry_for(consumers_port, "handoff-registry");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while applied(&views.url).await < published {
        assert!(
            std::time::Instant::now() < deadline,
            "the views applied {} of {published} events after the registry came back",
            applied(&views.url).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(applied(&views.url).await, published);
    let dead_letters = handoff_bus::watermarks::topic_ends(&stack.kafka, &[topics::DLQ])
        .unwrap()
        .values()
        .sum::<i64>();
    assert_eq!(dead_letters, 0, "nothing was dead-lettered");
    for service in [&views, &notify] {
        let ready = service.wait_ok("/readyz", Duration::from_secs(30)).await;
        assert_eq!(ready["registry"], "ok", "{}", service.name);
    }
    drop((views, notify, ingest, registry, ingest_registry));
    stack.stop().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Events the views have applied, from their /metrics.
async fn applied(base: &str) -> u64 {
    get_text(&format!("{base}/metrics"))
        .await
        .lines()
        .filter(|l| l.starts_with("handoff_views_events_applied_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}
