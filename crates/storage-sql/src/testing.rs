//! Fresh databases for tests, on both backends (feature `testing`).
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new database on the server at
//! `PORTCULLIS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped afterwards (best effort). When that server cannot be reached, PostgreSQL tests print
//! `skipping PostgreSQL: <why>` and pass, unless `CI` is set, in which case they fail.

use std::{future::Future, path::PathBuf, time::Duration};

use sqlx::{Connection, PgConnection};
use tokio::task::JoinError;

use crate::{ConnectOptions, Database, PoolOptions, PostgresOptions};

const POSTGRES_URL_VARIABLE: &str = "PORTCULLIS_TEST_POSTGRES_URL";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn pool_options() -> PoolOptions {
    PoolOptions {
        min_connections: 0,
        // Enough for the concurrency scenarios to really race.
        max_connections: 20,
        connect_timeout: Duration::from_secs(30),
        idle_timeout: None,
        max_lifetime: None,
    }
}

/// Runs `scenario` on a fresh SQLite database.
pub async fn run_on_sqlite<F, Fut>(migrated: bool, scenario: F)
where
    F: FnOnce(Database) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let directory = tempfile::tempdir().expect("a temporary directory can be created");
    let path: PathBuf = directory.path().join("portcullis.sqlite3");
    let db = Database::connect(&ConnectOptions::Sqlite { path }, &pool_options())
        .await
        .expect("a SQLite file in a temporary directory opens");
    let outcome = run(db, migrated, scenario).await;
    drop(directory);
    propagate(outcome);
}

/// Runs `scenario` on a fresh PostgreSQL database, or skips (see the module docs).
pub async fn run_on_postgres<F, Fut>(migrated: bool, scenario: F)
where
    F: FnOnce(Database) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let connection = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(&url));
    let mut admin = match connection.await {
        Ok(Ok(admin)) => admin,
        Ok(Err(error)) => return skip_postgres(&format!("cannot connect ({error})")),
        Err(_) => return skip_postgres("no answer within 10 seconds"),
    };

    let name = format!(
        "portcullis_test_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("the test server lets us create databases");

    let options = ConnectOptions::Postgres(PostgresOptions {
        uri: Some(url),
        database: Some(name.clone()),
        ..PostgresOptions::default()
    });
    let db = Database::connect(&options, &pool_options())
        .await
        .expect("the database just created accepts connections");
    let outcome = run(db, migrated, scenario).await;

    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(error) = sqlx::query(&drop).execute(&mut admin).await {
        eprintln!("could not drop the test database {name}: {error}");
    }
    propagate(outcome);
}

fn skip_postgres(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "PostgreSQL is required when CI is set, but {why}; set {POSTGRES_URL_VARIABLE}"
    );
    eprintln!("skipping PostgreSQL: {why}");
}

/// Runs the scenario in its own task, so that a failing assertion still lets the caller
/// close and drop the database before [`propagate`] fails the test.
async fn run<F, Fut>(db: Database, migrated: bool, scenario: F) -> Result<(), JoinError>
where
    F: FnOnce(Database) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let scenario_db = db.clone();
    let outcome = tokio::spawn(async move {
        if migrated {
            scenario_db.migrate().await.expect("the migrations apply");
        }
        scenario(scenario_db).await;
    })
    .await;
    db.close().await;
    outcome
}

/// Fails the test with the scenario's own panic, if it had one.
fn propagate(outcome: Result<(), JoinError>) {
    if let Err(error) = outcome {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("the scenario did not finish: {error}");
    }
}

/// A pool on the PostgreSQL database at `uri` (from [`create_postgres_database`]), for a test
/// to look at what server processes wrote, or to stand for one more process.
///
/// # Panics
/// When the database does not answer.
pub async fn connect_postgres(uri: &str) -> Database {
    let options = ConnectOptions::Postgres(PostgresOptions {
        uri: Some(uri.to_owned()),
        ..PostgresOptions::default()
    });
    Database::connect(&options, &pool_options())
        .await
        .expect("the test database answers")
}

/// A fresh, empty PostgreSQL database for a test that runs server processes on it: its
/// connection URI and its name (for [`drop_postgres_database`]); `None` when the server cannot
/// be reached (see the module docs: a failure under `CI`).
pub async fn create_postgres_database() -> Option<(String, String)> {
    let url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let connection = tokio::time::timeout(Duration::from_secs(10), PgConnection::connect(&url));
    let mut admin = match connection.await {
        Ok(Ok(admin)) => admin,
        Ok(Err(error)) => {
            skip_postgres(&format!("cannot connect ({error})"));
            return None;
        }
        Err(_) => {
            skip_postgres("no answer within 10 seconds");
            return None;
        }
    };
    let name = format!(
        "portcullis_test_{}",
        ulid::Ulid::new().to_string().to_lowercase()
    );
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("the test server lets us create databases");
    let mut uri = url::Url::parse(&url).expect("a PostgreSQL URL");
    uri.set_path(&name);
    Some((uri.to_string(), name))
}

/// Drops a database [`create_postgres_database`] made (best effort).
pub async fn drop_postgres_database(name: &str) {
    let url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    if let Ok(mut admin) = PgConnection::connect(&url).await {
        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        if let Err(error) = sqlx::query(&drop).execute(&mut admin).await {
            eprintln!("could not drop the test database {name}: {error}");
        }
    }
}
