//! `handoff bench --quick`, CI's smoke run: it runs, writes BENCHMARKS-style
//! markdown with the machine and a figure per event type beside its Python
//! peer's. The numbers themselves are never asserted (tests time nothing).

use handoff_e2e::{handoff_bin, python, repo_root};
use handoff_events::EVENT_TYPES;

#[test]
fn the_quick_bench_runs_and_writes_every_figure_beside_its_peer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("BENCHMARKS.md");
    let run = std::process::Command::new(handoff_bin())
        .args(["bench", "--quick", "--out"])
        .arg(&out)
        .arg("--python")
        .arg(python())
        .arg("--peers")
        .arg(repo_root().join("crates/bench/peers"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
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
}
