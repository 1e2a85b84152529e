//! Fresh databases for each test, on both backends.
//!
//! SQLite: a file in a temporary directory. PostgreSQL: a new database on the server at
//! `PORTCULLIS_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`),
//! dropped afterwards (best effort). When that server cannot be reached, PostgreSQL tests print
//! `skipping PostgreSQL: <why>` and pass, unless `CI` is set, in which case they fail.

use std::{future::Future, path::PathBuf, sync::Arc, time::Duration};

use portcullis_storage::BoxRepository;
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions, PostgresOptions};
use sqlx::{Connection, PgConnection};
use tokio::{sync::Barrier, task::JoinError};

const POSTGRES_URL_VARIABLE: &str = "PORTCULLIS_TEST_POSTGRES_URL";
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Declares a scenario that runs on both backends.
///
/// `backend_test!(async fn name(db: Database) { ... })` gets a migrated database;
/// `backend_test!(unmigrated async fn name(db: Database) { ... })` an empty one.
macro_rules! backend_test {
    (async fn $name:ident($db:ident: Database) $body:block) => {
        backend_test!(@define true, $name, $db, $body);
    };
    (unmigrated async fn $name:ident($db:ident: Database) $body:block) => {
        backend_test!(@define false, $name, $db, $body);
    };
    (@define $migrated:literal, $name:ident, $db:ident, $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($db: portcullis_storage_sql::Database) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                crate::support::run_on_sqlite($migrated, scenario).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                crate::support::run_on_postgres($migrated, scenario).await;
            }
        }
    };
}

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

/// Starts a unit of work.
pub async fn repo(db: &Database) -> BoxRepository {
    db.transaction().await.expect("a transaction starts")
}

/// Commits a unit of work.
pub async fn commit(repo: BoxRepository) {
    repo.commit().await.expect("the transaction commits");
}

/// How many times the concurrency scenarios race.
pub const ROUNDS: u32 = 5;

/// Starts `contenders` tasks running `contender(db, index)` at the same moment, and counts
/// those that report a win.
pub async fn race<F, Fut>(db: &Database, contenders: usize, contender: F) -> usize
where
    F: Fn(Database, usize) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(contenders));
    let tasks: Vec<_> = (0..contenders)
        .map(|index| {
            let barrier = Arc::clone(&barrier);
            let attempt = contender(db.clone(), index);
            tokio::spawn(async move {
                barrier.wait().await;
                attempt.await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.expect("a contender finishes") {
            winners += 1;
        }
    }
    winners
}

/// Every value of every row of `table`, as text, to look for what must not be stored.
pub async fn table_as_text(db: &Database, table: &str) -> Vec<String> {
    if let Some(pool) = db.postgres_pool() {
        return sqlx::query_scalar(&format!("SELECT t::text FROM {table} AS t"))
            .fetch_all(pool)
            .await
            .expect("the table can be read");
    }
    let pool = db
        .sqlite_pool()
        .expect("a database is SQLite or PostgreSQL");
    let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("the table's columns can be listed");
    let row = columns
        .iter()
        .map(|column| format!("COALESCE(CAST({column} AS TEXT), '')"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    sqlx::query_scalar(&format!("SELECT {row} FROM {table}"))
        .fetch_all(pool)
        .await
        .expect("the table can be read")
}
