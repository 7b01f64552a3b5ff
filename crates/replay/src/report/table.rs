//! A report's answer: a title, named columns and rows of JSON values, in
//! the three forms a reader wants (a text table to read, CSV for a
//! spreadsheet, JSON for a program).

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table as TextTable};
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The report's name, e.g. `fta-by-fiscal-year`.
    pub report: String,
    pub title: String,
    /// The instant the report is dated (RFC 3339).
    pub as_of: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
    /// For a chart: the columns naming each group of bars, and the
    /// columns drawn.
    pub chart: Option<(Vec<usize>, Vec<usize>)>,
}

impl Table {
    pub fn new(report: &str, title: &str, as_of: String, columns: &[&str]) -> Table {
        Table {
            report: report.to_owned(),
            title: title.to_owned(),
            as_of,
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows: Vec::new(),
            chart: None,
        }
    }

    pub fn row(&mut self, cells: Vec<Json>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    /// The rows as objects keyed by column.
    pub fn objects(&self) -> Vec<Json> {
        self.rows
            .iter()
            .map(|r| {
                let o: Map<String, Json> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(r.iter().cloned())
                    .collect();
                Json::Object(o)
            })
            .collect()
    }

    pub fn to_text(&self) -> String {
        let mut t = TextTable::new();
        t.load_preset(UTF8_BORDERS_ONLY);
        t.set_header(&self.columns);
        for r in &self.rows {
            t.add_row(r.iter().map(cell_text));
        }
        format!("{} (as of {})\n{t}\n", self.title, self.as_of)
    }

    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns).expect("writing to memory");
        for r in &self.rows {
            w.write_record(r.iter().map(cell_text))
                .expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory"))
            .expect("CSV of UTF-8 is UTF-8")
    }

    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "report": self.report,
            "title": self.title,
            "as_of": self.as_of,
            "columns": self.columns,
            "rows": self.objects(),
        })
    }
}

fn cell_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_table_reads_the_same_in_every_form() {
        let mut t = Table::new(
            "r",
            "A title",
            "2024-01-01T00:00:00Z".into(),
            &["name", "count"],
        );
        t.row(vec![json!("FY2021"), json!(3)]);
        t.row(vec![json!("with, comma"), Json::Null]);
        assert_eq!(t.to_csv(), "name,count\nFY2021,3\n\"with, comma\",\n");
        assert_eq!(
            t.to_json()["rows"][0],
            json!({"name": "FY2021", "count": 3})
        );
        let text = t.to_text();
        assert!(
            text.starts_with("A title (as of 2024-01-01T00:00:00Z)"),
            "{text}"
        );
        assert!(
            text.contains("FY2021") && text.contains("with, comma"),
            "{text}"
        );
    }
}
