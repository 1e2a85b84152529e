//! `mas-cli manage import-users --homeserver-url URL --admin-token TOKEN`: brings Synapse's
//! users over through its admin API, when its database is out of reach (`syn2mas migrate`
//! reads the database, and also keeps passwords and sessions).

use std::{io::IsTerminal as _, process::ExitCode};

use anyhow::Context as _;
use portcullis_syn2mas::{MigrateOptions, synapse_admin::SynapseAdminApi};

use super::Context;
use crate::app;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The homeserver's base URL, as its admin API is reached (`http://synapse:8008`).
    #[arg(long, value_name = "URL")]
    homeserver_url: String,
    /// The access token of a Synapse admin.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SYNAPSE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: String,
    /// Read and report, write nothing.
    #[arg(long)]
    dry_run: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let api = SynapseAdminApi::new(&args.homeserver_url, &args.admin_token)?;
    let terminal = std::io::stderr().is_terminal();
    let read = api
        .read(|users| {
            if terminal && users % 100 == 0 {
                eprint!("\rread {users} users");
            }
        })
        .await?;
    if terminal {
        eprintln!();
    }
    let data = &read.data;
    eprintln!(
        "read from the homeserver's admin API: {} users, {} third-party ids, {} external ids, {} \
         devices",
        data.users.len(),
        data.threepids.len(),
        data.external_ids.len(),
        read.devices
    );

    let config = &context.checked.config;
    let now = context.now();
    let mut repo = context.transaction().await?;
    app::sync::sync(&mut repo, config, &context.checked.encrypter, false, now).await?;
    let providers = portcullis_syn2mas::migrate::provider_mapping(config);
    let options = MigrateOptions {
        server_name: context.server_name().to_owned(),
        bcrypt_version: None,
        providers,
        now,
    };
    let summary = match portcullis_syn2mas::import(
        &mut *repo,
        data,
        &options,
        &mut crate::commands::progress::Shown::on_stderr(),
    )
    .await
    {
        Ok(summary) => summary,
        Err(error) => {
            repo.rollback().await?;
            return Err(anyhow::Error::new(error).context("nothing was imported"));
        }
    };
    if args.dry_run {
        repo.rollback().await?;
    } else {
        repo.commit().await.context("cannot commit the import")?;
    }

    let verb = if args.dry_run {
        "would import"
    } else {
        "imported"
    };
    println!(
        "{verb}: {} users ({} admins, {} locked, {} deactivated), {} email addresses, {} upstream \
         links; {} users were already here",
        summary.users,
        summary.admins,
        summary.locked,
        summary.deactivated,
        summary.emails,
        summary.upstream_links,
        summary.already_here
    );
    crate::commands::syn2mas::print_what_else(&summary, "not imported");
    println!(
        "sessions: Synapse's admin API does not show access tokens, so the {} devices on the \
         homeserver stay there but their users sign in again once it delegates to this service \
         (`syn2mas migrate`, from Synapse's database, keeps them signed in)",
        read.devices
    );
    let (with_email, with_neither) = without_upstream(data, &options);
    println!(
        "passwords: Synapse's admin API does not show password hashes. Of the imported users \
         without an upstream identity, {with_email} have an email address (they can set a new \
         password by account recovery, with account.password_recovery_enabled) and \
         {with_neither} have neither: set theirs with `mas-cli manage set-password USER`"
    );
    if args.dry_run {
        println!("dry run: nothing was written");
    }
    Ok(ExitCode::SUCCESS)
}

/// Among the active users of this server, those without an upstream identity that maps to a
/// provider here: how many have an email address, and how many have nothing to sign in with.
fn without_upstream(
    data: &portcullis_syn2mas::synapse_database::SynapseData,
    options: &MigrateOptions,
) -> (usize, usize) {
    let suffix = format!(":{}", options.server_name);
    let (mut with_email, mut with_neither) = (0, 0);
    for user in &data.users {
        if user.deactivated || user.is_guest || user.appservice_id.is_some() {
            continue;
        }
        if !user.name.ends_with(&suffix) {
            continue;
        }
        let linked = data.external_ids.iter().any(|external| {
            external.user_id == user.name && options.providers.contains_key(&external.auth_provider)
        });
        if linked {
            continue;
        }
        let email = data
            .threepids
            .iter()
            .any(|threepid| threepid.user_id == user.name && threepid.medium == "email");
        if email {
            with_email += 1;
        } else {
            with_neither += 1;
        }
    }
    (with_email, with_neither)
}
