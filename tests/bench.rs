//! `handoff bench --quick`, CI's smoke run: it runs every part on a small
//! history against a real broker, registry, PostgreSQL and Python peers,
//! and writes BENCHMARKS-style markdown with each figure beside what it is
//! measured against. The numbers themselves are never asserted (tests time
//! nothing); that they exist and are positive is.

use handoff_e2e::{handoff_bin, python, repo_root};
use handoff_events::EVENT_TYPES;

#[test]
fn the_quick_bench_runs_and_writes_every_figure_beside_its_peer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    quick_bench(&out, &["--postgres", &handoff_e2e::stores::server()]);
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(md.contains("| cores | "), "{md}");
    assert!(
        md.contains("handoff bench --quick"),
        "the command to reproduce: {md}"
    );
    for name in EVENT_TYPES {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no codec row for {name}: {md}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // name, encode/s, fastavro, ratio, decode/s, fastavro, ratio
        for rate in [cells[2], cells[3], cells[5], cells[6]] {
            let n: f64 = rate.parse().unwrap_or_else(|_| panic!("{row}"));
            assert!(n > 0.0 && n.is_finite(), "{row}");
        }
    }
    assert!(md.contains("Geometric mean"), "{md}");

    // Ingest: a row per adapter, its rate beside the raw producer's.
    for adapter in ["ice", "hhs", "doj"] {
        let cells = row(&md, &format!("| {adapter} |"));
        positive(&cells[2..=5], &md);
    }
    // Replay into both stores beside the raw consumer and the peer, and
    // the peer counted what Handoff's reports count.
    for store in ["SQLite", "PostgreSQL"] {
        // (The machine table has a PostgreSQL row too: take the replay's.)
        let cells: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with(&format!("| {store} |")))
            .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
            .find(|cells| cells.len() > 7)
            .unwrap_or_else(|| panic!("no replay row for {store}: {md}"));
        positive(&[cells[2], cells[3], cells[4], cells[6]], &md);
    }
    assert!(md.contains("say") && md.contains("(the same)"), "{md}");
    // Latency at each rate: every FTA delivered, percentiles in order.
    for rate in ["100", "1000", "2000"] {
        let cells = row(&md, &format!("| {rate} |"));
        assert_eq!(cells[4], cells[5], "every FTA reached ORR: {md}");
        positive(&cells[6..=8], &md);
        let p: Vec<f64> = cells[6..=8].iter().map(|c| c.parse().unwrap()).collect();
        assert!(p[0] <= p[1] && p[1] <= p[2], "p50 <= p99 <= max: {md}");
    }
    // Memory (the broker's too) and the scale curve for the quick size.
    let cells = row(&md, "| 200 | ");
    positive(&cells[2..=8], &md);
    assert!(md.contains("The three adapters together: "), "{md}");
    assert!(md.contains("## Scale curve"), "{md}");
    assert!(md.contains("## Where the time goes"), "{md}");
    // The console's pages, each with p50 <= p99 <= max, the worklists and
    // a child's page judged against the target.
    assert!(
        md.contains("## Console: server time per page (200 children"),
        "{md}"
    );
    for page in [
        "`/worklists/ice-missed-hearings` | ICE",
        "`/children/{handle}` | HHS_ORR",
        "`/dashboard?as_of=2024-09-30` | ICE",
    ] {
        let cells = row(&md, &format!("| {page} |"));
        positive(&cells[4..=6], &md);
        let p: Vec<f64> = cells[4..=6].iter().map(|c| c.parse().unwrap()).collect();
        assert!(p[0] <= p[1] && p[1] <= p[2], "p50 <= p99 <= max: {md}");
    }
    let verdict = row(&md, "| `/worklists/eoir-address-differs` | DOJ_EOIR |")[7];
    assert!(["met", "missed"].contains(&verdict), "{md}");
    // The broker's engines on the same records: both ways, with the
    // broker's peak, and the one to the other.
    assert!(
        md.contains("## Broker: the log engine against the SQLite engine (200 children"),
        "{md}"
    );
    for engine in ["SQLite engine", "log engine"] {
        positive(&row(&md, &format!("| {engine} |"))[2..=6], &md);
    }
    assert!(
        md.contains("The log engine to the SQLite engine: produce "),
        "{md}"
    );

    // The same figures as JSON beside it; measuring one part again keeps
    // the others from it, and each part says which run it comes from.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("BENCHMARKS.json")).unwrap())
            .unwrap();
    assert_eq!(json["scale"]["figures"][0]["children"], 200, "{json}");
    let latency_before = row(&md, "| 1000 |").join("|");
    quick_bench(&out, &["--only", "codec"]);
    let merged = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        row(&merged, "| 1000 |").join("|"),
        latency_before,
        "the latency figures are kept: {merged}"
    );
    assert!(
        row(&merged, "| codec |")[4].contains("--only codec"),
        "the codec part names its own run: {merged}"
    );
    assert!(
        !row(&merged, "| latency |")[4].contains("--only"),
        "the latency part names the first run: {merged}"
    );
    row(&merged, "| 200 | ");
}

/// `handoff bench --quick --out OUT` with the test venv's peers and
/// `extra`; it must succeed.
fn quick_bench(out: &std::path::Path, extra: &[&str]) {
    let run = std::process::Command::new(handoff_bin())
        .args(["bench", "--quick", "--out"])
        .arg(out)
        .arg("--python")
        .arg(python())
        .arg("--peers")
        .arg(repo_root().join("crates/bench/peers"))
        .args(extra)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// The cells of the first line starting with `start`.
fn row<'a>(md: &'a str, start: &str) -> Vec<&'a str> {
    md.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no row {start}: {md}"))
        .split('|')
        .map(str::trim)
        .collect()
}

/// Each cell is a finite number above zero (ratios end in `x`).
fn positive(cells: &[&str], md: &str) {
    for cell in cells {
        let n: f64 = cell
            .trim_end_matches('x')
            .parse()
            .unwrap_or_else(|_| panic!("{cell:?} is not a number: {md}"));
        assert!(n > 0.0 && n.is_finite(), "{cell}: {md}");
    }
}
