//! A fresh PostgreSQL database per replay, so every replay starts from an
//! empty store (the replay refuses a store that already holds views).

use crate::BenchError;

fn url_with_database(server: &str, database: &str) -> Result<String, BenchError> {
    let mut url = url::Url::parse(server)
        .map_err(|e| BenchError::Run(format!("--postgres {server}: {e}")))?;
    url.set_path(database);
    Ok(url.to_string())
}

async fn admin(server: &str, sql: &str) -> Result<(), BenchError> {
    let fail = |e: tokio_postgres::Error| {
        BenchError::Run(format!(
            "PostgreSQL at {server}: {e}; run scripts/setup.sh (it starts the cluster and creates the handoff role), or pass --postgres"
        ))
    };
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls)
        .await
        .map_err(fail)?;
    let task = tokio::spawn(connection);
    client.batch_execute(sql).await.map_err(fail)?;
    drop(client);
    let _ = task.await;
    Ok(())
}

/// Drops and creates `database` on `server`; returns its URL.
pub async fn fresh_database(server: &str, database: &str) -> Result<String, BenchError> {
    drop_database(server, database).await?;
    admin(server, &format!("CREATE DATABASE {database}")).await?;
    url_with_database(server, database)
}

pub async fn drop_database(server: &str, database: &str) -> Result<(), BenchError> {
    admin(
        server,
        &format!("SET client_min_messages = warning; DROP DATABASE IF EXISTS {database}"),
    )
    .await
}
