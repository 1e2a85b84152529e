//! Connection failures, which must say what failed without leaking secrets.

use std::time::Duration;

use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions, PostgresOptions};

fn quick_pool() -> PoolOptions {
    PoolOptions {
        connect_timeout: Duration::from_secs(5),
        ..PoolOptions::default()
    }
}

#[tokio::test]
async fn an_unreachable_postgres_error_names_the_target_but_not_the_password() {
    // Port 1 on the loopback interface: nothing listens there, the refusal is immediate.
    let options = ConnectOptions::Postgres(PostgresOptions {
        host: Some("127.0.0.1".to_owned()),
        port: Some(1),
        username: Some("mas".to_owned()),
        password: Some("hunter2-secret".to_owned()),
        database: Some("mas_db".to_owned()),
        ..PostgresOptions::default()
    });

    let error = Database::connect(&options, &quick_pool())
        .await
        .expect_err("nothing listens on port 1");

    let message = error.to_string();
    assert!(message.contains("PostgreSQL"), "{message}");
    assert!(message.contains("refused"), "the cause is kept: {message}");
    assert!(message.contains("mas@127.0.0.1:1/mas_db"), "{message}");
    assert!(!message.contains("hunter2-secret"), "{message}");
    assert!(!format!("{options:?}").contains("hunter2-secret"));
}

#[tokio::test]
async fn an_unknown_ssl_mode_is_refused_with_the_accepted_values() {
    let options = ConnectOptions::Postgres(PostgresOptions {
        ssl_mode: Some("sometimes".to_owned()),
        ..PostgresOptions::default()
    });

    let error = Database::connect(&options, &quick_pool())
        .await
        .expect_err("the mode is invalid");

    assert!(error.to_string().contains("verify-full"), "{error}");
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_directory_error_names_the_file() {
    let directory = tempfile::tempdir().expect("a temporary directory can be created");
    let path = directory.path().join("missing").join("portcullis.sqlite3");

    let error = Database::connect(
        &ConnectOptions::Sqlite { path: path.clone() },
        &quick_pool(),
    )
    .await
    .expect_err("the directory does not exist");

    let message = error.to_string();
    assert!(message.contains("SQLite"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[tokio::test]
async fn a_missing_sqlite_file_is_created() {
    let directory = tempfile::tempdir().expect("a temporary directory can be created");
    let path = directory.path().join("new.sqlite3");

    let db = Database::connect(
        &ConnectOptions::Sqlite { path: path.clone() },
        &quick_pool(),
    )
    .await
    .expect("the file is created");

    assert!(path.exists());
    assert_eq!(db.backend_name(), "SQLite");
    db.close().await;
}
