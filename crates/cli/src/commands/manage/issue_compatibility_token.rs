//! `mas-cli manage issue-compatibility-token USER [DEVICE_ID]`: a Matrix access token for a
//! user, without a password or a browser, the way bots and scripts are set up.
//!
//! The device is created on the homeserver first; the token is a compatibility (`mct_`)
//! token that does not expire, printed alone on standard output so that a script can capture
//! it. An existing device ID is reused: the sessions previously on it end, and the device (with
//! its end-to-end keys) stays.

use std::process::ExitCode;

use anyhow::Context as _;
use portcullis_oauth::{
    scope::{MatrixNamespace, ScopeToken},
    token::generate_code,
};
use portcullis_services::compat::{self, NewLogin};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
    /// The device to bind the token to; a random one when omitted.
    device_id: Option<String>,
    /// Make the token a Synapse admin token (`urn:synapse:admin:*`), able to use Synapse's
    /// admin API.
    #[arg(long = "yes-i-want-to-grant-synapse-admin-privileges")]
    synapse_admin: bool,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let device_id = match args.device_id {
        Some(device_id) => {
            // The device becomes a scope token in introspection answers.
            ScopeToken::matrix_device(MatrixNamespace::Stable, &device_id).map_err(|_| {
                anyhow::anyhow!(
                    "{device_id:?} cannot be a device ID: use letters, digits and -._~ only"
                )
            })?;
            device_id
        }
        None => generate_code(&mut rand::rngs::OsRng, 10).to_uppercase(),
    };

    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    repo.rollback().await?;
    let mxid = context.mxid(&user.username);
    anyhow::ensure!(
        user.is_active(),
        "{mxid} is locked or deactivated: unlock it before issuing a token"
    );

    // The homeserver refuses tokens of devices it does not know, so the device comes first.
    let homeserver = context.homeserver()?;
    portcullis_services::devices::provision_device(
        homeserver.as_ref(),
        &user.username,
        &device_id,
        None,
    )
    .await
    .with_context(|| {
        format!("cannot create the device {device_id} of {mxid} on the homeserver (is it running?)")
    })?;

    let now = context.now();
    let mut repo = context.transaction().await?;
    let login = NewLogin {
        user: &user,
        device_id: &device_id,
        display_name: None,
        browser_session_id: None,
        user_agent: None,
        with_refresh: false,
        is_synapse_admin: args.synapse_admin,
    };
    // Without a refresh token, the access token lives until the session ends.
    let started = compat::start_session(
        &mut *repo,
        &login,
        std::time::Duration::ZERO,
        &mut rand::rngs::OsRng,
        now,
    )
    .await?;
    let (token, replaced) = (started.tokens.access_token, started.replaced);
    repo.commit().await.context("cannot store the token")?;

    eprintln!(
        "issued a compatibility token for {mxid} on device {device_id}{}{}",
        if args.synapse_admin {
            ", with Synapse admin privileges"
        } else {
            ""
        },
        if replaced == 0 {
            String::new()
        } else {
            format!("; {replaced} earlier session(s) on this device ended")
        }
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
