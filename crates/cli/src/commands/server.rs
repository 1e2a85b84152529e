//! `mas-cli server`: bind the listeners, migrate, sync the configuration, serve, and run the
//! worker.

use std::{
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use clap::Args;
use portcullis_listener::ServeOptions;
use portcullis_model::SystemClock;
use portcullis_services::activity::ActivityTracker;
use portcullis_storage_sql::Database;
use tokio_util::sync::CancellationToken;

use crate::app;

#[derive(Debug, Default, Args)]
pub struct ServerArgs {
    /// Do not apply pending migrations (and refuse to start if there are any).
    #[arg(long)]
    no_migrate: bool,
    /// Do not run the background worker in this process.
    #[arg(long)]
    no_worker: bool,
    /// Do not write the configured clients and upstream providers to the database.
    #[arg(long)]
    no_sync: bool,
}

pub async fn run(
    config_paths: &[PathBuf],
    args: ServerArgs,
    telemetry: Option<&portcullis_telemetry::Telemetry>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let (paths, quick_start) = match app::config_files(config_paths) {
        Ok(paths) => (paths, false),
        // No configuration anywhere: the quick start makes one.
        Err(_) if config_paths.is_empty() && std::env::var_os(app::CONFIG_ENV).is_none() => {
            let cwd = std::env::current_dir().context("cannot read the current directory")?;
            let (path, fresh) = app::quick_start::prepare(&cwd)?;
            (vec![path], fresh)
        }
        Err(error) => return Err(error),
    };

    let checked = app::load_checked_config(&paths)?;
    for key in checked.keystore.public_jwks().keys() {
        tracing::info!(kid = key.kid(), "signing key loaded");
    }
    // Accepted, as MAS accepts its own generated placeholder, but the homeserver would
    // advertise an issuer nobody can reach.
    let public_base = &checked.config.http.public_base;
    if app::is_unspecified_address(public_base) {
        tracing::warn!(
            %public_base,
            "http.public_base is no address clients can reach (it means every interface): set it to the URL clients and the homeserver use; `mas-cli doctor` checks it"
        );
    }

    // Bind every listener first: a port in use fails at once, naming the listener and the
    // address, before the database is touched. Connections wait in the backlog until serving
    // starts.
    let specs = app::listeners::specs(&checked.config.http)
        .map_err(|problem| anyhow::anyhow!("{problem}"))?;
    let (specs, listeners): (Vec<_>, Vec<_>) = specs.into_iter().unzip();
    let bound = portcullis_listener::bind(specs).await?;

    let database = app::connect_database(&checked).await?;
    portcullis_telemetry::observe_database(&database);
    if args.no_migrate {
        let status = database.migration_status().await?;
        anyhow::ensure!(
            status.is_up_to_date(),
            "the database has {} pending migration(s) and --no-migrate was given: run `mas-cli database migrate`",
            status.pending.len()
        );
    } else {
        database
            .migrate()
            .await
            .context("cannot migrate the database")?;
    }

    if !args.no_sync {
        let mut repository = database.transaction().await?;
        let report = app::sync::sync(
            &mut repository,
            &checked.config,
            &checked.encrypter,
            false,
            chrono::Utc::now(),
        )
        .await
        .context("cannot sync the configuration into the database")?;
        repository.commit().await?;
        for change in &report.changes {
            tracing::info!("config sync: {change}");
        }
    }

    // Every router is built before anything is served: a resource we cannot serve is a
    // start-up error, not a listener that answers 404.
    let homeserver = app::homeserver(&checked)?;
    let mailer = app::mailer(&checked)?;
    let state = app::app_state(&checked, database.clone(), homeserver.clone())?;
    refresh_policy(&state, &database).await;
    let mounted = portcullis_http::Mounted {
        admin_api: Some(portcullis_admin::router()),
        prometheus: serves_metrics(&checked.config)
            .then(|| telemetry.map(portcullis_telemetry::Telemetry::prometheus_router))
            .flatten(),
    };
    let mut routers = Vec::with_capacity(listeners.len());
    for (listener, bound) in listeners.iter().zip(bound.iter()) {
        let router = portcullis_http::router(
            &listener.resources,
            listener.prefix.as_deref(),
            state.clone(),
            &mounted,
        )
        .map_err(|error| anyhow::anyhow!("listener `{}`: {error}", bound.name()))?;
        routers.push(router);
    }

    let shutdown = shutdown_signal();

    let worker = (!args.no_worker).then(|| {
        let worker = app::worker(
            &checked,
            Arc::new(database.clone()),
            Arc::new(SystemClock),
            homeserver,
            mailer,
        );
        tokio::spawn(worker.run(shutdown.clone()))
    });

    let housekeeping = spawn_housekeeping(&state, database.clone(), shutdown.clone());
    spawn_reload_on_hangup(paths.clone(), state.clone(), shutdown.clone());

    for listener in bound.iter() {
        for address in listener.local_addrs() {
            tracing::info!(listener = listener.name(), %address, tls = listener.is_tls(), "listening");
        }
    }
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis(),
        "ready; press Ctrl-C to stop"
    );
    if quick_start {
        let addresses: Vec<_> = bound
            .iter()
            .flat_map(|l| l.local_addrs())
            .filter_map(|address| address.tcp())
            .collect();
        app::quick_start::announce(&addresses);
    }

    let listeners = bound.into_iter().zip(routers);
    portcullis_listener::serve(listeners, ServeOptions::default(), shutdown.clone()).await;

    if let Some(worker) = worker {
        // The worker stops after its current job; wait for it so nothing is cut halfway.
        let _ = worker.await;
    }
    // The last activity seen is written before the database closes.
    let _ = housekeeping.await;
    database.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Whether a listener serves the `prometheus` resource.
fn serves_metrics(config: &portcullis_config::Config) -> bool {
    config.http.listeners.iter().any(|listener| {
        listener.resources.iter().any(|resource| {
            resource.name == portcullis_config::sections::http::ResourceName::Prometheus
        })
    })
}

/// How often the sessions' last activity is written.
const ACTIVITY_FLUSH: Duration = Duration::from_secs(10);
/// How often the rate limiters forget the keys whose buckets are full again.
const LIMITER_PRUNING: Duration = Duration::from_secs(60);

/// How often the dynamic policy data is read: new data pushed to another process is used here
/// within this time.
const POLICY_REFRESH: Duration = Duration::from_secs(30);

/// The in-memory state's upkeep: the sessions' last activity is written every few seconds
/// (and once more at shutdown), and the rate limiters forget the addresses and accounts whose
/// buckets are full again, so that their memory stays bounded by recent attempts.
fn spawn_housekeeping(
    state: &portcullis_http::AppState,
    database: Database,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let activity = state.activity().clone();
    let limiters = state.limiters().clone();
    let state = state.clone();
    tokio::spawn(async move {
        let mut flush = tokio::time::interval(ACTIVITY_FLUSH);
        let mut prune = tokio::time::interval(LIMITER_PRUNING);
        let mut policy = tokio::time::interval(POLICY_REFRESH);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = flush.tick() => flush_activity(&activity, &database).await,
                _ = policy.tick() => refresh_policy(&state, &database).await,
                _ = prune.tick() => {
                    let keys = limiters.prune();
                    tracing::debug!(keys, "rate limiters pruned");
                    match limiters.prune_shared().await {
                        Ok(0) => {}
                        Ok(buckets) => tracing::debug!(buckets, "shared rate limits pruned"),
                        Err(error) => tracing::warn!(%error, "cannot prune the shared rate limits; retrying later"),
                    }
                }
            }
        }
        flush_activity(&activity, &database).await;
    })
}

/// Picks up dynamic policy data another process stored (`POST /api/admin/v1/policy-data`).
async fn refresh_policy(state: &portcullis_http::AppState, database: &Database) {
    let result = async {
        let mut repo = database.transaction().await?;
        let changed =
            portcullis_services::policy::refresh(&mut *repo, state.shared_policy()).await?;
        repo.rollback().await?;
        Ok::<_, portcullis_storage::StorageError>(changed)
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(%error, "cannot read the policy data; retrying later");
    }
}

async fn flush_activity(activity: &ActivityTracker, database: &Database) {
    match activity.flush(database).await {
        Ok(0) => {}
        Ok(sessions) => tracing::debug!(sessions, "session activity recorded"),
        Err(error) => tracing::warn!(%error, "cannot record session activity; retrying later"),
    }
}

/// Reloads the templates, the branding and the policy each time the process gets `SIGHUP`, as
/// MAS reloads its templates: the configuration files are read and checked again, and only if
/// they pass are the templates (`templates.path`), the branding (`branding.service_name`,
/// `policy_uri`, `tos_uri`) and the policy (`policy.rego_directory`, `policy.data`) replaced,
/// between two requests, with no connection dropped. Anything else the configuration changed
/// takes a restart.
#[cfg(unix)]
fn spawn_reload_on_hangup(
    paths: Vec<PathBuf>,
    state: portcullis_http::AppState,
    shutdown: CancellationToken,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP; reloading takes a restart");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                received = hangups.recv() => match received {
                    Some(()) => reload(&paths, &state),
                    None => break,
                },
            }
        }
    });
}

#[cfg(not(unix))]
fn spawn_reload_on_hangup(_: Vec<PathBuf>, _: portcullis_http::AppState, _: CancellationToken) {}

/// Reads the configuration again and replaces the templates, the branding and the policy, or
/// changes nothing and says why.
fn reload(paths: &[PathBuf], state: &portcullis_http::AppState) {
    tracing::info!("SIGHUP: reloading the templates, the branding and the policy");
    let checked = match app::check_config(paths) {
        Ok(checked) => checked,
        Err(problems) => {
            let list = problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            tracing::error!(problems = %list, "the configuration has problems: nothing was reloaded");
            return;
        }
    };
    let templates =
        match portcullis_templates::Templates::load(checked.config.templates.path.as_deref()) {
            Ok(templates) => templates,
            Err(error) => {
                tracing::error!(%error, "the templates do not load: nothing was reloaded");
                return;
            }
        };
    if let Err(error) = state.shared_policy().replace_loader(checked.policy) {
        tracing::error!(%error, "the policy fails: nothing was reloaded");
        return;
    }
    state.replace_templates(templates);
    state.replace_branding(&portcullis_http::site_config::SiteConfig::from_config(
        &checked.config,
    ));
    tracing::info!("templates, branding and policy reloaded");
}

/// A token cancelled on SIGTERM or SIGINT (Ctrl-C).
pub fn shutdown_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down: no new connections; finishing requests in flight");
        cancel.cancel();
    });
    token
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C will stop the server");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
