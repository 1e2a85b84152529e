//! End to end with a real Synapse (from PyPI) that delegates its authentication to a real
//! `mas-cli server`: what the homeserver sees of our users, devices and tokens.
//!
//! Each test starts both on free ports with fresh SQLite databases (see
//! `portcullis-test-synapse` for when Synapse is skipped). Waiting for the background worker is
//! done by polling the homeserver with a generous bound: these tests check outcomes, never
//! timings.

mod common;

use std::{
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::Duration,
};

use common::{free_port, mas_cli, rsa_key_path, run, stderr};
use portcullis_test_synapse::{Options, TestSynapse};
use serde_json::Value;
use tempfile::TempDir;

const SECRET: &str = "portcullis-e2e-shared-secret";
const PASSWORD: &str = "correct horse battery staple";

/// Our server and its configuration, with Synapse's address decided up front so that either
/// can start first.
struct Deployment {
    dir: TempDir,
    port: u16,
    synapse_port: u16,
    server: Option<Child>,
}

impl Deployment {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let synapse_port = free_port();
        let yaml = format!(
            "http:\n  public_base: http://127.0.0.1:{port}/\n  listeners:\n    - name: web\n      resources:\n        - name: discovery\n        - name: human\n        - name: oauth\n        - name: health\n      binds:\n        - address: \"127.0.0.1:{port}\"\n\
             secrets:\n  encryption: \"{}\"\n  keys:\n    - kid: e2e-rsa\n      key_file: \"{}\"\n\
             matrix:\n  homeserver: {}\n  secret: {SECRET}\n  endpoint: \"http://127.0.0.1:{synapse_port}/\"\n",
            "0123456789abcdef".repeat(4),
            rsa_key_path().display(),
            portcullis_test_synapse::SERVER_NAME,
        );
        std::fs::write(dir.path().join("config.yaml"), yaml).expect("config written");
        let migrated = run(mas_cli(dir.path()).args(["database", "migrate"]));
        assert!(migrated.status.success(), "{}", stderr(&migrated));
        Self {
            dir,
            port,
            synapse_port,
            server: None,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn log_path(&self) -> PathBuf {
        self.path().join("server.log")
    }

    fn synapse_options(&self) -> Options {
        Options::new(SECRET, format!("http://127.0.0.1:{}/", self.port))
            .with_port(self.synapse_port)
    }

    fn manage(&self, args: &[&str]) -> String {
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
    async fn start_server(&mut self) {
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let child = mas_cli(self.path())
            .arg("server")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        self.server = Some(child);
        let health = format!("http://127.0.0.1:{}/health", self.port);
        let ready = eventually(Duration::from_secs(30), || async {
            reqwest::get(&health)
                .await
                .is_ok_and(|response| response.status().is_success())
        })
        .await;
        assert!(ready, "the server did not become healthy:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
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
async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
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

    let output = run(mas_cli(deployment.path()).arg("doctor"));
    let report = String::from_utf8_lossy(&output.stdout).into_owned();

    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    for line in [
        "ok       homeserver: ",
        "ok       homeserver API: ",
        "ok       issuer: ",
        "ok       token check: the homeserver refuses a token we never issued",
    ] {
        assert!(report.contains(line), "{line:?} missing from:\n{report}");
    }
    // No reverse proxy here: Synapse itself answers /login, with 404.
    assert!(report.contains("warning  compat login: "), "{report}");
}
