//! A real Synapse (matrix-synapse from PyPI) for the tests that need one.
//!
//! [`TestSynapse::start`] runs `shared/peers/synapse/run-synapse.sh` (the `shared/` folder
//! beside this repository checkout) with a fresh SQLite database in a temporary directory, on
//! a free port, and the guard stops it when dropped, even when the test fails (printing the end
//! of Synapse's log then). A start takes a few seconds; the first one also installs Synapse into
//! `target/synapse-venv` (override with `SYNAPSE_VENV`), which needs PyPI. Without Python or
//! network, `start` prints a notice and returns `None`, so the test can pass as skipped, unless
//! `CI` is set: then it panics.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
};

use tempfile::TempDir;
use url::Url;

/// The `server_name` of every test Synapse: user IDs look like `@alice:localhost`.
pub const SERVER_NAME: &str = "localhost";

/// How to start a test Synapse.
#[derive(Debug, Clone)]
pub struct Options {
    /// The shared secret (`MAS_SECRET`).
    pub secret: String,
    /// The auth service's base URL (`MAS_ENDPOINT`); Synapse calls it lazily, so it need not
    /// be up yet.
    pub auth_endpoint: String,
    /// The port to listen on; `None` picks a free one.
    pub port: Option<u16>,
    /// Synapse with its own authentication (`SYNAPSE_AUTH_MODE=legacy`): open registration and
    /// password logins, as a homeserver is before it moves to an auth service.
    pub legacy: bool,
    /// YAML whose top-level keys replace the generated ones (`SYNAPSE_EXTRA_CONFIG`): a
    /// PostgreSQL `database` section, say (psycopg2 is then installed into the venv if missing).
    pub extra_config: Option<String>,
}

impl Options {
    /// Options for a Synapse that shares `secret` with the auth service at `auth_endpoint`.
    #[must_use]
    pub fn new(secret: impl Into<String>, auth_endpoint: impl Into<String>) -> Self {
        Self {
            secret: secret.into(),
            auth_endpoint: auth_endpoint.into(),
            port: None,
            legacy: false,
            extra_config: None,
        }
    }

    /// A Synapse with its own authentication, delegating nothing.
    #[must_use]
    pub fn legacy() -> Self {
        Self {
            secret: String::new(),
            auth_endpoint: String::new(),
            port: None,
            legacy: true,
            extra_config: None,
        }
    }

    /// With `yaml` replacing top-level keys of the generated configuration.
    #[must_use]
    pub fn with_extra_config(mut self, yaml: impl Into<String>) -> Self {
        self.extra_config = Some(yaml.into());
        self
    }

    /// Listen on `port`.
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }
}

/// A Synapse of our own, stopped on drop.
pub struct TestSynapse {
    url: Url,
    data_dir: TempDir,
    scripts: PathBuf,
}

impl TestSynapse {
    /// Starts a Synapse, or returns `None` after printing why it cannot run here.
    ///
    /// # Panics
    /// When Synapse fails to start for another reason than a missing Python or PyPI, or when it
    /// cannot run at all and `CI` is set.
    #[must_use]
    pub fn start(options: &Options) -> Option<Self> {
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let scripts = repository.join("../shared/peers/synapse");
        if !scripts.join("run-synapse.sh").is_file() {
            return skip(&format!(
                "{} not found (shared/ must be beside the repository checkout)",
                scripts.join("run-synapse.sh").display()
            ));
        }
        let venv = std::env::var_os("SYNAPSE_VENV")
            .map_or_else(|| repository.join("target/synapse-venv"), PathBuf::from);

        // A port can be taken between our probe and Synapse's bind: try a few.
        let mut last_failure = String::new();
        for _ in 0..3 {
            let data_dir = tempfile::Builder::new()
                .prefix("portcullis-synapse-")
                .tempdir()
                .expect("a temporary directory can be created");
            let port = options.port.unwrap_or_else(free_port);
            let output =
                match run_script(&scripts, &venv, &repository, data_dir.path(), port, options) {
                    Ok(output) => output,
                    Err(error) => return skip(&format!("cannot run bash: {error}")),
                };
            let url = Url::parse(&format!("http://127.0.0.1:{port}/"))
                .expect("a loopback address makes a URL");
            // From here on the guard stops whatever the script may have left running.
            let synapse = Self {
                url,
                data_dir,
                scripts: scripts.clone(),
            };
            if output.status.success() {
                return Some(synapse);
            }
            last_failure = String::from_utf8_lossy(&output.stderr).into_owned();
            if cannot_install(&last_failure) {
                return skip(&format!(
                    "Synapse cannot be installed here:\n{last_failure}"
                ));
            }
            if options.port.is_some() || !last_failure.contains("already listens") {
                break;
            }
        }
        panic!("Synapse did not start:\n{last_failure}");
    }

    /// Its base URL, e.g. `http://127.0.0.1:41234/`.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Its folder: `homeserver.yaml`, the SQLite database `homeserver.db`, keys and logs.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// Stops it and starts it again on the same folder, database and port, with `options`
    /// (from its own authentication to delegation, say).
    ///
    /// # Panics
    /// When it does not start again.
    pub fn restart(&mut self, options: &Options) {
        self.stop();
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let venv = std::env::var_os("SYNAPSE_VENV")
            .map_or_else(|| repository.join("target/synapse-venv"), PathBuf::from);
        let port = self.url.port().unwrap_or(8008);
        let output = run_script(
            &self.scripts,
            &venv,
            &repository,
            self.data_dir.path(),
            port,
            options,
        )
        .expect("bash runs");
        assert!(
            output.status.success(),
            "Synapse did not start again:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Stops it (it can be started again with [`restart`](Self::restart)).
    pub fn stop(&self) {
        let stopped = Command::new("bash")
            .arg(self.scripts.join("stop-synapse.sh"))
            .arg(self.data_dir.path())
            .status();
        if !matches!(stopped, Ok(status) if status.success()) {
            eprintln!(
                "could not stop the Synapse of {}: {stopped:?}",
                self.data_dir.path().display()
            );
        }
    }

    /// The Python of Synapse's venv with `package` installed (from PyPI when missing), to run
    /// another real service of the deployment beside Synapse: a mail relay, say.
    ///
    /// # Panics
    /// When the package cannot be installed.
    #[must_use]
    pub fn python_with(&self, package: &str, module: &str) -> PathBuf {
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let venv = std::env::var_os("SYNAPSE_VENV")
            .map_or_else(|| repository.join("target/synapse-venv"), PathBuf::from);
        let python = venv.join("bin/python");
        let present = Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|output| output.status.success());
        if !present {
            let installed = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", package])
                .status();
            assert!(
                matches!(installed, Ok(status) if status.success()),
                "pip install {package}: {installed:?}"
            );
        }
        python
    }

    /// The end of Synapse's log, for failure messages.
    #[must_use]
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.data_dir.path().join("homeserver.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for TestSynapse {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.data_dir.path().join("homeserver.log").display(),
                self.log_tail(40)
            );
        }
        self.stop();
    }
}

/// Runs `run-synapse.sh` on `data_dir` and `port` with `options`.
fn run_script(
    scripts: &Path,
    venv: &Path,
    repository: &Path,
    data_dir: &Path,
    port: u16,
    options: &Options,
) -> std::io::Result<std::process::Output> {
    let mut command = Command::new("bash");
    command
        .arg(scripts.join("run-synapse.sh"))
        .arg(data_dir)
        .current_dir(repository)
        .env("SYNAPSE_PORT", port.to_string())
        .env("SYNAPSE_SERVER_NAME", SERVER_NAME)
        .env("SYNAPSE_VENV", venv)
        .env_remove("MAS_SECRET_FILE")
        .env_remove("SYNAPSE_BIND")
        .env_remove("SYNAPSE_PUBLIC_BASEURL")
        .env_remove("SYNAPSE_EXTRA_CONFIG")
        .env_remove("SYNAPSE_WAIT_BG_UPDATES")
        .env_remove("SYNAPSE_DATA_DIR");
    if let Some(yaml) = &options.extra_config {
        let file = data_dir.join("extra.yaml");
        std::fs::write(&file, yaml)?;
        command.env("SYNAPSE_EXTRA_CONFIG", &file);
        if yaml.contains("psycopg2") {
            // The wait for background updates reads a SQLite file only.
            command.env("SYNAPSE_WAIT_BG_UPDATES", "0");
        }
    }
    if options.legacy {
        command
            .env("SYNAPSE_AUTH_MODE", "legacy")
            .env_remove("MAS_SECRET")
            .env_remove("MAS_ENDPOINT");
    } else {
        command
            .env("SYNAPSE_AUTH_MODE", "delegated")
            .env("MAS_SECRET", &options.secret)
            .env("MAS_ENDPOINT", &options.auth_endpoint);
    }
    let output = command.output()?;
    // Synapse on PostgreSQL needs psycopg2, which the venv lacks at first: install the wheel
    // (from PyPI) and start again.
    if !output.status.success()
        && String::from_utf8_lossy(&output.stderr).contains("psycopg2 module is not installed")
    {
        let installed = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "psycopg2-binary"])
            .status()?;
        if installed.success() {
            return command.output();
        }
    }
    Ok(output)
}

/// Whether the start failed for want of Python, a venv or PyPI, rather than in Synapse.
fn cannot_install(stderr: &str) -> bool {
    ["pip install", "could not create a venv", "must be Python"]
        .iter()
        .any(|sign| stderr.contains(sign))
}

fn skip<T>(reason: &str) -> Option<T> {
    assert!(
        std::env::var_os("CI").is_none_or(|value| value.is_empty()),
        "CI is set, so a missing Synapse is a failure: {reason}"
    );
    eprintln!("SKIPPED (no Synapse; set CI=1 to make this a failure): {reason}");
    None
}

/// A loopback port nobody listens on right now.
///
/// # Panics
/// When no port can be bound at all.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a loopback port is free")
        .port()
}
