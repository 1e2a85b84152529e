//! End to end with a real Synapse (from PyPI) that delegates its authentication to a real
//! `mas-cli server`: what the homeserver sees of our users, devices and tokens.
//!
//! Each test starts both on free ports with fresh SQLite databases (see
//! `portcullis-test-synapse` for when Synapse is skipped). Waiting for the background worker is
//! done by polling the homeserver with a generous bound: these tests check outcomes, never
//! timings.

use std::{
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::Duration,
};

use crate::common::{free_port, mas_cli, rsa_key_path, run, stderr, stdout};
use portcullis_test_synapse::{Options, TestSynapse};
use serde_json::Value;
use tempfile::TempDir;

const SECRET: &str = "portcullis-e2e-shared-secret";
pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Our server and its configuration, with Synapse's address decided up front so that either
/// can start first.
pub(crate) struct Deployment {
    dir: TempDir,
    port: u16,
    synapse_port: u16,
    /// The ports, held until our server and Synapse bind them: a port given out by
    /// [`free_port`] and left free for seconds (while Synapse starts, say) may be given to
    /// another test running at the same time, whose server would then answer in our place.
    reserved: std::sync::Mutex<Reserved>,
    server: Option<Child>,
}

#[derive(Default)]
struct Reserved {
    ours: Option<std::net::TcpListener>,
    synapse: Option<std::net::TcpListener>,
}

/// A loopback port, held by the listener until it is dropped.
fn reserve_port() -> (u16, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    let port = listener.local_addr().expect("bound").port();
    (port, listener)
}

impl Deployment {
    fn new() -> Self {
        Self::with_extra("")
    }

    /// A deployment whose configuration ends with `extra` (YAML).
    pub(crate) fn with_extra(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (port, ours) = reserve_port();
        let (synapse_port, synapse) = reserve_port();
        let yaml = format!(
            "http:\n  public_base: http://127.0.0.1:{port}/\n  listeners:\n    - name: web\n      resources:\n        - name: discovery\n        - name: human\n        - name: oauth\n        - name: compat\n        - name: adminapi\n        - name: health\n      binds:\n        - address: \"127.0.0.1:{port}\"\n\
             secrets:\n  encryption: \"{}\"\n  keys:\n    - kid: e2e-rsa\n      key_file: \"{}\"\n\
             matrix:\n  homeserver: {}\n  secret: {SECRET}\n  endpoint: \"http://127.0.0.1:{synapse_port}/\"\n",
            "0123456789abcdef".repeat(4),
            rsa_key_path().display(),
            portcullis_test_synapse::SERVER_NAME,
        ) + extra;
        std::fs::write(dir.path().join("config.yaml"), yaml).expect("config written");
        let migrated = run(mas_cli(dir.path()).args(["database", "migrate"]));
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        Self {
            dir,
            port,
            synapse_port,
            reserved: std::sync::Mutex::new(Reserved {
                ours: Some(ours),
                synapse: Some(synapse),
            }),
            server: None,
        }
    }

    /// Synapse's port, given up for Synapse to bind.
    pub(crate) fn synapse_port(&self) -> u16 {
        if let Ok(mut reserved) = self.reserved.lock() {
            reserved.synapse = None;
        }
        self.synapse_port
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.path().join("server.log")
    }

    pub(crate) fn synapse_options(&self) -> Options {
        Options::new(SECRET, format!("http://127.0.0.1:{}/", self.port))
            .with_port(self.synapse_port())
    }

    pub(crate) fn manage(&self, args: &[&str]) -> String {
        let output = run(mas_cli(self.path()).arg("manage").args(args));
        assert!(
            output.status.success(),
            "manage {args:?}: {}",
            stderr(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Starts `mas-cli server` (logging into a file, so a chatty server never blocks on a
    /// full pipe) and waits until it is healthy.
    pub(crate) async fn start_server(&mut self) {
        let log = std::fs::File::create(self.log_path()).expect("log file");
        if let Ok(mut reserved) = self.reserved.lock() {
            reserved.ours = None;
        }
        let child = mas_cli(self.path())
            .arg("server")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        self.server = Some(child);
        let ready = answers_within_30_s(&format!("http://127.0.0.1:{}/health", self.port)).await;
        assert!(ready, "the server did not become healthy:\n{}", self.log());
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// A second `mas-cli server` on the same configuration (the same database), on its own
    /// port, once healthy; with that port.
    async fn start_second_server(&self) -> (Child, u16) {
        let port = free_port();
        let config = std::fs::read_to_string(self.path().join("config.yaml")).expect("config");
        std::fs::write(
            self.path().join("second.yaml"),
            config.replace(
                &format!("127.0.0.1:{}", self.port),
                &format!("127.0.0.1:{port}"),
            ),
        )
        .expect("written");
        let child = mas_cli(self.path())
            .args(["-c", "second.yaml", "server"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the second server starts");
        let ready = answers_within_30_s(&format!("http://127.0.0.1:{port}/health")).await;
        assert!(ready, "the second server did not become healthy");
        (child, port)
    }
}

/// Whether `url` answers with a success within 30 s (a server starting up).
async fn answers_within_30_s(url: &str) -> bool {
    eventually(Duration::from_secs(30), || async {
        reqwest::get(url)
            .await
            .is_ok_and(|response| response.status().is_success())
    })
    .await
}

/// Stops a server process (SIGTERM) and waits for it.
fn stop(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- server log ---\n{}", self.log());
        }
        if let Some(child) = &mut self.server {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }
}

/// Polls `check` every 200 ms until it holds or `limit` has passed; whether it held.
pub(crate) async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Our base URL.
impl Deployment {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// A compat password login (`POST /_matrix/client/v3/login`) of `user`, on `device_id` if
    /// given; the JSON answer, which must be a success.
    pub(crate) async fn password_login(&self, user: &str, device_id: Option<&str>) -> Value {
        let mut body = serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": PASSWORD,
        });
        if let Some(device_id) = device_id {
            body["device_id"] = device_id.into();
        }
        let response = reqwest::Client::new()
            .post(self.url("_matrix/client/v3/login"))
            .json(&body)
            .send()
            .await
            .expect("the login answers");
        let status = response.status();
        let answer: Value = response.json().await.expect("a JSON answer");
        assert!(status.is_success(), "login failed ({status}): {answer}");
        answer
    }
}

/// `method` on Synapse's client API at `path` with `token`: the status and the JSON answer.
pub(crate) async fn on_synapse(
    synapse: &TestSynapse,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = synapse.url().join(path).expect("a valid URL");
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("Synapse answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn whoami(synapse: &TestSynapse, token: &str) -> (u16, Value) {
    on_synapse(
        synapse,
        reqwest::Method::GET,
        "_matrix/client/v3/account/whoami",
        token,
        None,
    )
    .await
}

/// Starts Synapse and our server with `alice` registered (password [`PASSWORD`]) and
/// provisioned; `None` when Synapse cannot run here.
async fn deployment_with_alice() -> Option<(Deployment, TestSynapse)> {
    let mut deployment = Deployment::new();
    let synapse = TestSynapse::start(&deployment.synapse_options())?;
    deployment.manage(&["register-user", "alice", "-p", PASSWORD, "--yes"]);
    deployment.start_server().await;
    let provisioned = eventually(Duration::from_secs(60), || async {
        profile(&synapse, "@alice:localhost").await.is_some()
    })
    .await;
    assert!(provisioned, "alice never appeared on Synapse");
    Some((deployment, synapse))
}

/// The user's profile on Synapse, if Synapse has the user.
async fn profile(synapse: &TestSynapse, user_id: &str) -> Option<Value> {
    let url = synapse
        .url()
        .join(&format!("_matrix/client/v3/profile/{user_id}"))
        .expect("a valid URL");
    let response = reqwest::get(url).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

#[tokio::test]
async fn a_registered_user_appears_on_synapse_with_its_display_name() {
    let mut deployment = Deployment::new();
    let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };
    deployment.manage(&[
        "register-user",
        "alice",
        "-p",
        PASSWORD,
        "-d",
        "Alice Liddell",
        "--yes",
    ]);

    deployment.start_server().await;

    let provisioned = eventually(Duration::from_secs(60), || async {
        profile(&synapse, "@alice:localhost")
            .await
            .is_some_and(|profile| profile["displayname"] == "Alice Liddell")
    })
    .await;
    assert!(provisioned, "alice never appeared on Synapse");
}

#[tokio::test]
async fn a_user_registered_while_synapse_is_down_appears_once_it_is_back() {
    let mut deployment = Deployment::new();
    deployment.manage(&["register-user", "bob", "-d", "Bob", "--yes"]);
    deployment.start_server().await;
    // The worker has tried, and failed, to reach the homeserver at least once.
    let failed_once = eventually(Duration::from_secs(30), || async {
        deployment.log().contains("job attempt failed")
    })
    .await;
    assert!(
        failed_once,
        "the provisioning was never attempted:\n{}",
        deployment.log()
    );

    let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };

    // Retries back off exponentially from 5 s: a few attempts fit in this bound.
    let provisioned = eventually(Duration::from_secs(120), || async {
        profile(&synapse, "@bob:localhost").await.is_some()
    })
    .await;
    assert!(
        provisioned,
        "bob never appeared on Synapse:\n{}",
        deployment.log()
    );
}

#[tokio::test]
async fn doctor_checks_the_whole_deployment() {
    let mut deployment = Deployment::new();
    let Some(_synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };
    deployment.start_server().await;
    deployment.manage(&["register-user", "alice", "-p", PASSWORD, "--yes"]);

    // Only warnings are left (below), and they fail the command unless told otherwise.
    let strict = run(mas_cli(deployment.path()).arg("doctor"));
    assert_eq!(strict.status.code(), Some(1), "{}", stdout(&strict));
    let output = run(mas_cli(deployment.path()).args(["doctor", "--warnings-ok"]));
    let report = String::from_utf8_lossy(&output.stdout).into_owned();

    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    for line in [
        "ok       public_base: ",
        "ok       homeserver: ",
        "ok       homeserver API: ",
        "ok       server name: the homeserver calls itself localhost",
        "ok       issuer: ",
        "ok       token check: the homeserver refuses a token we never issued",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    // No reverse proxy here: Synapse itself answers /login, with 404.
    assert!(report.contains("warning  compat login: "), "{report}");
    assert!(!report.contains("error "), "{report}");

    // A configuration naming another server than the homeserver's own is caught.
    let path = deployment.path().join("config.yaml");
    let config = std::fs::read_to_string(&path).expect("config");
    let wrong = config.replace(
        "  homeserver: localhost\n",
        "  homeserver: elsewhere.example\n",
    );
    assert_ne!(config, wrong);
    std::fs::write(&path, wrong).expect("written");
    let output = run(mas_cli(deployment.path()).args(["doctor", "--warnings-ok"]));
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("error    server name: the homeserver calls itself localhost, but `matrix.homeserver` is elsewhere.example"),
        "{report}"
    );
}

#[tokio::test]
async fn a_compat_login_works_on_synapse_until_logout() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };

    let login = deployment.password_login("alice", None).await;
    let token = login["access_token"].as_str().expect("an access token");
    let device_id = login["device_id"].as_str().expect("a device ID");

    let (status, identity) = whoami(&synapse, token).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["user_id"], "@alice:localhost");
    assert_eq!(identity["device_id"], device_id);

    let response = reqwest::Client::new()
        .post(deployment.url("_matrix/client/v3/logout"))
        .bearer_auth(token)
        .send()
        .await
        .expect("logout answers");
    assert_eq!(response.status().as_u16(), 200);

    // Synapse caches introspection; the device's deletion ends the token there.
    let refused = eventually(Duration::from_secs(30), || async {
        whoami(&synapse, token).await.0 == 401
    })
    .await;
    assert!(refused, "Synapse still accepts the token after logout");
}

#[tokio::test]
async fn a_bot_logging_in_again_on_its_device_keeps_the_device_and_its_keys() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let device_id = "ALICEBOT01";
    let first = deployment.password_login("alice", Some(device_id)).await;
    let first_token = first["access_token"].as_str().expect("an access token");
    assert_eq!(first["device_id"], device_id);

    // The bot uploads its device keys through the first session.
    let ed25519 = "VGhpcyBpcyBub3QgYSByZWFsIGtleSwgYnV0IGJhc2U2NA";
    let keys = serde_json::json!({
        "device_keys": {
            "user_id": "@alice:localhost",
            "device_id": device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {
                format!("curve25519:{device_id}"): "Q3VydmUyNTUxOSBrZXkgb2YgdGhlIGJvdCBkZXZpY2U",
                format!("ed25519:{device_id}"): ed25519,
            },
            "signatures": {"@alice:localhost": {format!("ed25519:{device_id}"): "c2lnbmF0dXJl"}},
        }
    });
    let (status, answer) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/upload",
        first_token,
        Some(keys),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    let second = deployment.password_login("alice", Some(device_id)).await;
    let second_token = second["access_token"].as_str().expect("an access token");
    assert_eq!(second["device_id"], device_id);
    assert_ne!(second_token, first_token);

    let (status, identity) = whoami(&synapse, second_token).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["device_id"], device_id);
    let (status, query) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/query",
        second_token,
        Some(serde_json::json!({"device_keys": {"@alice:localhost": []}})),
    )
    .await;
    assert_eq!(status, 200, "{query}");
    assert_eq!(
        query["device_keys"]["@alice:localhost"][device_id]["keys"][format!("ed25519:{device_id}")],
        ed25519,
        "the keys uploaded through the first session are still there: {query}"
    );
    // The first session ended; the device did not.
    let url = deployment.url("oauth2/introspect");
    let introspected =
        crate::common::introspect(&reqwest::Client::new(), &url, SECRET, first_token).await;
    assert_eq!(introspected["active"], false, "the first session ended");
}

#[tokio::test]
async fn an_issued_compatibility_token_works_on_synapse_and_may_be_an_admin_one() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };

    let token = deployment.manage(&["issue-compatibility-token", "alice", "SCRIPTDEV01"]);
    let token = token.trim();
    let (status, identity) = whoami(&synapse, token).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["device_id"], "SCRIPTDEV01");
    let admin_api = "_synapse/admin/v2/users/@alice:localhost";
    let (status, _) = on_synapse(&synapse, reqwest::Method::GET, admin_api, token, None).await;
    assert_eq!(status, 403, "a plain token is no admin token");

    let admin = deployment.manage(&[
        "issue-compatibility-token",
        "alice",
        "ADMINDEV01",
        "--yes-i-want-to-grant-synapse-admin-privileges",
    ]);
    let (status, user) = on_synapse(
        &synapse,
        reqwest::Method::GET,
        admin_api,
        admin.trim(),
        None,
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["name"], "@alice:localhost");
}

#[tokio::test]
async fn a_user_registered_on_the_command_line_is_on_the_homeserver_before_any_job_ran() {
    // No server and no worker: the queued provision-user job has not run, yet Synapse knows
    // the user when register-user returns, so the next command can use it at once.
    let mut deployment = Deployment::new();
    let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };
    deployment.manage(&["register-user", "bot", "-p", PASSWORD, "-d", "Bot", "--yes"]);
    let known = profile(&synapse, "@bot:localhost").await;
    assert_eq!(
        known.as_ref().map(|p| p["displayname"].clone()),
        Some("Bot".into()),
        "{known:?}"
    );

    let token = deployment.manage(&["issue-compatibility-token", "bot", "BOTDEV01"]);

    // Synapse asks the auth service about the token: serve it now.
    deployment.start_server().await;
    let (status, identity) = whoami(&synapse, token.trim()).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["user_id"], "@bot:localhost");
    assert_eq!(identity["device_id"], "BOTDEV01");
}

/// Two cross-signing master keys of alice (32 bytes each, unpadded base64).
const FIRST_MASTER_KEY: &str = "Zmlyc3QtbWFzdGVyLWtleS1vZi1hbGljZS0wMTIzNDU";
const SECOND_MASTER_KEY: &str = "c2Vjb25kLW1hc3Rlci1rZXktb2YtYWxpY2UtMDEyMzQ";

/// Uploads `key` as alice's cross-signing master key with `token`.
async fn upload_master_key(synapse: &TestSynapse, token: &str, key: &str) -> (u16, Value) {
    let body = serde_json::json!({
        "master_key": {
            "user_id": "@alice:localhost",
            "usage": ["master"],
            "keys": {format!("ed25519:{key}"): key},
        }
    });
    on_synapse(
        synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/device_signing/upload",
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_cross_signing_reset_allowed_from_the_command_line_lets_new_keys_in() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let token = deployment.manage(&["issue-compatibility-token", "alice", "XSIGNDEV01"]);
    let token = token.trim();

    let (status, answer) = upload_master_key(&synapse, token, FIRST_MASTER_KEY).await;
    assert_eq!(status, 200, "the first keys need no approval: {answer}");
    let (status, answer) = upload_master_key(&synapse, token, SECOND_MASTER_KEY).await;
    assert_eq!(status, 401, "a replacement needs approval: {answer}");

    deployment.manage(&["allow-cross-signing-reset", "alice"]);

    let (status, answer) = upload_master_key(&synapse, token, SECOND_MASTER_KEY).await;
    assert_eq!(status, 200, "approved, the replacement goes in: {answer}");
}

/// The user as Synapse's `/_synapse/mas/query_user` describes it.
async fn synapse_user(synapse: &TestSynapse, localpart: &str) -> Value {
    let url = synapse
        .url()
        .join(&format!("_synapse/mas/query_user?localpart={localpart}"))
        .expect("a valid URL");
    reqwest::Client::new()
        .get(url)
        .bearer_auth(SECRET)
        .send()
        .await
        .expect("Synapse answers")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn deactivation_and_reactivation_reach_synapse() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let login = deployment.password_login("alice", None).await;
    let token = login["access_token"].as_str().expect("an access token");
    assert_eq!(whoami(&synapse, token).await.0, 200);

    deployment.manage(&["lock-user", "alice", "--deactivate"]);
    let deactivated = eventually(Duration::from_secs(60), || async {
        synapse_user(&synapse, "alice").await["is_deactivated"] == true
    })
    .await;
    assert!(
        deactivated,
        "Synapse never deactivated alice:\n{}",
        deployment.log()
    );
    assert_eq!(whoami(&synapse, token).await.0, 401, "her devices are gone");

    deployment.manage(&["unlock-user", "alice", "--reactivate"]);
    let reactivated = eventually(Duration::from_secs(60), || async {
        synapse_user(&synapse, "alice").await["is_deactivated"] == false
    })
    .await;
    assert!(
        reactivated,
        "Synapse never reactivated alice:\n{}",
        deployment.log()
    );
    let users = deployment.manage(&["list-users", "--json"]);
    assert!(
        users.contains("\"status\": \"active\"") || users.contains("\"status\":\"active\""),
        "{users}"
    );
}

#[tokio::test]
async fn killing_the_sessions_of_a_user_ends_their_tokens_on_synapse() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let login = deployment
        .password_login("alice", Some("KILLMEDEV01"))
        .await;
    let token = login["access_token"].as_str().expect("an access token");
    assert_eq!(whoami(&synapse, token).await.0, 200);

    let dry = deployment.manage(&["kill-sessions", "alice", "--dry-run"]);
    assert!(dry.contains("1 compatibility session(s)"), "{dry}");
    assert_eq!(
        whoami(&synapse, token).await.0,
        200,
        "a dry run ends nothing"
    );

    deployment.manage(&["kill-sessions", "alice"]);
    let refused = eventually(Duration::from_secs(30), || async {
        whoami(&synapse, token).await.0 == 401
    })
    .await;
    assert!(
        refused,
        "Synapse still accepts the token:\n{}",
        deployment.log()
    );
}

#[tokio::test]
async fn killing_sessions_with_keep_devices_lets_a_bot_come_back_to_its_device_and_keys() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let login = deployment
        .password_login("alice", Some("BOTDEVICE01"))
        .await;
    let token = login["access_token"].as_str().expect("an access token");
    // The bot publishes its device keys, as a crypto library does on its first start.
    let device_keys = serde_json::json!({
        "device_keys": {
            "user_id": "@alice:localhost",
            "device_id": "BOTDEVICE01",
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {
                "curve25519:BOTDEVICE01": "3C5BFWi2Y8MaVvjM8M22DBmh24PmgR0nPvJOIArzgyI",
                "ed25519:BOTDEVICE01": "lEuiRJBit0IG6nUf5pUzWTUEsRVVe/HJkoKuEww9ULI"
            },
            "signatures": {"@alice:localhost": {"ed25519:BOTDEVICE01": "dSO80A01XiigH3uBiDVx/EjzaoycHcjq9lfQX0uWsqxl2giMIiSPR8a4d291W1ihKJL/a+myXS367WT6NAIcBA"}}
        }
    });
    let (status, body) = on_synapse(
        &synapse,
        reqwest::Method::POST,
        "_matrix/client/v3/keys/upload",
        token,
        Some(device_keys),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let query = serde_json::json!({"device_keys": {"@alice:localhost": []}});
    let keys_of = |token: String| {
        let synapse = &synapse;
        let query = query.clone();
        async move {
            let (status, body) = on_synapse(
                synapse,
                reqwest::Method::POST,
                "_matrix/client/v3/keys/query",
                &token,
                Some(query),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body["device_keys"]["@alice:localhost"]["BOTDEVICE01"]["keys"].clone()
        }
    };
    let before = keys_of(token.to_owned()).await;
    assert!(before.is_object(), "the keys are published: {before}");

    // The token is lost; the operator ends the sessions but keeps the devices.
    let out = deployment.manage(&["kill-sessions", "alice", "--keep-devices"]);
    assert!(out.contains("the devices are kept"), "{out}");

    // The bot signs in again with its stored password and device ID: same device, same keys.
    let again = deployment
        .password_login("alice", Some("BOTDEVICE01"))
        .await;
    let new_token = again["access_token"].as_str().expect("an access token");
    assert_ne!(new_token, token);
    assert_eq!(again["device_id"], "BOTDEVICE01");
    assert_eq!(
        keys_of(new_token.to_owned()).await,
        before,
        "the keys survived"
    );
}

/// Our server and a second `mas-cli server` process on one fresh PostgreSQL database, with a
/// real Synapse, and `username` (unless empty) registered with [`PASSWORD`]; `None` when PostgreSQL or Synapse
/// cannot run here. [`TwoProcesses::finish`] stops it all and drops the database.
struct TwoProcesses {
    deployment: Deployment,
    _synapse: TestSynapse,
    second: Child,
    second_port: u16,
    /// The PostgreSQL database's URI and name.
    uri: String,
    database: String,
}

impl TwoProcesses {
    /// `extra` is YAML added to the configuration (sections other than `database`).
    async fn start(extra: &str, username: &str) -> Option<Self> {
        let (uri, database) = portcullis_storage_sql::testing::create_postgres_database().await?;
        let mut deployment =
            Deployment::with_extra(&format!("database:\n  uri: \"{uri}\"\n{extra}"));
        let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
            portcullis_storage_sql::testing::drop_postgres_database(&database).await;
            return None;
        };
        deployment.start_server().await;
        if !username.is_empty() {
            deployment.manage(&["register-user", username, "-p", PASSWORD, "--yes"]);
        }
        let (second, second_port) = deployment.start_second_server().await;
        Some(Self {
            deployment,
            _synapse: synapse,
            second,
            second_port,
            uri,
            database,
        })
    }

    /// The ports of the two processes.
    fn ports(&self) -> [u16; 2] {
        [self.deployment.port, self.second_port]
    }

    async fn finish(mut self) {
        stop(&mut self.second);
        let database = self.database.clone();
        drop(self);
        portcullis_storage_sql::testing::drop_postgres_database(&database).await;
    }
}

#[tokio::test]
async fn a_login_token_redeemed_at_once_on_two_server_processes_has_one_winner_every_time() {
    let Some(processes) = TwoProcesses::start("", "bot").await else {
        return;
    };
    let (deployment, second_port) = (&processes.deployment, processes.second_port);

    let client = reqwest::Client::new();
    let redeem = |port: u16, token: String, device: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("http://127.0.0.1:{port}/_matrix/client/v3/login"))
                .json(&serde_json::json!({
                    "type": "m.login.token",
                    "token": token,
                    "device_id": device,
                }))
                .send()
                .await
                .expect("the server answers")
                .status()
                .as_u16()
        }
    };
    for round in 0..100 {
        let token = deployment
            .manage(&["issue-login-token", "bot"])
            .trim()
            .to_owned();
        let (first, other) = tokio::join!(
            redeem(deployment.port, token.clone(), format!("ROUND{round}AAAA")),
            redeem(second_port, token.clone(), format!("ROUND{round}BBBB")),
        );
        let mut statuses = [first, other];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 403], "round {round}: exactly one winner");
    }

    processes.finish().await;
}

#[tokio::test]
async fn a_device_code_approved_on_one_process_is_redeemed_once_across_two() {
    const TV: &str = "01JDEV1CE0000000000000TV01";
    let clients = format!("clients:\n  - client_id: {TV}\n    client_auth_method: none\n");
    let Some(processes) = TwoProcesses::start(&clients, "tvuser").await else {
        return;
    };
    let (deployment, second_port) = (&processes.deployment, processes.second_port);
    let second_url = |path: &str| format!("http://127.0.0.1:{second_port}/{path}");

    // The user signs in once, in a browser, on the second process.
    let (client, mut jar) = signed_in_browser(second_url("login"), "tvuser").await;

    let poll = |port: u16, device_code: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("http://127.0.0.1:{port}/oauth2/token"))
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", &device_code),
                    ("client_id", TV),
                ])
                .send()
                .await
                .expect("the server answers")
                .status()
                .as_u16()
        }
    };
    for round in 0..100 {
        // The TV asks the first process.
        let started: Value = client
            .post(deployment.url("oauth2/device"))
            .form(&[
                ("client_id", TV),
                (
                    "scope",
                    &format!(
                        "openid urn:matrix:client:api:* urn:matrix:client:device:TVROUND{round:04}"
                    ),
                ),
            ])
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("JSON");
        let device_code = started["device_code"]
            .as_str()
            .expect("a device code")
            .to_owned();
        let user_code = started["user_code"].as_str().expect("a user code");
        // The user approves on the second. Codes typed at /link are rate-limited per
        // address: each round from another one.
        let allowed = approve_device(
            &client,
            &mut jar,
            second_url("").trim_end_matches('/'),
            user_code,
            &format!("10.0.{}.{}", round / 200, round % 200 + 1),
        )
        .await;
        assert_eq!(allowed, 200, "round {round}");
        // The TV polls both processes at once: one gets the tokens.
        let (first, other) = tokio::join!(
            poll(deployment.port, device_code.clone()),
            poll(second_port, device_code.clone()),
        );
        let winners = [first, other]
            .iter()
            .filter(|status| **status == 200)
            .count();
        assert_eq!(winners, 1, "round {round}: {first} and {other}");
    }

    processes.finish().await;
}

/// Sends the same refresh request to both servers at once; the two statuses and bodies.
async fn refresh_at_both(
    client: &reqwest::Client,
    ports: [u16; 2],
    request: impl Fn(&reqwest::Client, u16) -> reqwest::RequestBuilder,
) -> [(u16, Value); 2] {
    let send = |port| {
        let request = request(client, port);
        async move {
            let response = request.send().await.expect("the server answers");
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or_default())
        }
    };
    let (first, other) = tokio::join!(send(ports[0]), send(ports[1]));
    [first, other]
}

/// The one answer of the two with `status`, asserting there is exactly one.
fn the_one_with(status: u16, answers: [(u16, Value); 2], round: u32) -> Value {
    let mut winners = answers.into_iter().filter(|(code, _)| *code == status);
    let winner = winners
        .next()
        .unwrap_or_else(|| panic!("round {round}: no winner"));
    assert!(winners.next().is_none(), "round {round}: two winners");
    winner.1
}

#[tokio::test]
async fn refresh_tokens_used_at_once_on_two_server_processes_are_exchanged_once_every_round() {
    const TV: &str = "01JDEV1CE0000000000000TV02";
    let clients = format!("clients:\n  - client_id: {TV}\n    client_auth_method: none\n");
    let Some(processes) = TwoProcesses::start(&clients, "alice").await else {
        return;
    };
    let (deployment, second_port) = (&processes.deployment, processes.second_port);
    let ports = processes.ports();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    // The Matrix login API's refresh tokens.
    let login: Value = client
        .post(deployment.url("_matrix/client/v3/login"))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": PASSWORD,
            "refresh_token": true,
        }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    let mut refresh_token = login["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    for round in 0..100 {
        let token = refresh_token.clone();
        let answers = refresh_at_both(&client, ports, |client, port| {
            client
                .post(format!("http://127.0.0.1:{port}/_matrix/client/v3/refresh"))
                .json(&serde_json::json!({"refresh_token": token}))
        })
        .await;
        assert!(
            answers
                .iter()
                .all(|(status, _)| matches!(status, 200 | 401)),
            "round {round}: {answers:?}"
        );
        let winner = the_one_with(200, answers, round);
        refresh_token = winner["refresh_token"]
            .as_str()
            .expect("the next one")
            .to_owned();
    }

    // OAuth 2.0 refresh tokens, from a device authorization approved once in a browser.
    let mut jar = CookieJar::default();
    let second_url = |path: &str| format!("http://127.0.0.1:{second_port}/{path}");
    let login = get_page(&client, &mut jar, second_url("login")).await;
    let signed_in = post_page(
        &client,
        &mut jar,
        second_url("login"),
        &[
            ("csrf", &csrf_field(&login)),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(signed_in, 303);
    let started: Value = client
        .post(deployment.url("oauth2/device"))
        .form(&[
            ("client_id", TV),
            (
                "scope",
                "openid urn:matrix:client:api:* urn:matrix:client:device:TVREFRESH01",
            ),
        ])
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    let device_code = started["device_code"]
        .as_str()
        .unwrap_or_else(|| panic!("a device code: {started}"))
        .to_owned();
    let user_code = started["user_code"].as_str().expect("a user code");
    let base = format!("http://127.0.0.1:{second_port}");
    let allowed = approve_device(&client, &mut jar, &base, user_code, "10.1.0.1").await;
    assert_eq!(allowed, 200);
    let tokens: Value = client
        .post(deployment.url("oauth2/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", &device_code),
            ("client_id", TV),
        ])
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("JSON");
    let mut refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    for round in 0..100 {
        let token = refresh_token.clone();
        let answers = refresh_at_both(&client, ports, |client, port| {
            client
                .post(format!("http://127.0.0.1:{port}/oauth2/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", TV),
                ])
        })
        .await;
        assert!(
            answers
                .iter()
                .all(|(status, _)| matches!(status, 200 | 400)),
            "round {round}: {answers:?}"
        );
        // A refresh that comes second may be taken for the client retrying after a lost
        // response (its predecessor's successor still unused, RFC 9700 §4.14.2): it is answered
        // too, and the pair the first one got is revoked. Either way, one pair works.
        let granted: Vec<Value> = answers
            .into_iter()
            .filter(|(status, _)| *status == 200)
            .map(|(_, body)| body)
            .collect();
        let mut usable = Vec::new();
        for pair in granted {
            let access_token = pair["access_token"].as_str().expect("an access token");
            let url = deployment.url("oauth2/introspect");
            let introspected = crate::common::introspect(&client, &url, SECRET, access_token).await;
            if introspected["active"] == true {
                usable.push(pair);
            }
        }
        assert_eq!(usable.len(), 1, "round {round}: exactly one usable pair");
        refresh_token = usable[0]["refresh_token"]
            .as_str()
            .expect("the next one")
            .to_owned();
    }

    processes.finish().await;
}

#[tokio::test]
async fn an_authorization_code_exchanged_at_once_on_two_server_processes_has_one_winner_every_time()
{
    const WEB: &str = "01JWEBC0DE00000000000WEB01";
    const REDIRECT: &str = "https://app.example.com/callback";
    // A plain PKCE challenge is its verifier (RFC 7636 §4.1).
    const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-long";
    let clients = format!(
        "clients:\n  - client_id: {WEB}\n    client_auth_method: none\n    redirect_uris: [\"{REDIRECT}\"]\n"
    );
    let Some(processes) = TwoProcesses::start(&clients, "alice").await else {
        return;
    };
    let (deployment, second_port) = (&processes.deployment, processes.second_port);
    let (client, mut jar) = signed_in_browser(deployment.url("login"), "alice").await;

    let code_from = |location: &str| -> String {
        let url = url::Url::parse(location).expect("a redirect URL");
        url.query_pairs()
            .find(|(name, _)| name == "code")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("a code in {location}"))
    };
    let exchange = |port: u16, code: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("http://127.0.0.1:{port}/oauth2/token"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("client_id", WEB),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await
                .expect("the server answers")
                .status()
                .as_u16()
        }
    };
    for round in 0..100 {
        let authorize = deployment.url(&format!(
            "authorize?response_type=code&client_id={WEB}&redirect_uri={REDIRECT}&state=s{round}\
             &code_challenge={VERIFIER}&code_challenge_method=plain\
             &scope=openid%20urn:matrix:client:api:*%20urn:matrix:client:device:WEBROUND{round:04}"
        ));
        let response = client
            .get(&authorize)
            .header(reqwest::header::COOKIE, jar.header())
            .send()
            .await
            .expect("the server answers");
        assert!(response.status().is_redirection(), "round {round}");
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .expect("a redirect")
            .to_owned();
        let location = if location.starts_with(REDIRECT) {
            location
        } else {
            // Through the consent step first.
            let consent = if location.starts_with("http") {
                location
            } else {
                deployment.url(location.trim_start_matches('/'))
            };
            let page = get_page(&client, &mut jar, consent.clone()).await;
            let allowed = client
                .post(&consent)
                .header(reqwest::header::COOKIE, jar.header())
                .form(&[("csrf", csrf_field(&page).as_str()), ("action", "allow")])
                .send()
                .await
                .expect("the server answers");
            allowed
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_else(|| panic!("round {round}: consent gives a redirect"))
                .to_owned()
        };
        let code = code_from(&location);
        let (first, other) = tokio::join!(
            exchange(deployment.port, code.clone()),
            exchange(second_port, code.clone()),
        );
        let mut statuses = [first, other];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400], "round {round}: exactly one winner");
    }

    processes.finish().await;
}

/// A browser (a client that does not follow redirects, and its cookies) signed in as
/// `username` with [`PASSWORD`] on the login page at `login_url`.
async fn signed_in_browser(login_url: String, username: &str) -> (reqwest::Client, CookieJar) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let mut jar = CookieJar::default();
    let login = get_page(&client, &mut jar, login_url.clone()).await;
    let status = post_page(
        &client,
        &mut jar,
        login_url,
        &[
            ("csrf", &csrf_field(&login)),
            ("username", username),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 303, "signed in");
    (client, jar)
}

/// Approves the device whose user code is `user_code` on the process at `base` (`/link`,
/// then allow), as the signed-in browser of `jar`, from the address `forwarded_for` (which
/// the local proxy is trusted to give); the status of the approval.
async fn approve_device(
    client: &reqwest::Client,
    jar: &mut CookieJar,
    base: &str,
    user_code: &str,
    forwarded_for: &str,
) -> u16 {
    let link = client
        .get(format!("{base}/link?code={user_code}"))
        .header(reqwest::header::COOKIE, jar.header())
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .expect("the page answers");
    assert_eq!(link.status().as_u16(), 303, "to the approval page");
    let location = link
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .expect("to the approval page");
    let approval = format!(
        "{base}/{}",
        location.trim_start_matches(base).trim_start_matches('/')
    );
    let page = get_page(client, jar, approval.clone()).await;
    post_page(
        client,
        jar,
        approval,
        &[("csrf", &csrf_field(&page)), ("action", "allow")],
    )
    .await
}

/// The value of the hidden `csrf` field of a page.
pub(crate) fn csrf_field(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page has a csrf field") + marker.len();
    let end = start + page[start..].find('"').expect("the value ends");
    page[start..end].to_owned()
}

/// The `name=value` parts of the `Set-Cookie` headers of `response`, as one `Cookie` header.
fn cookies_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn a_user_registering_on_the_web_appears_on_synapse_with_their_display_name() {
    let mut deployment = Deployment::with_extra(
        "account:\n  password_registration_enabled: true\n  password_registration_email_required: false\n",
    );
    let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };
    deployment.start_server().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");

    let form = client
        .get(deployment.url("register/password"))
        .send()
        .await
        .expect("the form answers");
    assert_eq!(form.status().as_u16(), 200);
    let cookies = cookies_of(&form);
    let csrf = csrf_field(&form.text().await.expect("a page"));
    let submitted = client
        .post(deployment.url("register/password"))
        .header(reqwest::header::COOKIE, cookies)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "carol"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("display_name", "Carol Danvers"),
        ])
        .send()
        .await
        .expect("the registration answers");
    assert_eq!(
        submitted.status().as_u16(),
        303,
        "{:?}",
        submitted.text().await
    );

    let provisioned = eventually(Duration::from_secs(60), || async {
        profile(&synapse, "@carol:localhost")
            .await
            .is_some_and(|profile| profile["displayname"] == "Carol Danvers")
    })
    .await;
    assert!(
        provisioned,
        "carol never appeared on Synapse:\n{}",
        deployment.log()
    );
}

/// A browser's cookies, kept across requests by hand.
#[derive(Default)]
pub(crate) struct CookieJar(std::collections::BTreeMap<String, String>);

impl CookieJar {
    pub(crate) fn update(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            if let Some((name, value)) = value
                .to_str()
                .ok()
                .and_then(|cookie| cookie.split(';').next())
                .and_then(|pair| pair.split_once('='))
            {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub(crate) fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// GETs `path` with the jar's cookies; the page's text.
pub(crate) async fn get_page(client: &reqwest::Client, jar: &mut CookieJar, url: String) -> String {
    let response = client
        .get(url)
        .header(reqwest::header::COOKIE, jar.header())
        .send()
        .await
        .expect("the page answers");
    assert_eq!(response.status().as_u16(), 200);
    jar.update(&response);
    response.text().await.expect("a page")
}

/// A form's fields as [`post_page`] takes them.
fn fields<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// POSTs a form with the jar's cookies; the status.
pub(crate) async fn post_page(
    client: &reqwest::Client,
    jar: &mut CookieJar,
    url: String,
    form: &[(&str, &str)],
) -> u16 {
    let response = client
        .post(url)
        .header(reqwest::header::COOKIE, jar.header())
        .form(form)
        .send()
        .await
        .expect("the form answers");
    jar.update(&response);
    response.status().as_u16()
}

#[tokio::test]
async fn a_cross_signing_reset_approved_on_the_account_page_lets_new_keys_in() {
    let Some((deployment, synapse)) = deployment_with_alice().await else {
        return;
    };
    let token = deployment.manage(&["issue-compatibility-token", "alice", "XSIGNWEB01"]);
    let token = token.trim();
    let (status, _) = upload_master_key(&synapse, token, FIRST_MASTER_KEY).await;
    assert_eq!(status, 200);
    let (status, refusal) = upload_master_key(&synapse, token, SECOND_MASTER_KEY).await;
    assert_eq!(status, 401, "{refusal}");
    // Synapse sends the user to our account page with the reset action.
    let approval_url = refusal["params"]["org.matrix.cross_signing_reset"]["url"]
        .as_str()
        .expect("Synapse names the approval page")
        .to_owned();
    assert!(
        approval_url.contains("action=org.matrix.cross_signing_reset"),
        "{approval_url}"
    );

    // The user signs in, follows the link, and approves with their password.
    let (client, mut jar) = signed_in_browser(deployment.url("login"), "alice").await;
    let page = get_page(
        &client,
        &mut jar,
        deployment.url("account/cross-signing-reset"),
    )
    .await;
    let status = post_page(
        &client,
        &mut jar,
        deployment.url("account/cross-signing-reset"),
        &[("csrf", &csrf_field(&page)), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(status, 303);

    let (status, answer) = upload_master_key(&synapse, token, SECOND_MASTER_KEY).await;
    assert_eq!(status, 200, "approved, the replacement goes in: {answer}");
}

/// `method` on our Admin API at `path` with `token`: the status and the JSON answer.
async fn admin_api(
    deployment: &Deployment,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, deployment.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the Admin API answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_admin_token_makes_a_user_and_a_personal_access_token_synapse_accepts_until_revoked() {
    let mut deployment = Deployment::new();
    let Some(synapse) = TestSynapse::start(&deployment.synapse_options()) else {
        return;
    };
    deployment.manage(&["register-user", "admin", "-p", PASSWORD, "--admin", "--yes"]);
    deployment.start_server().await;
    let admin_token = deployment.manage(&[
        "generate-token",
        "--admin",
        "--expires-in-days",
        "365",
        "--user",
        "admin",
    ]);
    let admin_token = admin_token.trim();

    let (status, created) = admin_api(
        &deployment,
        reqwest::Method::POST,
        "api/admin/v1/users",
        admin_token,
        Some(serde_json::json!({"username": "bot"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let bot_id = created["data"]["id"].as_str().expect("an id").to_owned();
    let (status, found) = admin_api(
        &deployment,
        reqwest::Method::GET,
        "api/admin/v1/users/by-username/bot",
        admin_token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["data"]["id"], bot_id);

    let (status, session) = admin_api(
        &deployment,
        reqwest::Method::POST,
        "api/admin/v1/personal-sessions",
        admin_token,
        Some(serde_json::json!({
            "actor_user_id": bot_id,
            "human_name": "e2e bot",
            "scope": "urn:matrix:client:api:* urn:matrix:client:device:BOTDEVICE01",
        })),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    let pat = session["data"]["attributes"]["access_token"]
        .as_str()
        .expect("the token")
        .to_owned();
    let session_id = session["data"]["id"].as_str().expect("an id").to_owned();

    let (status, me) = whoami(&synapse, &pat).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user_id"], "@bot:localhost");
    assert_eq!(me["device_id"], "BOTDEVICE01");

    let (status, _) = admin_api(
        &deployment,
        reqwest::Method::POST,
        &format!("api/admin/v1/personal-sessions/{session_id}/revoke"),
        admin_token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let refused = eventually(Duration::from_secs(30), || async {
        whoami(&synapse, &pat).await.0 == 401
    })
    .await;
    assert!(refused, "Synapse still accepts the revoked token");
}

/// `docs/setup/synapse.md`'s worked example, step by step: a generated configuration edited as
/// the guide says, the database, a user, Synapse, the server, a bot's login, and `doctor`,
/// which finds nothing wrong but the two things the example leaves out on purpose (a reverse
/// proxy routing `/login`, and an email transport).
#[tokio::test]
async fn the_worked_example_of_the_synapse_guide_runs_and_doctor_finds_every_link_ok() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (port, internal, synapse_port) = (free_port(), free_port(), free_port());
    let (proxy_port, smtp_port) = (free_port(), free_port());
    let generated = run(mas_cli(dir.path()).args(["config", "generate", "-o", "config.yaml"]));
    assert!(generated.status.success(), "{}", stderr(&generated));
    let path = dir.path().join("config.yaml");
    let yaml = std::fs::read_to_string(&path).expect("generated");
    let secret = yaml
        .split("\nmatrix:\n")
        .nth(1)
        .and_then(|matrix| {
            matrix
                .lines()
                .find_map(|line| line.strip_prefix("  secret: "))
        })
        .expect("a generated homeserver secret")
        .to_owned();
    // The guide's edits: our address, the homeserver's public address (the reverse proxy in
    // front of Synapse), and a mail relay.
    let edited = [
        (
            "public_base: http://[::]:8080/",
            format!("public_base: http://127.0.0.1:{port}/"),
        ),
        (
            "issuer: http://[::]:8080/",
            format!("issuer: http://127.0.0.1:{port}/"),
        ),
        (
            "address: '[::]:8080'",
            format!("address: '127.0.0.1:{port}'"),
        ),
        ("port: 8081", format!("port: {internal}")),
        (
            "homeserver: localhost:8008",
            "homeserver: localhost".to_owned(),
        ),
        (
            "endpoint: http://localhost:8008/",
            format!("endpoint: http://127.0.0.1:{proxy_port}/"),
        ),
        (
            "transport: blackhole",
            format!("transport: smtp\n  mode: plain\n  hostname: 127.0.0.1\n  port: {smtp_port}"),
        ),
    ]
    .into_iter()
    .fold(yaml, |yaml, (from, to)| {
        assert!(yaml.contains(from), "{from} is in the generated file");
        yaml.replace(from, &to)
    });
    std::fs::write(&path, edited).expect("edited");

    for args in [
        &["config", "check"][..],
        &["database", "migrate"][..],
        &[
            "manage",
            "register-user",
            "alice",
            "-p",
            PASSWORD,
            "-d",
            "Alice",
            "--yes",
        ][..],
    ] {
        let output = run(mas_cli(dir.path()).args(args));
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let base = format!("http://127.0.0.1:{port}/");
    // Synapse's public address is the reverse proxy's, as in the guide.
    let public = format!("public_baseurl: http://127.0.0.1:{proxy_port}/\n");
    let options = Options::new(secret, &base)
        .with_port(synapse_port)
        .with_extra_config(public);
    let Some(synapse) = TestSynapse::start(&options) else {
        return;
    };
    let Some(mut proxy) = reverse_proxy(dir.path(), proxy_port, (port, synapse_port)) else {
        return;
    };
    // A real SMTP server, as a local relay.
    let mut relay = std::process::Command::new(synapse.python_with("aiosmtpd", "aiosmtpd"))
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{smtp_port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mail relay starts");
    let mut server = mas_cli(dir.path())
        .arg("server")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let ready = answers_within_30_s(&format!("{base}.well-known/openid-configuration")).await;
    assert!(ready, "the server serves its discovery document");
    let homeserver = format!("http://127.0.0.1:{proxy_port}/");
    assert!(
        answers_within_30_s(&format!("{homeserver}_matrix/client/versions")).await,
        "the reverse proxy answers"
    );

    // The bot's login of the guide, on the homeserver's address as an old client does, then
    // its token on Synapse.
    let login: Value = reqwest::Client::new()
        .post(format!("{homeserver}_matrix/client/v3/login"))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": PASSWORD,
            "device_id": "MYBOTDEVICE",
        }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    let token = login["access_token"].as_str().expect("a token").to_owned();
    let (status, identity) = whoami(&synapse, &token).await;
    assert_eq!(status, 200, "{identity}");
    assert_eq!(identity["user_id"], "@alice:localhost");
    assert_eq!(identity["device_id"], "MYBOTDEVICE");

    // Every check of doctor is ok: no warning to wave through.
    let output = run(mas_cli(dir.path()).arg("doctor"));
    let report = stdout(&output);
    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    let not_ok: Vec<&str> = report
        .lines()
        .filter(|line| !line.starts_with("ok ") && !line.starts_with(' '))
        .collect();
    assert!(not_ok.is_empty(), "{report}");
    for check in ["compat login", "email"] {
        assert!(
            report
                .lines()
                .any(|line| line.starts_with("ok") && line.contains(check)),
            "{check}: {report}"
        );
    }
    stop(&mut server);
    stop(&mut proxy);
    stop(&mut relay);
}

/// nginx in front of Synapse on `port`, as the guide configures it: the Matrix login API to us
/// (`ours`), everything else to Synapse. `None` (the test is skipped) when nginx is not
/// installed, except under CI.
fn reverse_proxy(dir: &Path, port: u16, (ours, synapse): (u16, u16)) -> Option<Child> {
    let Some(nginx) = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(Path::new)
        .find(|path| path.exists())
    else {
        assert!(
            std::env::var_os("CI").is_none_or(|value| value.is_empty()),
            "CI is set, so a missing nginx is a failure (apt-get install nginx-light)"
        );
        eprintln!("SKIPPED: no nginx (apt-get install nginx-light)");
        return None;
    };
    let root = dir.join("nginx");
    std::fs::create_dir_all(&root).expect("nginx folder");
    let at = root.display();
    let forwarded = "proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;";
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {at}/nginx.pid;\nerror_log {at}/error.log;\n\
         events {{}}\n\
         http {{\n\
           access_log off;\n\
           client_body_temp_path {at}/body; proxy_temp_path {at}/proxy;\n\
           fastcgi_temp_path {at}/fastcgi; uwsgi_temp_path {at}/uwsgi; scgi_temp_path {at}/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             location ~ ^/_matrix/client/[^/]+/(login|logout|refresh) {{ proxy_pass http://127.0.0.1:{ours}; {forwarded} }}\n\
             location / {{ proxy_pass http://127.0.0.1:{synapse}; {forwarded} client_max_body_size 50M; }}\n\
           }}\n\
         }}\n"
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("nginx.conf");
    Some(
        std::process::Command::new(nginx)
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts"),
    )
}

#[tokio::test]
async fn while_synapse_is_down_matrix_logins_get_503_and_tokens_still_introspect() {
    let Some((deployment, mut synapse)) = deployment_with_alice().await else {
        return;
    };
    let before = deployment.password_login("alice", None).await;
    let token = before["access_token"].as_str().expect("an access token");

    synapse.stop();
    let client = reqwest::Client::new();
    // A new device cannot be created on the homeserver: nothing is done, the client may retry.
    let response = client
        .post(deployment.url("_matrix/client/v3/login"))
        .json(&serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": "alice"},
            "password": PASSWORD,
        }))
        .send()
        .await
        .expect("the login answers");
    assert_eq!(response.status().as_u16(), 503);
    let refusal: Value = response.json().await.expect("a Matrix error");
    assert_eq!(refusal["errcode"], "M_UNKNOWN", "{refusal}");
    // Introspection does not need the homeserver: a token handed out before is still active.
    let introspection =
        crate::common::introspect(&client, &deployment.url("oauth2/introspect"), SECRET, token)
            .await;
    assert_eq!(introspection["active"], true, "{introspection}");
    assert!(introspection["sub"].is_string(), "{introspection}");

    synapse.restart(&deployment.synapse_options());
    let after = deployment.password_login("alice", None).await;
    let new_token = after["access_token"].as_str().expect("an access token");
    assert_eq!(whoami(&synapse, new_token).await.0, 200);
    assert_eq!(
        whoami(&synapse, token).await.0,
        200,
        "the earlier device survived"
    );
}

#[tokio::test]
async fn a_registration_token_for_one_account_makes_one_account_across_two_processes_every_round() {
    let lifted = "{burst: 100000, per_second: 100000}";
    let extra = format!(
        "account:\n  password_registration_enabled: true\n  password_registration_email_required: false\n  password_registration_token_required: true\n\
         rate_limiting:\n  registration: {lifted}\n"
    );
    let Some(processes) = TwoProcesses::start(&extra, "").await else {
        return;
    };
    let database = portcullis_storage_sql::testing::connect_postgres(&processes.uri).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    const ROUNDS: u32 = 100;

    for round in 0..ROUNDS {
        let token = format!("one-account-{round}");
        let mut repo = database.transaction().await.expect("a unit of work");
        portcullis_services::registration_tokens::issue(
            &mut *repo,
            &mut rand::rngs::OsRng,
            &portcullis_services::registration_tokens::NewToken {
                token: Some(&token),
                usage_limit: Some(1),
                expires_at: None,
            },
            chrono::Utc::now(),
        )
        .await
        .expect("stored")
        .expect("a new token");
        repo.commit().await.expect("committed");

        // Two people, one at each process, send the form with the same token at once.
        let [mut first, mut second] = [CookieJar::default(), CookieJar::default()];
        let urls = processes
            .ports()
            .map(|port| format!("http://127.0.0.1:{port}/register/password"));
        let csrf = [
            csrf_field(&get_page(&client, &mut first, urls[0].clone()).await),
            csrf_field(&get_page(&client, &mut second, urls[1].clone()).await),
        ];
        let form = |index: usize, username: &'static str| {
            vec![
                ("csrf", csrf[index].clone()),
                ("username", format!("{username}{round}")),
                ("password", PASSWORD.to_owned()),
                ("password_confirm", PASSWORD.to_owned()),
                ("token", token.clone()),
            ]
        };
        let (first_form, second_form) = (form(0, "first"), form(1, "second"));
        let (first_fields, second_fields) = (fields(&first_form), fields(&second_form));
        let statuses = tokio::join!(
            post_page(&client, &mut first, urls[0].clone(), &first_fields),
            post_page(&client, &mut second, urls[1].clone(), &second_fields),
        );
        let created = [statuses.0, statuses.1]
            .iter()
            .filter(|status| **status == 303)
            .count();
        assert_eq!(created, 1, "round {round}: {statuses:?}");
        assert!(
            statuses.0 < 500 && statuses.1 < 500,
            "round {round}: {statuses:?}"
        );
    }

    // One account per token, and each token used once.
    let pool = database.postgres_pool().expect("PostgreSQL");
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(pool)
        .await
        .expect("counted");
    assert_eq!(accounts, i64::from(ROUNDS));
    let overused: i64 =
        sqlx::query_scalar("SELECT count(*) FROM user_registration_tokens WHERE times_used <> 1")
            .fetch_one(pool)
            .await
            .expect("counted");
    assert_eq!(overused, 0);
    database.close().await;
    processes.finish().await;
}
