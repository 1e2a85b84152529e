//! `mas-cli config ...`: check, dump, generate, schema, sync.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::app::{self, generate::GenerateOptions};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and list every problem found.
    Check,
    /// Print the merged configuration, with defaults filled in, as YAML.
    Dump(DumpArgs),
    /// Print a new configuration with fresh secrets and keys. With -o, the file is created
    /// readable by its owner only, and an existing one is kept unless --force.
    Generate(GenerateArgs),
    /// Print the JSON schema of the configuration file.
    Schema(OutputArgs),
    /// Write the configured clients and upstream providers to the database.
    Sync(SyncArgs),
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// Replace the output file if it exists (the keys in it are lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    #[command(flatten)]
    output: OutputArgs,
    /// Print secrets instead of `<redacted>` (a file written with -o is then readable by its
    /// owner only).
    #[arg(long)]
    show_secrets: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Delete clients and providers that are no longer in the file.
    #[arg(long)]
    prune: bool,
    /// Print what would change, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(config_paths: &[PathBuf], command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Check => check(config_paths),
        ConfigCommand::Dump(args) => {
            let paths = app::config_files(config_paths)?;
            let env = |name: &str| std::env::var(name).ok();
            let loaded = portcullis_config::load(&paths, &env).map_err(|problems| {
                anyhow::anyhow!(
                    "the configuration cannot be read:{}",
                    problems
                        .0
                        .iter()
                        .map(|p| format!("\n  - {p}"))
                        .collect::<String>()
                )
            })?;
            let yaml = loaded.config.to_yaml(args.show_secrets);
            match &args.output.output {
                Some(path) if args.show_secrets => {
                    app::files::write_private(path, yaml.as_bytes(), true)?;
                }
                path => write_output(path.as_ref(), &yaml)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Generate(args) => {
            let yaml =
                app::generate::generate(&mut rand::rngs::OsRng, &GenerateOptions::default())?;
            match &args.output.output {
                Some(path) => {
                    app::files::write_private(path, yaml.as_bytes(), args.force)?;
                    eprintln!("wrote {} (readable by its owner only)", path.display());
                }
                None => print!("{yaml}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Schema(args) => {
            let schema = serde_json::to_string_pretty(&portcullis_config::json_schema())?;
            write_output(args.output.as_ref(), &format!("{schema}\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Sync(args) => sync(config_paths, args).await,
    }
}

fn check(config_paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let paths = app::config_files(config_paths)?;
    let problems = match app::check_config(&paths) {
        Ok(checked) => checked.warnings,
        Err(problems) => problems,
    };
    for problem in &problems {
        println!("{} {problem}", problem.severity);
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let files = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if errors == 0 {
        println!("{files}: valid ({warnings} warning(s))");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{files}: invalid ({errors} error(s), {warnings} warning(s))");
        Ok(ExitCode::FAILURE)
    }
}

async fn sync(config_paths: &[PathBuf], args: SyncArgs) -> anyhow::Result<ExitCode> {
    let paths = app::config_files(config_paths)?;
    let checked = app::load_checked_config(&paths)?;
    let database = app::connect_migrated_database(&checked).await?;

    let mut repository = database.transaction().await?;
    let report = app::sync::sync(
        &mut repository,
        &checked.config,
        &checked.encrypter,
        args.prune,
        chrono::Utc::now(),
    )
    .await?;
    if args.dry_run {
        repository.rollback().await?;
    } else {
        repository.commit().await?;
    }

    let prefix = if args.dry_run { "would " } else { "" };
    if report.changes.is_empty() {
        println!("nothing to change: the database matches the file");
    }
    for change in &report.changes {
        println!("{prefix}{change}");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_output(path: Option<&PathBuf>, contents: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => std::fs::write(path, contents)
            .with_context(|| format!("cannot write {}", path.display())),
        None => {
            print!("{contents}");
            Ok(())
        }
    }
}
