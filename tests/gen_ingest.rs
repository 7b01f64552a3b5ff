//! The generator and the adapters agree: a generated history ingested
//! through the real binary, broker and registry gives, file for file, the
//! account the truth file predicts (published + duplicates + no event +
//! rejects = records; rejects by reason = planted faults; events).

use std::path::Path;

use handoff_adapters::Summary;
use handoff_e2e::{run_ingest, Stack};
use handoff_gen::{EoirLayout, GenConfig, Truth};

fn ingest(stack: &Stack, agency: &str, folder: &Path) -> Summary {
    let summary = stack.data_dir().join(format!("{agency}.json"));
    let out = run_ingest(
        stack,
        agency,
        folder,
        &["--summary-json", summary.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "ingest {agency} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(summary).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_history_ingests_to_exactly_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let config = GenConfig {
        children: 1500,
        ..GenConfig::default()
    };
    let truth: Truth = handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    // The planted faults are there at this size, each kind at least once.
    let f = &truth.faults;
    assert!(
        f.duplicate_rows > 0 && f.b6_markers > 0 && f.a_numbers_with_separators > 0,
        "{f:?}"
    );

    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let mut all = Summary::default();
    for agency in ["ice", "hhs", "doj"] {
        all.merge(&ingest(&stack, agency, &dir.path().join(agency)));
    }
    assert!(all.adds_up());
    for (file, expected) in &truth.files {
        assert_eq!(
            all.files.get(file),
            Some(expected),
            "{file}: ingest's account differs from truth.json"
        );
    }
    assert_eq!(all.files.len(), truth.files.len());
    stack.stop().await;
}

/// EOIR's feed as related tables: the A-number only on the case table (or
/// in the crosswalk), rows of a case that never arrives, and cases with no
/// A-number anywhere. The account, pending links included, is the truth's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_related_eoir_export_ingests_to_exactly_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = GenConfig {
        children: 3000,
        eoir_layout: EoirLayout::Related,
        ..GenConfig::default()
    };
    config.faults.eoir_case_without_a_number = 0.002;
    config.faults.eoir_orphan_row = 0.002;
    let truth: Truth = handoff_gen::generate(&config, dir.path(), |_| {}).unwrap();
    let f = &truth.faults;
    assert!(
        f.eoir_crosswalk_cases > 0 && f.eoir_orphan_rows > 0 && f.eoir_rows_without_a_number > 0,
        "{f:?}"
    );
    // Only the layout differs: the history is the per-table layout's.
    let per_table = handoff_gen::generate(
        &GenConfig {
            eoir_layout: EoirLayout::PerTable,
            ..config.clone()
        },
        tempfile::tempdir().unwrap().path(),
        |_| {},
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&truth.facts).unwrap(),
        serde_json::to_value(&per_table.facts).unwrap()
    );
    let schedule_header = std::fs::read_to_string(dir.path().join("doj/tbl_schedule.csv")).unwrap();
    assert!(!schedule_header
        .lines()
        .next()
        .unwrap()
        .contains("ALIEN_NBR"));

    let stack = Stack::start().await;
    stack.codec().register_catalogue().await.unwrap();
    let doj = ingest(&stack, "doj", &dir.path().join("doj"));
    assert!(doj.adds_up());
    for (file, expected) in truth.files.iter().filter(|(_, s)| {
        // The DOJ files: the per-agency folders hold the others.
        s.records > 0
    }) {
        if !dir.path().join("doj").join(file).exists() {
            continue;
        }
        assert_eq!(
            doj.files.get(file),
            Some(expected),
            "{file}: ingest's account differs from truth.json"
        );
    }
    assert_eq!(
        doj.total().pending_link,
        truth.faults.eoir_orphan_rows,
        "every row of a case that never arrives waits"
    );
    stack.stop().await;
}

#[test]
fn the_same_seed_writes_the_same_files() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config = GenConfig {
        children: 300,
        ..GenConfig::default()
    };
    handoff_gen::generate(&config, a.path(), |_| {}).unwrap();
    handoff_gen::generate(&config, b.path(), |_| {}).unwrap();
    for file in [
        "ice/encounters.csv",
        "ice/case_actions.csv",
        "hhs/uc_path.jsonl",
        "doj/A_TblCase.csv",
        "doj/tbl_schedule.csv",
        "truth.json",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(file)).unwrap(),
            std::fs::read(b.path().join(file)).unwrap(),
            "{file}"
        );
    }
    let other = GenConfig { seed: 7, ..config };
    let c = tempfile::tempdir().unwrap();
    handoff_gen::generate(&other, c.path(), |_| {}).unwrap();
    assert_ne!(
        std::fs::read(a.path().join("ice/encounters.csv")).unwrap(),
        std::fs::read(c.path().join("ice/encounters.csv")).unwrap()
    );
}
