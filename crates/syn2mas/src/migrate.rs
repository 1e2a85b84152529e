//! Writing what was read from Synapse into our storage, in the caller's unit of work.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use portcullis_model::User;
use portcullis_storage::{NewCompatSession, Repository, StorageError, UserFilter};

use crate::synapse_database::{SynapseAccessToken, SynapseData};

/// Why the migration stopped (nothing it wrote stays: the caller rolls back).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database here already holds {0} user(s): syn2mas writes only into an empty database \
         (a new one, migrated with `mas-cli database migrate`)"
    )]
    NotEmpty(usize),
    #[error("another syn2mas migration is running on this database: wait for it to end")]
    AlreadyRunning,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Told how a long migration advances, entity by entity (users, addresses, ...).
pub trait Progress: Send {
    /// `total` rows of `entity` are about to be moved.
    fn start(&mut self, entity: &'static str, total: usize);
    /// `done` rows of the current entity are behind.
    fn advance(&mut self, done: usize);
    /// The current entity is done.
    fn finish(&mut self);
}

/// No progress to tell.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: &'static str, _: usize) {}
    fn advance(&mut self, _: usize) {}
    fn finish(&mut self) {}
}

/// The name of the lock a migration holds while it runs.
pub const LOCK: &str = "syn2mas";

/// What the migration needs besides Synapse's rows.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// The homeserver's name: user IDs are `@localpart:server_name`.
    pub server_name: String,
    /// The version of our bcrypt scheme, under which Synapse's hashes are stored; `None` moves
    /// no password.
    pub bcrypt_version: Option<u16>,
    /// Synapse's provider ids (`oidc-...`) and the ids of our providers that map them.
    pub providers: HashMap<String, String>,
    /// When the migration runs: the instant of the locks and deactivations Synapse has no
    /// date for, and of the tokens' checks.
    pub now: DateTime<Utc>,
}

/// Synapse's provider ids (`oidc-...`) and the ids of the upstream providers of `config` that
/// map them (`synapse_idp_id`).
#[must_use]
pub fn provider_mapping(config: &portcullis_config::Config) -> HashMap<String, String> {
    config
        .upstream_oauth2
        .providers
        .iter()
        .filter_map(|provider| {
            provider
                .synapse_idp_id
                .clone()
                .map(|idp| (idp, provider.id.clone()))
        })
        .collect()
}

/// A row that did not move, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub what: String,
    pub why: String,
}

/// What moved, and what did not.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub users: usize,
    pub admins: usize,
    pub locked: usize,
    pub deactivated: usize,
    /// Guest accounts, moved as legacy guests without their sessions.
    pub legacy_guests: usize,
    pub passwords: usize,
    pub emails: usize,
    /// Third-party ids other than email addresses (phone numbers), kept unused.
    pub other_third_party_ids: usize,
    pub upstream_links: usize,
    pub compat_sessions: usize,
    pub access_tokens: usize,
    pub refresh_tokens: usize,
    /// Users already here (an import run again).
    pub already_here: usize,
    pub skipped: Vec<Skipped>,
}

impl Summary {
    fn skip(&mut self, what: String, why: impl Into<String>) {
        self.skipped.push(Skipped {
            what,
            why: why.into(),
        });
    }
}

fn seconds(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(ts, 0).single().unwrap_or_default()
}

fn millis(ts: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ts).single().unwrap_or_default()
}

/// A moved user, with what the rows that follow need of them.
struct Moved {
    user: User,
    admin: bool,
    /// Deactivated accounts keep no session.
    active: bool,
    /// Nor do guests.
    guest: bool,
}

/// Moves `data` into `repo`, which must hold no user yet, holding the lock [`LOCK`] so that no
/// other migration runs at once. Nothing is committed: the caller commits the unit of work, or
/// rolls it back for a dry run.
///
/// # Errors
/// [`MigrateError::AlreadyRunning`], [`MigrateError::NotEmpty`] when users are already here;
/// storage failures.
pub async fn migrate(
    repo: &mut dyn Repository,
    data: &SynapseData,
    options: &MigrateOptions,
    progress: &mut dyn Progress,
) -> Result<Summary, MigrateError> {
    if !repo.try_lock(LOCK).await? {
        return Err(MigrateError::AlreadyRunning);
    }
    let existing = repo.users().count(&UserFilter::default()).await?;
    if existing > 0 {
        return Err(MigrateError::NotEmpty(existing));
    }
    let mut summary = Summary::default();
    let moved = move_accounts(repo, data, options, Mode::Migrate, &mut summary, progress).await?;
    move_sessions(repo, data, &moved, options, &mut summary, progress).await?;
    Ok(summary)
}

/// Whether accounts are moved into an empty database with everything they have, or imported
/// beside the ones already here from what Synapse's admin API shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Migrate,
    Import,
}

/// Users, with their passwords, addresses and upstream links.
async fn move_accounts<'a>(
    repo: &mut dyn Repository,
    data: &'a SynapseData,
    options: &MigrateOptions,
    mode: Mode,
    summary: &mut Summary,
    progress: &mut dyn Progress,
) -> Result<HashMap<&'a str, Moved>, MigrateError> {
    let suffix = format!(":{}", options.server_name);
    let mut moved: HashMap<&str, Moved> = HashMap::new();

    progress.start("users", data.users.len());
    for (done, synapse) in data.users.iter().enumerate() {
        progress.advance(done);
        let name = synapse.name.as_str();
        let Some(localpart) = name
            .strip_prefix('@')
            .and_then(|rest| rest.strip_suffix(suffix.as_str()))
        else {
            summary.skip(format!("user {name}"), "not a user of this server");
            continue;
        };
        if let Some(appservice) = &synapse.appservice_id {
            summary.skip(
                format!("user {name}"),
                format!("belongs to the appservice {appservice}, which keeps managing it"),
            );
            continue;
        }
        let created_at = seconds(synapse.creation_ts);
        if mode == Mode::Import
            && let Some(user) = repo.users().find_by_username(localpart).await?
        {
            summary.already_here += 1;
            moved.insert(
                name,
                Moved {
                    user,
                    admin: synapse.admin,
                    active: !synapse.deactivated,
                    guest: synapse.is_guest,
                },
            );
            continue;
        }
        let mut user = repo.users().add(localpart, created_at).await?;
        summary.users += 1;
        if synapse.is_guest {
            user = repo.users().mark_legacy_guest(user).await?;
            summary.legacy_guests += 1;
        }
        if synapse.admin {
            user = repo.users().set_can_request_admin(user, true).await?;
            summary.admins += 1;
        }
        if synapse.locked {
            user = repo.users().lock(user, options.now).await?;
            summary.locked += 1;
        }
        if synapse.deactivated {
            user = repo.users().deactivate(user, options.now).await?;
            summary.deactivated += 1;
        }
        match (
            synapse
                .password_hash
                .as_deref()
                .filter(|hash| !hash.is_empty()),
            options.bcrypt_version,
        ) {
            (Some(hash), Some(version)) if !synapse.deactivated => {
                repo.user_passwords()
                    .add(&user, hash, u32::from(version), None, created_at)
                    .await?;
                summary.passwords += 1;
            }
            (Some(_), None) => summary.skip(
                format!("password of {name}"),
                "no bcrypt scheme in passwords.schemes",
            ),
            _ => {}
        }
        moved.insert(
            name,
            Moved {
                user,
                admin: synapse.admin,
                active: !synapse.deactivated,
                guest: synapse.is_guest,
            },
        );
    }
    progress.finish();

    progress.start("email addresses", data.threepids.len());
    for (done, threepid) in data.threepids.iter().enumerate() {
        progress.advance(done);
        let Some(owner) = moved.get(threepid.user_id.as_str()) else {
            continue;
        };
        if threepid.medium != "email" {
            // Kept, unused: nobody signs in or recovers an account with them here.
            repo.user_third_party_ids()
                .add(
                    &owner.user,
                    &threepid.medium,
                    &threepid.address,
                    millis(threepid.added_at),
                )
                .await?;
            summary.other_third_party_ids += 1;
            continue;
        }
        // Looked up first: on PostgreSQL a refused insert would end the unit of work.
        if let Some(existing) = repo.user_emails().find_by_email(&threepid.address).await? {
            if existing.user_id != owner.user.id {
                summary.skip(
                    format!("email {} of {}", threepid.address, threepid.user_id),
                    "the address, in another case, is already someone's",
                );
            }
            continue;
        }
        repo.user_emails()
            .add(&owner.user, &threepid.address, millis(threepid.added_at))
            .await?;
        summary.emails += 1;
    }
    progress.finish();

    progress.start("upstream links", data.external_ids.len());
    for (done, external) in data.external_ids.iter().enumerate() {
        progress.advance(done);
        let Some(owner) = moved.get(external.user_id.as_str()) else {
            continue;
        };
        let what = || {
            format!(
                "{} account {} of {}",
                external.auth_provider, external.external_id, external.user_id
            )
        };
        let Some(provider) = options.providers.get(&external.auth_provider) else {
            summary.skip(what(), "no upstream provider maps it (synapse_idp_id)");
            continue;
        };
        if let Some(existing) = repo
            .upstream_links()
            .find_by_subject(provider, &external.external_id)
            .await?
        {
            if existing.user_id != Some(owner.user.id) {
                summary.skip(
                    what(),
                    "that account is already linked to another user here",
                );
            }
            continue;
        }
        let link = repo
            .upstream_links()
            .add(provider, &external.external_id, None, options.now)
            .await?;
        repo.upstream_links().associate(link, &owner.user).await?;
        summary.upstream_links += 1;
    }
    progress.finish();

    Ok(moved)
}

/// Imports the accounts of `data` (read over Synapse's admin API: no password, no session)
/// beside those already here: a user, address or link already here is left as it is, so a
/// second run adds only what is new. Holds the lock [`LOCK`], as a migration does.
///
/// # Errors
/// [`MigrateError::AlreadyRunning`]; storage failures.
pub async fn import(
    repo: &mut dyn Repository,
    data: &SynapseData,
    options: &MigrateOptions,
    progress: &mut dyn Progress,
) -> Result<Summary, MigrateError> {
    if !repo.try_lock(LOCK).await? {
        return Err(MigrateError::AlreadyRunning);
    }
    let mut summary = Summary::default();
    move_accounts(repo, data, options, Mode::Import, &mut summary, progress).await?;
    Ok(summary)
}

/// Devices become compatibility sessions, with their access and refresh tokens, kept as they
/// are: clients go on with the tokens they hold.
async fn move_sessions(
    repo: &mut dyn Repository,
    data: &SynapseData,
    moved: &HashMap<&str, Moved>,
    options: &MigrateOptions,
    summary: &mut Summary,
    progress: &mut dyn Progress,
) -> Result<(), MigrateError> {
    let mut sessions = HashMap::new();
    progress.start("devices", data.devices.len());
    for (done, device) in data.devices.iter().enumerate() {
        progress.advance(done);
        let Some(owner) = moved.get(device.user_id.as_str()) else {
            summary.skip(
                format!("device {} of {}", device.device_id, device.user_id),
                "its user is not moved",
            );
            continue;
        };
        if !owner.active || owner.guest {
            summary.skip(
                format!("device {} of {}", device.device_id, device.user_id),
                if owner.guest {
                    "its user is a guest"
                } else {
                    "its user is deactivated"
                },
            );
            continue;
        }
        let started = device.last_seen.map_or(options.now, millis);
        let session = repo
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: owner.user.id,
                    device_id: device.device_id.clone(),
                    human_name: device.display_name.clone(),
                    user_session_id: None,
                    is_synapse_admin: owner.admin,
                    user_agent: device.user_agent.clone(),
                },
                started,
            )
            .await?;
        summary.compat_sessions += 1;
        sessions.insert(
            (device.user_id.as_str(), device.device_id.as_str()),
            session,
        );
    }
    progress.finish();

    let refresh_tokens: HashMap<i64, _> = data
        .refresh_tokens
        .iter()
        .map(|token| (token.id, token))
        .collect();
    progress.start("access tokens", data.access_tokens.len());
    for (done, token) in data.access_tokens.iter().enumerate() {
        progress.advance(done);
        let what = format!("access token {} of {}", token.id, token.user_id);
        let Some(session) = session_of(token, &sessions) else {
            let why = if token.puppets_user_id.is_some() {
                "an appservice's token acting as another user"
            } else if token.device_id.is_none() {
                "it has no device"
            } else {
                "its device is not moved"
            };
            summary.skip(what, why);
            continue;
        };
        // A refresh token that was not used yet lets the client go on after its access token
        // expired.
        let refresh = token
            .refresh_token_id
            .and_then(|id| refresh_tokens.get(&id))
            .filter(|refresh| refresh.next_token_id.is_none());
        let expires_at = token.valid_until_ms.map(millis);
        if expires_at.is_some_and(|at| at <= options.now) && refresh.is_none() {
            summary.skip(what, "expired");
            continue;
        }
        let access = repo
            .compat_access_tokens()
            .add(session, &token.token, expires_at, session.created_at)
            .await?;
        summary.access_tokens += 1;
        if let Some(refresh) = refresh {
            repo.compat_refresh_tokens()
                .add(session, &refresh.token, &access, session.created_at)
                .await?;
            summary.refresh_tokens += 1;
        }
    }
    progress.finish();
    Ok(())
}

fn session_of<'a>(
    token: &'a SynapseAccessToken,
    sessions: &'a HashMap<(&'a str, &'a str), portcullis_model::CompatSession>,
) -> Option<&'a portcullis_model::CompatSession> {
    if token.puppets_user_id.is_some() {
        return None;
    }
    sessions.get(&(token.user_id.as_str(), token.device_id.as_deref()?))
}
