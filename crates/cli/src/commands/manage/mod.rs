//! `mas-cli manage ...`: administering accounts from the command line, one module per
//! subcommand.
//!
//! These commands act for the server's administrator, so the registration policy's allow and
//! ban lists do not apply to them (as in MAS); the username rules of [`Localpart`] still do,
//! because a name that breaks them cannot be a Matrix user ID.

mod add_email;
mod add_upstream_link;
mod allow_cross_signing_reset;
mod demote_admin;
mod generate_token;
mod import_users;
mod issue_compatibility_token;
mod issue_login_token;
mod issue_personal_access_token;
mod issue_user_registration_token;
mod kill_sessions;
mod list_admin_users;
mod list_personal_access_tokens;
mod list_upstream_links;
mod list_users;
mod lock_user;
mod promote_admin;
mod register_user;
mod remove_second_factors;
mod remove_upstream_link;
mod revoke_personal_access_token;
mod set_password;
mod table;
mod unlock_user;
mod verify_email;

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::Subcommand;
use portcullis_model::{Clock as _, Localpart, SystemClock, User};
use portcullis_passwords::PasswordManager;
use portcullis_storage::BoxRepository;
use portcullis_storage_sql::Database;

use crate::app::{self, CheckedConfig};

#[derive(Debug, Subcommand)]
pub enum ManageCommand {
    /// Add an email address to a user, as already verified.
    AddEmail(add_email::Args),
    /// Deprecated, does nothing: addresses added with add-email are already verified.
    #[command(hide = true)]
    VerifyEmail(verify_email::Args),
    /// Set a user's password.
    SetPassword(set_password::Args),
    /// Allow a user to request admin access (the `urn:mas:admin` scope).
    PromoteAdmin(promote_admin::Args),
    /// Stop a user from requesting admin access.
    DemoteAdmin(demote_admin::Args),
    /// List the users who may request admin access.
    ListAdminUsers,
    /// List every user: status, admin flag and email addresses.
    ListUsers(list_users::Args),
    /// Lock a user: sign-in and their sessions are refused until they are unlocked; with
    /// --deactivate, also deactivate the account.
    LockUser(lock_user::Args),
    /// Unlock a locked user; with --reactivate, also reactivate a deactivated account.
    UnlockUser(unlock_user::Args),
    /// End every session of a user (browser, OAuth 2.0, compatibility) and delete their
    /// devices on the homeserver, unless --keep-devices.
    KillSessions(kill_sessions::Args),
    /// Create a user and provision it on the homeserver. In a terminal, asks for what is
    /// missing unless --yes; without a terminal asks nothing, and needs --password or --yes.
    RegisterUser(register_user::Args),
    /// Bring the homeserver's users, their email addresses and upstream identities over
    /// through Synapse's admin API (when its database is out of reach; `syn2mas migrate` also
    /// keeps passwords and sessions). Running it again adds only what is new.
    ImportUsers(import_users::Args),
    /// Print a Matrix access token for a user's device (created on the homeserver), for bots
    /// and scripts.
    IssueCompatibilityToken(issue_compatibility_token::Args),
    /// Create a token that lets someone register when registration tokens are required, and
    /// print it.
    IssueUserRegistrationToken(issue_user_registration_token::Args),
    /// Print a personal access token acting as a user, for a bot or a script.
    IssuePersonalAccessToken(issue_personal_access_token::Args),
    /// Print a one-shot login token for a bot, redeemed once with `m.login.token`.
    IssueLoginToken(issue_login_token::Args),
    /// List personal access tokens (never the tokens themselves).
    ListPersonalAccessTokens(list_personal_access_tokens::Args),
    /// Revoke a personal access token.
    RevokePersonalAccessToken(revoke_personal_access_token::Args),
    /// List the accounts at upstream providers and the users they are linked to.
    ListUpstreamLinks(list_upstream_links::Args),
    /// Link an account at an upstream provider to a user, who can then sign in with it.
    AddUpstreamLink(add_upstream_link::Args),
    /// Remove a link between an upstream account and a user.
    RemoveUpstreamLink(remove_upstream_link::Args),
    /// Print a personal access token for a user: with --admin, one for the Admin API.
    GenerateToken(generate_token::Args),
    /// Let a user replace their cross-signing keys without further authentication for the
    /// next 10 minutes.
    AllowCrossSigningReset(allow_cross_signing_reset::Args),
    /// Remove a user's authenticator app, passkeys and recovery codes (they lost them): their
    /// next sign-in asks for the password only.
    RemoveSecondFactors(remove_second_factors::Args),
}

pub async fn run(config_paths: &[PathBuf], command: ManageCommand) -> anyhow::Result<ExitCode> {
    let context = Context::open(config_paths).await?;
    match command {
        ManageCommand::AddEmail(args) => add_email::run(&context, args).await,
        ManageCommand::VerifyEmail(args) => verify_email::run(&context, &args),
        ManageCommand::SetPassword(args) => set_password::run(&context, args).await,
        ManageCommand::PromoteAdmin(args) => promote_admin::run(&context, args).await,
        ManageCommand::DemoteAdmin(args) => demote_admin::run(&context, args).await,
        ManageCommand::ListAdminUsers => list_admin_users::run(&context).await,
        ManageCommand::ListUsers(args) => list_users::run(&context, &args).await,
        ManageCommand::ListUpstreamLinks(args) => list_upstream_links::run(&context, &args).await,
        ManageCommand::AddUpstreamLink(args) => add_upstream_link::run(&context, &args).await,
        ManageCommand::RemoveUpstreamLink(args) => remove_upstream_link::run(&context, &args).await,
        ManageCommand::LockUser(args) => lock_user::run(&context, args).await,
        ManageCommand::UnlockUser(args) => unlock_user::run(&context, args).await,
        ManageCommand::KillSessions(args) => kill_sessions::run(&context, args).await,
        ManageCommand::RegisterUser(args) => register_user::run(&context, args).await,
        ManageCommand::ImportUsers(args) => import_users::run(&context, args).await,
        ManageCommand::IssueCompatibilityToken(args) => {
            issue_compatibility_token::run(&context, args).await
        }
        ManageCommand::IssueUserRegistrationToken(args) => {
            issue_user_registration_token::run(&context, args).await
        }
        ManageCommand::IssuePersonalAccessToken(args) => {
            issue_personal_access_token::run(&context, args).await
        }
        ManageCommand::IssueLoginToken(args) => issue_login_token::run(&context, args).await,
        ManageCommand::ListPersonalAccessTokens(args) => {
            list_personal_access_tokens::run(&context, args).await
        }
        ManageCommand::RevokePersonalAccessToken(args) => {
            revoke_personal_access_token::run(&context, args).await
        }
        ManageCommand::GenerateToken(args) => generate_token::run(&context, args).await,
        ManageCommand::AllowCrossSigningReset(args) => {
            allow_cross_signing_reset::run(&context, args).await
        }
        ManageCommand::RemoveSecondFactors(args) => {
            remove_second_factors::run(&context, args).await
        }
    }
}

/// What every `manage` command works with: the checked configuration and a migrated
/// database.
pub struct Context {
    checked: CheckedConfig,
    database: Database,
}

impl Context {
    async fn open(config_paths: &[PathBuf]) -> anyhow::Result<Self> {
        let paths = app::config_files(config_paths)?;
        let checked = app::load_checked_config(&paths)?;
        let database = app::connect_migrated_database(&checked).await?;
        Ok(Self { checked, database })
    }

    /// The homeserver's `server_name`, the second half of every user ID.
    fn server_name(&self) -> &str {
        &self.checked.config.matrix.homeserver
    }

    /// The full Matrix ID of a user (or of a username) on this server.
    fn mxid(&self, username: &str) -> String {
        format!("@{username}:{}", self.server_name())
    }

    /// The connection to the homeserver of the `matrix` section.
    fn homeserver(
        &self,
    ) -> anyhow::Result<std::sync::Arc<dyn portcullis_homeserver::HomeserverConnection>> {
        app::homeserver(&self.checked)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        SystemClock.now()
    }

    async fn transaction(&self) -> anyhow::Result<BoxRepository> {
        self.database
            .transaction()
            .await
            .context("cannot start a database transaction")
    }

    /// The password manager of the `passwords` section, or an error when passwords are
    /// disabled there.
    fn enabled_passwords(&self) -> anyhow::Result<PasswordManager> {
        let manager = self.passwords()?;
        anyhow::ensure!(
            manager.is_enabled(),
            "passwords are disabled in the configuration (passwords.enabled: false), so no password can be set"
        );
        Ok(manager)
    }

    /// The policy with the latest dynamic data, as the server decides with it.
    async fn policy(&self) -> anyhow::Result<std::sync::Arc<portcullis_policy::Policy>> {
        let shared = portcullis_policy::SharedPolicy::new(self.checked.policy.clone())
            .context("cannot load the policy")?;
        let mut repo = self.transaction().await?;
        portcullis_services::policy::refresh(&mut *repo, &shared).await?;
        repo.rollback().await?;
        Ok(shared.current())
    }

    fn passwords(&self) -> anyhow::Result<PasswordManager> {
        PasswordManager::new(&self.checked.config.passwords)
            .context("the passwords section of the configuration cannot be used")
    }

    /// The user named by a command-line argument, given bare (`bob`) or as a full Matrix ID of
    /// this server (`@bob:example.com`).
    ///
    /// Existing names are looked up as they are, without the rules for new names: accounts
    /// imported from Synapse may predate them.
    async fn find_user(&self, repo: &mut BoxRepository, input: &str) -> anyhow::Result<User> {
        let username = Localpart::strip_server(input, self.server_name())?;
        repo.users()
            .find_by_username(username)
            .await?
            .with_context(|| format!("user {} does not exist", self.mxid(username)))
    }
}

/// Checks the shape of an email address: one `@` between a non-empty local part and a domain,
/// no spaces. Deliverability is the administrator's business; this only catches typos such as
/// a missing `@` or a username passed in the wrong place.
fn check_email(email: &str) -> anyhow::Result<()> {
    let well_formed = match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !local.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    anyhow::ensure!(
        well_formed,
        "{email:?} is not an email address (expected something like alice@example.com)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_email;

    #[test]
    fn an_ordinary_address_is_accepted() {
        assert!(check_email("alice@example.com").is_ok());
        assert!(check_email("alice+matrix@mail.example.com").is_ok());
    }

    #[test]
    fn an_address_without_an_at_sign_or_with_spaces_is_refused() {
        assert!(check_email("alice").is_err());
        assert!(check_email("@example.com").is_err());
        assert!(check_email("alice@").is_err());
        assert!(check_email("alice @example.com").is_err());
        assert!(check_email("alice@example.com.").is_err());
    }
}
