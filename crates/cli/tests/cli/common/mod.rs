//! Helpers shared by the command-line tests: they run the real `mas-cli` binary.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::Duration,
};

/// A throwaway RSA key (PKCS#1 PEM) shared with the configuration fixtures.
pub fn rsa_key_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tests/fixtures/keys/rsa-2048.pkcs1.pem")
}

/// The configuration fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/tests/fixtures")
}

/// `mas-cli` with a clean environment for what it reads, run in `dir`.
pub fn mas_cli(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mas-cli"));
    command
        .current_dir(dir)
        .env_remove("MAS_CONFIG")
        .env("RUST_LOG", "info");
    command
}

/// How long a command may run before the test gives up on it: a command that should stop but
/// serves forever (a regression) fails the test instead of hanging it.
const COMMAND_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `command` to its end, with its output captured; kills it and fails past
/// [`COMMAND_LIMIT`].
pub fn run(command: &mut Command) -> Output {
    use std::{io::Read, process::Stdio, thread};

    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mas-cli runs");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = std::time::Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the command can be waited for") {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.join().unwrap_or_default();
            panic!(
                "{command:?} still ran after {COMMAND_LIMIT:?}; its standard error:\n{}",
                String::from_utf8_lossy(&stderr)
            );
        }
        thread::sleep(std::time::Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("an ephemeral port is available")
}

/// A minimal valid configuration serving `resources` on `127.0.0.1:port`, with its data in
/// `dir`. Extra YAML is appended as is.
pub fn write_config(dir: &Path, port: u16, resources: &[&str], extra: &str) -> PathBuf {
    let resources = resources
        .iter()
        .map(|r| format!("        - name: {r}\n"))
        .collect::<String>();
    let yaml = format!(
        "http:\n  public_base: http://127.0.0.1:{port}/\n  listeners:\n    - name: web\n      resources:\n{resources}      binds:\n        - address: \"127.0.0.1:{port}\"\n\
         secrets:\n  encryption: \"{}\"\n  keys:\n    - kid: test-rsa\n      key_file: \"{}\"\n\
         matrix:\n  homeserver: localhost\n  secret: test-secret\n  endpoint: \"http://127.0.0.1:{}/\"\n{extra}",
        "0123456789abcdef".repeat(4),
        rsa_key_path().display(),
        free_port(),
    );
    let path = dir.join("config.yaml");
    std::fs::write(&path, yaml).expect("config written");
    path
}

/// A running `mas-cli server`, stopped (SIGTERM) when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    /// Starts `mas-cli server` with these arguments in `dir` and waits until `/health` answers.
    pub async fn start(dir: &Path, port: u16, args: &[&str]) -> Self {
        let mut command = mas_cli(dir);
        command.args(args);
        Self::start_command(command, port).await
    }

    /// Starts `command` (which runs the server somehow) and waits until `/health` answers.
    pub async fn start_command(mut command: Command, port: u16) -> Self {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("server starts");
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let client = reqwest::Client::new();
        // Bounded: a server that never comes up fails the test instead of hanging it.
        for _ in 0..300 {
            if let Ok(Some(status)) = self.child.try_wait() {
                let output = self.take_output();
                panic!("the server exited early ({status}):\n{output}");
            }
            if let Ok(response) = client.get(format!("{}/health", self.base)).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become healthy:\n{}", self.take_output());
    }

    /// Sends SIGTERM and waits for the process, returning its output.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        terminate(&self.child);
        let status = self.child.wait().expect("server exits");
        let output = self.take_output();
        (status, output)
    }

    fn take_output(&mut self) -> String {
        use std::io::Read as _;
        let mut text = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut text);
        }
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            terminate(&self.child);
            let _ = self.child.wait();
        }
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// What the introspection endpoint at `url` says of `token`, asked as the homeserver (with
/// its shared `secret`).
pub async fn introspect(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    token: &str,
) -> serde_json::Value {
    client
        .post(url)
        .bearer_auth(secret)
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspection answers")
        .json()
        .await
        .expect("JSON")
}
