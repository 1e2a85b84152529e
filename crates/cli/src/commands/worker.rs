//! `mas-cli worker`: the background worker alone.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use portcullis_model::SystemClock;

use crate::app;

pub async fn run(config_paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let paths = app::config_files(config_paths)?;
    let checked = app::load_checked_config(&paths)?;
    let database = app::connect_database(&checked).await?;
    let status = database.migration_status().await?;
    anyhow::ensure!(
        status.is_up_to_date(),
        "the database has {} pending migration(s): run `mas-cli database migrate` first",
        status.pending.len()
    );

    let shutdown = super::server::shutdown_signal();
    let homeserver = app::homeserver(&checked)?;
    let mailer = app::mailer(&checked)?;
    let worker = app::worker(
        Arc::new(database),
        Arc::new(SystemClock),
        homeserver,
        mailer,
    );
    worker.run(shutdown).await;
    Ok(ExitCode::SUCCESS)
}
