//! PostgreSQL cutting the server's connections: requests meanwhile fail fast with 503 and a
//! reason, and the server recovers by itself.

use std::time::Duration;

use crate::common::{Server, free_port, mas_cli, run, write_config};

const CLIENT_ID: &str = "01J5Z6K3QY8V0W9X2ABCDEFGH0";
const CLIENT_SECRET: &str = "a-client-secret";

async fn token_request(client: &reqwest::Client, server: &Server) -> (u16, serde_json::Value) {
    let response = client
        .post(format!("{}/oauth2/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "urn:mas:graphql:*"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("the token endpoint answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn cut_connections_give_503s_then_the_server_recovers_by_itself() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = free_port();
    let extra = format!(
        "database:\n  uri: \"{uri}\"\nclients:\n  - client_id: {CLIENT_ID}\n    client_auth_method: client_secret_post\n    client_secret: {CLIENT_SECRET}\n"
    );
    write_config(dir.path(), port, &["oauth", "health"], &extra);
    run(mas_cli(dir.path()).args(["database", "migrate"]));
    let server = Server::start(dir.path(), port, &["server", "--no-worker"]).await;
    let client = reqwest::Client::new();
    assert_eq!(token_request(&client, &server).await.0, 200);

    // PostgreSQL ends every connection of the server, as a restart or a failover does.
    let admin = portcullis_storage_sql::testing::connect_postgres(&uri).await;
    let pool = admin.postgres_pool().expect("PostgreSQL");
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(pool)
    .await
    .expect("the server's connections end");
    assert!(!ended.is_empty(), "the server held connections");

    // Bounded: a server that never recovers fails the test rather than hanging it.
    let mut refusals = Vec::new();
    let mut recovered = false;
    for _ in 0..50 {
        let (status, body) = token_request(&client, &server).await;
        if status == 200 {
            recovered = true;
            break;
        }
        refusals.push((status, body));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(recovered, "the server reconnected by itself: {refusals:?}");
    // The pool's idle connections were cut: the requests that drew one were refused.
    assert!(!refusals.is_empty(), "the cut connections were noticed");
    assert!(
        refusals
            .iter()
            .all(|(status, body)| *status == 503 && body["error"] == "temporarily_unavailable"),
        "a lost connection is a 503 the client may retry, never a 500: {refusals:?}"
    );
    let (_, output) = server.stop();
    assert!(!output.contains("panicked"), "{output}");

    admin.close().await;
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}
