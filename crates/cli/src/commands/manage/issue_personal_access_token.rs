//! `mas-cli manage issue-personal-access-token USER --name NAME [--scope S]...
//! [--device DEVICE_ID] [--expires-in DURATION]`: a personal access token (`mpt_…`) acting as
//! USER, for a bot or a script, printed alone on standard output.
//!
//! The session is owned by USER, who can see and revoke it from their account page. The scope
//! is the Matrix client API unless given; `--device` binds the token to a device, created on
//! the homeserver first. The administrator running the command may give any scope.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Duration;
use portcullis_model::{PersonalSessionOwner, User};
use portcullis_oauth::scope::{MATRIX_API, MATRIX_DEVICE_PREFIX};
use portcullis_services::personal_sessions::{self, Request};

use super::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user the token acts as: a username or a full Matrix ID.
    user: String,
    /// A name to recognise the token by.
    #[arg(long)]
    name: String,
    /// A scope token (repeatable); `urn:matrix:client:api:*` when none is given.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Bind the token to this Matrix device, created on the homeserver if needed.
    #[arg(long, value_name = "DEVICE_ID")]
    device: Option<String>,
    /// How long the token lives: seconds, or a number with s, m, h, d or w (`90d`); until
    /// revoked when absent.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    expires_in: Option<Duration>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut scopes = if args.scopes.is_empty() {
        vec![MATRIX_API.to_owned()]
    } else {
        args.scopes
    };
    if let Some(device) = &args.device {
        scopes.push(format!("{MATRIX_DEVICE_PREFIX}{device}"));
    }
    let mut repo = context.transaction().await?;
    let user = context.find_user(&mut repo, &args.user).await?;
    repo.rollback().await?;
    let token = issue(
        context,
        &user,
        &args.name,
        &scopes.join(" "),
        args.expires_in,
    )
    .await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// Makes a personal session of `user` for `user` and returns its token; says on standard
/// error what was made.
pub(super) async fn issue(
    context: &Context,
    user: &User,
    name: &str,
    scope: &str,
    expires_in: Option<Duration>,
) -> anyhow::Result<String> {
    let mxid = context.mxid(&user.username);
    let checked = personal_sessions::check(&Request {
        owner: PersonalSessionOwner::User(user.id),
        actor: user,
        human_name: name,
        scope,
        expires_in,
        may_grant_admin: true,
    })
    .map_err(|problem| anyhow::anyhow!("cannot issue a token for {mxid}: {problem}"))?;
    if checked.device_id().is_some() {
        let homeserver = context.homeserver()?;
        personal_sessions::provision(homeserver.as_ref(), &checked)
            .await
            .with_context(|| {
                format!("cannot create the device of {mxid} on the homeserver (is it running?)")
            })?;
    }
    let mut repo = context.transaction().await?;
    let (session, token) =
        personal_sessions::issue(&mut *repo, &mut rand::rngs::OsRng, &checked, context.now())
            .await?;
    repo.commit().await.context("cannot store the token")?;
    eprintln!(
        "issued personal access token {} for {mxid} ({}), {}",
        session.id,
        session.scope,
        match session.expires_at {
            Some(at) => format!("valid until {}", at.format("%Y-%m-%d %H:%M UTC")),
            None => "valid until revoked".to_owned(),
        }
    );
    Ok(token)
}

/// `3600`, `90s`, `15m`, `12h`, `30d`, `2w`.
pub(super) fn parse_duration(input: &str) -> Result<Duration, String> {
    let input = input.trim();
    let (number, unit) = match input.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => input.split_at(at),
        None => (input, "s"),
    };
    let amount: i64 = number
        .parse()
        .map_err(|_| format!("{input:?} is not a duration (try 3600, 90m, 12h or 30d)"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{input:?}: the unit must be s, m, h, d or w")),
    };
    match amount.checked_mul(seconds) {
        Some(total) if total > 0 && total <= 100 * 366 * 86_400 => Ok(Duration::seconds(total)),
        _ => Err(format!(
            "{input:?} must be between one second and a hundred years"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(parse_duration("3600"), Ok(Duration::hours(1)));
        assert_eq!(parse_duration("90m"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("30d"), Ok(Duration::days(30)));
        assert_eq!(parse_duration("2w"), Ok(Duration::weeks(2)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("12 parsecs").is_err());
        assert!(parse_duration("d").is_err());
    }
}
