//! `mas-cli doctor`: checks a deployment the way an operator would, one line per check.

use std::{fmt, path::PathBuf, process::ExitCode, time::Duration};

use crate::app;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warning,
    Error,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that `{:<8}` lines the report up.
        f.pad(match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Error => "error",
        })
    }
}

/// One check's outcome: what was checked, what was found, and what to do about it.
#[derive(Debug)]
pub struct Check {
    pub verdict: Verdict,
    pub subject: String,
    pub detail: String,
    pub hint: Option<String>,
}

impl Check {
    fn ok(subject: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Ok,
            subject: subject.into(),
            detail: detail.into(),
            hint: None,
        }
    }

    fn warning(
        subject: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            verdict: Verdict::Warning,
            subject: subject.into(),
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }

    fn error(
        subject: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self {
            verdict: Verdict::Error,
            subject: subject.into(),
            detail: detail.into(),
            hint: Some(hint.into()),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<8} {}: {}", self.verdict, self.subject, self.detail)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n         hint: {hint}")?;
        }
        Ok(())
    }
}

/// `mas-cli doctor`'s options.
#[derive(Debug, Default, clap::Args)]
pub struct DoctorArgs {
    /// Exit with success when the only findings are warnings (by default any check that is not
    /// ok fails the command, so that scripts notice).
    #[arg(long)]
    warnings_ok: bool,
}

pub async fn run(config_paths: &[PathBuf], args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let mut checks = Vec::new();

    let paths = app::config_files(config_paths)?;
    let loaded = match app::load_checked_config(&paths) {
        Ok(loaded) => {
            let warnings = loaded.warnings.len();
            if warnings == 0 {
                checks.push(Check::ok(
                    "configuration",
                    format!("{} is valid", loaded.describe_sources()),
                ));
            } else {
                checks.push(Check::warning(
                    "configuration",
                    format!(
                        "{} is valid, with {warnings} warning(s)",
                        loaded.describe_sources()
                    ),
                    "run `mas-cli config check` to see them",
                ));
            }
            loaded
        }
        Err(error) => {
            checks.push(Check::error(
                "configuration",
                format!("{error:#}"),
                "run `mas-cli config check` for the full list of problems",
            ));
            return Ok(report(&checks, args.warnings_ok));
        }
    };

    checks.push(check_database(&loaded).await);
    checks.extend(check_private_files(&loaded));

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("portcullis-doctor/", env!("CARGO_PKG_VERSION")))
        .build()?;
    checks.push(check_public_base(&client, &loaded).await);
    checks.extend(check_listeners(&loaded));
    checks.push(check_homeserver(&client, &loaded).await);
    checks.push(check_homeserver_api(&loaded).await);
    checks.push(check_server_name(&loaded).await);
    let well_known = fetch_well_known(&client, &loaded).await;
    checks.push(check_issuer(&loaded, &well_known));
    checks.push(check_bogus_token(&client, &loaded).await);
    checks.push(check_compat_login(&client, &loaded, &well_known).await);
    checks.push(check_email(&loaded).await);
    checks.extend(check_upstream_providers(&loaded).await);

    Ok(report(&checks, args.warnings_ok))
}

/// Prints every check; fails when one is not ok (warnings pass with `warnings_ok`).
fn report(checks: &[Check], warnings_ok: bool) -> ExitCode {
    for check in checks {
        println!("{check}");
    }
    let failed = checks.iter().any(|c| match c.verdict {
        Verdict::Ok => false,
        Verdict::Warning => !warnings_ok,
        Verdict::Error => true,
    });
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn check_database(loaded: &app::CheckedConfig) -> Check {
    let database = match app::connect_database(loaded).await {
        Ok(database) => database,
        Err(error) => {
            return Check::error(
                "database",
                format!("{error:#}"),
                "check the `database` section and that the server is running",
            );
        }
    };
    match database.migration_status().await {
        Ok(status) if status.pending.is_empty() => Check::ok(
            "database",
            format!(
                "{} reachable, {} migration(s) applied, none pending",
                database.backend_name(),
                status.applied.len()
            ),
        ),
        Ok(status) => Check::error(
            "database",
            format!(
                "{} reachable, {} migration(s) pending",
                database.backend_name(),
                status.pending.len()
            ),
            "run `mas-cli database migrate` (the `server` command also does it unless --no-migrate)",
        ),
        Err(error) => Check::error(
            "database",
            format!("cannot read the migration state: {error}"),
            "check that the configured user may read the database",
        ),
    }
}

/// `public_base` fetched from outside the process, as a client would: its discovery document
/// must be ours (same issuer), not another service's on that address.
async fn check_public_base(client: &reqwest::Client, loaded: &app::CheckedConfig) -> Check {
    let http = &loaded.config.http;
    let base = http.public_base.clone();
    if let Some(issuer) = &http.issuer
        && app::is_unspecified_address(issuer)
        && !app::is_unspecified_address(&base)
    {
        return Check::error(
            "public_base",
            format!(
                "the issuer {issuer} is no address a client can reach (it means every interface)"
            ),
            "set `http.issuer` to the URL clients and the homeserver use, or remove it to use `http.public_base`",
        );
    }
    if app::is_unspecified_address(&base) {
        return Check::error(
            "public_base",
            format!("{base} is no address a client can reach (it means every interface)"),
            "set `http.public_base` (and `http.issuer`) to the URL clients and the homeserver use, e.g. https://auth.example.com/",
        );
    }
    let Ok(url) = base.join(".well-known/openid-configuration") else {
        return Check::error(
            "public_base",
            format!("{base} cannot hold a path"),
            "fix `http.public_base`",
        );
    };
    let ours = http.issuer().as_str();
    match client.get(url.clone()).send().await {
        Ok(response) if response.status().is_success() => {
            let issuer = response
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|document| document["issuer"].as_str().map(str::to_owned));
            match issuer {
                Some(issuer) if same_url(&issuer, ours) => {
                    Check::ok("public_base", format!("{url} is ours (issuer {ours})"))
                }
                Some(issuer) => Check::error(
                    "public_base",
                    format!("{url} names the issuer {issuer}, not ours ({ours})"),
                    "another service answers at `http.public_base`, or `http.issuer` differs from what the server runs with; fix the URL or the reverse proxy",
                ),
                None => Check::error(
                    "public_base",
                    format!("{url} answers, but not with our discovery document"),
                    "something else answers at `http.public_base`: check the URL, the port and the reverse proxy (it must pass the `discovery` resource)",
                ),
            }
        }
        Ok(response) => Check::error(
            "public_base",
            format!("{url} answered HTTP {}", response.status().as_u16()),
            "serve the `discovery` resource on the listener behind `http.public_base`, and check the reverse proxy",
        ),
        Err(error) => Check::error(
            "public_base",
            format!(
                "{url} does not answer: {}",
                portcullis_worker::error_chain(&error)
            ),
            "`http.public_base` must be the URL clients use to reach this service; start the server, or fix the URL or the reverse proxy",
        ),
    }
}

/// A warning for each file holding secrets that other users of the machine may read: the
/// configuration files, the files they name, the SQLite database and its journal.
fn check_private_files(loaded: &app::CheckedConfig) -> Vec<Check> {
    let mut files: Vec<PathBuf> = loaded.sources.clone();
    files.extend(
        loaded
            .config
            .named_files()
            .into_iter()
            .filter(|(option, _)| !option.ends_with("_dir"))
            .map(|(_, path)| path.to_path_buf()),
    );
    if let portcullis_config::sections::database::Backend::Sqlite { path } =
        loaded.config.database_backend(&loaded.base_dir)
    {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
    }
    files
        .into_iter()
        .filter_map(|path| {
            let mode = readable_by_others(&path)?;
            Some(Check::warning(
                "file permissions",
                format!(
                    "{} holds secrets and is readable by others (mode {mode:o})",
                    path.display()
                ),
                format!("chmod 600 {}", path.display()),
            ))
        })
        .collect()
}

/// The permission bits of `path` when users other than its owner may read it.
#[cfg(unix)]
fn readable_by_others(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o044 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &std::path::Path) -> Option<u32> {
    None
}

/// A warning for each listener bound to every network interface.
fn check_listeners(loaded: &app::CheckedConfig) -> Vec<Check> {
    let mut checks = Vec::new();
    for (index, listener) in loaded.config.http.listeners.iter().enumerate() {
        let name = listener
            .name
            .clone()
            .unwrap_or_else(|| format!("http.listeners[{index}]"));
        for bind in &listener.binds {
            if let Some(address) = open_to_every_interface(bind) {
                checks.push(Check::warning(
                    format!("listener {name}"),
                    format!("listens on {address}, on every network interface"),
                    "fine behind a container's or host's firewall; otherwise bind it to 127.0.0.1 (or the reverse proxy's network)",
                ));
            }
        }
    }
    checks
}

/// The address of a bind that listens on every interface, if it does.
fn open_to_every_interface(bind: &portcullis_config::sections::http::BindConfig) -> Option<String> {
    if let Some(address) = &bind.address {
        let parsed: std::net::SocketAddr = address.parse().ok()?;
        return parsed.ip().is_unspecified().then(|| address.clone());
    }
    let port = bind.port?;
    match bind.host.as_deref() {
        None => Some(format!("port {port}")),
        Some(host @ ("0.0.0.0" | "::" | "[::]")) => Some(format!("{host}:{port}")),
        Some(_) => None,
    }
}

/// `matrix.homeserver` against the server name the homeserver itself puts in its user IDs,
/// read from a user both sides know.
async fn check_server_name(loaded: &app::CheckedConfig) -> Check {
    let ours = &loaded.config.matrix.homeserver;
    let Ok(homeserver) = app::homeserver(loaded) else {
        return Check::warning(
            "server name",
            "cannot be compared: no connection to the homeserver",
            "fix the `matrix` section",
        );
    };
    let users = match app::connect_database(loaded).await {
        Ok(database) => match database.read_transaction().await {
            Ok(mut repo) => {
                let users = repo.users().list(20).await.unwrap_or_default();
                let _ = repo.rollback().await;
                users
            }
            Err(_) => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    for user in users {
        if let Ok(Some(known)) = homeserver.query_user(&user.username).await {
            let theirs = known.user_id.split_once(':').map_or("", |(_, name)| name);
            return if theirs == ours {
                Check::ok(
                    "server name",
                    format!("the homeserver calls itself {theirs}, as `matrix.homeserver` says"),
                )
            } else {
                Check::error(
                    "server name",
                    format!(
                        "the homeserver calls itself {theirs}, but `matrix.homeserver` is {ours}"
                    ),
                    "set `matrix.homeserver` to the homeserver's `server_name`",
                )
            };
        }
    }
    Check::ok(
        "server name",
        format!("`matrix.homeserver` is {ours} (no user known to both sides yet to compare with)"),
    )
}

async fn check_homeserver(client: &reqwest::Client, loaded: &app::CheckedConfig) -> Check {
    let endpoint = loaded.config.matrix.endpoint.clone();
    let url = match endpoint.join("_matrix/client/versions") {
        Ok(url) => url,
        Err(error) => {
            return Check::error(
                "homeserver",
                format!("bad matrix.endpoint: {error}"),
                "set `matrix.endpoint` to the homeserver's base URL",
            );
        }
    };
    match client.get(url.clone()).send().await {
        Ok(response) if response.status().is_success() => {
            Check::ok("homeserver", format!("{url} answers"))
        }
        Ok(response) => Check::error(
            "homeserver",
            format!("{url} answered HTTP {}", response.status().as_u16()),
            "`matrix.endpoint` should point at the homeserver's client API (for Synapse, its HTTP listener)",
        ),
        Err(error) => Check::error(
            "homeserver",
            format!(
                "{url} does not answer: {}",
                portcullis_worker::error_chain(&error)
            ),
            "start the homeserver, or fix `matrix.endpoint`",
        ),
    }
}

/// The `/_synapse/mas` API must answer our secret: the homeserver calls us with it, and we
/// provision users and devices with it.
async fn check_homeserver_api(loaded: &app::CheckedConfig) -> Check {
    let matrix = &loaded.config.matrix;
    let secret = match matrix.secret().map(|source| source.read_string()) {
        Some(Ok(secret)) => secret,
        Some(Err(error)) => {
            return Check::error(
                "homeserver API",
                format!("cannot read matrix.secret_file: {error}"),
                "fix `matrix.secret_file`",
            );
        }
        None => {
            return Check::error(
                "homeserver API",
                "no matrix.secret",
                "set `matrix.secret` to the secret shared with Synapse's `matrix_authentication_service.secret`",
            );
        }
    };
    let connection = match portcullis_homeserver::connection_from_config(matrix, secret) {
        Ok(connection) => connection,
        Err(error) => {
            return Check::error(
                "homeserver API",
                error.to_string(),
                "fix the `matrix` section",
            );
        }
    };
    // A read that changes nothing: whether an unlikely localpart is free.
    match connection
        .is_localpart_available("portcullis-doctor-check")
        .await
    {
        Ok(_) => Check::ok("homeserver API", "/_synapse/mas answers with our secret"),
        Err(error) => Check::error(
            "homeserver API",
            error.to_string(),
            "Synapse needs `matrix_authentication_service: {enabled: true, endpoint, secret}` with the same secret as `matrix.secret`",
        ),
    }
}

/// The homeserver's `/.well-known/matrix/client`, from its public name (`https://<server_name>/`)
/// or else from `matrix.endpoint`; the error says what went wrong with each.
async fn fetch_well_known(
    client: &reqwest::Client,
    loaded: &app::CheckedConfig,
) -> Result<(url::Url, serde_json::Value), String> {
    let matrix = &loaded.config.matrix;
    let mut candidates = Vec::new();
    if let Ok(url) = url::Url::parse(&format!(
        "https://{}/.well-known/matrix/client",
        matrix.homeserver
    )) {
        candidates.push(url);
    }
    if let Ok(url) = matrix.endpoint.join(".well-known/matrix/client") {
        candidates.push(url);
    }
    let mut failures = Vec::new();
    for url in candidates {
        match client.get(url.clone()).send().await {
            Ok(response) if response.status().is_success() => {
                match response.json::<serde_json::Value>().await {
                    Ok(document) => return Ok((url, document)),
                    Err(error) => failures.push(format!("{url}: not JSON ({error})")),
                }
            }
            Ok(response) => failures.push(format!("{url}: HTTP {}", response.status().as_u16())),
            Err(error) => {
                failures.push(format!("{url}: {}", portcullis_worker::error_chain(&error)))
            }
        }
    }
    Err(failures.join("; "))
}

/// Clients find us through the homeserver's `.well-known`: its issuer must be ours.
fn check_issuer(
    loaded: &app::CheckedConfig,
    well_known: &Result<(url::Url, serde_json::Value), String>,
) -> Check {
    let ours = loaded.config.http.issuer().to_string();
    let (url, document) = match well_known {
        Ok(found) => found,
        Err(failures) => {
            return Check::warning(
                "issuer",
                format!("no /.well-known/matrix/client found ({failures})"),
                "serve it (Synapse does with `serve_client_wellknown: true`) so that clients find this service",
            );
        }
    };
    let advertised = document
        .get("org.matrix.msc2965.authentication")
        .and_then(|auth| auth.get("issuer"))
        .and_then(serde_json::Value::as_str);
    match advertised {
        Some(issuer) if same_url(issuer, &ours) => {
            Check::ok("issuer", format!("{url} advertises our issuer {ours}"))
        }
        Some(issuer) => Check::error(
            "issuer",
            format!("{url} advertises the issuer {issuer}, but ours is {ours}"),
            "make `http.issuer` (or `http.public_base`) and the homeserver's view of the auth service agree",
        ),
        None => Check::warning(
            "issuer",
            format!("{url} has no org.matrix.msc2965.authentication.issuer"),
            "enable `matrix_authentication_service` in Synapse, or add the entry to the .well-known you serve",
        ),
    }
}

/// Two URLs that differ at most by a trailing slash.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

/// A token nobody issued must be refused by the homeserver (401), which shows it asks us.
async fn check_bogus_token(client: &reqwest::Client, loaded: &app::CheckedConfig) -> Check {
    let Ok(url) = loaded
        .config
        .matrix
        .endpoint
        .join("_matrix/client/v3/account/whoami")
    else {
        return Check::error(
            "token check",
            "bad matrix.endpoint",
            "set `matrix.endpoint` to the homeserver's base URL",
        );
    };
    let bogus = portcullis_oauth::token::TokenType::AccessToken.generate(&mut rand::rngs::OsRng);
    match client.get(url.clone()).bearer_auth(bogus).send().await {
        Ok(response) if response.status().as_u16() == 401 => Check::ok(
            "token check",
            "the homeserver refuses a token we never issued",
        ),
        Ok(response) if response.status().is_success() => Check::error(
            "token check",
            format!("{url} accepted a token we never issued"),
            "the homeserver does not delegate to this service: enable `matrix_authentication_service` in Synapse",
        ),
        Ok(response) => Check::error(
            "token check",
            format!(
                "{url} answered HTTP {} for an unknown token (expected 401)",
                response.status().as_u16()
            ),
            "503 means Synapse cannot introspect: check its `matrix_authentication_service.endpoint` reaches this service and that both sides share the same secret",
        ),
        Err(error) => Check::error(
            "token check",
            format!(
                "{url} does not answer: {}",
                portcullis_worker::error_chain(&error)
            ),
            "start the homeserver, or fix `matrix.endpoint`",
        ),
    }
}

/// Older clients log in through the homeserver's public URL, which the reverse proxy must
/// route to our compat resource.
async fn check_compat_login(
    client: &reqwest::Client,
    loaded: &app::CheckedConfig,
    well_known: &Result<(url::Url, serde_json::Value), String>,
) -> Check {
    let public = well_known
        .as_ref()
        .ok()
        .and_then(|(_, document)| document.get("m.homeserver")?.get("base_url")?.as_str())
        .and_then(|base| url::Url::parse(base).ok())
        .unwrap_or_else(|| loaded.config.matrix.endpoint.clone());
    let Ok(url) = public.join("_matrix/client/v3/login") else {
        return Check::error(
            "compat login",
            format!("{public} cannot be a base URL"),
            "fix m.homeserver.base_url in the .well-known",
        );
    };
    let flows = match client.get(url.clone()).send().await {
        Ok(response) if response.status().is_success() => {
            response.json::<serde_json::Value>().await.ok()
        }
        Ok(response) => {
            return Check::warning(
                "compat login",
                format!("{url} answered HTTP {}", response.status().as_u16()),
                "route ^/_matrix/client/[^/]+/(login|logout|refresh) on the homeserver's public name to this service's `compat` resource, or older clients and bots cannot log in",
            );
        }
        Err(error) => {
            return Check::warning(
                "compat login",
                format!(
                    "{url} does not answer: {}",
                    portcullis_worker::error_chain(&error)
                ),
                "check the homeserver's public URL and the reverse proxy",
            );
        }
    };
    let ours = flows.as_ref().is_some_and(|flows| {
        flows["flows"].as_array().is_some_and(|flows| {
            flows
                .iter()
                .any(|flow| flow["type"] == "m.login.sso" && flow["oauth_aware_preferred"] == true)
        })
    });
    if ours {
        Check::ok("compat login", format!("{url} lists our login flows"))
    } else {
        Check::warning(
            "compat login",
            format!("{url} answers, but not with this service's login flows"),
            "route ^/_matrix/client/[^/]+/(login|logout|refresh) to this service's `compat` resource",
        )
    }
}

/// Emails (verification codes, recovery links) must be able to leave.
async fn check_email(loaded: &app::CheckedConfig) -> Check {
    use portcullis_email::TransportKind;
    let mailer = match app::mailer(loaded) {
        Ok(mailer) => mailer,
        Err(error) => {
            return Check::error("email", format!("{error:#}"), "fix the `email` section");
        }
    };
    match mailer.transport_kind() {
        TransportKind::Blackhole => Check::warning(
            "email",
            "email.transport is blackhole: every email is dropped",
            "set `email.transport` to smtp or sendmail so that verification codes and recovery links reach people",
        ),
        TransportKind::Sendmail => {
            let command = loaded.config.email.command();
            match find_command(command) {
                Some(path) => Check::ok(
                    "email",
                    format!("sent with the sendmail command {}", path.display()),
                ),
                None => Check::error(
                    "email",
                    format!(
                        "the sendmail command `{command}` is not an executable file here (looked \
                         in PATH when it has no slash): every email would fail"
                    ),
                    "install a mail transfer agent that provides sendmail (postfix, exim, \
                     msmtp-mta...), or set `email.command` to its path, or use `email.transport: smtp`",
                ),
            }
        }
        TransportKind::Smtp | TransportKind::Memory => match mailer.test_connection().await {
            Ok(()) => Check::ok("email", "the SMTP relay accepts a connection"),
            Err(error) => Check::error(
                "email",
                format!("the SMTP relay does not answer: {error}"),
                "check email.hostname, email.port, email.mode and the credentials",
            ),
        },
    }
}

/// Where `command` runs from: itself when it names a path, else the first executable of that
/// name in `PATH`.
fn find_command(command: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let executable = |path: &std::path::Path| {
        std::fs::metadata(path)
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    };
    if command.contains('/') {
        let path = std::path::PathBuf::from(command);
        return executable(&path).then_some(path);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(command))
        .find(|path| executable(path))
}

/// Each enabled upstream provider: its discovery document (or configured endpoints), and a key
/// of its key set that can verify its ID tokens; the redirect URI to register at it.
async fn check_upstream_providers(loaded: &app::CheckedConfig) -> Vec<Check> {
    use portcullis_config::sections::upstream_oauth2::JwsAlgorithm;
    use portcullis_oidc_client::{JwksCache, metadata::Metadata, token::alg_name};

    let config = &loaded.config;
    let urls = portcullis_urls::UrlBuilder::new(
        config.http.public_base.clone(),
        config
            .http
            .issuer
            .clone()
            .unwrap_or_else(|| config.http.public_base.clone()),
    );
    let jwks = JwksCache::default();
    let mut checks = Vec::new();
    for provider in config
        .upstream_oauth2
        .providers
        .iter()
        .filter(|p| p.enabled)
    {
        let subject = format!("upstream {}", provider.id);
        let callback = urls.upstream_callback(&provider.id);
        let metadata = match Metadata::load(provider).await {
            Ok(metadata) => metadata,
            Err(error) => {
                checks.push(Check::error(
                    subject,
                    format!("{error}"),
                    "check `issuer`: its /.well-known/openid-configuration must answer and name exactly that issuer (or set `discovery_mode` and the endpoints)",
                ));
                continue;
            }
        };
        let where_from = metadata
            .issuer
            .clone()
            .unwrap_or_else(|| metadata.authorization_endpoint.to_string());
        let alg = provider.id_token_signed_response_alg;
        let shared_secret = matches!(
            alg,
            JwsAlgorithm::Hs256 | JwsAlgorithm::Hs384 | JwsAlgorithm::Hs512
        );
        let keys = match (
            &metadata.jwks_uri,
            metadata.issuer.is_some() && !shared_secret,
        ) {
            (_, false) => Ok(String::new()),
            (None, true) => Err(Check::error(
                subject.clone(),
                "no key set: neither discovery nor the configuration gives a `jwks_uri`",
                "set `jwks_uri`",
            )),
            (Some(uri), true) => match jwks.get(uri, false).await {
                Err(error) => Err(Check::error(
                    subject.clone(),
                    format!("its key set {uri} cannot be read: {error}"),
                    "check that the provider's jwks_uri answers from this machine",
                )),
                Ok(set) => {
                    let name = alg_name(alg);
                    match name.parse().map(|alg| portcullis_keys::keys_for(&set, alg)) {
                        Ok(Ok(0)) | Ok(Err(_)) | Err(_) => Err(Check::error(
                            subject.clone(),
                            format!(
                                "its key set {uri} has no key for {name}, the algorithm its ID tokens are expected in"
                            ),
                            "set `id_token_signed_response_alg` to the algorithm the provider signs ID tokens with",
                        )),
                        Ok(Ok(count)) => Ok(format!(", {count} key(s) for {name}")),
                    }
                }
            },
        };
        match keys {
            Ok(keys) => checks.push(Check::ok(
                subject,
                format!(
                    "{where_from} answers{keys}; the redirect URI to register there is {callback}"
                ),
            )),
            Err(check) => checks.push(check),
        }
    }
    checks
}
