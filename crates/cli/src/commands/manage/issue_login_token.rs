//! `mas-cli manage issue-login-token USER [--device-id ID] [--expires-in DURATION]`: a one-shot
//! login token for a bot, printed alone on standard output. The bot redeems it once with
//! `m.login.token` at the Matrix login API (`/_matrix/client/v3/login`) for its own device-bound
//! tokens; with `--device-id`, only for that device.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Duration;
use portcullis_services::login_tokens::{self, DEFAULT_TTL};

use super::{Context, issue_personal_access_token::parse_duration};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user the token signs in: a username or a full Matrix ID.
    user: String,
    /// The only device the token may sign in (created on the homeserver at the login).
    #[arg(long, value_name = "DEVICE_ID")]
    device_id: Option<String>,
    /// How long the token lives: seconds, or a number with s, m or h; 10 minutes when absent,
    /// 24 hours at most.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    expires_in: Option<Duration>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    let issued = login_tokens::issue(
        &mut *repo,
        &user,
        args.device_id.as_deref(),
        args.expires_in.unwrap_or(DEFAULT_TTL),
        &mut rand::rngs::OsRng,
        context.now(),
    )
    .await?;
    let (stored, token) = match issued {
        Ok(issued) => issued,
        Err(problem) => anyhow::bail!("cannot issue a login token for {}: {problem}", args.user),
    };
    repo.commit()
        .await
        .context("cannot store the login token")?;
    eprintln!(
        "login token for {}{} (expires {}; redeem it once with m.login.token at /_matrix/client/v3/login)",
        context.mxid(&user.username),
        stored
            .device_id
            .as_deref()
            .map(|device| format!(", device {device} only"))
            .unwrap_or_default(),
        stored.expires_at.to_rfc3339(),
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
