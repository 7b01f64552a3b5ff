//! Which A-number each EOIR case has, and the rows waiting for a case that
//! has not arrived yet. A related EOIR export carries the A-number only on
//! `A_TblCase` (or in a crosswalk); a proceeding or schedule exported next
//! week must still find it, so the links live on disk, in the ingest
//! ledger's file (agency data: it gets the ledger's owner-only permissions
//! and never reaches a log). All cases are held in memory as numbers
//! (about 12 bytes a case) so a row's lookup costs no query.

use std::collections::HashMap;
use std::path::Path;

use handoff_events::ANumber;
use libsql::{params, Connection};

use crate::doj::{CaseLink, Table};
use crate::ledger::{open_private, LedgerError};
use crate::record::{Reject, RejectCode, SourceLine};

/// What the store knows of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// Its A-number.
    ANumber(ANumber),
    /// The case table has its row, with no A-number, and no crosswalk
    /// gives one.
    NoANumber,
}

/// What becomes of a row, given its case link and what the store knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Publish under this A-number.
    Key(ANumber),
    /// The case is not known yet: the row waits for it.
    Wait,
    Reject(Reject),
}

/// A change the resolution asks the store to remember.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learned {
    Nothing,
    ANumber(ANumber),
    NoANumber,
}

/// Decides one row. Pure: the store applies what is learned.
///
/// `trusted` is false for a row the parser rejected: such a row may still
/// tell its case's A-number (the link is a fact apart from a bad date), but
/// it never marks a case as having none.
pub fn resolve(known: Option<&Known>, link: &CaseLink, trusted: bool) -> (Resolution, Learned) {
    let conflict = |theirs: &ANumber| {
        let own = link.own.as_ref().expect("conflicts need the row's own");
        Resolution::Reject(Reject::new(
            RejectCode::ANumberConflict,
            Some("ALIEN_NBR"),
            format!(
                "ALIEN_NBR on this row is {own} but case IDNCASE {} has {theirs} (from an earlier case-table or crosswalk row); correct whichever is wrong and send this row again",
                link.idncase
            ),
        ))
    };
    let no_a_number = || {
        Resolution::Reject(Reject::new(
            RejectCode::NoANumber,
            Some("ALIEN_NBR"),
            format!(
                "case IDNCASE {} has no A-number anywhere: its A_TblCase row has an empty ALIEN_NBR and no crosswalk gives one; add ALIEN_NBR to the case row or ship a crosswalk (IDNCASE, ALIEN_NBR), then send this row again",
                link.idncase
            ),
        ))
    };
    match (known, &link.own) {
        (Some(Known::ANumber(theirs)), Some(own)) if own != theirs => {
            (conflict(theirs), Learned::Nothing)
        }
        (Some(Known::ANumber(theirs)), _) => (Resolution::Key(theirs.clone()), Learned::Nothing),
        (Some(Known::NoANumber), Some(own)) => {
            let learned = if link.gives {
                Learned::ANumber(own.clone())
            } else {
                Learned::Nothing
            };
            (Resolution::Key(own.clone()), learned)
        }
        (Some(Known::NoANumber), None) => (no_a_number(), Learned::Nothing),
        (None, Some(own)) => {
            let learned = if link.gives {
                Learned::ANumber(own.clone())
            } else {
                Learned::Nothing
            };
            (Resolution::Key(own.clone()), learned)
        }
        (None, None) if link.gives && trusted => (no_a_number(), Learned::NoANumber),
        (None, None) if link.gives => (no_a_number(), Learned::Nothing),
        (None, None) => (Resolution::Wait, Learned::Nothing),
    }
}

/// A row waiting for its case, as stored.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub id: i64,
    pub idncase: u64,
    pub table: Table,
    pub source: SourceLine,
    /// The row's header, tab-joined: enough to parse the row again.
    pub header: String,
    /// When it first waited (RFC 3339, UTC).
    pub since: String,
}

/// "No A-number" in the in-memory map (A-numbers are at most 999,999,999).
const NONE: u32 = u32::MAX;
/// Rows read per page when looking for waiting rows whose case arrived.
const PAGE: i64 = 1_000;

pub struct Links {
    path: String,
    conn: Connection,
    cases: HashMap<u64, u32>,
    /// Learned since the last `save`.
    new_cases: Vec<(u64, u32)>,
    parked: Vec<(u64, Table, SourceLine, String)>,
    done: Vec<i64>,
    /// Cases learned since the last look for waiting rows.
    learned_since_sweep: usize,
}

fn digits(a: &ANumber) -> u32 {
    a.as_str()[1..]
        .parse()
        .expect("an ANumber is A and nine digits")
}

fn from_digits(n: u32) -> ANumber {
    ANumber::parse(&format!("A{n:09}")).expect("stored digits form an A-number")
}

impl Links {
    pub async fn open(path: &Path) -> Result<Self, LedgerError> {
        let conn = open_private(path).await?;
        let mut links = Links {
            path: path.display().to_string(),
            conn,
            cases: HashMap::new(),
            new_cases: Vec::new(),
            parked: Vec::new(),
            done: Vec::new(),
            learned_since_sweep: 0,
        };
        links
            .conn
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS eoir_case (
                     idncase INTEGER PRIMARY KEY,
                     a_number INTEGER -- NULL: the case has no A-number
                 );
                 CREATE TABLE IF NOT EXISTS eoir_waiting (
                     id INTEGER PRIMARY KEY,
                     idncase INTEGER NOT NULL,
                     tbl TEXT NOT NULL,
                     file TEXT NOT NULL,
                     line INTEGER NOT NULL,
                     header TEXT NOT NULL,
                     raw TEXT NOT NULL,
                     since TEXT NOT NULL,
                     UNIQUE (tbl, raw)
                 );",
            )
            .await
            .map_err(|e| links.err(e))?;
        let mut rows = links
            .conn
            .query("SELECT idncase, a_number FROM eoir_case", ())
            .await
            .map_err(|e| links.err(e))?;
        while let Some(row) = rows.next().await.map_err(|e| links.err(e))? {
            let idncase: i64 = row.get(0).map_err(|e| links.err(e))?;
            let a_number: Option<i64> = row.get(1).map_err(|e| links.err(e))?;
            links
                .cases
                .insert(idncase as u64, a_number.map_or(NONE, |n| n as u32));
        }
        // Rows left waiting by an earlier run are looked at once per run:
        // their case may have been learned by a run that then stopped.
        if links.waiting_count().await? > 0 {
            links.learned_since_sweep = 1;
        }
        Ok(links)
    }

    fn err(&self, source: libsql::Error) -> LedgerError {
        LedgerError::new(&self.path, source)
    }

    pub fn known(&self, idncase: u64) -> Option<Known> {
        self.cases.get(&idncase).map(|&n| match n {
            NONE => Known::NoANumber,
            n => Known::ANumber(from_digits(n)),
        })
    }

    /// Decides a row and remembers what it teaches.
    pub fn resolve(&mut self, link: &CaseLink, trusted: bool) -> Resolution {
        let (resolution, learned) = resolve(self.known(link.idncase).as_ref(), link, trusted);
        let n = match learned {
            Learned::Nothing => return resolution,
            Learned::ANumber(a) => digits(&a),
            Learned::NoANumber => NONE,
        };
        self.cases.insert(link.idncase, n);
        self.new_cases.push((link.idncase, n));
        self.learned_since_sweep += 1;
        resolution
    }

    /// Keeps a row until its case arrives.
    pub fn park(&mut self, idncase: u64, table: Table, source: &SourceLine, header: String) {
        self.parked.push((idncase, table, source.clone(), header));
    }

    /// A waiting row has been published or rejected: forget it at the next
    /// save (after what became of it is on disk).
    pub fn forget(&mut self, id: i64) {
        self.done.push(id);
    }

    /// Whether cases were learned since the waiting rows were last looked at.
    pub fn has_news(&self) -> bool {
        self.learned_since_sweep > 0
    }

    /// Writes what was learned, parked and finished, in one transaction.
    pub async fn save(&mut self) -> Result<(), LedgerError> {
        if self.new_cases.is_empty() && self.parked.is_empty() && self.done.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction().await.map_err(|e| self.err(e))?;
        {
            let upsert = tx
                .prepare("INSERT INTO eoir_case (idncase, a_number) VALUES (?1, ?2) ON CONFLICT (idncase) DO UPDATE SET a_number = excluded.a_number")
                .await
                .map_err(|e| self.err(e))?;
            for &(idncase, n) in &self.new_cases {
                let a_number = (n != NONE).then_some(n as i64);
                upsert
                    .execute(params![idncase as i64, a_number])
                    .await
                    .map_err(|e| self.err(e))?;
                upsert.reset();
            }
            let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let park = tx
                .prepare("INSERT OR IGNORE INTO eoir_waiting (idncase, tbl, file, line, header, raw, since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
                .await
                .map_err(|e| self.err(e))?;
            for (idncase, table, source, header) in &self.parked {
                park.execute(params![
                    *idncase as i64,
                    table.name(),
                    source.file.as_str(),
                    source.line as i64,
                    header.as_str(),
                    source.raw.as_str(),
                    since.as_str()
                ])
                .await
                .map_err(|e| self.err(e))?;
                park.reset();
            }
            let forget = tx
                .prepare("DELETE FROM eoir_waiting WHERE id = ?1")
                .await
                .map_err(|e| self.err(e))?;
            for &id in &self.done {
                forget.execute(params![id]).await.map_err(|e| self.err(e))?;
                forget.reset();
            }
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        self.new_cases.clear();
        self.parked.clear();
        self.done.clear();
        Ok(())
    }

    /// Waiting rows after `after` (by id), a page at a time.
    pub async fn waiting(&self, after: i64) -> Result<Vec<Waiting>, LedgerError> {
        let mut rows = self
            .conn
            .query(
                "SELECT id, idncase, tbl, file, line, header, raw, since FROM eoir_waiting WHERE id > ?1 ORDER BY id LIMIT ?2",
                params![after, PAGE],
            )
            .await
            .map_err(|e| self.err(e))?;
        let mut page = Vec::new();
        while let Some(row) = rows.next().await.map_err(|e| self.err(e))? {
            let get_text = |i| row.get::<String>(i).map_err(|e| self.err(e));
            let id: i64 = row.get(0).map_err(|e| self.err(e))?;
            let idncase = row.get::<i64>(1).map_err(|e| self.err(e))? as u64;
            let table = Table::from_name(&get_text(2)?);
            let waiting = Waiting {
                id,
                idncase,
                table: table.unwrap_or(Table::Schedule),
                source: SourceLine {
                    file: get_text(3)?,
                    line: row.get::<i64>(4).map_err(|e| self.err(e))? as u64,
                    raw: get_text(6)?,
                },
                header: get_text(5)?,
                since: get_text(7)?,
            };
            page.push(waiting);
        }
        Ok(page)
    }

    pub fn sweep_started(&mut self) {
        self.learned_since_sweep = 0;
    }

    /// How many rows wait, in all.
    pub async fn waiting_count(&self) -> Result<u64, LedgerError> {
        let mut rows = self
            .conn
            .query("SELECT count(*) FROM eoir_waiting", ())
            .await
            .map_err(|e| self.err(e))?;
        let row = rows.next().await.map_err(|e| self.err(e))?;
        Ok(row.map_or(0, |r| r.get::<i64>(0).unwrap_or(0)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> ANumber {
        ANumber::parse(s).unwrap()
    }

    fn link(own: Option<&str>, gives: bool) -> CaseLink {
        CaseLink {
            idncase: 7,
            own: own.map(a),
            gives,
        }
    }

    #[test]
    fn a_child_row_of_an_unknown_case_waits_unless_it_has_its_own() {
        assert_eq!(resolve(None, &link(None, false), true).0, Resolution::Wait);
        assert_eq!(
            resolve(None, &link(Some("A012345678"), false), true),
            (Resolution::Key(a("A012345678")), Learned::Nothing)
        );
    }

    #[test]
    fn a_child_row_takes_its_cases_a_number_and_a_disagreement_is_rejected() {
        let known = Known::ANumber(a("A012345678"));
        assert_eq!(
            resolve(Some(&known), &link(None, false), true).0,
            Resolution::Key(a("A012345678"))
        );
        let (Resolution::Reject(r), _) =
            resolve(Some(&known), &link(Some("A099999999"), false), true)
        else {
            panic!("a disagreement must be rejected");
        };
        assert_eq!(r.code, RejectCode::ANumberConflict);
        assert!(
            r.reason.contains("A099999999") && r.reason.contains("A012345678"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn a_case_row_teaches_its_a_number_or_that_it_has_none() {
        assert_eq!(
            resolve(None, &link(Some("A012345678"), true), true).1,
            Learned::ANumber(a("A012345678"))
        );
        let (resolution, learned) = resolve(None, &link(None, true), true);
        assert!(matches!(resolution, Resolution::Reject(ref r) if r.code == RejectCode::NoANumber));
        assert_eq!(learned, Learned::NoANumber);
        // A row the parser rejected never marks a case as having none.
        assert_eq!(resolve(None, &link(None, true), false).1, Learned::Nothing);
        // A crosswalk row gives the A-number a case row lacked.
        assert_eq!(
            resolve(
                Some(&Known::NoANumber),
                &link(Some("A012345678"), true),
                true
            )
            .1,
            Learned::ANumber(a("A012345678"))
        );
    }

    #[test]
    fn a_child_row_of_a_case_without_an_a_number_is_rejected() {
        let (resolution, _) = resolve(Some(&Known::NoANumber), &link(None, false), true);
        assert!(matches!(resolution, Resolution::Reject(ref r) if r.code == RejectCode::NoANumber));
    }

    #[test]
    fn digits_round_trip() {
        for s in ["A000000001", "A999999999", "A012345678"] {
            assert_eq!(from_digits(digits(&a(s))), a(s));
        }
    }
}
