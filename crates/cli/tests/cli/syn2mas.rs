//! `mas-cli syn2mas`: a real Synapse (from PyPI) runs with its own authentication, gets users,
//! devices and keys through its own APIs, is stopped, migrated, and started again delegating to
//! a real `mas-cli server`; the users and bots it had go on as before.

use std::path::PathBuf;

use portcullis_test_synapse::{Options, TestSynapse};
use serde_json::{Value, json};

use crate::{
    common::{mas_cli, run, stderr, stdout},
    synapse::{Deployment, PASSWORD, on_synapse, whoami},
};

/// Our configuration: Synapse's bcrypt hashes verify under scheme 1 and are re-hashed with
/// argon2id (2); the provider Synapse knows as `oidc-upstream` is ours `upstream`.
/// The bridge's appservice token.
const AS_TOKEN: &str = "bridge-as-token";

const EXTRA: &str = "passwords:\n  schemes:\n    - version: 1\n      algorithm: bcrypt\n    - version: 2\n      algorithm: argon2id\n\
upstream_oauth2:\n  providers:\n    - id: upstream\n      synapse_idp_id: oidc-upstream\n      issuer: https://id.example.com\n      client_id: portcullis\n      token_endpoint_auth_method: none\n";

/// Registers `username` on a Synapse with its own authentication, on `device_id`; its access
/// token.
async fn register(synapse: &TestSynapse, username: &str, device_id: &str) -> String {
    let response = reqwest::Client::new()
        .post(
            synapse
                .url()
                .join("_matrix/client/v3/register")
                .expect("URL"),
        )
        .json(&json!({
            "username": username,
            "password": PASSWORD,
            "device_id": device_id,
            "initial_device_display_name": format!("{username}'s laptop"),
            "auth": {"type": "m.login.dummy"},
        }))
        .send()
        .await
        .expect("Synapse answers");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON");
    assert!(
        status.is_success(),
        "registering {username}: {status} {body}"
    );
    body["access_token"].as_str().expect("a token").to_owned()
}

/// A password login on Synapse itself (before the move), on `device_id`; its access token.
async fn synapse_login(synapse: &TestSynapse, username: &str, device_id: &str) -> String {
    synapse_login_with(synapse, username, device_id, false)
        .await
        .0
}

/// The same, asking for a refresh token: the access and refresh tokens.
async fn synapse_login_refreshable(
    synapse: &TestSynapse,
    username: &str,
    device_id: &str,
) -> (String, String) {
    let (access, refresh) = synapse_login_with(synapse, username, device_id, true).await;
    (access, refresh.expect("a refresh token"))
}

async fn synapse_login_with(
    synapse: &TestSynapse,
    username: &str,
    device_id: &str,
    refresh_token: bool,
) -> (String, Option<String>) {
    let response = reqwest::Client::new()
        .post(synapse.url().join("_matrix/client/v3/login").expect("URL"))
        .json(&json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": username},
            "password": PASSWORD,
            "device_id": device_id,
            "refresh_token": refresh_token,
        }))
        .send()
        .await
        .expect("Synapse answers");
    let body: Value = response.json().await.expect("JSON");
    let access = body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token for {username}: {body}"))
        .to_owned();
    (access, body["refresh_token"].as_str().map(str::to_owned))
}

/// Synapse's own `register_new_matrix_user`, making an admin with the shared secret.
fn register_admin(synapse: &TestSynapse, username: &str) {
    let venv = std::env::var_os("SYNAPSE_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/synapse-venv"),
        PathBuf::from,
    );
    let output = std::process::Command::new(venv.join("bin/register_new_matrix_user"))
        .args(["-u", username, "-p", PASSWORD, "-a", "-c"])
        .arg(synapse.data_dir().join("homeserver.yaml"))
        .arg(synapse.url().as_str())
        .output()
        .expect("register_new_matrix_user runs");
    assert!(
        output.status.success(),
        "register_new_matrix_user: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Where Synapse and we keep our data in one run of the story.
struct Backends {
    /// Synapse's PostgreSQL database (its URI), or none for SQLite.
    synapse_postgres: Option<String>,
    /// Our PostgreSQL database (URI, name), or none for SQLite.
    ours_postgres: Option<(String, String)>,
}

fn syn2mas(
    deployment: &Deployment,
    synapse: &TestSynapse,
    backends: &Backends,
    args: &[&str],
) -> std::process::Output {
    let config = synapse.data_dir().join("homeserver.yaml");
    let mut command = mas_cli(deployment.path());
    command
        .arg("syn2mas")
        .arg(args[0])
        .arg("--synapse-config")
        .arg(&config);
    // The test's homeserver.yaml names SQLite; on PostgreSQL the database comes from the
    // extra file, which syn2mas is not given: the URI says where it is.
    if let Some(uri) = &backends.synapse_postgres {
        command.args(["--synapse-database-uri", uri]);
    }
    run(command.args(&args[1..]))
}

/// A PostgreSQL database for Synapse, with the collation it requires; its URI.
fn synapse_postgres_database() -> Option<String> {
    let name = format!("synapse_{}", ulid::Ulid::new().to_string().to_lowercase());
    let created = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c"])
        .arg(format!(
            "CREATE DATABASE {name} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        ))
        .status();
    if !matches!(created, Ok(status) if status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set, so PostgreSQL must be on 127.0.0.1:5432"
        );
        eprintln!("SKIPPED: no PostgreSQL on 127.0.0.1:5432");
        return None;
    }
    Some(format!("postgresql://postgres@127.0.0.1:5432/{name}"))
}

#[tokio::test]
async fn a_synapse_on_sqlite_moves_over_and_nobody_is_logged_out() {
    moves_over(Backends {
        synapse_postgres: None,
        ours_postgres: None,
    })
    .await;
}

#[tokio::test]
async fn a_synapse_on_postgres_moves_over_and_nobody_is_logged_out() {
    let Some(synapse_postgres) = synapse_postgres_database() else {
        return;
    };
    let Some(ours) = portcullis_storage_sql::testing::create_postgres_database().await else {
        return;
    };
    moves_over(Backends {
        synapse_postgres: Some(synapse_postgres),
        ours_postgres: Some(ours),
    })
    .await;
}

async fn moves_over(backends: Backends) {
    let mut extra = EXTRA.to_owned();
    if let Some((uri, _)) = &backends.ours_postgres {
        extra.push_str(&format!("database:\n  uri: \"{uri}\"\n"));
    }
    let mut deployment = Deployment::with_extra(&extra);
    // A bridge: an appservice whose users Synapse keeps managing itself.
    let registration = deployment.path().join("bridge.yaml");
    std::fs::write(
        &registration,
        format!(
            "id: bridge\nurl: null\nas_token: {AS_TOKEN}\nhs_token: bridge-hs-token\nsender_localpart: bridgebot\nnamespaces:\n  users: [{{exclusive: true, regex: \"@bridge_.*:localhost\"}}]\n  rooms: []\n  aliases: []\n"
        ),
    )
    .expect("written");
    let mut yaml = format!(
        "app_service_config_files: [\"{}\"]\n",
        registration.display()
    );
    if let Some(uri) = &backends.synapse_postgres {
        let url = url::Url::parse(uri).expect("a URI");
        yaml.push_str(&format!(
            "database:\n  name: psycopg2\n  args:\n    user: postgres\n    host: 127.0.0.1\n    port: 5432\n    dbname: {}\n",
            url.path().trim_start_matches('/')
        ));
    }
    // Guests only before the switch: with delegation, the auth service makes no guest.
    let legacy = Options::legacy()
        .with_port(deployment.synapse_port())
        .with_extra_config(format!("{yaml}allow_guest_access: true\n"));
    let delegated = deployment.synapse_options().with_extra_config(yaml);
    let Some(mut synapse) = TestSynapse::start(&legacy) else {
        return;
    };

    // Synapse on its own: an admin, alice with two devices (keys uploaded on one), carol with
    // an address and an upstream identity, dave deactivated.
    register_admin(&synapse, "root");
    let root = synapse_login(&synapse, "root", "ROOTDEVICE").await;
    register(&synapse, "alice", "ALICELAPTOP").await;
    let alice = synapse_login(&synapse, "alice", "ALICEPHONE").await;
    assert!(alice.starts_with("syt_"), "{alice}");
    let (_, tablet_refresh) = synapse_login_refreshable(&synapse, "alice", "ALICETABLET").await;
    assert!(tablet_refresh.starts_with("syr_"), "{tablet_refresh}");
    let keys = json!({"device_keys": {
        "user_id": "@alice:localhost",
        "device_id": "ALICEPHONE",
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {"ed25519:ALICEPHONE": "bXlfZWQyNTUxOV9rZXlfZm9yX3Rlc3Rz", "curve25519:ALICEPHONE": "bXlfY3VydmUyNTUxOV9rZXlfZm9yX3Rlc3Rz"},
        "signatures": {"@alice:localhost": {"ed25519:ALICEPHONE": "c2lnbmF0dXJl"}},
    }});
    let (status, body) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/upload",
        &alice,
        Some(keys),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    register(&synapse, "carol", "CAROLLAPTOP").await;
    let (status, body) = on_synapse(
        &synapse,
        reqwest::Method::PUT,
        "_synapse/admin/v2/users/@carol:localhost",
        &root,
        Some(json!({
            "threepids": [{"medium": "email", "address": "carol@example.com"}],
            "external_ids": [{"auth_provider": "oidc-upstream", "external_id": "carol-sub"}],
        })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    register(&synapse, "dave", "DAVELAPTOP").await;
    let (status, body) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_synapse/admin/v1/deactivate/@dave:localhost",
        &root,
        Some(json!({"erase": false})),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let response = reqwest::Client::new()
        .post(
            synapse
                .url()
                .join("_matrix/client/v3/register")
                .expect("URL"),
        )
        .bearer_auth(AS_TOKEN)
        .json(&json!({"type": "m.login.application_service", "username": "bridge_alice"}))
        .send()
        .await
        .expect("Synapse answers");
    assert!(response.status().is_success(), "{}", response.status());
    // A guest, with the device Synapse gives it.
    let response = reqwest::Client::new()
        .post(
            synapse
                .url()
                .join("_matrix/client/v3/register?kind=guest")
                .expect("URL"),
        )
        .json(&json!({}))
        .send()
        .await
        .expect("Synapse answers");
    let status = response.status();
    let guest: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{status} {guest}");
    let guest_id = guest["user_id"].as_str().expect("a user ID").to_owned();

    // Over the admin API, into another deployment: the accounts come, passwords and sessions
    // cannot, and the command says so; a second run adds nothing.
    let other = Deployment::with_extra(EXTRA);
    let url = synapse.url().to_string();
    let import = [
        "import-users",
        "--homeserver-url",
        url.as_str(),
        "--admin-token",
        root.as_str(),
    ];
    let imported = other.manage(&import);
    assert!(
        imported.contains("imported: 5 users (1 admins, 0 locked, 1 deactivated), 1 email addresses, 1 upstream links; 0 users were already here"),
        "{imported}"
    );
    assert!(imported.contains("their users sign in again"), "{imported}");
    assert!(
        imported.contains("0 have an email address") && imported.contains("2 have neither"),
        "{imported}"
    );
    let again = other.manage(&import);
    assert!(
        again.contains("imported: 0 users (0 admins, 0 locked, 0 deactivated), 0 email addresses, 0 upstream links; 5 users were already here"),
        "{again}"
    );
    let links = other.manage(&["list-upstream-links"]);
    assert!(links.contains("carol-sub"), "{links}");
    drop(other);

    // The check: Synapse's registration is open, which is a warning, not an error.
    let checked = syn2mas(&deployment, &synapse, &backends, &["check"]);
    assert!(
        checked.status.success(),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );
    assert!(
        stdout(&checked).contains("warning [registration]")
            && stdout(&checked).contains("warning [guests]"),
        "{}",
        stdout(&checked)
    );

    // Synapse still runs: the check says so, and the migration refuses.
    assert!(
        stdout(&checked).contains("warning [synapse-running]"),
        "{}",
        stdout(&checked)
    );
    let running = syn2mas(
        &deployment,
        &synapse,
        &backends,
        &["migrate", "--accept-warnings"],
    );
    assert!(!running.status.success());
    assert!(
        stderr(&running).contains("Synapse is probably running"),
        "{}",
        stderr(&running)
    );

    synapse.stop();
    // A warning not accepted stops the migration, saying how to accept it.
    let refused = syn2mas(&deployment, &synapse, &backends, &["migrate"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--accept-warning registration"),
        "{}",
        stderr(&refused)
    );
    // A dry run says what would move and writes nothing.
    let dry = syn2mas(
        &deployment,
        &synapse,
        &backends,
        &["migrate", "--dry-run", "--accept-warnings"],
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    let dry_out = stdout(&dry);
    assert!(dry_out.contains("would move: 5 users (1 admins, 0 locked, 1 deactivated), 3 passwords, 1 email addresses, 1 upstream links"), "{dry_out}");
    // Synapse deleted dave's device when it deactivated him; the bridge's user stays the
    // bridge's, with its device and token, and the summary says so.
    assert!(
        dry_out.contains("6 devices as compatibility sessions, 6 access tokens, 1 refresh tokens"),
        "{dry_out}"
    );
    assert!(
        dry_out.contains("legacy guests: 1 guest accounts moved as such, without their sessions"),
        "{dry_out}"
    );
    assert!(
        dry_out.contains(&format!("of {guest_id}: its user is a guest")),
        "{dry_out}"
    );
    for line in [
        "user @bridge_alice:localhost: belongs to the appservice bridge, which keeps managing it",
        "of @bridge_alice:localhost: its user is not moved",
        "of @bridge_alice:localhost: its device is not moved",
    ] {
        assert!(dry_out.contains(line), "{line}: {dry_out}");
    }
    assert!(!dry_out.contains("warning [synapse-running]"), "{dry_out}");
    assert!(
        dry_out.contains("dry run: nothing was written"),
        "{dry_out}"
    );
    assert!(!deployment.manage(&["list-users"]).contains("alice"));

    let moved = syn2mas(
        &deployment,
        &synapse,
        &backends,
        &[
            "migrate",
            "--accept-warning",
            "registration",
            "--accept-warning",
            "guests",
        ],
    );
    assert!(moved.status.success(), "{}", stderr(&moved));
    assert!(
        stdout(&moved).contains("moved: 5 users"),
        "{}",
        stdout(&moved)
    );
    // Not on a terminal, progress is a plain line per entity, of Synapse's rows.
    for line in [
        "users: 6/6 in",
        "email addresses: 1/1 in",
        "devices: 8/8 in",
    ] {
        assert!(stderr(&moved).contains(line), "{line}: {}", stderr(&moved));
    }
    // A second run finds the database no longer empty and changes nothing.
    let again = syn2mas(
        &deployment,
        &synapse,
        &backends,
        &["migrate", "--accept-warnings"],
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already holds 5 user(s)"),
        "{}",
        stderr(&again)
    );

    // Synapse now delegates to us: the tokens it issued still work, on the same devices.
    deployment.start_server().await;
    synapse.restart(&delegated);
    let (status, me) = whoami(&synapse, &alice).await;
    assert_eq!(status, 200, "{me}\n{}", deployment.log());
    assert_eq!(me["user_id"], "@alice:localhost");
    assert_eq!(me["device_id"], "ALICEPHONE");
    let (status, keys) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/query",
        &alice,
        Some(json!({"device_keys": {"@alice:localhost": []}})),
    )
    .await;
    assert_eq!(status, 200, "{keys}");
    assert!(
        keys["device_keys"]["@alice:localhost"]["ALICEPHONE"].is_object(),
        "{keys}"
    );
    // The Synapse admin's session keeps its admin rights there.
    let (status, body) = on_synapse(
        &synapse,
        reqwest::Method::GET,
        "_synapse/admin/v2/users/@alice:localhost",
        &root,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // The refresh token Synapse gave the tablet gets it a new access token here.
    let response = reqwest::Client::new()
        .post(deployment.url("_matrix/client/v3/refresh"))
        .json(&json!({"refresh_token": tablet_refresh}))
        .send()
        .await
        .expect("answers");
    let status = response.status();
    let refreshed: Value = response.json().await.expect("JSON");
    assert!(status.is_success(), "{status} {refreshed}");
    let (status, me) = whoami(
        &synapse,
        refreshed["access_token"].as_str().expect("a new token"),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["device_id"], "ALICETABLET");

    // The bridge still acts as its users with its own token, which Synapse checks itself.
    let (status, me) = on_synapse(
        &synapse,
        reqwest::Method::GET,
        "_matrix/client/v3/account/whoami?user_id=@bridge_alice:localhost",
        AS_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], "@bridge_alice:localhost");

    // Passwords moved: alice signs in here with Synapse's password (bcrypt, then re-hashed).
    let login = deployment.password_login("alice", None).await;
    let (status, me) = whoami(&synapse, login["access_token"].as_str().expect("token")).await;
    assert_eq!(status, 200, "{me}");
    // The deactivated user cannot.
    let response = reqwest::Client::new()
        .post(deployment.url("_matrix/client/v3/login"))
        .json(&json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "dave"},
            "password": PASSWORD,
        }))
        .send()
        .await
        .expect("answers");
    assert!(response.status().is_client_error(), "{}", response.status());
    // carol's upstream identity is linked to her account.
    let links = deployment.manage(&["list-upstream-links"]);
    assert!(
        links.contains("carol-sub") && links.contains("carol"),
        "{links}"
    );
    assert!(
        deployment
            .manage(&["list-users"])
            .contains("carol@example.com")
    );
}
