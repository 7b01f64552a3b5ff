//! A fresh PostgreSQL database per replay, so every replay starts from an
//! empty store (the replay refuses a store that already holds views).

use crate::BenchError;

fn url_with_database(server: &str, database: &str) -> Result<String, BenchError> {
    let mut url = url::Url::parse(server)
        .map_err(|e| BenchError::Run(format!("--postgres {server}: {e}")))?;
    url.set_path(database);
    Ok(url.to_string())
}

/// Runs each statement on its own (CREATE and DROP DATABASE refuse to run
/// inside the transaction a multi-statement batch makes).
async fn admin(server: &str, statements: &[&str]) -> Result<(), BenchError> {
    let fail = |e: tokio_postgres::Error| {
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_owned());
        BenchError::Run(format!(
            "PostgreSQL at {server}: {detail}; run scripts/setup.sh (it starts the cluster and creates the handoff role), or pass --postgres"
        ))
    };
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .map_err(fail)?;
    let task = tokio::spawn(connection);
    for sql in statements {
        client.batch_execute(sql).await.map_err(fail)?;
    }
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Drops and creates `database` on `server`; returns its URL.
pub async fn fresh_database(server: &str, database: &str) -> Result<String, BenchError> {
    drop_database(server, database).await?;
    admin(server, &[&format!("CREATE DATABASE {database}")]).await?;
    url_with_database(server, database)
}

pub async fn drop_database(server: &str, database: &str) -> Result<(), BenchError> {
    admin(
        server,
        &[
            "SET client_min_messages = warning",
            &format!("DROP DATABASE IF EXISTS {database}"),
        ],
    )
    .await
}
