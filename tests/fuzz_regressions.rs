//! The fuzz targets' kept inputs, replayed on every test run: the corpus
//! the fuzzers grew (`tests/fuzz/corpus/<target>/`) and every input that
//! once broke an invariant (`tests/fuzz/findings/<target>/`, fixed since).
//! Each must read with no panic, every record line accounted for, and
//! every event surviving Avro (`handoff_adapters::invariants`).

use handoff_adapters::invariants::{check, Target};
use handoff_e2e::repo_root;

fn replay(kind: &str) -> usize {
    let root = repo_root().join("tests/fuzz").join(kind);
    let mut checked = 0;
    for target_dir in std::fs::read_dir(&root).unwrap() {
        let target_dir = target_dir.unwrap().path();
        if !target_dir.is_dir() {
            continue; // the folder's README
        }
        let name = target_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let target = Target::from_name(&name)
            .unwrap_or_else(|| panic!("{}: no fuzz target `{name}`", root.display()));
        for input in std::fs::read_dir(&target_dir).unwrap() {
            let path = input.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(target, &data));
            assert!(outcome.is_ok(), "{} breaks an invariant", path.display());
            checked += 1;
        }
    }
    checked
}

#[test]
fn the_fuzz_corpus_reads_cleanly() {
    assert!(replay("corpus") > 0, "the corpus is kept in the repository");
}

#[test]
fn every_fuzz_finding_stays_fixed() {
    replay("findings");
}
