//! `SIGHUP`: the server reloads its templates, branding and policy without stopping or dropping
//! a connection, and keeps what it has when the new files are broken.

use std::{path::Path, process::Command, time::Duration};

use crate::common::{Server, free_port, write_config};

fn hang_up(server: &Server) {
    let status = Command::new("kill")
        .arg("-HUP")
        .arg(server.child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

async fn login_page(client: &reqwest::Client, server: &Server) -> String {
    client
        .get(format!("{}/login", server.base))
        .send()
        .await
        .expect("the login page answers")
        .text()
        .await
        .expect("a page")
}

/// Registers a web client whose addresses are plain `http`; the status.
async fn register_insecure_client(client: &reqwest::Client, server: &Server) -> u16 {
    client
        .post(format!("{}/oauth2/registration", server.base))
        .json(&serde_json::json!({
            "client_uri": "http://app.example.com/",
            "redirect_uris": ["http://app.example.com/callback"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .await
        .expect("registration answers")
        .status()
        .as_u16()
}

/// Sends `GET /health` on an open HTTP/1.1 connection and reads the whole answer; its status
/// line. The connection stays open for the next request.
async fn health_on(connection: &mut tokio::net::TcpStream) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    connection
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("the request is sent");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    // Headers, then as many bytes as `Content-Length` says.
    loop {
        let read = connection
            .read(&mut buffer)
            .await
            .expect("the answer comes");
        assert!(read > 0, "the server closed the connection");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length");
            if body.len() >= length {
                return head.lines().next().unwrap_or_default().to_owned();
            }
        }
    }
}

const OVERRIDE: &str = "<!DOCTYPE html><html lang=\"{{ lang }}\"><title>Sign in</title><p>reloaded login page</p></html>\n";

fn append(config: &Path, yaml: &str) {
    let mut text = std::fs::read_to_string(config).expect("readable");
    text.push_str(yaml);
    std::fs::write(config, text).expect("written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_templates_branding_policy_and_keeps_them_when_broken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).expect("a templates directory");
    let port = free_port();
    let config = write_config(
        dir.path(),
        port,
        &["human", "oauth", "discovery", "health"],
        &format!("templates:\n  path: \"{}\"\n", templates.display()),
    );
    let server = Server::start(dir.path(), port, &["server"]).await;
    let client = reqwest::Client::new();
    assert!(
        !login_page(&client, &server)
            .await
            .contains("reloaded login page")
    );
    assert_eq!(register_insecure_client(&client, &server).await, 400);

    let discovery = |client: reqwest::Client, base: String| async move {
        client
            .get(format!("{base}/.well-known/openid-configuration"))
            .send()
            .await
            .expect("discovery answers")
            .json::<serde_json::Value>()
            .await
            .expect("JSON")
    };
    let before = discovery(client.clone(), server.base.clone()).await;
    assert_eq!(before["op_tos_uri"], serde_json::Value::Null);
    // A connection open across the reload.
    let mut connection = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connected");
    assert_eq!(health_on(&mut connection).await, "HTTP/1.1 200 OK");

    // A new login page, terms of service, and a policy that accepts plain-http clients.
    std::fs::write(templates.join("login.html"), OVERRIDE).expect("written");
    append(
        &config,
        "policy:\n  data:\n    client_registration:\n      allow_insecure_uris: true\n\
         branding:\n  tos_uri: https://example.com/terms\n",
    );
    hang_up(&server);
    // Bounded: a server that never reloads fails the test rather than hanging it.
    let mut reloaded = false;
    for _ in 0..100 {
        if login_page(&client, &server)
            .await
            .contains("reloaded login page")
        {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reloaded, "the new template is used");
    assert_eq!(
        health_on(&mut connection).await,
        "HTTP/1.1 200 OK",
        "the connection opened before the reload still serves"
    );
    assert_eq!(
        register_insecure_client(&client, &server).await,
        201,
        "the new policy too"
    );

    // A broken template: the reload is refused and the server goes on with what it has.
    std::fs::write(templates.join("login.html"), "{% if %}").expect("written");
    hang_up(&server);
    for _ in 0..10 {
        assert!(
            login_page(&client, &server)
                .await
                .contains("reloaded login page")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("templates, branding and policy reloaded"),
        "{output}"
    );
    assert!(output.contains("nothing was reloaded"), "{output}");
    assert!(
        output.contains("login.html"),
        "the broken file is named: {output}"
    );
}
