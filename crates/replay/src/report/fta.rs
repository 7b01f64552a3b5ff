//! `fta-by-fiscal-year`: missed hearings per federal fiscal year, with the
//! in-absentia orders that followed and whether ERO followed each up (the
//! OIG's figures, FY by FY).

use std::collections::BTreeMap;

use handoff_events::time::fiscal_year;
use handoff_events::Timestamp;
use serde_json::{json, Value as Json};

use super::{ReportError, Source, Table};

#[derive(Debug, Default, Clone, Copy)]
struct Year {
    ftas: u64,
    in_absentia: u64,
    followed_up: u64,
}

pub async fn by_fiscal_year(source: &Source<'_>) -> Result<Table, ReportError> {
    let mut years: BTreeMap<i32, Year> = BTreeMap::new();
    let fy = |t: Timestamp| fiscal_year(t.to_datetime().date_naive());
    let ftas = source
        .store
        .query(
            "SELECT hearing_at, follow_up FROM ftas WHERE hearing_at < ?1",
            vec![source.as_of.0.into()],
        )
        .await?;
    for row in ftas {
        let at = row[0]
            .as_i64()
            .ok_or_else(|| source.corrupt("an FTA without a time"))?;
        let year = years.entry(fy(Timestamp(at))).or_default();
        year.ftas += 1;
        if row[1] != handoff_store::Value::Null {
            year.followed_up += 1;
        }
    }
    let ordered = source
        .store
        .query(
            "SELECT state FROM children WHERE court_status = 'in_absentia_order'",
            vec![],
        )
        .await?;
    for row in ordered {
        let state: Json = row[0]
            .as_str()
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| source.corrupt("a child's state is not JSON"))?;
        if let Some(at) = state["in_absentia_at"]
            .as_i64()
            .filter(|at| *at < source.as_of.0)
        {
            years.entry(fy(Timestamp(at))).or_default().in_absentia += 1;
        }
    }
    let mut table = Table::new(
        "fta-by-fiscal-year",
        "Failures to appear by federal fiscal year (October to September)",
        source.as_of.to_rfc3339(),
        &[
            "fiscal_year",
            "ftas",
            "in_absentia_orders",
            "followed_up",
            "without_follow_up",
        ],
    );
    let mut all = Year::default();
    for (year, y) in &years {
        table.row(row(json!(format!("FY{year}")), y));
        all.ftas += y.ftas;
        all.in_absentia += y.in_absentia;
        all.followed_up += y.followed_up;
    }
    table.row(row(json!("all"), &all));
    table.chart = Some((vec![0], vec![1, 2, 3]));
    Ok(table)
}

fn row(label: Json, y: &Year) -> Vec<Json> {
    vec![
        label,
        json!(y.ftas),
        json!(y.in_absentia),
        json!(y.followed_up),
        json!(y.ftas - y.followed_up),
    ]
}
