#!/usr/bin/env bash
# Fuzzes the three parsers and the mapping to events, each target for
# SECONDS (default 600), like a benchmark: not part of CI. Needs the
# nightly toolchain (rustup toolchain install nightly) and cargo-fuzz,
# which it installs from crates.io if missing. The corpus grows in
# tests/fuzz/corpus/<target>/ (seeded from tests/fixtures, minimised after
# each run); an input that breaks an invariant is written to
# tests/fuzz/findings/<target>/ and stays there as a regression test
# (tests/fuzz_regressions.rs) once fixed. Results go to FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
targets=(ice_csv hhs_jsonl eoir_tables)

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/handoff-fuzz-target}"

# Seeds: each fixture, behind the byte that makes the target read it as
# that file (see Target::file in crates/adapters/src/invariants.rs).
seed() {
  local target=$1 selector=$2 file=$3 dir="tests/fuzz/corpus/$1"
  mkdir -p "$dir"
  local out
  out="$dir/seed-$(basename "$file")-$selector"
  { printf "\\x$(printf %02x "$selector")"; cat "$file"; } > "$out"
}
if [ ! -d tests/fuzz/corpus ]; then
  seed ice_csv 0 tests/fixtures/ice/encounters.csv
  seed ice_csv 1 tests/fixtures/ice/case_actions.csv
  seed hhs_jsonl 0 tests/fixtures/hhs/uc_path.jsonl
  seed eoir_tables 0 tests/fixtures/doj/A_TblCase.csv
  seed eoir_tables 1 tests/fixtures/doj/B_TblProceeding.csv
  seed eoir_tables 2 tests/fixtures/doj/tbl_schedule.csv
  seed eoir_tables 3 tests/fixtures/doj/tbl_JuvenileHistory.csv
  seed eoir_tables 5 tests/fixtures/doj-public/A_TblCase.csv
  seed eoir_tables 6 tests/fixtures/doj-public/B_TblProceeding.csv
  seed eoir_tables 7 tests/fixtures/doj-public/tbl_schedule.csv
fi

# Logs beside the fuzz build, not in /tmp (which a cleaner may empty
# during a half-hour run).
logs="$CARGO_TARGET_DIR/fuzz-logs"
mkdir -p "$logs"
results="$logs/results.md"
: > "$results"
for t in "${targets[@]}"; do
  mkdir -p "tests/fuzz/findings/$t" "tests/fuzz/corpus/$t"
  log="$logs/$t.log"
  echo "fuzz: $t for ${seconds}s"
  status=0
  cargo +nightly fuzz run --fuzz-dir fuzz "$t" "tests/fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="tests/fuzz/findings/$t/" -print_final_stats=1 2>"$log" || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  findings=$(find "tests/fuzz/findings/$t" -type f | wc -l)
  # Keep the corpus small: only inputs that add coverage.
  cargo +nightly fuzz cmin --fuzz-dir fuzz "$t" "tests/fuzz/corpus/$t" >/dev/null 2>&1 || true
  corpus=$(find "tests/fuzz/corpus/$t" -type f | wc -l)
  echo "| $t | $seconds | ${runs:-?} | $corpus | $findings | $([ $status -eq 0 ] && echo none || echo "stopped: see $log") |" >> "$results"
  [ $status -eq 0 ] || tail -40 "$log"
done

{
  echo "# Fuzzing"
  echo
  echo "\`scripts/fuzz.sh $seconds\` on $(date -u +%Y-%m-%d), $(nproc) cores, $(rustc +nightly --version)."
  echo "Each target reads any bytes as the export its first byte picks and"
  echo "checks the invariants in \`crates/adapters/src/invariants.rs\`."
  echo
  echo "| target | seconds | executions | corpus kept | findings kept | this run |"
  echo "| --- | ---: | ---: | ---: | ---: | --- |"
  cat "$results"
} > FUZZING.md.new
if [ -f FUZZING.md ] && grep -q '^## Findings' FUZZING.md; then
  { echo; sed -n '/^## Findings/,$p' FUZZING.md; } >> FUZZING.md.new
fi
mv FUZZING.md.new FUZZING.md
cat FUZZING.md
