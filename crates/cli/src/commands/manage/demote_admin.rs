//! `mas-cli manage demote-admin USER`: stops a user from requesting admin access. Sessions
//! that already have the admin scope keep it until they end.

use std::process::ExitCode;

use super::{Context, promote_admin::set_can_request_admin};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user: a username or a full Matrix ID.
    user: String,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    set_can_request_admin(context, &args.user, false).await
}
