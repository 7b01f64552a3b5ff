//! Where a service keeps its state: SQLite (a file, the embedded default)
//! or PostgreSQL (`postgres://...`, shared by several instances). A
//! service writes its tables once, in SQLite's words, and one set of
//! statements with `?N` placeholders; the store translates both for
//! PostgreSQL. Only connecting, the transaction start and the per-key
//! locks differ between the engines.

pub mod offsets;
mod postgres;
mod sqlite;
mod value;

use std::path::PathBuf;

pub use value::Value;

pub use postgres::PgDb;
pub use sqlite::SqliteDb;

/// A store location as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://` or `postgresql://` URLs name PostgreSQL; anything
    /// else (optionally `sqlite:`-prefixed) is a SQLite file path.
    pub fn parse(text: &str) -> StoreLocation {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            StoreLocation::Postgres(text.to_owned())
        } else {
            StoreLocation::Sqlite(PathBuf::from(text.strip_prefix("sqlite:").unwrap_or(text)))
        }
    }

    /// For messages: the path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(p) => p.display().to_string(),
            StoreLocation::Postgres(url) => match url::Url::parse(url) {
                Ok(mut u) => {
                    if u.password().is_some() {
                        let _ = u.set_password(Some("***"));
                    }
                    u.to_string()
                }
                Err(_) => "postgres://(unparsable URL)".to_owned(),
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("views store {location}: {message}")]
pub struct StoreError {
    pub location: String,
    pub message: String,
}

pub enum Store {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Store {
    /// Connects and creates the tables if they are missing. `tables` is
    /// SQLite DDL (`INTEGER`, `BLOB`, `INTEGER PRIMARY KEY AUTOINCREMENT`).
    pub async fn open(location: &StoreLocation, tables: &str) -> Result<Store, StoreError> {
        let err = |message: String| StoreError {
            location: location.describe(),
            message,
        };
        match location {
            StoreLocation::Sqlite(path) => {
                let db = SqliteDb::open(path).await.map_err(|e| err(e.to_string()))?;
                db.batch(&sqlite_tables(tables))
                    .await
                    .map_err(|e| err(e.to_string()))?;
                Ok(Store::Sqlite(db))
            }
            StoreLocation::Postgres(url) => {
                let db = PgDb::open(url).await.map_err(|e| err(pg_message(&e)))?;
                // Instances starting together would race on CREATE TABLE.
                // The statements run as one implicit transaction; a lock
                // held until it commits lets one instance at a time in.
                let ddl = format!(
                    "SELECT pg_advisory_xact_lock(4242); {}",
                    postgres_tables(tables)
                );
                db.batch(&ddl).await.map_err(|e| err(pg_message(&e)))?;
                Ok(Store::Postgres(db))
            }
        }
    }

    pub fn location(&self) -> StoreLocation {
        match self {
            Store::Sqlite(db) => StoreLocation::Sqlite(db.path.clone()),
            Store::Postgres(db) => StoreLocation::Postgres(db.url.clone()),
        }
    }

    fn error(&self, message: String) -> StoreError {
        StoreError {
            location: self.location().describe(),
            message,
        }
    }

    pub async fn execute(&self, sql: &str, params: Vec<Value>) -> Result<u64, StoreError> {
        match self {
            Store::Sqlite(db) => db
                .execute(sql, params)
                .await
                .map_err(|e| self.error(format!("{e} (in: {sql})"))),
            Store::Postgres(db) => db
                .execute(sql, params)
                .await
                .map_err(|e| self.error(format!("{} (in: {sql})", pg_message(&e)))),
        }
    }

    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        match self {
            Store::Sqlite(db) => db
                .query(sql, params)
                .await
                .map_err(|e| self.error(format!("{e} (in: {sql})"))),
            Store::Postgres(db) => db
                .query(sql, params)
                .await
                .map_err(|e| self.error(format!("{} (in: {sql})", pg_message(&e)))),
        }
    }

    /// Starts a write transaction. On SQLite it takes the write lock now,
    /// not at the first write, so the batch never fails half way on a lock.
    pub async fn begin(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(db) => db.begin().await.map_err(|e| self.error(e.to_string())),
            Store::Postgres(db) => db
                .batch("BEGIN")
                .await
                .map_err(|e| self.error(pg_message(&e))),
        }
    }

    pub async fn commit(&self) -> Result<(), StoreError> {
        self.end("COMMIT").await
    }

    pub async fn rollback(&self) {
        let _ = self.end("ROLLBACK").await;
    }

    async fn end(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(db) => db.end(sql).await.map_err(|e| self.error(e.to_string())),
            Store::Postgres(_) => self.batch(sql).await,
        }
    }

    /// Runs `work` in one transaction: committed if it succeeds, rolled
    /// back if it fails.
    pub async fn in_transaction<T, E: From<StoreError>>(
        &self,
        work: impl AsyncFnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.begin().await?;
        match work(self).await {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    async fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(db) => db.batch(sql).await.map_err(|e| self.error(e.to_string())),
            Store::Postgres(db) => db.batch(sql).await.map_err(|e| self.error(pg_message(&e))),
        }
    }

    /// Serialises writers of the same keys (pass them sorted, so two
    /// writers never deadlock) until the transaction ends. SQLite's single
    /// writer needs nothing more.
    pub async fn lock_keys(&self, keys: &[String]) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(db) => db
                .lock_keys(keys)
                .await
                .map_err(|e| self.error(pg_message(&e))),
        }
    }
}

/// The tables for PostgreSQL: 64-bit integers, `bytea`, sequences.
pub fn postgres_tables(sqlite_ddl: &str) -> String {
    sqlite_ddl
        .replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
        .replace("INTEGER", "BIGINT")
        .replace("BLOB", "BYTEA")
}

/// The tables for SQLite, with write-ahead logging so readers never wait
/// for the writer.
fn sqlite_tables(ddl: &str) -> String {
    format!("PRAGMA journal_mode=WAL;\n{ddl}")
}

/// tokio-postgres's Display for server errors is just "db error"; the
/// server's own message is what says what is wrong.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_postgres_schema_keeps_every_table_and_column() {
        let ddl =
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, b BLOB);";
        assert_eq!(
            super::postgres_tables(ddl),
            "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL, b BYTEA);"
        );
    }

    #[test]
    fn a_postgres_url_is_postgres_and_its_password_is_never_shown() {
        let pg = super::StoreLocation::parse("postgres://u:secret@h/db");
        assert!(matches!(pg, super::StoreLocation::Postgres(_)));
        assert!(!pg.describe().contains("secret"), "{}", pg.describe());
        assert!(matches!(
            super::StoreLocation::parse("sqlite:data/v.db"),
            super::StoreLocation::Sqlite(p) if p.to_str() == Some("data/v.db")
        ));
    }
}
