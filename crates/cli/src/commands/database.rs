//! `mas-cli database ...`: migrations and status.

use std::{path::PathBuf, process::ExitCode};

use clap::Subcommand;

use crate::app;

#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// Apply the pending migrations.
    Migrate,
    /// Show the backend, whether it answers, and the applied and pending migrations.
    Status,
}

pub async fn run(config_paths: &[PathBuf], command: DatabaseCommand) -> anyhow::Result<ExitCode> {
    let paths = app::config_files(config_paths)?;
    let checked = app::load_checked_config(&paths)?;
    match command {
        DatabaseCommand::Migrate => {
            let database = app::connect_database(&checked).await?;
            let before = database.migration_status().await?;
            database.migrate().await?;
            println!(
                "{}: applied {} migration(s); the database is up to date",
                database.backend_name(),
                before.pending.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        DatabaseCommand::Status => {
            let database = match app::connect_database(&checked).await {
                Ok(database) => database,
                Err(error) => {
                    println!("reachable: no ({error:#})");
                    return Ok(ExitCode::FAILURE);
                }
            };
            println!("backend: {}", database.backend_name());
            match database.ping().await {
                Ok(()) => println!("reachable: yes"),
                Err(error) => {
                    println!("reachable: no ({error})");
                    return Ok(ExitCode::FAILURE);
                }
            }
            let status = database.migration_status().await?;
            println!("applied migrations: {}", status.applied.len());
            for (version, description) in &status.applied {
                println!("  {version} {description}");
            }
            println!("pending migrations: {}", status.pending.len());
            for (version, description) in &status.pending {
                println!("  {version} {description}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
