//! `mas-cli syn2mas check` and `mas-cli syn2mas migrate`: moving a Synapse homeserver's
//! accounts and devices here, from its database (SQLite or PostgreSQL).

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::Subcommand;
use portcullis_syn2mas::{
    MigrateOptions, Report, SynapseConfig, SynapseDatabase, check::Severity,
    synapse_database::SynapseData,
};

use crate::app::{self, CheckedConfig};

#[derive(Debug, Subcommand)]
pub enum Syn2masCommand {
    /// Say what stands in the way of a migration, and what deserves a look; changes nothing.
    /// Fails when there are errors.
    Check(SynapseArgs),
    /// Move Synapse's users, passwords, addresses, upstream identities and devices (with their
    /// tokens) into this service's empty database, all or nothing.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct SynapseArgs {
    /// Synapse's configuration file (`homeserver.yaml`).
    #[arg(long, value_name = "FILE")]
    synapse_config: PathBuf,
    /// Synapse's database, instead of the one its configuration names: `sqlite:///PATH` or
    /// `postgresql://USER:PASSWORD@HOST/DATABASE`.
    #[arg(long, value_name = "URI")]
    synapse_database_uri: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    synapse: SynapseArgs,
    /// Do everything, print the summary, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Go on despite every warning of the check.
    #[arg(long)]
    accept_warnings: bool,
    /// Go on despite this warning (its code, as `check` prints it); repeatable.
    #[arg(long = "accept-warning", value_name = "CODE")]
    accept_warning: Vec<String>,
}

pub async fn run(config_paths: &[PathBuf], command: Syn2masCommand) -> anyhow::Result<ExitCode> {
    match command {
        Syn2masCommand::Check(args) => {
            let (checked, synapse, data) = read_synapse(config_paths, &args).await?;
            let report = portcullis_syn2mas::check(&synapse, &data, &checked.config);
            print_report(&report);
            if report.errors().next().is_some() {
                return Ok(ExitCode::FAILURE);
            }
            println!("no errors: `syn2mas migrate` can run (after accepting any warning above)");
            Ok(ExitCode::SUCCESS)
        }
        Syn2masCommand::Migrate(args) => migrate(config_paths, args).await,
    }
}

async fn read_synapse(
    config_paths: &[PathBuf],
    args: &SynapseArgs,
) -> anyhow::Result<(CheckedConfig, SynapseConfig, SynapseData)> {
    let checked = app::load_checked_config(&app::config_files(config_paths)?)?;
    let synapse = SynapseConfig::load(&args.synapse_config)?;
    let uri = match &args.synapse_database_uri {
        Some(uri) => uri.clone(),
        None => synapse.database_uri()?,
    };
    let database = SynapseDatabase::connect(&uri)
        .await
        .with_context(|| format!("cannot open Synapse's database {}", redact(&uri)))?;
    anyhow::ensure!(
        database.looks_like_synapse().await?,
        "{} is not a Synapse database (no users, access_tokens, devices and user_threepids tables)",
        redact(&uri)
    );
    let data = database
        .read()
        .await
        .context("cannot read Synapse's tables")?;
    database.close().await;
    eprintln!(
        "read from Synapse's {} database: {} users, {} third-party ids, {} external ids, {} \
         devices, {} access tokens, {} refresh tokens",
        database.backend_name(),
        data.users.len(),
        data.threepids.len(),
        data.external_ids.len(),
        data.devices.len(),
        data.access_tokens.len(),
        data.refresh_tokens.len()
    );
    Ok((checked, synapse, data))
}

/// A database URI without its password, for messages.
fn redact(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => uri.to_owned(),
    }
}

fn print_report(report: &Report) {
    for finding in &report.findings {
        let label = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        println!("{label} [{}]: {}", finding.code, finding.message);
        println!("    fix: {}", finding.fix);
    }
    if report.findings.is_empty() {
        println!("nothing to report: Synapse and this configuration agree");
    }
}

async fn migrate(config_paths: &[PathBuf], args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let (checked, synapse, data) = read_synapse(config_paths, &args.synapse).await?;
    let report = portcullis_syn2mas::check(&synapse, &data, &checked.config);
    print_report(&report);
    if report.errors().next().is_some() {
        anyhow::bail!("the check found errors (above): nothing was migrated");
    }
    if let Some(running) = portcullis_syn2mas::check::still_running(&synapse, &data) {
        anyhow::bail!(
            "{running}: stop it first, so that nothing it writes afterwards is lost (nothing was \
             migrated)"
        );
    }
    let mut accepted = args.accept_warning.clone();
    if args.accept_warnings {
        accepted.push("all".to_owned());
    }
    let unaccepted = report.unaccepted_warnings(&accepted);
    if !unaccepted.is_empty() {
        let codes: Vec<&str> = unaccepted.iter().map(|finding| finding.code).collect();
        anyhow::bail!(
            "the check has warnings (above) that were not accepted: nothing was migrated. Accept \
             them with {} (or all of them with --accept-warnings)",
            codes
                .iter()
                .map(|code| format!("--accept-warning {code}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }

    let database = app::connect_migrated_database(&checked).await?;
    let now = chrono::Utc::now();
    let mut repository = database
        .transaction()
        .await
        .context("cannot start a database transaction")?;
    // The upstream providers the links point to come from the configuration.
    app::sync::sync(
        &mut repository,
        &checked.config,
        &checked.encrypter,
        false,
        now,
    )
    .await?;
    let providers = portcullis_syn2mas::migrate::provider_mapping(&checked.config);
    let options = MigrateOptions {
        server_name: synapse.server_name().to_owned(),
        bcrypt_version: portcullis_syn2mas::check::bcrypt_version(&checked.config),
        providers,
        now,
    };
    let summary = match portcullis_syn2mas::migrate(
        &mut *repository,
        &data,
        &options,
        &mut super::progress::Shown::on_stderr(),
    )
    .await
    {
        Ok(summary) => summary,
        Err(error) => {
            repository.rollback().await?;
            return Err(anyhow::Error::new(error).context("nothing was migrated"));
        }
    };
    if args.dry_run {
        repository.rollback().await?;
    } else {
        repository
            .commit()
            .await
            .context("cannot commit the migration")?;
    }

    let verb = if args.dry_run { "would move" } else { "moved" };
    println!(
        "{verb}: {} users ({} admins, {} locked, {} deactivated), {} passwords, {} email \
         addresses, {} upstream links, {} devices as compatibility sessions, {} access tokens, \
         {} refresh tokens",
        summary.users,
        summary.admins,
        summary.locked,
        summary.deactivated,
        summary.passwords,
        summary.emails,
        summary.upstream_links,
        summary.compat_sessions,
        summary.access_tokens,
        summary.refresh_tokens
    );
    print_what_else(&summary, "not moved");
    if args.dry_run {
        println!("dry run: nothing was written");
    }
    Ok(ExitCode::SUCCESS)
}

/// The end of a summary of `syn2mas migrate` or `manage import-users`: what was moved but is
/// not used here, and every row `not_moved` (with why).
pub fn print_what_else(summary: &portcullis_syn2mas::Summary, not_moved: &str) {
    if summary.legacy_guests > 0 {
        println!(
            "legacy guests: {} guest accounts moved as such, without their sessions",
            summary.legacy_guests
        );
    }
    if summary.other_third_party_ids > 0 {
        println!(
            "kept unused: {} third-party ids that are not email addresses (phone numbers)",
            summary.other_third_party_ids
        );
    }
    if summary.skipped.is_empty() {
        println!("{not_moved}: nothing");
    } else {
        println!("{not_moved} ({}):", summary.skipped.len());
        for skipped in &summary.skipped {
            println!("  {}: {}", skipped.what, skipped.why);
        }
    }
}
