//! PostgreSQL cutting the server's connections, or stopped for a while: requests meanwhile fail
//! fast with 503 and a reason, and the server recovers by itself.

use std::{process::Command, time::Duration};

use crate::common::{Server, free_port, mas_cli, run, stdout, write_config};

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

/// A PostgreSQL server of the test's own (`initdb` in a temporary directory), which the test
/// may stop and start: the shared test server must stay up for the other tests.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    /// `None` when PostgreSQL's server programs are not installed (a failure under `CI`).
    fn create() -> Option<Self> {
        if Command::new("initdb").arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "initdb is required when CI is set"
            );
            eprintln!("skipping: PostgreSQL's initdb is not installed");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        let cluster = Self { dir, port };
        // PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`.
        if Self::as_root() {
            run(Command::new("chown")
                .args(["postgres:"])
                .arg(cluster.dir.path()));
        }
        let data = cluster.data();
        run(cluster
            .command("initdb")
            .args(["--auth=trust", "--username=postgres", "--no-sync", "-D"])
            .arg(&data));
        Some(cluster)
    }

    fn as_root() -> bool {
        stdout(&run(Command::new("id").arg("-u"))).trim() == "0"
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        if Self::as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", program]);
            command
        } else {
            Command::new(program)
        }
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(self
            .command("pg_ctl")
            .args(["start", "--wait", "--silent", "-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(self.data()));
    }

    fn stop(&self) {
        run(self
            .command("pg_ctl")
            .args(["stop", "--wait", "--silent", "-m", "fast", "-D"])
            .arg(self.data()));
    }

    fn uri(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["stop", "--silent", "-m", "immediate", "-D"])
            .arg(self.data())
            .output();
    }
}

#[tokio::test]
async fn while_postgresql_is_down_requests_get_503_at_once_and_the_server_recovers_when_it_is_back()
{
    let Some(cluster) = Cluster::create() else {
        return;
    };
    cluster.start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = free_port();
    // A long connection timeout: a request that waited for it would outlast the client's.
    let extra = format!(
        "database:\n  uri: \"{}\"\n  connect_timeout: 120\nclients:\n  - client_id: {CLIENT_ID}\n    client_auth_method: client_secret_post\n    client_secret: {CLIENT_SECRET}\n",
        cluster.uri()
    );
    write_config(dir.path(), port, &["oauth", "health"], &extra);
    run(mas_cli(dir.path()).args(["database", "migrate"]));
    let server = Server::start(dir.path(), port, &["server"]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client");
    let (status, before) = token_request(&client, &server).await;
    assert_eq!(status, 200, "{before}");

    cluster.stop();
    // Every request while it is down is answered, with a 503 the client may retry, long
    // before the pool's 120 s connection timeout (the client gives up after 20 s).
    for _ in 0..20 {
        let (status, body) = token_request(&client, &server).await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    }
    // Introspection, by a client and by the homeserver (its shared secret): 503 too.
    let token = before["access_token"].as_str().unwrap_or_default();
    let by_client = client
        .post(format!("{}/oauth2/introspect", server.base))
        .form(&[
            ("token", token),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("introspection answers");
    assert_eq!(by_client.status(), 503);
    let by_homeserver = client
        .post(format!("{}/oauth2/introspect", server.base))
        .bearer_auth("test-secret")
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspection answers");
    assert_eq!(by_homeserver.status(), 503);

    cluster.start();
    let mut recovered = None;
    for _ in 0..100 {
        let (status, body) = token_request(&client, &server).await;
        if status == 200 {
            recovered = Some(body);
            break;
        }
        assert_eq!(status, 503, "{body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered.is_some(), "the server reconnected by itself");
    let url = format!("{}/oauth2/introspect", server.base);
    let active = crate::common::introspect(&client, &url, "test-secret", token).await;
    assert_eq!(
        active["active"], true,
        "the token from before the outage: {active}"
    );
    let (_, output) = server.stop();
    assert!(!output.contains("panicked"), "{output}");
    assert!(
        output.contains("the database is out of reach"),
        "the outage is logged: {output}"
    );
    assert!(
        output.contains("the database answers again"),
        "and its end: {output}"
    );
    // Logged once, not once per refused request.
    assert_eq!(
        output
            .matches("refusing requests until it answers again")
            .count(),
        1,
        "{output}"
    );
}
