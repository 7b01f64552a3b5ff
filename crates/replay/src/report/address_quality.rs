//! `address-quality`: release addresses and each child's latest address
//! that are blank, undeliverable or missing their unit (hearing notices
//! sent there never arrive), and children two agencies hold different
//! addresses for.

use handoff_events::codec::from_datum;
use handoff_events::Event;
use handoff_story::address_finding;
use serde_json::json;

use super::{ReportError, Source, Table};

pub const FINDINGS: [&str; 3] = ["blank", "missing_secondary_unit", "undeliverable"];

pub async fn findings(source: &Source<'_>) -> Result<Table, ReportError> {
    let mut release = [0u64; FINDINGS.len()];
    let releases = source
        .store
        .query(
            "SELECT datum FROM child_events WHERE event_type = 'ReleasedToSponsor' AND recorded_at < ?1",
            vec![source.as_of.0.into()],
        )
        .await?;
    for row in releases {
        let datum = row
            .into_iter()
            .next()
            .and_then(|v| v.into_bytes())
            .unwrap_or_default();
        let Event::ReleasedToSponsor(e) =
            from_datum(&source.catalogue, "ReleasedToSponsor", &datum)
                .map_err(|e| source.corrupt(e))?
        else {
            return Err(source.corrupt("a stored ReleasedToSponsor is another event"));
        };
        if let Some(i) =
            address_finding(&e.address).and_then(|f| FINDINGS.iter().position(|k| *k == f))
        {
            release[i] += 1;
        }
    }
    let mut table = Table::new(
        "address-quality",
        "Addresses hearing notices cannot reach, and addresses the agencies disagree on",
        source.as_of.to_rfc3339(),
        &["address", "finding", "children"],
    );
    for (finding, n) in FINDINGS.iter().zip(release) {
        table.row(vec![json!("release"), json!(finding), json!(n)]);
    }
    for finding in FINDINGS {
        let n = count(source, "bad_address", Some(finding)).await?;
        table.row(vec![json!("latest"), json!(finding), json!(n)]);
    }
    let n = count(source, "address_disagreement", None).await?;
    table.row(vec![json!("between_agencies"), json!("disagree"), json!(n)]);
    table.chart = Some((vec![0, 1], vec![2]));
    Ok(table)
}

async fn count(source: &Source<'_>, kind: &str, detail: Option<&str>) -> Result<i64, ReportError> {
    let rows = match detail {
        Some(detail) => {
            source
                .store
                .query(
                    "SELECT COUNT(*) FROM findings WHERE kind = ?1 AND detail = ?2",
                    vec![kind.into(), detail.into()],
                )
                .await?
        }
        None => {
            source
                .store
                .query(
                    "SELECT COUNT(*) FROM findings WHERE kind = ?1",
                    vec![kind.into()],
                )
                .await?
        }
    };
    Ok(rows[0][0].as_i64().unwrap_or(0))
}
