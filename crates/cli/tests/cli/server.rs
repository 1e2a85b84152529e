//! `mas-cli server`, `database` and `doctor` against a real process.

use crate::common::{Server, free_port, mas_cli, run, stderr, stdout, write_config};

#[tokio::test]
async fn the_server_migrates_serves_health_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    write_config(dir.path(), port, &["health"], "");

    let server = Server::start(dir.path(), port, &["server"]).await;
    let response = reqwest::get(format!("{}/health", server.base))
        .await
        .expect("health answers");
    assert_eq!(response.status(), 200);
    let missing = reqwest::get(format!("{}/nowhere", server.base))
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);

    let (status, output) = server.stop();
    assert!(status.success(), "exit status {status}: {output}");
    assert!(output.contains("shutting down"), "{output}");
    assert!(
        dir.path().join("mas.db").is_file(),
        "SQLite beside the config file"
    );
}

#[tokio::test]
async fn no_subcommand_means_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    write_config(dir.path(), port, &["health"], "");

    let server = Server::start(dir.path(), port, &[]).await;
    let response = reqwest::get(format!("{}/health", server.base))
        .await
        .expect("health answers");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_listener_prefix_moves_every_route_under_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let config = write_config(dir.path(), port, &["health"], "");
    let yaml = std::fs::read_to_string(&config).expect("readable").replace(
        "    - name: web\n",
        "    - name: web\n      prefix: /auth\n",
    );
    std::fs::write(&config, yaml).expect("written");

    let child = mas_cli(dir.path())
        .arg("server")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let mut status = None;
    for _ in 0..300 {
        if let Ok(response) = client
            .get(format!("{}/auth/health", server.base))
            .send()
            .await
        {
            status = Some(response.status());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status.map(|s| s.as_u16()), Some(200));
    let unprefixed = client
        .get(format!("{}/health", server.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(unprefixed.status(), 404);
}

#[test]
fn synapse_legacy_is_refused_at_start_up_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(dir.path(), free_port(), &["health"], "");
    let yaml = std::fs::read_to_string(&config)
        .expect("readable")
        .replace("matrix:\n", "matrix:\n  kind: synapse_legacy\n");
    std::fs::write(&config, yaml).expect("written");
    let output = run(mas_cli(dir.path()).arg("server"));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("synapse_legacy"),
        "{}",
        stderr(&output)
    );
    // config check says so too, before anyone tries to start.
    let output = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(!output.status.success());
    assert!(
        stdout(&output).contains("error matrix.kind: `synapse_legacy`"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_address_in_use_is_a_start_up_error_naming_the_listener_before_the_database_is_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    write_config(dir.path(), port, &["health"], "");
    let output = run(mas_cli(dir.path()).arg("server"));
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("listener `web`") && text.contains(&port.to_string()),
        "{text}"
    );
    assert!(
        !dir.path().join("mas.db").exists(),
        "the listeners are bound first: no database was created or migrated"
    );
}

#[test]
fn database_status_shows_pending_then_applied_migrations() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), free_port(), &["health"], "");

    let before = stdout(&run(mas_cli(dir.path()).args(["database", "status"])));
    assert!(before.contains("backend: SQLite"), "{before}");
    assert!(before.contains("reachable: yes"), "{before}");
    assert!(before.contains("applied migrations: 0"), "{before}");
    assert!(!before.contains("pending migrations: 0"), "{before}");

    assert!(
        run(mas_cli(dir.path()).args(["database", "migrate"]))
            .status
            .success()
    );

    let after = stdout(&run(mas_cli(dir.path()).args(["database", "status"])));
    assert!(after.contains("pending migrations: 0"), "{after}");
    assert!(!after.contains("applied migrations: 0"), "{after}");
}

#[test]
fn no_migrate_refuses_to_start_on_an_unmigrated_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), free_port(), &["health"], "");
    let output = run(mas_cli(dir.path()).args(["server", "--no-migrate"]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("database migrate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unreachable_postgres_database_is_reported_by_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dead = free_port();
    let extra = format!(
        "database:\n  uri: \"postgresql://nobody@127.0.0.1:{dead}/nothing\"\n  connect_timeout: 2\n"
    );
    write_config(dir.path(), free_port(), &["health"], &extra);
    let output = run(mas_cli(dir.path()).args(["database", "status"]));
    assert!(!output.status.success());
    assert!(
        stdout(&output).contains("reachable: no"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn doctor_reports_each_check_and_fails_when_the_homeserver_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    write_config(dir.path(), port, &["health", "discovery"], "");
    let _server = Server::start(dir.path(), port, &["server"]).await;

    let output = run(mas_cli(dir.path()).arg("doctor"));
    let text = stdout(&output);
    assert!(
        !output.status.success(),
        "no homeserver runs, so doctor fails: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("configuration")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("database")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("public_base")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("error") && l.contains("homeserver")),
        "{text}"
    );
    assert!(text.contains("hint:"), "{text}");
}

#[test]
fn doctor_says_when_the_sendmail_command_does_not_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let fake = dir.path().join("fake-sendmail");
    std::fs::write(&fake, "#!/bin/sh\ncat > /dev/null\n").expect("written");
    for (command, ok) in [
        ("/nonexistent/sendmail", false),
        (fake.to_str().expect("utf-8"), true),
    ] {
        if ok {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755))
                .expect("made executable");
        }
        write_config(
            dir.path(),
            port,
            &["health"],
            &format!("email:\n  transport: sendmail\n  command: \"{command}\"\n"),
        );
        let text = stdout(&run(mas_cli(dir.path()).args(["doctor", "--warnings-ok"])));
        let line = text
            .lines()
            .find(|line| line.contains("sendmail command"))
            .unwrap_or_else(|| panic!("no sendmail line in:\n{text}"));
        assert_eq!(line.starts_with("ok"), ok, "{line}");
        assert!(line.contains(command), "{line}");
    }
}

#[tokio::test]
async fn doctor_checks_each_upstream_provider_against_its_discovery_and_keys() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let closed = free_port();
    // The server itself as the provider (it is an OpenID Provider), one nobody answers at, and
    // one whose ID tokens would be signed with an algorithm the server has no key for.
    let providers = format!(
        "upstream_oauth2:\n  providers:\n\
         \x20   - id: ourselves\n      issuer: http://127.0.0.1:{port}/\n      client_id: c\n      token_endpoint_auth_method: none\n\
         \x20   - id: nobody\n      issuer: http://127.0.0.1:{closed}/\n      client_id: c\n      token_endpoint_auth_method: none\n\
         \x20   - id: es512\n      issuer: http://127.0.0.1:{port}/\n      client_id: c\n      token_endpoint_auth_method: none\n      id_token_signed_response_alg: ES512\n\
         \x20   - id: off\n      enabled: false\n      issuer: http://127.0.0.1:{closed}/\n      client_id: c\n      token_endpoint_auth_method: none\n"
    );
    write_config(
        dir.path(),
        port,
        &["health", "discovery", "oauth"],
        &providers,
    );
    let _server = Server::start(dir.path(), port, &["server"]).await;

    let output = run(mas_cli(dir.path()).arg("doctor"));
    let text = stdout(&output);
    let line = |subject: &str| {
        text.lines()
            .find(|line| line.contains(&format!("upstream {subject}:")))
            .unwrap_or_default()
            .to_owned()
    };
    let ours = line("ourselves");
    assert!(ours.starts_with("ok"), "{text}");
    assert!(ours.contains("1 key(s) for RS256"), "{text}");
    assert!(
        ours.contains(&format!(
            "the redirect URI to register there is http://127.0.0.1:{port}/upstream/callback/ourselves"
        )),
        "{text}"
    );
    assert!(line("nobody").starts_with("error"), "{text}");
    let es512 = line("es512");
    assert!(es512.starts_with("error"), "{text}");
    assert!(es512.contains("ES512"), "{text}");
    assert!(
        line("off").is_empty(),
        "a disabled provider is not checked: {text}"
    );
    assert!(!output.status.success());
}

#[tokio::test]
async fn a_socket_passed_by_systemd_is_served() {
    let Ok(activate) = which("systemd-socket-activate") else {
        eprintln!("skipping: systemd-socket-activate is not installed");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let config = write_config(dir.path(), port, &["health", "connection-info"], "");
    let yaml = std::fs::read_to_string(&config).expect("readable").replace(
        &format!("- address: \"127.0.0.1:{port}\""),
        "- fd: 0\n          kind: tcp",
    );
    std::fs::write(&config, yaml).expect("written");

    let mut command = std::process::Command::new(activate);
    command
        .current_dir(dir.path())
        .env_remove("MAS_CONFIG")
        .args([
            "-l",
            &format!("127.0.0.1:{port}"),
            env!("CARGO_BIN_EXE_mas-cli"),
            "server",
        ]);
    let server = Server::start_command(command, port).await;

    let info: serde_json::Value = reqwest::get(format!("{}/connection-info", server.base))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(info["connection"]["local"], format!("127.0.0.1:{port}"));
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    write_config(dir.path(), port, &["health", "connection-info"], "");
    let server = Server::start(dir.path(), port, &["server"]).await;
    let client = reqwest::Client::new();
    let client_ip = |response: serde_json::Value| response["client_ip"].as_str().map(str::to_owned);

    // 127.0.0.1 is in MAS's default trusted proxies.
    let trusted = client
        .get(format!("{}/connection-info", server.base))
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .expect("answers");
    assert_eq!(
        client_ip(trusted.json().await.expect("JSON")).as_deref(),
        Some("198.51.100.7")
    );
    drop(server);

    let config = dir.path().join("config.yaml");
    let yaml = std::fs::read_to_string(&config)
        .expect("readable")
        .replace("http:\n", "http:\n  trusted_proxies: [\"10.0.0.0/8\"]\n");
    std::fs::write(&config, yaml).expect("written");
    let server = Server::start(dir.path(), port, &["server"]).await;
    let untrusted = client
        .get(format!("{}/connection-info", server.base))
        .header("X-Forwarded-For", "198.51.100.7")
        .send()
        .await
        .expect("answers");
    assert_eq!(
        client_ip(untrusted.json().await.expect("JSON")).as_deref(),
        Some("127.0.0.1")
    );
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}

#[test]
fn doctor_refuses_an_unreachable_public_base_and_names_open_listeners_and_readable_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let path = write_config(dir.path(), port, &["health"], "");
    let yaml = std::fs::read_to_string(&path)
        .expect("read")
        .replace(
            &format!("public_base: http://127.0.0.1:{port}/"),
            "public_base: http://[::]:8080/",
        )
        .replace(
            &format!("address: \"127.0.0.1:{port}\""),
            &format!("address: \"[::]:{port}\""),
        );
    std::fs::write(&path, yaml).expect("written");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");

    let output = run(mas_cli(dir.path()).args(["doctor", "--warnings-ok"]));
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "warning  file permissions: {} holds secrets and is readable by others (mode 644)",
            path.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("error    public_base: http://[::]:8080/ is no address a client can reach"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "warning  listener web: listens on [::]:{port}, on every network interface"
        )),
        "{text}"
    );

    // An issuer of that kind, beside a good public_base, likewise.
    let yaml = std::fs::read_to_string(&path).expect("read").replace(
        "public_base: http://[::]:8080/",
        &format!("public_base: http://127.0.0.1:{port}/\n  issuer: http://0.0.0.0:{port}/"),
    );
    std::fs::write(&path, yaml).expect("written");
    let text = stdout(&run(mas_cli(dir.path()).args(["doctor", "--warnings-ok"])));
    assert!(
        text.contains(&format!(
            "error    public_base: the issuer http://0.0.0.0:{port}/ is no address"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn the_server_warns_at_start_up_about_a_public_base_nobody_can_reach() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let path = write_config(dir.path(), port, &["health"], "");
    let yaml = std::fs::read_to_string(&path).expect("read").replace(
        &format!("public_base: http://127.0.0.1:{port}/"),
        "public_base: http://[::]:8080/",
    );
    std::fs::write(&path, yaml).expect("written");
    let server = Server::start(dir.path(), port, &["server"]).await;
    let (_, output) = server.stop();
    assert!(
        output.contains("http.public_base is no address clients can reach"),
        "{output}"
    );
}
