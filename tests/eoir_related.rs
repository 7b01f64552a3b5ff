//! EOIR's feed as related tables, through the real `handoff ingest`,
//! broker and registry: the A-number only on `A_TblCase` (or in a
//! crosswalk), the other tables linked by IDNCASE; in any file order, over
//! several runs and the drop folder; rows of a case not yet seen wait and
//! go out when it arrives; disagreeing and missing A-numbers are rejected
//! with their reason; one unreadable file fails alone.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use handoff_adapters::{FileSummary, Summary};
use handoff_e2e::{handoff_bin, read_events, Stack};
use handoff_events::{topics, Event};

const CASE: &str = "IDNCASE\tALIEN_NBR\tALIEN_CITY\tALIEN_STATE\tALIEN_ZIPCODE\tUPDATED_STREET\tUPDATED_CITY\tUPDATED_STATE\tUPDATED_ZIPCODE\tADDRESS_CHANGEDON";
const PROCEEDING: &str =
    "IDNPROCEEDING\tIDNCASE\tOSC_DATE\tINPUT_DATE\tBASE_CITY_CODE\tHEARING_LOC_CODE";
const SCHEDULE: &str =
    "IDNSCHEDULE\tIDNPROCEEDING\tIDNCASE\tCAL_TYPE\tADJ_DATE\tADJ_TIME_START\tHEARING_LOC_CODE\tAPPEARANCE";
const JUVENILE: &str = "IDNJUVENILEHISTORY\tIDNCASE\tIDNPROCEEDING\tIDNJUVENILE";

fn case(idncase: u64, a_number: &str) -> String {
    format!("{idncase}\t{a_number}\tHouston\tTX\t77002\t\t\t\t\t")
}

fn proceeding(id: u64, idncase: u64) -> String {
    format!("{id}\t{idncase}\t2021-04-01\t2021-04-15\tHOU\tHOU")
}

fn schedule(id: u64, idncase: u64, appearance: &str) -> String {
    format!(
        "{id}\t{}\t{idncase}\tM\t2021-06-09\t0900\tHOU\t{appearance}",
        idncase + 100
    )
}

fn write(dir: &Path, name: &str, header: &str, rows: &[String]) -> PathBuf {
    let mut text = format!("{header}\r\n");
    for row in rows {
        text.push_str(row);
        text.push_str("\r\n");
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One `handoff ingest doj` run over `files`, with its own ledger file.
struct Run {
    out: Output,
    summary: Summary,
    rejects: Vec<serde_json::Value>,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn file(&self, name: &str) -> &FileSummary {
        self.summary
            .files
            .get(name)
            .unwrap_or_else(|| panic!("no account of {name}:\n{}", self.stdout()))
    }
}

fn ingest(stack: &Stack, ledger: &Path, files: &[PathBuf]) -> Run {
    let dir = stack.data_dir();
    let summary = dir.join("summary.json");
    let rejects = dir.join("rejects.jsonl");
    let _ = std::fs::remove_file(&summary);
    let out = Command::new(handoff_bin())
        .args(["ingest", "doj"])
        .args(files)
        .args(["--brokers", &stack.kafka.brokers])
        .args(["--registry-url", stack.registry_url(), "--quiet"])
        .arg("--ledger")
        .arg(ledger)
        .arg("--rejects")
        .arg(&rejects)
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .unwrap();
    let summary: Summary = serde_json::from_slice(&std::fs::read(&summary).unwrap_or_else(|_| {
        panic!(
            "no account written:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }))
    .unwrap();
    assert!(summary.adds_up(), "{summary}");
    let rejects = std::fs::read_to_string(&rejects)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        out,
        summary,
        rejects,
    }
}

fn pending(ledger: &Path) -> String {
    let out = Command::new(handoff_bin())
        .args(["ingest", "doj", "--pending", "--ledger"])
        .arg(ledger)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first `count` events on the EOIR topic, with their keys.
async fn read_doj(stack: &Stack, count: usize) -> Vec<(String, Event)> {
    read_events(stack, topics::DOJ, count).await
}

fn idncase(event: &Event) -> String {
    event.meta().case_ids.eoir_idncase.clone().unwrap()
}

fn permutations(items: Vec<PathBuf>) -> Vec<Vec<PathBuf>> {
    if items.len() <= 1 {
        return vec![items];
    }
    let mut all = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.clone();
        let first = rest.remove(i);
        for mut tail in permutations(rest) {
            tail.insert(0, first.clone());
            all.push(tail);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_tables_link_in_every_file_order() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = vec![
        write(
            d,
            "tbl_schedule.csv",
            SCHEDULE,
            &[
                schedule(71, 1, "F"),
                schedule(72, 1, "P"),
                schedule(73, 2, ""),
            ],
        ),
        write(
            d,
            "tbl_JuvenileHistory.csv",
            JUVENILE,
            &["1\t1\t101\t1".to_owned()],
        ),
        write(
            d,
            "B_TblProceeding.csv",
            PROCEEDING,
            &[proceeding(101, 1), proceeding(102, 2)],
        ),
        write(
            d,
            "A_TblCase.csv",
            CASE,
            &[case(1, "A200000001"), case(2, "A-200-000-002")],
        ),
    ];
    let orders = permutations(files);
    assert_eq!(orders.len(), 24);
    let mut first: Option<Summary> = None;
    for (n, order) in orders.iter().enumerate() {
        // A fresh ledger each time: every order starts knowing no case.
        let run = ingest(&stack, &d.join(format!("ledger-{n}.db")), order);
        assert!(run.out.status.success(), "{}", run.stderr());
        assert_eq!(
            run.summary.total().pending_link,
            0,
            "order {n}:\n{}",
            run.stdout()
        );
        assert_eq!(
            run.summary.total().rejected_total(),
            0,
            "order {n}:\n{}",
            run.stdout()
        );
        assert_eq!(run.file("tbl_schedule.csv").published, 3);
        assert_eq!(run.file("tbl_JuvenileHistory.csv").no_event, 1);
        match &first {
            None => first = Some(run.summary),
            Some(first) => assert_eq!(&run.summary, first, "order {n} gave another account"),
        }
    }
    // Every run published the same events again (a fresh ledger each), all
    // under the case's A-number.
    let per_run = first.unwrap().total().events_published as usize;
    let events = read_doj(&stack, per_run * orders.len()).await;
    for (key, event) in &events {
        let expected = match idncase(event).as_str() {
            "1" => "A200000001",
            "2" => "A200000002",
            other => panic!("unexpected case {other}"),
        };
        assert_eq!(key, expected, "{}", event.record_name());
        assert_eq!(event.meta().a_number.as_ref().unwrap().as_str(), expected);
    }
    assert!(events
        .iter()
        .any(|(_, e)| e.record_name() == "FailedToAppear"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_waits_for_its_case_across_runs_and_goes_out_when_it_arrives() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ledger = d.join("ledger.db");

    // Week 1: the cases, one of them with its A-number in the crosswalk.
    let week1 = [
        write(
            d,
            "A_TblCase_w1.csv",
            CASE,
            &[case(10, "A200000010"), case(11, "")],
        ),
        write(
            d,
            "crosswalk.csv",
            "IDNCASE,ALIEN_NBR",
            &["11,A200000011".to_owned()],
        ),
    ];
    let run = ingest(&stack, &ledger, &week1);
    assert!(run.out.status.success(), "{}", run.stderr());
    assert_eq!(run.file("A_TblCase_w1.csv").no_event, 2, "{}", run.stdout());
    assert_eq!(run.file("crosswalk.csv").no_event, 1);

    // Week 2: schedules of both, and of case 12, which nobody sent yet.
    let week2 = [write(
        d,
        "tbl_schedule_w2.csv",
        SCHEDULE,
        &[
            schedule(80, 10, "P"),
            schedule(81, 11, "F"),
            schedule(82, 12, "F"),
        ],
    )];
    let run = ingest(&stack, &ledger, &week2);
    assert!(run.out.status.success(), "{}", run.stderr());
    let w2 = run.file("tbl_schedule_w2.csv");
    assert_eq!((w2.published, w2.pending_link), (2, 1), "{}", run.stdout());
    assert!(run.stdout().contains("pending"), "{}", run.stdout());
    let listed = pending(&ledger);
    assert!(listed.starts_with("1 EOIR row(s) wait"), "{listed}");
    let row = listed
        .lines()
        .find(|l| l.starts_with("tbl_schedule_w2.csv"))
        .unwrap_or_else(|| panic!("{listed}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[..4],
        ["tbl_schedule_w2.csv", "4", "tbl_schedule", "12"],
        "{row}"
    );
    assert!(
        !listed.contains("A2000"),
        "the listing shows no A-number: {listed}"
    );

    // Running week 2 again: still waiting, counted once more as pending,
    // kept once.
    let run = ingest(&stack, &ledger, &week2);
    assert_eq!(run.file("tbl_schedule_w2.csv").pending_link, 1);
    assert!(pending(&ledger).starts_with("1 EOIR row(s) wait"));

    // Week 3: case 12 arrives; its waiting row goes out with it.
    let week3 = [write(
        d,
        "A_TblCase_w3.csv",
        CASE,
        &[case(12, "A200000012")],
    )];
    let run = ingest(&stack, &ledger, &week3);
    assert!(run.out.status.success(), "{}", run.stderr());
    let released = &run.summary.released["tbl_schedule_w2.csv"];
    assert_eq!(
        (released.records, released.published),
        (1, 1),
        "{}",
        run.stdout()
    );
    assert!(run.stdout().contains("taken up now"), "{}", run.stdout());
    assert!(pending(&ledger).starts_with("0 EOIR row(s) wait"));

    // Schedules publish HearingScheduled plus the appearance: 2 events each.
    let events = read_doj(&stack, 6).await;
    for (key, event) in &events {
        let expected = format!("A2000000{}", idncase(event));
        assert_eq!(key, &expected, "{}", event.record_name());
    }
    assert_eq!(events.iter().filter(|(k, _)| k == "A200000012").count(), 2);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disagreeing_and_missing_a_numbers_are_rejected_with_both_named() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let with_own = format!("{SCHEDULE}\tALIEN_NBR");
    let files = [
        write(
            d,
            "A_TblCase.csv",
            CASE,
            &[case(20, "A200000020"), case(21, "")],
        ),
        write(
            d,
            "tbl_schedule.csv",
            &with_own,
            &[
                format!("{}\tA200000099", schedule(90, 20, "")),
                format!("{}\tA200000020", schedule(91, 20, "")),
                format!("{}\t", schedule(92, 20, "")),
                format!("{}\t", schedule(93, 21, "F")),
            ],
        ),
    ];
    let run = ingest(&stack, &d.join("ledger.db"), &files);
    assert!(run.out.status.success(), "{}", run.stderr());
    let s = run.file("tbl_schedule.csv");
    assert_eq!(s.published, 2, "{}", run.stdout());
    assert_eq!(s.rejected.get("a_number_conflict"), Some(&1));
    assert_eq!(s.rejected.get("no_a_number"), Some(&1));
    assert_eq!(
        run.file("A_TblCase.csv").rejected.get("no_a_number"),
        Some(&1)
    );

    let reason = |line: u64, file: &str| -> String {
        run.rejects
            .iter()
            .find(|r| r["file"] == file && r["line"] == line)
            .unwrap_or_else(|| panic!("no reject at {file}:{line}: {:?}", run.rejects))["reason"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let conflict = reason(2, "tbl_schedule.csv");
    assert!(
        conflict.contains("A200000099")
            && conflict.contains("A200000020")
            && conflict.contains("IDNCASE 20"),
        "{conflict}"
    );
    let none = reason(5, "tbl_schedule.csv");
    assert!(
        none.contains("IDNCASE 21") && none.contains("crosswalk"),
        "{none}"
    );
    assert!(reason(3, "A_TblCase.csv").contains("no A-number anywhere"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_of_address_with_only_city_state_and_zip_is_published_as_incomplete() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let row = "30\tA200000030\tHouston\tTX\t77002\t\tDallas\tTX\t75201\t2022-02-01".to_owned();
    let run = ingest(
        &stack,
        &d.join("ledger.db"),
        &[write(d, "A_TblCase.csv", CASE, &[row])],
    );
    assert_eq!(run.file("A_TblCase.csv").published, 1, "{}", run.stdout());
    let events = read_doj(&stack, 1).await;
    let Event::AddressChanged(moved) = &events[0].1 else {
        panic!("{:?}", events[0].1.record_name());
    };
    assert!(moved.address.incomplete && !moved.address.blank);
    assert_eq!(moved.address.street, None);
    assert_eq!(moved.address.city.as_deref(), Some("Dallas"));
    assert_eq!(moved.address.state.as_deref(), Some("TX"));
    assert_eq!(moved.address.postal_code.as_deref(), Some("75201"));
    assert_eq!(moved.reported_by.as_deref(), Some("EOIR_33"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_an_unusable_header_fails_alone() {
    let stack = Stack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let files = [
        write(d, "A_TblCase.csv", CASE, &[case(40, "A200000040")]),
        write(
            d,
            "B_TblProceeding.csv",
            "IDNPROCEEDING\tCASE_ID\tINPUT_DATE\tBASE_CITY_CODE",
            &[
                "401\t40\t2021-04-15\tHOU".to_owned(),
                "402\t40\t2021-04-16\tHOU".to_owned(),
            ],
        ),
        write(d, "tbl_schedule.csv", SCHEDULE, &[schedule(95, 40, "P")]),
    ];
    let run = ingest(&stack, &d.join("ledger.db"), &files);
    assert_eq!(run.out.status.code(), Some(1), "{}", run.stdout());
    let failed = run.file("B_TblProceeding.csv");
    assert_eq!((failed.records, failed.not_read), (2, 2));
    let why = failed.failed.as_deref().unwrap();
    assert!(why.contains("lacks column(s) IDNCASE"), "{why}");
    assert!(
        run.stdout().contains("FAILED B_TblProceeding.csv"),
        "{}",
        run.stdout()
    );
    assert!(
        run.stderr().contains("1 file(s) could not be read"),
        "{}",
        run.stderr()
    );
    // The others went out.
    assert_eq!(run.file("A_TblCase.csv").no_event, 1);
    assert_eq!(run.file("tbl_schedule.csv").published, 1);
    stack.stop().await;
}

fn wait_for(path: &Path, within: Duration) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < within,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn summary_of(path: &Path) -> Summary {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_drop_folder_a_schedule_waits_for_the_case_dropped_after_it() {
    let stack = Stack::start().await;
    let drop = tempfile::tempdir().unwrap();
    let d = drop.path();
    let staging = tempfile::tempdir().unwrap();
    let mut watcher = Command::new(handoff_bin())
        .args(["ingest", "doj", "--watch"])
        .arg(d)
        .args(["--brokers", &stack.kafka.brokers])
        .args(["--registry-url", stack.registry_url()])
        .arg("--ledger")
        .arg(stack.data_dir().join("ledger.db"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let schedule_file = write(
        staging.path(),
        "tbl_schedule.csv",
        SCHEDULE,
        &[schedule(60, 50, "F")],
    );
    std::fs::rename(&schedule_file, d.join("tbl_schedule.csv")).unwrap();
    wait_for(
        &d.join("done/tbl_schedule.csv.summary.json"),
        Duration::from_secs(30),
    );
    let first = summary_of(&d.join("done/tbl_schedule.csv.summary.json"));
    assert_eq!(first.files["tbl_schedule.csv"].pending_link, 1);

    let case_file = write(
        staging.path(),
        "A_TblCase.csv",
        CASE,
        &[case(50, "A200000050")],
    );
    std::fs::rename(&case_file, d.join("A_TblCase.csv")).unwrap();
    wait_for(
        &d.join("done/A_TblCase.csv.summary.json"),
        Duration::from_secs(30),
    );
    let second = summary_of(&d.join("done/A_TblCase.csv.summary.json"));
    assert_eq!(second.released["tbl_schedule.csv"].published, 1, "{second}");

    watcher.kill().unwrap();
    let _ = watcher.wait();
    let events = read_doj(&stack, 2).await;
    assert!(events.iter().all(|(k, _)| k == "A200000050"));
    assert!(events
        .iter()
        .any(|(_, e)| e.record_name() == "FailedToAppear"));
    stack.stop().await;
}
