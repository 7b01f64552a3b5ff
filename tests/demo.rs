//! The README's first command as a newcomer runs it: `handoff up --demo`
//! (a debug build, as `cargo run` makes). Every figure it prints beside
//! the generator's planted value must equal it, every run, and the
//! notifications it lists must be all the notifier ever makes of the
//! history: the demo prints only once the views and the notifier hold the
//! whole history and the deadlines within it have fired.

use handoff_e2e::UpProcess;

/// The words of each indented line under the line starting `heading`.
fn table<'a>(printed: &'a [String], heading: &str) -> Vec<Vec<&'a str>> {
    let start = printed
        .iter()
        .position(|l| l.starts_with(heading))
        .unwrap_or_else(|| panic!("the demo prints `{heading}`"));
    printed[start + 1..]
        .iter()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().collect())
        .collect()
}

/// The `found / planted` lines of the demo's data-quality table.
fn findings(printed: &[String]) -> Vec<(String, u64, u64)> {
    table(printed, "demo: data quality")
        .into_iter()
        .map(|words| {
            assert!(words.len() == 4 && words[2] == "/", "a finding: {words:?}");
            (
                words[0].to_owned(),
                words[1].parse().expect("found is a count"),
                words[3].parse().expect("planted is a count"),
            )
        })
        .collect()
}

/// The `rule state count` lines of the demo's notifications table.
fn notifications(printed: &[String]) -> Vec<(String, String, i64)> {
    table(printed, "demo: notifications")
        .into_iter()
        .map(|words| {
            assert_eq!(words.len(), 3, "a notification: {words:?}");
            (
                words[0].to_owned(),
                words[1].to_owned(),
                words[2].parse().expect("a count"),
            )
        })
        .collect()
}

/// The notifier's outbox as it stands after the stack stopped.
async fn outbox(data_dir: &std::path::Path) -> Vec<(String, String, i64)> {
    let db = libsql::Builder::new_local(data_dir.join("notify.db"))
        .build()
        .await
        .unwrap();
    let conn = db.connect().unwrap();
    let mut rows = conn
        .query(
            "SELECT rule, state, COUNT(*) FROM outbox GROUP BY rule, state ORDER BY rule, state",
            (),
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        out.push((
            row.get(0).unwrap(),
            row.get(1).unwrap(),
            row.get(2).unwrap(),
        ));
    }
    out
}

#[tokio::test]
async fn the_demo_prints_every_planted_finding_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let up = UpProcess::start(dir.path(), &["--demo"]);
    let printed = up.printed.clone();
    // The curl lines it ends with work as printed, with its own tokens.
    let curls: Vec<&String> = printed
        .iter()
        .filter(|l| l.trim_start().starts_with("curl "))
        .collect();
    assert_eq!(curls.len(), 3, "{}", printed.join("\n"));
    for line in curls {
        let out = std::process::Command::new("sh")
            .args(["-c", line])
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "`{line}` failed: {out:?}");
        let body: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the API answers JSON");
        assert!(body.is_object(), "{line}: {body}");
    }
    // The console's address and a token per agency that signs in there.
    let console = printed
        .iter()
        .position(|l| l.starts_with("demo: the console: open "))
        .unwrap_or_else(|| panic!("no console line: {}", printed.join("\n")));
    assert!(printed[console].contains(&format!("{}/", up.http)));
    for (i, agency) in ["ICE", "HHS_ORR", "DOJ_EOIR"].iter().enumerate() {
        let line = &printed[console + 1 + i];
        let token = line
            .strip_prefix(&format!("  {agency}"))
            .unwrap_or_else(|| panic!("{agency}'s token: {line}"))
            .trim();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let form = client
            .get(format!("{}/sign-in", up.http))
            .send()
            .await
            .unwrap();
        let cookie = form.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let page = form.text().await.unwrap();
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let signed_in = client
            .post(format!("{}/sign-in", up.http))
            .header("cookie", cookie)
            .form(&[("csrf", csrf), ("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303, "{agency}'s printed token signs in");
        assert_eq!(signed_in.headers()["location"], "/");
    }
    let stderr = up.stderr.clone();
    up.sigterm_and_wait();
    // Stopping is quiet: no client talks to the broker once it is gone.
    let errors = std::fs::read_to_string(&stderr).unwrap();
    assert!(
        !errors.contains("ERROR"),
        "errors on the terminal:\n{errors}"
    );
    // Log lines went to the data directory, not into the story.
    assert!(
        printed.iter().any(|l| l.starts_with("logs ")),
        "{printed:?}"
    );
    let log = std::fs::read_to_string(dir.path().join("handoff.log")).expect("handoff.log");
    assert!(log.contains("partitions assigned"), "{log}");
    let findings = findings(&printed);
    assert_eq!(findings.len(), 8, "{findings:?}");
    let wrong: Vec<_> = findings.iter().filter(|(_, f, p)| f != p).collect();
    assert!(
        wrong.is_empty(),
        "found / planted differ: {wrong:?}\n{}",
        printed.join("\n")
    );
    assert!(
        findings.iter().any(|(_, found, _)| *found > 0),
        "the history plants findings: {findings:?}"
    );
    // The views and the notifier printed what they made of it.
    for line in [
        "demo: the views as of",
        "demo: notifications",
        "demo: synthetic child",
    ] {
        assert!(
            printed.iter().any(|l| l.starts_with(line)),
            "no `{line}` in:\n{}",
            printed.join("\n")
        );
    }

    // What it listed is the whole outcome, deadlines included.
    let listed = notifications(&printed);
    assert_eq!(
        listed,
        outbox(dir.path()).await,
        "listed vs the final outbox"
    );
    for rule in [
        "fta_without_follow_up",
        "nta_not_served",
        "failed_to_appear",
    ] {
        assert!(
            listed.iter().any(|(r, _, n)| r == rule && *n > 0),
            "no {rule} notification listed: {listed:?}"
        );
    }
}
