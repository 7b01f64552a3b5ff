//! `handoff ingest doj --pending`: the EOIR rows waiting for their case's
//! A-number, and why, read from the ingest ledger's file. Nothing is
//! published; the rows go out by themselves once their case is ingested.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use handoff_adapters::doj::links::Links;

pub async fn run(ledger: &Path) -> Result<ExitCode> {
    if !ledger.exists() {
        println!(
            "nothing waits: there is no ingest ledger at {} yet",
            ledger.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let links = Links::open(ledger).await?;
    let total = links.waiting_count().await?;
    println!(
        "{total} EOIR row(s) wait for their case's A-number (ledger {})",
        ledger.display()
    );
    if total == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<32} {:>8}  {:<20} {:>12}  {:<21} why",
        "file", "line", "table", "IDNCASE", "waiting since"
    );
    let mut after = 0;
    loop {
        let page = links.waiting(after).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.id;
        for row in &page {
            println!(
                "{:<32} {:>8}  {:<20} {:>12}  {:<21} no A_TblCase or crosswalk row of this case has been ingested yet",
                row.source.file,
                row.source.line,
                row.table.name(),
                row.idncase,
                row.since
            );
        }
    }
    println!("each is published as soon as its case's A_TblCase row (with ALIEN_NBR) or a crosswalk row arrives, in any later ingest");
    Ok(ExitCode::SUCCESS)
}
