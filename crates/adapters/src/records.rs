//! Reading an export record by record, with no broker in sight: the header
//! is checked once, then every line the layout counts as a record comes out
//! with the parser's verdict. The ingest driver publishes what comes out;
//! the fuzz targets and the parser tests read it directly, so what they
//! prove holds for the real ingest.

use std::io::{BufRead, BufReader, Read};

use crate::doj::{self, CaseLink, Table};
use crate::hhs;
use crate::ice::{case_actions, encounters};
use crate::ingest::Layout;
use crate::record::{Parsed, Reject, RejectCode, SourceLine};
use crate::table::{latin1, split_csv, split_tsv, Header, Row};

/// Why a whole file cannot be read. The file is reported with this reason
/// and counted as failed; the other files of the run go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct FileError {
    pub reason: String,
    /// The records left unread (data lines after an unusable header).
    pub not_read: u64,
}

impl FileError {
    fn new(reason: impl Into<String>) -> Self {
        FileError {
            reason: reason.into(),
            not_read: 0,
        }
    }
}

/// One input record and what the parser made of it.
#[derive(Debug)]
pub struct Record {
    pub source: SourceLine,
    pub parsed: Parsed,
    /// An EOIR row whose shifted columns were lined up again.
    pub realigned: bool,
    /// An EOIR row's case, read from the cells the parser trusted: how the
    /// row finds (or, on `A_TblCase`, gives) its A-number.
    pub link: Option<CaseLink>,
}

/// What each layout needs from its header.
enum Kind {
    Hhs,
    Ice {
        header: Header,
        encounters: bool,
    },
    Doj {
        header: Header,
        /// The header line as read, tab-joined: stored with a waiting row.
        text: String,
        table: Table,
        public: bool,
    },
    Crosswalk {
        header: Header,
        tabs: bool,
    },
}

/// The records of one export.
pub struct Records<R> {
    name: String,
    kind: Kind,
    lines: Lines<R>,
}

impl<R: Read> Records<R> {
    /// Reads the header (if the layout has one) and checks it. A file the
    /// layout cannot read is an error that counts its data lines.
    pub fn open(layout: Layout, name: &str, reader: R) -> Result<Self, FileError> {
        layout.accepts(name).map_err(FileError::new)?;
        let mut lines = Lines {
            reader: BufReader::with_capacity(1 << 20, reader),
            buf: Vec::new(),
            number: 0,
            last_bytes: 0,
        };
        match read_header(layout, name, &mut lines) {
            Ok(kind) => Ok(Records {
                name: name.to_owned(),
                kind,
                lines,
            }),
            Err(mut e) => {
                while let Ok(Some(())) = lines.next() {
                    if !lines.buf.is_empty() {
                        e.not_read += 1;
                    }
                }
                Err(e)
            }
        }
    }

    /// For EOIR's internal layout, whose rows are linked to their case:
    /// the table (none for a crosswalk) and the header line.
    pub fn linked_layout(&self) -> Option<(Option<Table>, String)> {
        match &self.kind {
            Kind::Doj {
                text,
                table,
                public: false,
                ..
            } => Some((Some(*table), text.clone())),
            Kind::Crosswalk { .. } => Some((None, String::new())),
            _ => None,
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Result<Option<Record>, FileError> {
        loop {
            let Some(_) = self.lines.next()? else {
                return Ok(None);
            };
            if !is_record(&self.kind, &self.lines.buf) {
                continue;
            }
            return Ok(Some(self.parse()));
        }
    }

    /// Counts the records left without parsing them: what a stopped run
    /// reports as not read.
    pub fn count_rest(&mut self) -> u64 {
        let mut n = 0;
        while let Ok(Some(_)) = self.lines.next() {
            if is_record(&self.kind, &self.lines.buf) {
                n += 1;
            }
        }
        n
    }

    /// Bytes read so far, for progress.
    pub fn last_line_bytes(&self) -> u64 {
        self.lines.last_bytes
    }

    fn parse(&self) -> Record {
        let buf = &self.lines.buf;
        let number = self.lines.number;
        let source = |raw: String| SourceLine {
            file: self.name.clone(),
            line: number,
            raw,
        };
        match &self.kind {
            Kind::Hhs => {
                let parsed = match utf8(buf) {
                    Ok(text) => hhs::map_line(&text),
                    Err(()) => Parsed::Rejected(not_utf8()),
                };
                plain(source(String::from_utf8_lossy(buf).into_owned()), parsed)
            }
            Kind::Ice { header, encounters } => {
                let parsed = match utf8(buf) {
                    Err(()) => Parsed::Rejected(not_utf8()),
                    Ok(text) => match split_csv(&text) {
                        Err(why) => Parsed::Rejected(Reject::new(
                            RejectCode::MalformedRow,
                            None,
                            format!("{why}; fix the quoting"),
                        )),
                        Ok(cells) if cells.len() != header.len() => Parsed::Rejected(Reject::new(
                            RejectCode::MalformedRow,
                            None,
                            format!(
                                "the row has {} fields but the header has {}; check for unquoted commas",
                                cells.len(),
                                header.len()
                            ),
                        )),
                        Ok(cells) => {
                            let row = Row::new(header, cells);
                            if *encounters {
                                encounters::map(&row)
                            } else {
                                case_actions::map(&row)
                            }
                        }
                    },
                };
                plain(source(String::from_utf8_lossy(buf).into_owned()), parsed)
            }
            Kind::Doj {
                header,
                table,
                public,
                ..
            } => {
                let text = latin1(buf);
                let (parsed, realigned, cells) =
                    doj::map_realigning(*table, header, split_tsv(&text), *public);
                let link = match (public, cells) {
                    (false, Some(cells)) => CaseLink::of(&Row::new(header, cells), *table),
                    _ => None,
                };
                Record {
                    source: source(text),
                    parsed,
                    realigned,
                    link,
                }
            }
            Kind::Crosswalk { header, tabs } => {
                let text = latin1(buf);
                let cells = if *tabs {
                    Ok(split_tsv(&text))
                } else {
                    split_csv(&text)
                };
                let (parsed, link) = match cells {
                    Ok(cells) if cells.len() == header.len() => {
                        doj::crosswalk::map(&Row::new(header, cells))
                    }
                    Ok(cells) => (
                        Parsed::Rejected(Reject::new(
                            RejectCode::MalformedRow,
                            None,
                            format!(
                                "the row has {} fields but the header has {}",
                                cells.len(),
                                header.len()
                            ),
                        )),
                        None,
                    ),
                    Err(why) => (
                        Parsed::Rejected(Reject::new(RejectCode::MalformedRow, None, why)),
                        None,
                    ),
                };
                Record {
                    source: source(text),
                    parsed,
                    realigned: false,
                    link,
                }
            }
        }
    }
}

/// Reads and checks the header of the layout's file kind.
fn read_header<R: Read>(
    layout: Layout,
    name: &str,
    lines: &mut Lines<R>,
) -> Result<Kind, FileError> {
    let kind = match layout {
        Layout::Hhs => Kind::Hhs,
        Layout::Ice => {
            let encounters = name.to_lowercase().starts_with("encounters");
            let required: &[&str] = if encounters {
                &encounters::COLUMNS
            } else {
                &case_actions::COLUMNS
            };
            let mut header = Header::new(Vec::new());
            if lines.next()?.is_some() {
                let text = utf8(&lines.buf).map_err(|_| {
                    FileError::new("the header line is not UTF-8; re-export the file as UTF-8")
                })?;
                header = Header::new(split_csv(&text).map_err(FileError::new)?);
                check_header(&header, required)?;
            }
            Kind::Ice { header, encounters }
        }
        Layout::Doj { public } => {
            let read = lines.next()?.is_some();
            let text = latin1(&lines.buf).trim_start_matches('\u{feff}').to_owned();
            match doj::File::from_file_name(name).expect("checked by accepts") {
                doj::File::Crosswalk => {
                    if public {
                        return Err(FileError::new("a crosswalk gives A-numbers, which the public layout has none of: leave it out with --public"));
                    }
                    let tabs = text.contains('\t');
                    let cells = if tabs {
                        split_tsv(&text)
                    } else {
                        split_csv(&text).map_err(FileError::new)?
                    };
                    let header =
                        Header::new(cells.into_iter().map(|c| c.trim().to_owned()).collect());
                    if read {
                        check_header(&header, &doj::CROSSWALK_COLUMNS)?;
                    }
                    Kind::Crosswalk { header, tabs }
                }
                doj::File::Table(table) => {
                    let header = tsv_header(&lines.buf);
                    if read {
                        check_header(&header, &table.required_columns())?;
                    }
                    Kind::Doj {
                        header,
                        text,
                        table,
                        public,
                    }
                }
            }
        }
    };
    Ok(kind)
}

fn plain(source: SourceLine, parsed: Parsed) -> Record {
    Record {
        source,
        parsed,
        realigned: false,
        link: None,
    }
}

/// Whether a line is a record: JSON Lines skip blank lines, the tables
/// skip empty ones.
fn is_record(kind: &Kind, buf: &[u8]) -> bool {
    match kind {
        Kind::Hhs => !buf.iter().all(u8::is_ascii_whitespace),
        _ => !buf.is_empty(),
    }
}

/// An EOIR header: tab-separated names, latin-1, an optional byte-order mark.
pub fn tsv_header(buf: &[u8]) -> Header {
    Header::new(
        split_tsv(latin1(buf).trim_start_matches('\u{feff}'))
            .into_iter()
            .map(|c| c.trim().to_owned())
            .collect(),
    )
}

/// Reads lines as bytes (EOIR files are latin-1), without the line end.
struct Lines<R> {
    reader: BufReader<R>,
    buf: Vec<u8>,
    number: u64,
    last_bytes: u64,
}

impl<R: Read> Lines<R> {
    /// Reads the next line into `buf`; `None` at the end.
    fn next(&mut self) -> Result<Option<()>, FileError> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| FileError::new(format!("read failed after line {}: {e}", self.number)))?;
        self.last_bytes = n as u64;
        if n == 0 {
            return Ok(None);
        }
        while self.buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            self.buf.pop();
        }
        self.number += 1;
        Ok(Some(()))
    }
}

fn check_header(header: &Header, required: &[&str]) -> Result<(), FileError> {
    let missing = header.missing(required);
    if missing.is_empty() {
        return Ok(());
    }
    Err(FileError::new(format!(
        "the header lacks column(s) {}; the first line must name the columns (see the README's layout of this file)",
        missing.join(", ")
    )))
}

/// The line as text, without a byte-order mark; `Err` if not UTF-8.
fn utf8(buf: &[u8]) -> Result<String, ()> {
    std::str::from_utf8(buf)
        .map(|s| s.trim_start_matches('\u{feff}').to_owned())
        .map_err(|_| ())
}

fn not_utf8() -> Reject {
    Reject::new(
        RejectCode::MalformedRow,
        None,
        "the line is not UTF-8 text; re-export the file as UTF-8",
    )
}
