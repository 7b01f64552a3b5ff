//! The three file formats of an export, behind one `TableWriter`: Parquet
//! (typed columns, through arrow), CSV (a header, ISO 8601 times) and JSON
//! lines (one flat object per event).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema as ArrowSchema, TimeUnit};
use chrono::{DateTime, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::{Map, Value as Json};

use super::columns::{Cell, Column, ColumnType};

/// Rows a Parquet writer buffers before handing arrow a batch. Each table
/// buffers its own, and a buffered row of cells takes about 2 KB, so 8,192
/// rows over 24 tables took 400 MB; 1,024 keeps it near 50 MB.
const PARQUET_BATCH: usize = 1_024;
/// Rows per Parquet row group. The writer holds a whole row group's pages
/// and each column's dictionary in memory, once per table (24 tables):
/// parquet's defaults (a million rows, 1 MB dictionaries) took a full
/// export to 700 MB.
const PARQUET_ROW_GROUP: usize = 32_768;
/// Past this, a column's dictionary gives way to plain encoding (ids are
/// all distinct and gain nothing from one).
const PARQUET_DICTIONARY_BYTES: usize = 128 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
    Jsonl,
}

impl Format {
    pub fn parse(text: &str) -> Result<Format, String> {
        match text {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "jsonl" => Ok(Format::Jsonl),
            other => Err(format!(
                "unknown export format `{other}`; use parquet, csv or jsonl"
            )),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot write {path}: {message}; check that --out names a writable folder with room to spare"
)]
pub struct WriteError {
    pub path: PathBuf,
    pub message: String,
}

impl WriteError {
    fn at(path: &Path, e: impl std::fmt::Display) -> WriteError {
        WriteError {
            path: path.to_owned(),
            message: e.to_string(),
        }
    }
}

pub trait TableWriter: Send {
    fn write(&mut self, row: Vec<Cell>) -> Result<(), WriteError>;
    fn finish(self: Box<Self>) -> Result<(), WriteError>;
}

/// A writer for one table at `dir/<name>.<ext>`.
pub fn create(
    format: Format,
    dir: &Path,
    name: &str,
    columns: Vec<Column>,
) -> Result<Box<dyn TableWriter>, WriteError> {
    let path = dir.join(format!("{name}.{}", format.extension()));
    let fail = |e: &dyn std::fmt::Display| WriteError::at(&path, e);
    let file = BufWriter::new(File::create(&path).map_err(|e| fail(&e))?);
    Ok(match format {
        Format::Parquet => {
            let schema = Arc::new(arrow_schema(&columns));
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(PARQUET_ROW_GROUP))
                .set_dictionary_page_size_limit(PARQUET_DICTIONARY_BYTES)
                .build();
            let writer =
                ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| fail(&e))?;
            Box::new(ParquetTable {
                path,
                columns,
                schema,
                rows: Vec::new(),
                writer,
            })
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(file);
            writer
                .write_record(columns.iter().map(|c| c.name.as_str()))
                .map_err(|e| fail(&e))?;
            Box::new(CsvTable { path, writer })
        }
        Format::Jsonl => Box::new(JsonlTable {
            path,
            columns,
            out: file,
        }),
    })
}

fn arrow_schema(columns: &[Column]) -> ArrowSchema {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| {
            let kind = match c.kind {
                ColumnType::Text => DataType::Utf8,
                ColumnType::Bool => DataType::Boolean,
                ColumnType::Int | ColumnType::Long => DataType::Int64,
                ColumnType::Double => DataType::Float64,
                ColumnType::Timestamp => {
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
                }
                ColumnType::Date => DataType::Date32,
            };
            Field::new(&c.name, kind, c.nullable)
        })
        .collect();
    ArrowSchema::new(fields)
}

struct ParquetTable {
    path: PathBuf,
    columns: Vec<Column>,
    schema: Arc<ArrowSchema>,
    rows: Vec<Vec<Cell>>,
    writer: ArrowWriter<BufWriter<File>>,
}

impl ParquetTable {
    fn flush(&mut self) -> Result<(), WriteError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let arrays: Vec<ArrayRef> = (0..self.columns.len())
            .map(|i| array(self.columns[i].kind, rows.iter().map(|r| &r[i])))
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| WriteError::at(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| WriteError::at(&self.path, e))
    }
}

/// One column's cells as an arrow array of its type.
fn array<'a>(kind: ColumnType, cells: impl Iterator<Item = &'a Cell>) -> ArrayRef {
    match kind {
        ColumnType::Text => Arc::new(StringArray::from_iter(cells.map(|c| match c {
            Cell::Text(s) => Some(s.clone()),
            _ => None,
        }))),
        ColumnType::Bool => Arc::new(BooleanArray::from_iter(cells.map(|c| match c {
            Cell::Bool(b) => Some(*b),
            _ => None,
        }))),
        ColumnType::Int | ColumnType::Long => {
            Arc::new(Int64Array::from_iter(cells.map(|c| match c {
                Cell::Int(n) => Some(*n),
                _ => None,
            })))
        }
        ColumnType::Double => Arc::new(Float64Array::from_iter(cells.map(|c| match c {
            Cell::Double(n) => Some(*n),
            _ => None,
        }))),
        ColumnType::Timestamp => Arc::new(
            TimestampMillisecondArray::from_iter(cells.map(|c| match c {
                Cell::Timestamp(t) => Some(*t),
                _ => None,
            }))
            .with_timezone("UTC"),
        ),
        ColumnType::Date => Arc::new(Date32Array::from_iter(cells.map(|c| match c {
            Cell::Date(d) => Some(*d),
            _ => None,
        }))),
    }
}

impl TableWriter for ParquetTable {
    fn write(&mut self, row: Vec<Cell>) -> Result<(), WriteError> {
        self.rows.push(row);
        if self.rows.len() >= PARQUET_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.flush()?;
        let path = self.path.clone();
        self.writer.close().map_err(|e| WriteError::at(&path, e))?;
        Ok(())
    }
}

/// A cell as text: times in ISO 8601 (UTC), nothing for null.
fn text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Bool(b) => b.to_string(),
        Cell::Int(n) => n.to_string(),
        Cell::Double(n) => n.to_string(),
        Cell::Timestamp(t) => DateTime::from_timestamp_millis(*t)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
            .unwrap_or_default(),
        Cell::Date(d) => NaiveDate::from_epoch_days(*d)
            .map(|d| d.to_string())
            .unwrap_or_default(),
    }
}

struct CsvTable {
    path: PathBuf,
    writer: csv::Writer<BufWriter<File>>,
}

impl TableWriter for CsvTable {
    fn write(&mut self, row: Vec<Cell>) -> Result<(), WriteError> {
        self.writer
            .write_record(row.iter().map(text))
            .map_err(|e| WriteError::at(&self.path, e))
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.writer
            .flush()
            .map_err(|e| WriteError::at(&self.path, e))
    }
}

struct JsonlTable {
    path: PathBuf,
    columns: Vec<Column>,
    out: BufWriter<File>,
}

impl TableWriter for JsonlTable {
    fn write(&mut self, row: Vec<Cell>) -> Result<(), WriteError> {
        let mut object = Map::new();
        for (column, cell) in self.columns.iter().zip(&row) {
            let value = match cell {
                Cell::Null => Json::Null,
                Cell::Bool(b) => Json::Bool(*b),
                Cell::Int(n) => Json::from(*n),
                Cell::Double(n) => Json::from(*n),
                other => Json::String(text(other)),
            };
            object.insert(column.name.clone(), value);
        }
        writeln!(self.out, "{}", Json::Object(object)).map_err(|e| WriteError::at(&self.path, e))
    }

    fn finish(mut self: Box<Self>) -> Result<(), WriteError> {
        self.out.flush().map_err(|e| WriteError::at(&self.path, e))
    }
}
