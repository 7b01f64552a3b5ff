//! The views' stores for tests: a SQLite file in a temporary directory, or
//! a fresh PostgreSQL database on the local server (`scripts/setup.sh`
//! starts it and creates the `handoff` role), dropped when the test ends.
//! `HANDOFF_TEST_POSTGRES` names another server's maintenance database.

use std::sync::atomic::{AtomicU32, Ordering};

use handoff_views::StoreLocation;
use tempfile::TempDir;

const DEFAULT_SERVER: &str = "postgres://handoff:handoff@127.0.0.1:5432/postgres";

pub enum TestStore {
    Sqlite(TempDir),
    Postgres { server: String, database: String },
}

/// The PostgreSQL server's maintenance database the tests create on.
pub fn server() -> String {
    std::env::var("HANDOFF_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// Runs one statement on the server's maintenance database.
fn admin(server: &str, sql: &str) {
    let (server, sql) = (server.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("cannot reach PostgreSQL at {server} ({e}); run scripts/setup.sh")
                    });
                tokio::spawn(connection);
                client
                    .batch_execute(&sql)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
            })
    })
    .join()
    .expect("admin thread");
}

/// Drops `database` while sessions may remain in it: a `handoff views`
/// killed with SIGKILL leaves its sessions open until the server notices.
/// Not `DROP DATABASE ... WITH (FORCE)`: it checks the role of every
/// session in the database first, and refuses a role that is neither
/// superuser nor in `pg_signal_backend` as soon as an autovacuum worker
/// (which has no role) is there, as one was after `views_crash`'s writes.
/// The test role ends its own sessions instead (waiting up to 10 s for
/// each), and a plain DROP stops autovacuum workers itself.
fn drop_database(server: &str, database: &str) {
    // Two statements, not one string: DROP DATABASE cannot run in the
    // transaction a multi-statement query is.
    admin(
        server,
        &format!(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity \
             WHERE datname = '{database}' AND usename = current_user AND pid <> pg_backend_pid()"
        ),
    );
    admin(server, &format!("DROP DATABASE IF EXISTS {database}"));
}

impl TestStore {
    pub fn sqlite() -> TestStore {
        TestStore::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    pub fn postgres() -> TestStore {
        static N: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "handoff_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let server = server();
        drop_database(&server, &database);
        admin(&server, &format!("CREATE DATABASE {database}"));
        TestStore::Postgres { server, database }
    }

    pub fn location(&self) -> StoreLocation {
        match self {
            TestStore::Sqlite(dir) => StoreLocation::Sqlite(dir.path().join("views.db")),
            TestStore::Postgres { server, database } => {
                let mut url = url::Url::parse(server).expect("server URL");
                url.set_path(database);
                StoreLocation::Postgres(url.to_string())
            }
        }
    }

    /// The location as `--store` takes it.
    pub fn arg(&self) -> String {
        match self.location() {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => url,
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let TestStore::Postgres { server, database } = self {
            drop_database(server, database);
        }
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL:
/// `both_stores!(name, body_fn)` defines `name::sqlite` and
/// `name::postgres`, each calling `body_fn(TestStore)`.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::stores::TestStore::sqlite()).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::stores::TestStore::postgres()).await
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session left open in the store's database, as a killed process
    /// leaves it, does not stop the store from being dropped, and it is
    /// ended by the drop.
    #[test]
    fn a_store_with_a_session_left_open_is_dropped() {
        let store = TestStore::postgres();
        let url = store.arg();
        let TestStore::Postgres { server, database } = &store else {
            unreachable!("a PostgreSQL store")
        };
        let (server, database) = (server.clone(), database.clone());
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let left_open = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("a session in the store's database");
            let connection = tokio::spawn(connection);
            client
                .batch_execute("CREATE TABLE t (x int); BEGIN; INSERT INTO t VALUES (1)")
                .await
                .expect("a transaction left open");
            (client, connection)
        });
        drop(store);
        let (_client, connection) = left_open;
        runtime.block_on(async {
            let ended = connection.await.expect("the connection task");
            assert!(ended.is_err(), "the session was ended by the drop");
        });
        let count = runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
                .await
                .expect("the maintenance database");
            tokio::spawn(connection);
            client
                .query_one(
                    "SELECT count(*) FROM pg_database WHERE datname = $1",
                    &[&database],
                )
                .await
                .expect("pg_database")
                .get::<_, i64>(0)
        });
        assert_eq!(count, 0, "{database} is gone");
    }
}
