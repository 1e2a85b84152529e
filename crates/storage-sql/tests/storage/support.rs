//! Each scenario on both backends, over the fresh databases of
//! `portcullis_storage_sql::testing`, and what the scenarios share.

use std::{future::Future, sync::Arc};

use portcullis_storage::BoxRepository;
use portcullis_storage_sql::Database;
use tokio::sync::Barrier;

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
                portcullis_storage_sql::testing::run_on_sqlite($migrated, scenario).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                portcullis_storage_sql::testing::run_on_postgres($migrated, scenario).await;
            }
        }
    };
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
