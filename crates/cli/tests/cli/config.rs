//! `mas-cli config ...` as an operator runs it.

use crate::common::{fixtures_dir, mas_cli, run, stderr, stdout, write_config};

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|i| format!("{:02x}", (i * 37 + 11) % 256))
        .collect()
}

/// The environment the fixtures README gives for `homelab-guide.yaml`.
fn guide_env(command: &mut std::process::Command) -> &mut std::process::Command {
    command
        .env("MAS_POSTGRES_PASSWORD", "pw")
        // `openssl rand -hex 64`: 128 hex characters where 64 are needed.
        .env("MAS_SECRETS_ENCRYPTION", random_hex(64))
        // `openssl rand -base64 64`: random bytes, not a key.
        .env("MAS_SECRETS_KEYS", "q3Zc0yX5m0Jm2vB6o1wT9g3bH7uYk8Q2Xy4Z5a6B7c8D9e0F1g2H3i4J5k6L7m8N\n9o0P1q2R3s4T5u6V7w8X9y0Z1a2B3c4D5e6F7g8H9i0=")
        .env("MAS_CLIENTS_SECRET", "s")
        .env("POCKETID_CLIENT_SECRET", "p")
}

fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_config_written_by_mas_itself_is_valid_without_warnings() {
    let output =
        run(mas_cli(&fixtures_dir()).args(["-c", "mas-generated.yaml", "config", "check"]));
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(lines_starting(&text, "warning").is_empty(), "{text}");
    assert!(text.contains("valid (0 warning(s))"), "{text}");
}

#[test]
fn the_guide_config_gives_exactly_its_two_errors_and_one_warning() {
    let output = run(guide_env(&mut mas_cli(&fixtures_dir())).args([
        "-c",
        "homelab-guide.yaml",
        "config",
        "check",
    ]));
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");

    let errors = lines_starting(&text, "error");
    assert_eq!(errors.len(), 2, "{text}");
    let encryption = errors
        .iter()
        .find(|e| e.contains("secrets.encryption"))
        .expect("an encryption error");
    assert!(
        encryption.contains("64") && encryption.contains("128"),
        "{encryption}"
    );
    let key = errors
        .iter()
        .find(|e| e.contains("secrets.keys[0].key"))
        .expect("a key error");
    assert!(
        key.contains("PEM") && key.contains("DER") && key.contains("config generate"),
        "{key}"
    );

    let warnings = lines_starting(&text, "warning");
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains("experimental.oauth2_device_code_grant"),
        "{text}"
    );
    assert!(
        warnings[0].contains("oauth.device_code_grant_enabled"),
        "{text}"
    );
}

#[test]
fn an_unset_variable_is_an_error_naming_the_variable_and_the_key() {
    let output = run(guide_env(&mut mas_cli(&fixtures_dir()))
        .env_remove("MAS_CLIENTS_SECRET")
        .args(["-c", "homelab-guide.yaml", "config", "check"]));
    let text = stdout(&output);
    assert!(!output.status.success());
    assert!(
        text.lines().any(|l| l.starts_with("error")
            && l.contains("MAS_CLIENTS_SECRET")
            && l.contains("matrix.secret")),
        "{text}"
    );
}

#[test]
fn the_fixed_guide_config_is_valid_without_warnings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let encryption_file = dir.path().join("encryption");
    std::fs::write(&encryption_file, format!("{}\n", random_hex(32))).expect("written");
    let output = run(mas_cli(&fixtures_dir())
        .env("MAS_POSTGRES_PASSWORD", "pw")
        .env("MAS_ENCRYPTION_FILE", &encryption_file)
        .env("MAS_CLIENTS_SECRET", "s")
        .env("POCKETID_CLIENT_SECRET", "p")
        .args(["-c", "homelab-fixed.yaml", "config", "check"]));
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(lines_starting(&text, "warning").is_empty(), "{text}");
}

#[test]
fn a_generated_config_passes_the_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(mas_cli(dir.path()).args(["config", "generate", "-o", "c.yaml"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(mas_cli(dir.path()).args(["-c", "c.yaml", "config", "check"]));
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(lines_starting(&text, "warning").is_empty(), "{text}");

    let yaml = std::fs::read_to_string(dir.path().join("c.yaml")).expect("readable");
    assert!(yaml.contains("BEGIN RSA PRIVATE KEY"), "an RSA key");
    assert!(yaml.contains("BEGIN EC PRIVATE KEY"), "an EC key");
    assert!(yaml.contains("sqlite:"), "SQLite by default");
}

#[test]
fn two_generated_configs_have_different_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = stdout(&run(mas_cli(dir.path()).args(["config", "generate"])));
    let second = stdout(&run(mas_cli(dir.path()).args(["config", "generate"])));
    let encryption = |yaml: &str| {
        yaml.lines()
            .find(|l| l.trim_start().starts_with("encryption:"))
            .map(str::to_owned)
    };
    assert!(encryption(&first).is_some());
    assert_ne!(encryption(&first), encryption(&second));
}

#[test]
fn dump_redacts_secrets_unless_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), crate::common::free_port(), &["health"], "");

    let redacted = stdout(&run(mas_cli(dir.path()).args(["config", "dump"])));
    assert!(!redacted.contains("test-secret"), "{redacted}");
    assert!(
        !redacted.contains(&"0123456789abcdef".repeat(4)),
        "{redacted}"
    );
    assert!(redacted.contains("<redacted>"), "{redacted}");
    // Defaults are filled in.
    assert!(redacted.contains("passwords:"), "{redacted}");

    let shown = stdout(&run(mas_cli(dir.path()).args([
        "config",
        "dump",
        "--show-secrets",
    ])));
    assert!(shown.contains("test-secret"), "{shown}");
}

#[test]
fn several_files_merge_in_order_from_flags_and_from_mas_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), crate::common::free_port(), &["health"], "");
    std::fs::write(
        dir.path().join("branding.yaml"),
        "branding:\n  service_name: Merged Matrix\n",
    )
    .expect("written");

    let flags = stdout(&run(mas_cli(dir.path()).args([
        "-c",
        "config.yaml",
        "-c",
        "branding.yaml",
        "config",
        "dump",
    ])));
    assert!(flags.contains("Merged Matrix"), "{flags}");
    assert!(flags.contains("test-rsa"), "{flags}");

    let env = stdout(&run(mas_cli(dir.path())
        .env("MAS_CONFIG", "config.yaml:branding.yaml")
        .args(["config", "dump"])));
    assert!(env.contains("Merged Matrix"), "{env}");
}

#[test]
fn without_any_configuration_commands_say_how_to_make_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("config generate"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_schema_describes_every_section() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(mas_cli(dir.path()).args(["config", "schema"]));
    assert!(output.status.success());
    let schema: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the schema is JSON");
    let properties = schema["properties"]
        .as_object()
        .expect("top-level properties");
    for section in [
        "http",
        "database",
        "matrix",
        "templates",
        "clients",
        "secrets",
        "passwords",
        "account",
        "captcha",
        "policy",
        "rate_limiting",
        "telemetry",
        "email",
        "upstream_oauth2",
        "branding",
        "oauth",
        "experimental",
    ] {
        assert!(properties.contains_key(section), "missing {section}");
    }
}

#[test]
fn sync_writes_clients_and_prune_removes_the_ones_that_left_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clients = "clients:\n  - client_id: 01JAAAAAAAAAAAAAAAAAAAAAAA\n    client_auth_method: client_secret_post\n    client_secret: shh\n    redirect_uris: [\"https://app.example.com/cb\"]\n";
    write_config(dir.path(), crate::common::free_port(), &["health"], clients);
    assert!(
        run(mas_cli(dir.path()).args(["database", "migrate"]))
            .status
            .success()
    );

    let dry = stdout(&run(mas_cli(dir.path()).args([
        "config",
        "sync",
        "--dry-run",
    ])));
    assert!(
        dry.contains("would add client 01JAAAAAAAAAAAAAAAAAAAAAAA"),
        "{dry}"
    );
    let first = stdout(&run(mas_cli(dir.path()).args(["config", "sync"])));
    assert!(
        first.contains("add client 01JAAAAAAAAAAAAAAAAAAAAAAA"),
        "the dry run changed nothing: {first}"
    );
    let again = stdout(&run(mas_cli(dir.path()).args(["config", "sync"])));
    assert!(again.contains("nothing to change"), "{again}");

    write_config(dir.path(), crate::common::free_port(), &["health"], "");
    let kept = stdout(&run(mas_cli(dir.path()).args(["config", "sync"])));
    assert!(
        kept.contains("keep client 01JAAAAAAAAAAAAAAAAAAAAAAA"),
        "{kept}"
    );
    let pruned = stdout(&run(mas_cli(dir.path()).args(["config", "sync", "--prune"])));
    assert!(
        pruned.contains("delete client 01JAAAAAAAAAAAAAAAAAAAAAAA"),
        "{pruned}"
    );
}

#[test]
fn sync_keeps_the_sign_in_with_apple_key_out_of_the_stored_settings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = std::fs::read_to_string(fixtures_dir().join("keys/ec-p256.sec1.pem"))
        .expect("the EC key fixture");
    let indented = key.trim_end().replace('\n', "\n          ");
    let providers = format!(
        "upstream_oauth2:\n  providers:\n    - id: 01JAPPLE0000000000000000AP\n      client_id: org.example.matrix\n      token_endpoint_auth_method: sign_in_with_apple\n      issuer: https://appleid.apple.com\n      sign_in_with_apple:\n        team_id: TEAM123456\n        key_id: KEY1234567\n        private_key: |\n          {indented}\n"
    );
    write_config(
        dir.path(),
        crate::common::free_port(),
        &["health"],
        &providers,
    );
    assert!(
        run(mas_cli(dir.path()).args(["database", "migrate"]))
            .status
            .success()
    );
    let synced = run(mas_cli(dir.path()).args(["config", "sync"]));
    assert!(synced.status.success(), "{}", stderr(&synced));
    assert!(
        stdout(&synced).contains("01JAPPLE0000000000000000AP"),
        "{}",
        stdout(&synced)
    );

    // The database files (and their write-ahead log) never hold the key in clear.
    let secret_line = key.lines().nth(1).expect("a line of key material");
    for entry in std::fs::read_dir(dir.path()).expect("the directory") {
        let path = entry.expect("an entry").path();
        if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().contains(".db"))
        {
            let bytes = std::fs::read(&path).expect("readable");
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret_line),
                "{} holds the private key in clear",
                path.display()
            );
        }
    }
}

#[test]
fn config_check_names_each_upstream_template_that_does_not_parse() {
    let dir = tempfile::tempdir().expect("temp dir");
    let providers = "upstream_oauth2:\n  providers:\n    - id: pocketid\n      issuer: https://id.example.com\n      client_id: portcullis\n      token_endpoint_auth_method: none\n      additional_authorization_parameters:\n        prompt: \"{% if %}\"\n      claims_imports:\n        localpart:\n          action: require\n          template: \"{{ user.preferred_username \"\n        displayname:\n          action: suggest\n          template: \"{{ user.name | title }}\"\n";
    write_config(
        dir.path(),
        crate::common::free_port(),
        &["health"],
        providers,
    );
    let checked = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(!checked.status.success());
    let text = format!("{}{}", stdout(&checked), stderr(&checked));
    assert!(
        text.contains("upstream_oauth2.providers[0].claims_imports.localpart.template"),
        "{text}"
    );
    assert!(
        text.contains("upstream_oauth2.providers[0].additional_authorization_parameters.prompt"),
        "{text}"
    );
    assert!(
        !text.contains("displayname.template"),
        "a template that parses is fine: {text}"
    );
}

#[test]
fn every_provider_example_of_the_upstream_guide_passes_config_check() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/setup/upstream.md"),
    )
    .expect("docs/setup/upstream.md");
    let blocks: Vec<&str> = guide
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|block| block.starts_with("upstream_oauth2:") || block.starts_with("    - id:"))
        .collect();
    assert!(
        blocks.len() >= 5,
        "Pocket ID, Keycloak, authentik, Google, GitHub: {blocks:?}"
    );
    for block in blocks {
        let section = if block.starts_with("upstream_oauth2:") {
            block.to_owned()
        } else {
            format!("upstream_oauth2:\n  providers:\n{block}")
        };
        let dir = tempfile::tempdir().expect("temp dir");
        write_config(
            dir.path(),
            crate::common::free_port(),
            &["health"],
            &section,
        );
        let checked = run(mas_cli(dir.path()).args(["config", "check"]));
        assert!(
            checked.status.success(),
            "{block}\n{}{}",
            stdout(&checked),
            stderr(&checked)
        );
    }
}

#[test]
fn config_check_reads_the_appservice_registration_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bridge.yaml"),
        "id: bridge\nas_token: as-secret\nhs_token: hs-secret\nsender_localpart: bridgebot\nnamespaces:\n  users:\n    - exclusive: true\n      regex: '@bridge_.*:localhost'\n",
    )
    .expect("written");
    std::fs::write(
        dir.path().join("broken.yaml"),
        "id: broken\nsender_localpart: x\n",
    )
    .expect("written");
    write_config(dir.path(), crate::common::free_port(), &["health"], "");
    let config = dir.path().join("config.yaml");
    let yaml = std::fs::read_to_string(&config).expect("readable");
    let with = |files: &str| {
        yaml.replace(
            "matrix:\n",
            &format!("matrix:\n  app_service_config_files: [{files}]\n"),
        )
    };

    std::fs::write(&config, with("bridge.yaml")).expect("written");
    let good = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(good.status.success(), "{}{}", stdout(&good), stderr(&good));

    std::fs::write(&config, with("bridge.yaml, missing.yaml, broken.yaml")).expect("written");
    let bad = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(!bad.status.success());
    let text = format!("{}{}", stdout(&bad), stderr(&bad));
    assert!(
        text.contains("matrix.app_service_config_files[1]"),
        "{text}"
    );
    assert!(text.contains("missing.yaml"), "{text}");
    assert!(
        text.contains("matrix.app_service_config_files[2]"),
        "{text}"
    );
    assert!(text.contains("as_token"), "{text}");
}

#[test]
fn a_file_the_configuration_names_must_be_readable_everywhere_it_is_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_config(dir.path(), crate::common::free_port(), &["health"], "");
    let yaml = std::fs::read_to_string(&path)
        .expect("read")
        .replace("  secret: test-secret\n", "  secret_file: hs-secret.txt\n")
        .replace(
            "  keys:\n",
            "  keys:\n    - key_file: /nonexistent/key.pem\n",
        );
    std::fs::write(&path, yaml).expect("written");

    let output = run(mas_cli(dir.path()).args(["config", "check"]));
    let text = stdout(&output);
    assert!(!output.status.success(), "{text}");
    let errors = lines_starting(&text, "error");
    assert_eq!(errors.len(), 2, "{text}");
    assert!(
        errors.iter().any(|e| e.contains("matrix.secret_file")
            && e.contains("hs-secret.txt: no such file")
            && e.contains("working directory")),
        "{text}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("secrets.keys[0].key_file") && e.contains("/nonexistent/key.pem")),
        "{text}"
    );

    // doctor and the server refuse it too, naming the path.
    for args in [&["doctor"][..], &["server"][..]] {
        let output = run(mas_cli(dir.path()).args(args));
        assert!(!output.status.success(), "{args:?}");
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(all.contains("hs-secret.txt"), "{args:?}: {all}");
    }

    // Once the file is there, it is read.
    std::fs::write(dir.path().join("hs-secret.txt"), "test-secret\n").expect("written");
    let yaml = std::fs::read_to_string(&path)
        .expect("read")
        .replace("    - key_file: /nonexistent/key.pem\n", "");
    std::fs::write(&path, yaml).expect("written");
    let output = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(output.status.success(), "{}", stdout(&output));
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    // The schema is larger than a pipe holds, so writing it meets the closed pipe.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = mas_cli(dir.path())
        .args(["config", "schema"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("started");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ended");
    assert_eq!(output.status.code(), Some(141), "{}", stderr(&output));
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
