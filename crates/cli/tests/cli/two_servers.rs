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

async fn active(client: &reqwest::Client, server: &Server, token: &str) -> bool {
    let answer: serde_json::Value = client
        .post(format!("{}/oauth2/introspect", server.base))
        .bearer_auth("test-secret")
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspection answers")
        .json()
        .await
        .expect("JSON");
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
