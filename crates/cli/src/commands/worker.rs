//! `mas-cli worker`: the background worker alone.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use portcullis_model::SystemClock;

use crate::app;

pub async fn run(config_paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let paths = app::config_files(config_paths)?;
    let checked = app::load_checked_config(&paths)?;
    let database = app::connect_migrated_database(&checked).await?;
    portcullis_telemetry::observe_database(&database);

    let shutdown = super::server::shutdown_signal();
    let homeserver = app::homeserver(&checked)?;
    let mailer = app::mailer(&checked)?;
    let worker = app::worker(
        &checked,
        Arc::new(database),
        Arc::new(SystemClock),
        homeserver,
        mailer,
    );
    worker.run(shutdown).await;
    Ok(ExitCode::SUCCESS)
}
