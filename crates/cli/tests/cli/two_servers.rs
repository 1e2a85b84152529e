//! Two server processes on one PostgreSQL database, as a multi-instance deployment runs them:
//! what one of them changes, the other sees within a second, although each keeps what it read
//! about access tokens for a moment.

use std::time::Duration;

use crate::common::{Server, free_port, mas_cli, run, write_config};

const CLIENT_ID: &str = "01J5Z6K3QY8V0W9X2ABCDEFGH0";
const CLIENT_SECRET: &str = "a-client-secret";

/// A configuration for a server on `port` over the PostgreSQL database at `uri`, with one
/// confidential client of the client credentials grant.
fn config_for(dir: &std::path::Path, port: u16, uri: &str) -> std::path::PathBuf {
    let extra = format!(
        "database:\n  uri: \"{uri}\"\nclients:\n  - client_id: {CLIENT_ID}\n    client_auth_method: client_secret_post\n    client_secret: {CLIENT_SECRET}\n"
    );
    write_config(dir, port, &["oauth", "discovery", "health"], &extra)
}

/// Two server processes' directories and ports on the PostgreSQL database at `uri`, the
/// database migrated; `edit` changes each configuration's YAML first.
pub(crate) fn two_deployments(
    uri: &str,
    edit: impl Fn(String) -> String,
) -> ([tempfile::TempDir; 2], [u16; 2]) {
    let dirs = [
        tempfile::tempdir().expect("a temp dir"),
        tempfile::tempdir().expect("a temp dir"),
    ];
    let ports = [free_port(), free_port()];
    for (dir, port) in dirs.iter().zip(ports) {
        let config = config_for(dir.path(), port, uri);
        let yaml = edit(std::fs::read_to_string(&config).expect("readable"));
        std::fs::write(&config, yaml).expect("written");
    }
    run(mas_cli(dirs[0].path()).args(["database", "migrate"]));
    (dirs, ports)
}

async fn active(client: &reqwest::Client, server: &Server, token: &str) -> bool {
    let url = format!("{}/oauth2/introspect", server.base);
    let answer = crate::common::introspect(client, &url, "test-secret", token).await;
    answer["active"].as_bool().expect("an active field")
}

#[tokio::test]
async fn a_token_revoked_through_one_server_is_inactive_at_the_other_within_a_second() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a temp dir"),
        tempfile::tempdir().expect("a temp dir"),
    );
    let (port_a, port_b) = (free_port(), free_port());
    config_for(dir_a.path(), port_a, &uri);
    config_for(dir_b.path(), port_b, &uri);
    run(mas_cli(dir_a.path()).args(["database", "migrate"]));
    let server_a = Server::start(dir_a.path(), port_a, &["server"]).await;
    let server_b = Server::start(dir_b.path(), port_b, &["server", "--no-migrate"]).await;
    let client = reqwest::Client::new();
    let tokens: serde_json::Value = client
        .post(format!("{}/oauth2/token", server_a.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "urn:mas:graphql:*"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("JSON");
    let token = tokens["access_token"].as_str().expect("an access token");

    // Both read it, and keep what they read.
    assert!(active(&client, &server_a, token).await);
    assert!(active(&client, &server_b, token).await);
    let revoked = client
        .post(format!("{}/oauth2/revoke", server_a.base))
        .form(&[
            ("token", token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("revocation answers");
    assert!(revoked.status().is_success(), "{}", revoked.status());

    // The server that revoked it knows at once; the other within a second.
    assert!(!active(&client, &server_a, token).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(!active(&client, &server_b, token).await);

    drop((server_a, server_b));
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}

/// How many jobs of each kind the queue holds, and how many workers are registered.
async fn queue(database: &portcullis_storage_sql::Database) -> (Vec<(String, i64)>, i64) {
    let pool = database.postgres_pool().expect("PostgreSQL");
    let jobs: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, COUNT(*) FROM queue_jobs GROUP BY kind ORDER BY kind")
            .fetch_all(pool)
            .await
            .expect("the queue is readable");
    let workers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM queue_workers WHERE stopped_at IS NULL")
            .fetch_one(pool)
            .await
            .expect("the workers are readable");
    (jobs, workers)
}

#[tokio::test]
async fn two_servers_and_a_worker_queue_each_recurring_job_once() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    let (dirs, ports) = two_deployments(&uri, |yaml| yaml);
    // Two servers, each with its worker, and a worker on its own.
    let server_a = Server::start(dirs[0].path(), ports[0], &["server"]).await;
    let server_b = Server::start(dirs[1].path(), ports[1], &["server", "--no-migrate"]).await;
    let mut worker = mas_cli(dirs[1].path())
        .arg("worker")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the worker starts");

    let database = portcullis_storage_sql::testing::connect_postgres(&uri).await;
    // Bounded: three workers that never register fail the test instead of hanging it.
    let mut registered = 0;
    for _ in 0..300 {
        registered = queue(&database).await.1;
        if registered == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(registered, 3, "three workers registered");
    // Every worker has looked at the queue and its schedules a few times (once a second).
    tokio::time::sleep(Duration::from_secs(3)).await;

    let (jobs, _) = queue(&database).await;
    let recurring: Vec<_> = jobs
        .iter()
        .filter(|(kind, _)| kind.starts_with("cleanup-") || kind.starts_with("prune-"))
        .collect();
    assert_eq!(
        recurring.len(),
        portcullis_jobs::cleanup::SCHEDULES.len(),
        "every recurring job was queued: {jobs:?}"
    );
    assert!(
        recurring.iter().all(|(_, count)| *count == 1),
        "each once, not once per worker: {jobs:?}"
    );

    let _ = worker.kill();
    let _ = worker.wait();
    drop((server_a, server_b));
    database.close().await;
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}

#[tokio::test]
async fn two_servers_allow_together_the_sign_in_attempts_one_would() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    // The compat resource serves the Matrix login API; three sign-in attempts per address.
    let (dirs, ports) = two_deployments(&uri, |yaml| {
        yaml.replace(
            "        - name: oauth\n",
            "        - name: oauth\n        - name: compat\n",
        ) + "rate_limiting:\n  login:\n    per_ip:\n      burst: 3\n      per_second: 0.001\n"
    });
    let servers = [
        Server::start(dirs[0].path(), ports[0], &["server"]).await,
        Server::start(dirs[1].path(), ports[1], &["server", "--no-migrate"]).await,
    ];
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        let server = &servers[attempt % 2];
        let response = client
            .post(format!("{}/_matrix/client/v3/login", server.base))
            .json(&serde_json::json!({
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": "nobody"},
                "password": "a guess",
            }))
            .send()
            .await
            .expect("the login API answers");
        statuses.push(response.status().as_u16());
    }
    // Three wrong guesses from this address in all, then refusals from either server.
    assert_eq!(statuses, [403, 403, 403, 429, 429, 429]);

    drop(servers);
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}
