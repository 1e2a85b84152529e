//! Turns a configuration into running parts: checked secrets, a database, listeners.
//!
//! Every command goes through [`check_config`], so `config check`, `server` and `doctor` judge
//! a configuration the same way.

pub mod app_services;
pub mod database;
pub mod files;
pub mod generate;
pub mod listeners;
pub mod policy;
pub mod quick_start;
pub mod secrets;
pub mod sync;
pub mod upstream;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use portcullis_config::{Config, Problem};
use portcullis_keys::{Encrypter, Keystore};
use portcullis_storage_sql::Database;

/// The environment variable with a colon-separated list of configuration files, as in MAS.
pub const CONFIG_ENV: &str = "MAS_CONFIG";

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigLocation {
    /// These files, in this order.
    Files(Vec<PathBuf>),
    /// Nothing was given and no default file exists.
    Nowhere,
}

/// `-c` files if any; else `MAS_CONFIG`; else `./config.yaml`; else the quick start's
/// `./mas-data/config.yaml`, if an earlier run wrote it.
pub fn locate_config(cli_paths: &[PathBuf], env_value: Option<&str>, cwd: &Path) -> ConfigLocation {
    if !cli_paths.is_empty() {
        return ConfigLocation::Files(cli_paths.to_vec());
    }
    if let Some(list) = env_value {
        let files: Vec<PathBuf> = list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        if !files.is_empty() {
            return ConfigLocation::Files(files);
        }
    }
    for candidate in [cwd.join("config.yaml"), quick_start::config_path(cwd)] {
        if candidate.is_file() {
            return ConfigLocation::Files(vec![candidate]);
        }
    }
    ConfigLocation::Nowhere
}

/// The configuration files to use, or an error telling how to provide one.
pub fn config_files(cli_paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let env_value = std::env::var(CONFIG_ENV).ok();
    match locate_config(cli_paths, env_value.as_deref(), &cwd) {
        ConfigLocation::Files(files) => Ok(files),
        ConfigLocation::Nowhere => anyhow::bail!(
            "no configuration file: pass one with -c FILE, list them in {CONFIG_ENV}, or create ./config.yaml (`mas-cli config generate -o config.yaml`); `mas-cli server` alone starts with a generated one"
        ),
    }
}

/// The `telemetry` section, read before anything else so that start-up is logged and traced
/// as configured; the defaults (logs only) when the configuration cannot be read, whose
/// problems the command then reports in full.
pub fn telemetry_config(
    cli_paths: &[PathBuf],
) -> portcullis_config::sections::telemetry::TelemetryConfig {
    let env = |name: &str| std::env::var(name).ok();
    config_files(cli_paths)
        .ok()
        .and_then(|paths| portcullis_config::load(&paths, &env).ok())
        .map(|loaded| loaded.config.telemetry)
        .unwrap_or_default()
}

/// A configuration that passed every check, with its secrets loaded.
pub struct CheckedConfig {
    pub config: Config,
    pub warnings: Vec<Problem>,
    pub sources: Vec<PathBuf>,
    pub base_dir: PathBuf,
    pub keystore: Keystore,
    pub encrypter: Encrypter,
    /// The policy's Rego, parsed and checked with the configured data.
    pub policy: portcullis_policy::PolicyLoader,
}

impl CheckedConfig {
    /// The files it was read from, for messages.
    pub fn describe_sources(&self) -> String {
        self.sources
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Loads and checks the configuration: structure, environment references, secrets and keys.
/// On failure, every problem found (errors and warnings) is returned.
pub fn check_config(paths: &[PathBuf]) -> Result<CheckedConfig, Vec<Problem>> {
    let env = |name: &str| std::env::var(name).ok();
    let loaded = portcullis_config::load(paths, &env).map_err(|problems| problems.0)?;

    let mut problems = loaded.warnings.clone();
    let unsupported = unsupported(&loaded.config);
    // A file that cannot be read is reported once, by its option and path, rather than again
    // by the secrets and the database options that read it.
    let files = files::check(&loaded.config);
    let (secrets, database) = match &files {
        Ok(()) => (
            secrets::load(&loaded.config.secrets),
            database::options(loaded.config.database.as_ref(), &loaded.base_dir).map(drop),
        ),
        Err(_) => (Err(Vec::new()), Err(Vec::new())),
    };
    let listeners = listeners::check(&loaded.config.http);
    let templates = upstream::check(&loaded.config.upstream_oauth2);
    let bridges = app_services::load(&loaded.config.matrix, &loaded.base_dir).map(drop);
    let policy = policy::load(&loaded.config);

    match (
        files, secrets, database, listeners, templates, bridges, policy,
    ) {
        (Ok(()), Ok((encrypter, keystore)), Ok(()), Ok(()), Ok(()), Ok(()), Ok(policy))
            if unsupported.is_empty() =>
        {
            Ok(CheckedConfig {
                config: loaded.config,
                warnings: loaded.warnings,
                sources: paths.to_vec(),
                base_dir: loaded.base_dir,
                keystore,
                encrypter,
                policy,
            })
        }
        (files, secrets, database, listeners, templates, bridges, policy) => {
            problems.extend(unsupported);
            problems.extend(files.err().unwrap_or_default());
            problems.extend(secrets.err().unwrap_or_default());
            problems.extend(database.err().unwrap_or_default());
            problems.extend(listeners.err().unwrap_or_default());
            problems.extend(templates.err().unwrap_or_default());
            problems.extend(bridges.err().unwrap_or_default());
            problems.extend(policy.err().unwrap_or_default());
            Err(problems)
        }
    }
}

/// Whether `url` names every interface (`[::]`, `0.0.0.0`) rather than an address a client can
/// reach: MAS's generated configuration has such a `public_base`, which is only a placeholder.
pub fn is_unspecified_address(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => ip.is_unspecified(),
        _ => false,
    }
}

/// What the configuration asks for that this version cannot do yet, each an error, so that
/// `config check`, `doctor` and start-up all say so.
fn unsupported(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    if config.matrix.kind == portcullis_config::sections::matrix::HomeserverKind::SynapseLegacy {
        problems.push(
            Problem::error(
                "matrix.kind",
                "`synapse_legacy` (the Synapse admin API) is not supported yet",
            )
            .with_hint("use `synapse`, with Synapse 1.136 or later"),
        );
    }
    problems
}

/// [`check_config`] for commands that just need a working configuration: warnings are logged,
/// errors end the command with the full list.
pub fn load_checked_config(paths: &[PathBuf]) -> anyhow::Result<CheckedConfig> {
    match check_config(paths) {
        Ok(checked) => {
            for warning in &checked.warnings {
                tracing::warn!("configuration: {warning}");
            }
            Ok(checked)
        }
        Err(problems) => {
            let list = problems
                .iter()
                .map(|p| format!("\n  - {p}"))
                .collect::<String>();
            anyhow::bail!(
                "the configuration has problems (run `mas-cli config check` for details):{list}"
            )
        }
    }
}

/// Connects to the configured database.
pub async fn connect_database(checked: &CheckedConfig) -> anyhow::Result<Database> {
    let (connect, pool) = database::options(checked.config.database.as_ref(), &checked.base_dir)
        .map_err(|problems| {
            anyhow::anyhow!(
                "{}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
    Ok(Database::connect(&connect, &pool).await?)
}

/// Connects to the configured database and checks that it has every migration: the commands
/// that use it (all but `server`, which migrates, and `database`) refuse an older schema.
pub async fn connect_migrated_database(checked: &CheckedConfig) -> anyhow::Result<Database> {
    let database = connect_database(checked).await?;
    let status = database.migration_status().await?;
    anyhow::ensure!(
        status.is_up_to_date(),
        "the database has {} pending migration(s): run `mas-cli database migrate` first",
        status.pending.len()
    );
    Ok(database)
}

/// The connection to the homeserver that `matrix` describes.
pub fn homeserver(
    checked: &CheckedConfig,
) -> anyhow::Result<std::sync::Arc<dyn portcullis_homeserver::HomeserverConnection>> {
    let matrix = &checked.config.matrix;
    let secret = matrix
        .secret()
        .context(
            "`matrix.secret` (or `matrix.secret_file`) is required: the homeserver's shared secret",
        )?
        .read_string()
        .context("cannot read `matrix.secret_file`")?;
    let connection = portcullis_homeserver::connection_from_config(matrix, secret)?;
    Ok(std::sync::Arc::from(connection))
}

/// The mailer of the `email` section.
pub fn mailer(checked: &CheckedConfig) -> anyhow::Result<portcullis_email::Mailer> {
    portcullis_email::Mailer::from_config(&checked.config.email)
        .context("cannot set up email sending from `email`")
}

/// The background worker with every job handler this version has, sending emails with
/// `mailer`, and expiring inactive sessions when `experimental.inactive_session_expiration`
/// asks for it.
pub fn worker(
    checked: &CheckedConfig,
    repositories: std::sync::Arc<dyn portcullis_storage::RepositoryFactory>,
    clock: std::sync::Arc<dyn portcullis_model::Clock>,
    homeserver: std::sync::Arc<dyn portcullis_homeserver::HomeserverConnection>,
    mailer: portcullis_email::Mailer,
) -> portcullis_worker::Worker {
    let context = portcullis_jobs::JobContext {
        repositories: repositories.clone(),
        homeserver,
        clock: clock.clone(),
        mailer,
    };
    let worker = portcullis_jobs::register(
        portcullis_worker::Worker::new(repositories, clock),
        &context,
    );
    match &checked.config.experimental.inactive_session_expiration {
        Some(expiration) => portcullis_jobs::expire_sessions::register(
            worker,
            &context,
            portcullis_services::sessions::InactivityExpiry::from_config(expiration),
        ),
        None => worker,
    }
}

/// The state shared by every request handler.
pub fn app_state(
    checked: &CheckedConfig,
    database: Database,
    homeserver: std::sync::Arc<dyn portcullis_homeserver::HomeserverConnection>,
) -> anyhow::Result<portcullis_http::AppState> {
    let config = &checked.config;
    let http = &config.http;
    let templates = portcullis_templates::Templates::load(config.templates.path.as_deref())
        .context("cannot load the templates")?;
    let passwords = portcullis_passwords::PasswordManager::new(&config.passwords)
        .context("cannot set up password hashing from `passwords`")?;
    passwords.time_one_hash();
    let homeserver_secret = config
        .matrix
        .secret()
        .map(|source| source.read_string())
        .transpose()
        .context("cannot read `matrix.secret_file`")?
        .map(zeroize::Zeroizing::new);
    Ok(portcullis_http::AppState::new(portcullis_http::AppParts {
        database,
        trusted_proxies: http.trusted_proxies.iter().map(|net| net.net()).collect(),
        urls: portcullis_urls::UrlBuilder::new(http.public_base.clone(), http.issuer().clone()),
        site: portcullis_http::site_config::SiteConfig::from_config(config),
        keystore: checked.keystore.clone(),
        encrypter: checked.encrypter.clone(),
        clock: std::sync::Arc::new(portcullis_model::SystemClock),
        passwords,
        templates,
        policy: portcullis_policy::SharedPolicy::new(checked.policy.clone())
            .context("cannot load the policy")?,
        homeserver_secret,
        homeserver,
        app_services: app_services::load(&config.matrix, &checked.base_dir).map_err(
            |problems| {
                anyhow::anyhow!(
                    "{}",
                    problems
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
        )?,
    }))
}
