//! Kafka settings the way a deployment gives them: a config file's
//! `[kafka]` table (mounted from a ConfigMap or a compose volume) and
//! `HANDOFF_KAFKA__*` environment variables (from a Secret), with `-X`
//! over both. Here that path reaches the local broker.

use std::path::Path;
use std::process::{Command, Output};

use handoff_e2e::{handoff_bin, Stack};
use handoff_events::topics;

fn topics_command(config: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    Command::new(handoff_bin())
        .args(["topics", "--config"])
        .arg(config)
        .args(extra)
        .env_remove("HANDOFF_BROKERS")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_settings_come_from_the_config_file_then_the_environment_then_x() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("handoff.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\n\"bootstrap.servers\" = \"{}\"\nclient.id = \"handoff-settings-test\"\n",
            stack.kafka.brokers
        ),
    )
    .unwrap();

    // The file alone names the cluster: no --brokers.
    let ok = topics_command(
        &config,
        &[("HANDOFF_KAFKA__SOCKET_TIMEOUT_MS", "20000")],
        &[],
    );
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for topic in topics::AGENCY {
        assert!(
            out.lines()
                .any(|l| l.starts_with(topic) && l.ends_with("exists")),
            "{topic} not reached: {out}"
        );
    }

    // The environment is read: a value librdkafka refuses names its key.
    let env = [("HANDOFF_KAFKA__SECURITY_PROTOCOL", "carrier-pigeon")];
    let refused = topics_command(&config, &env, &[]);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{err}");
    assert!(
        err.contains("security.protocol") && err.contains("carrier-pigeon"),
        "{err}"
    );

    // -X overrides the environment.
    let fixed = topics_command(&config, &env, &["-X", "security.protocol=plaintext"]);
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );

    // A misspelt table is refused with the file named, before any client.
    std::fs::write(&config, "[kafak]\n\"security.protocol\" = \"SSL\"\n").unwrap();
    let wrong = topics_command(&config, &[], &["--brokers", &stack.kafka.brokers]);
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success());
    assert!(
        err.contains(&config.display().to_string()) && err.contains("`kafak`"),
        "{err}"
    );
    stack.stop().await;
}
