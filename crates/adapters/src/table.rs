//! Rows of delimited exports, addressed by column name. ICE's CSV extracts
//! quote like RFC 4180; EOIR's tables are tab-delimited with no quoting.
//! Columns are found by header name, so a column moved or added by the
//! source does not break the mapping.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use handoff_events::ANumber;

use crate::fields;
use crate::record::{Reject, RejectCode};

#[derive(Debug, Clone)]
pub struct Header {
    names: Vec<String>,
    index: HashMap<String, usize>,
}

impl Header {
    pub fn new(names: Vec<String>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.trim().to_uppercase(), i))
            .collect();
        Header { names, index }
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of the column at `index`.
    pub fn name(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(&name.to_uppercase())
    }

    /// The columns of `required` the header lacks.
    pub fn missing<'a>(&self, required: &[&'a str]) -> Vec<&'a str> {
        required.iter().copied().filter(|c| !self.has(c)).collect()
    }
}

/// One data row, its cells lined up with the header.
pub struct Row<'h> {
    header: &'h Header,
    cells: Vec<String>,
}

impl<'h> Row<'h> {
    pub fn new(header: &'h Header, cells: Vec<String>) -> Self {
        Row { header, cells }
    }

    /// The cells, lined up with the header.
    pub fn into_cells(self) -> Vec<String> {
        self.cells
    }

    /// The cell as written, if the column exists.
    pub fn raw(&self, column: &str) -> Option<&str> {
        let i = *self.header.index.get(&column.to_uppercase())?;
        self.cells.get(i).map(String::as_str)
    }

    /// The cleaned value, `None` when absent or null-like.
    pub fn get(&self, column: &str) -> Option<String> {
        self.raw(column).and_then(fields::clean)
    }

    pub fn required(&self, column: &str) -> Result<String, Reject> {
        self.get(column).ok_or_else(|| Reject::missing(column))
    }

    pub fn date(&self, column: &str) -> Result<Option<NaiveDate>, Reject> {
        match self.get(column) {
            None => Ok(None),
            Some(v) => fields::parse_date(&v)
                .map(Some)
                .ok_or_else(|| Reject::bad_date(column, &v)),
        }
    }

    pub fn required_date(&self, column: &str) -> Result<NaiveDate, Reject> {
        self.date(column)?.ok_or_else(|| Reject::missing(column))
    }

    pub fn datetime(&self, column: &str) -> Result<Option<NaiveDateTime>, Reject> {
        match self.get(column) {
            None => Ok(None),
            Some(v) => fields::parse_datetime(&v)
                .map(Some)
                .ok_or_else(|| Reject::bad_date(column, &v)),
        }
    }

    pub fn id(&self, column: &str) -> Result<u64, Reject> {
        let v = self.required(column)?;
        fields::parse_id(&v).ok_or_else(|| Reject::bad_value(column, &v, "a whole number"))
    }

    pub fn a_number(&self, column: &str) -> Result<ANumber, Reject> {
        self.optional_a_number(column)?
            .ok_or_else(|| Reject::missing(column))
    }

    /// The A-number when the cell has one; `None` when the column is absent
    /// or empty; a reject when the cell holds something else.
    pub fn optional_a_number(&self, column: &str) -> Result<Option<ANumber>, Reject> {
        let Some(v) = self.get(column) else {
            return Ok(None);
        };
        ANumber::parse(&v).map(Some).map_err(|e| {
            Reject::new(
                RejectCode::InvalidANumber,
                Some(column),
                format!("{column}: {e}"),
            )
        })
    }
}

/// Splits one CSV line (RFC 4180 quoting: `"a, b"`, `""` for a quote).
pub fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => {
                cells.push(std::mem::take(&mut cell));
                at_start = true;
                continue;
            }
            (false, '"') if at_start => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (_, c) => cell.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    cells.push(cell);
    Ok(cells)
}

/// Splits one EOIR line: tabs, no quoting.
pub fn split_tsv(line: &str) -> Vec<String> {
    line.split('\t').map(str::to_owned).collect()
}

/// Latin-1 bytes to text: every byte is the code point of the same value.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_with_quotes() {
        assert_eq!(
            split_csv(r#"a,"b, c",,"d ""q""""#).unwrap(),
            vec!["a", "b, c", "", "d \"q\""]
        );
        assert!(split_csv(r#"a,"b"#).is_err());
    }

    #[test]
    fn latin1_decodes_every_byte() {
        assert_eq!(latin1(b"Pe\xf1asco \xc9"), "Peñasco É");
    }
}
