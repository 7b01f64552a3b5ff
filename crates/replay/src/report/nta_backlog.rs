//! `nta-backlog`: released children never served a Notice to Appear (so
//! with no court date at all), by how long ago they were released.

use serde_json::json;

use super::{ReportError, Source, Table};

const DAY_MS: i64 = 86_400_000;

/// The aging buckets, by days since release (release day is day 1).
pub const BUCKETS: [(&str, i64, i64); 4] = [
    ("0-60", 0, 60),
    ("61-180", 61, 180),
    ("181-365", 181, 365),
    ("over_365", 366, i64::MAX),
];

pub async fn by_age(source: &Source<'_>) -> Result<Table, ReportError> {
    let released = source
        .store
        .query(
            "SELECT released_at, nta_status FROM children
             WHERE released_at IS NOT NULL AND released_at < ?1
               AND nta_served_at IS NULL AND nta_status IN ('none', 'issued')",
            vec![source.as_of.0.into()],
        )
        .await?;
    // [never issued, issued but not served] per bucket
    let mut counts = [[0u64; 2]; BUCKETS.len()];
    for row in released {
        let at = row[0]
            .as_i64()
            .ok_or_else(|| source.corrupt("a release without a time"))?;
        let days = (source.as_of.0 - at).div_euclid(DAY_MS);
        let bucket = BUCKETS
            .iter()
            .position(|(_, lo, hi)| (*lo..=*hi).contains(&days))
            .unwrap_or(BUCKETS.len() - 1);
        let issued = usize::from(row[1].as_str() == Some("issued"));
        counts[bucket][issued] += 1;
    }
    let mut table = Table::new(
        "nta-backlog",
        "Released children never served a Notice to Appear, by days since release",
        source.as_of.to_rfc3339(),
        &[
            "days_since_release",
            "never_issued",
            "issued_not_served",
            "children",
        ],
    );
    let mut all = [0u64; 2];
    for ((name, _, _), [none, issued]) in BUCKETS.iter().zip(counts) {
        table.row(vec![
            json!(name),
            json!(none),
            json!(issued),
            json!(none + issued),
        ]);
        all[0] += none;
        all[1] += issued;
    }
    table.row(vec![
        json!("all"),
        json!(all[0]),
        json!(all[1]),
        json!(all[0] + all[1]),
    ]);
    table.chart = Some((vec![0], vec![1, 2]));
    Ok(table)
}
