//! `discrepancies`: where the agencies' records of missed hearings
//! disagree (the OIG found two ICE data sets apart by more than 4,000
//! FTAs) and which FTAs nobody followed up.

use serde_json::json;

use super::{ReportError, Source, Table};

/// (finding kind in the views, what it means)
const GAPS: [(&str, &str); 3] = [
    (
        "fta_missing_in_opla",
        "EOIR recorded a failure to appear that OPLA (PLAnet) lacks",
    ),
    (
        "fta_missing_in_eoir",
        "OPLA recorded a failure to appear that EOIR lacks",
    ),
    (
        "fta_without_follow_up",
        "A failure to appear with no ERO follow-up",
    ),
];

pub async fn gaps(source: &Source<'_>) -> Result<Table, ReportError> {
    let mut table = Table::new(
        "discrepancies",
        "Failures to appear the agencies disagree on, and those not followed up",
        source.as_of.to_rfc3339(),
        &["discrepancy", "description", "records", "children"],
    );
    for (kind, description) in GAPS {
        let rows = source
            .store
            .query(
                "SELECT COUNT(*), COUNT(DISTINCT a_number) FROM findings WHERE kind = ?1",
                vec![kind.into()],
            )
            .await?;
        let count = |i: usize| rows[0][i].as_i64().unwrap_or(0);
        table.row(vec![
            json!(kind),
            json!(description),
            json!(count(0)),
            json!(count(1)),
        ]);
    }
    table.chart = Some((vec![0], vec![2]));
    Ok(table)
}
