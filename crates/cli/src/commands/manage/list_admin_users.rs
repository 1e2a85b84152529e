//! `mas-cli manage list-admin-users`: the users who may request admin access, one Matrix ID a
//! line.

use std::process::ExitCode;

use super::Context;

pub async fn run(context: &Context) -> anyhow::Result<ExitCode> {
    let mut repo = context.transaction().await?;
    let users = repo.users().list(usize::MAX).await?;
    repo.rollback().await?;
    for user in users.iter().filter(|user| user.can_request_admin) {
        println!("{}", context.mxid(&user.username));
    }
    Ok(ExitCode::SUCCESS)
}
