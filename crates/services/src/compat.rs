//! The Matrix login API's sessions (compatibility sessions). What every compatibility sign-in
//! shares: the device ID rules, starting a session on a
//! device (ending the sessions it replaces), and issuing its tokens.
//!
//! A client that logs in again with the device ID it had keeps that device: the sessions still
//! on it are ended, but the device is not deleted on the homeserver, so a bot that logs in at
//! every start keeps its end-to-end encryption keys. The new session is created in the same
//! transaction, so the `delete-device` job can never find the device unused in between.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{CompatSession, User};
use portcullis_oauth::{
    scope::{MatrixNamespace, Scope, ScopeToken},
    token::TokenType,
};
use portcullis_storage::{NewCompatSession, Repository, StorageError};
use rand::{Rng, RngCore};
use ulid::Ulid;

use crate::sessions;

/// Length of a generated device ID.
const DEVICE_ID_LENGTH: usize = 10;
/// The characters of a generated device ID.
const DEVICE_ID_ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// A fresh device ID: 10 upper-case letters and digits, as MAS and Synapse make them.
pub fn generate_device_id<R: RngCore + ?Sized>(rng: &mut R) -> String {
    (0..DEVICE_ID_LENGTH)
        .map(|_| char::from(DEVICE_ID_ALPHABET[rng.gen_range(0..DEVICE_ID_ALPHABET.len())]))
        .collect()
}

/// Whether a client may choose `device_id`: it must fit in a device scope
/// (`urn:matrix:client:device:<id>`), since that is how the homeserver learns it. Shorter IDs
/// than OAuth clients may ask for are fine: bots have long used names like `BOT`.
#[must_use]
pub fn is_acceptable_device_id(device_id: &str) -> bool {
    !device_id.is_empty() && ScopeToken::matrix_device(MatrixNamespace::Stable, device_id).is_ok()
}

/// The device of a login: the one the client asked for, or a new one.
///
/// # Errors
/// The requested ID, when it is not acceptable ([`is_acceptable_device_id`]).
pub fn choose_device_id<R: RngCore + ?Sized>(
    requested: Option<&str>,
    rng: &mut R,
) -> Result<String, String> {
    match requested {
        Some(device_id) if is_acceptable_device_id(device_id) => Ok(device_id.to_owned()),
        Some(device_id) => Err(device_id.to_owned()),
        None => Ok(generate_device_id(rng)),
    }
}

/// The scope a compatibility session amounts to, as introspection tells the homeserver: the
/// whole client-server API in both namespaces, the Synapse admin API for admin sessions, and
/// the device in both namespaces unless the homeserver reads `device_id` on its own
/// (`with_device_id`). `None` when the device cannot be written as a scope and must be.
#[must_use]
pub fn session_scope(session: &CompatSession, with_device_id: bool) -> Option<Scope> {
    let mut scope = Scope::empty();
    scope.insert(ScopeToken::matrix_api(MatrixNamespace::Stable));
    scope.insert(ScopeToken::matrix_api(MatrixNamespace::Unstable));
    if session.is_synapse_admin {
        scope.insert(
            portcullis_oauth::scope::SYNAPSE_ADMIN
                .parse()
                .expect("the admin scope is a valid scope token"),
        );
    }
    if !with_device_id {
        for namespace in [MatrixNamespace::Stable, MatrixNamespace::Unstable] {
            scope.insert(ScopeToken::matrix_device(namespace, &session.device_id).ok()?);
        }
    }
    Some(scope)
}

/// A sign-in ready to become a session.
pub struct NewLogin<'a> {
    /// Who signed in.
    pub user: &'a User,
    /// The device, already created on the homeserver.
    pub device_id: &'a str,
    /// `initial_device_display_name`.
    pub display_name: Option<&'a str>,
    /// The browser session of a single sign-on login.
    pub browser_session_id: Option<Ulid>,
    /// The client's `User-Agent`.
    pub user_agent: Option<&'a str>,
    /// Whether the client asked for a refresh token (`refresh_token: true`).
    pub with_refresh: bool,
    /// Whether the session may use the homeserver's admin API (`manage
    /// issue-compatibility-token --yes-i-want-to-grant-synapse-admin-privileges`).
    pub is_synapse_admin: bool,
}

/// A session just started.
pub struct Started {
    /// The session.
    pub session: CompatSession,
    /// Its tokens.
    pub tokens: IssuedTokens,
    /// How many sessions it replaced on its device.
    pub replaced: usize,
}

/// Tokens just stored for a session.
pub struct IssuedTokens {
    /// The access token, in clear, for the client.
    pub access_token: String,
    /// The refresh token, in clear, when asked for.
    pub refresh_token: Option<String>,
    /// How long the access token lives; `None`: until the session ends.
    pub expires_in: Option<Duration>,
}

/// Ends the sessions that `login`'s device still has, of the compatibility API and OAuth 2.0
/// alike, keeping the device, then starts the new session and issues its tokens.
///
/// # Errors
/// When storage fails.
pub async fn start_session(
    repo: &mut dyn Repository,
    login: &NewLogin<'_>,
    compat_token_ttl: Duration,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Started, StorageError> {
    let user = login.user;
    let replaced = sessions::replace_device_sessions(repo, user, login.device_id, now).await?;

    let session = repo
        .compat_sessions()
        .add(
            &NewCompatSession {
                user_id: user.id,
                device_id: login.device_id.to_owned(),
                human_name: login.display_name.map(str::to_owned),
                user_session_id: login.browser_session_id,
                is_synapse_admin: login.is_synapse_admin,
                user_agent: login.user_agent.map(str::to_owned),
            },
            now,
        )
        .await?;
    let tokens = issue_tokens(
        repo,
        &session,
        login.with_refresh,
        compat_token_ttl,
        rng,
        now,
    )
    .await?;
    Ok(Started {
        session,
        tokens,
        replaced,
    })
}

/// Stores a new access token for `session` and, with `with_refresh`, a refresh token with it;
/// the access token then expires after `compat_token_ttl` (`experimental.compat_token_ttl`),
/// else never.
///
/// # Errors
/// When storage fails.
pub async fn issue_tokens(
    repo: &mut dyn Repository,
    session: &CompatSession,
    with_refresh: bool,
    compat_token_ttl: Duration,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<IssuedTokens, StorageError> {
    let ttl = with_refresh.then_some(compat_token_ttl);
    let expires_at = ttl
        .and_then(|ttl| TimeDelta::from_std(ttl).ok())
        .map(|ttl| now + ttl);
    let access_token = TokenType::CompatAccessToken.generate(rng);
    let access = repo
        .compat_access_tokens()
        .add(session, &access_token, expires_at, now)
        .await?;
    let refresh_token = if with_refresh {
        let token = TokenType::CompatRefreshToken.generate(rng);
        repo.compat_refresh_tokens()
            .add(session, &token, &access, now)
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(IssuedTokens {
        access_token,
        refresh_token,
        expires_in: ttl,
    })
}

/// `duration` in milliseconds, as the Matrix API counts.
#[must_use]
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng as _, rngs::StdRng};

    use super::*;

    fn session(device_id: &str, admin: bool) -> CompatSession {
        CompatSession {
            id: Ulid::nil(),
            user_id: Ulid::nil(),
            device_id: device_id.to_owned(),
            human_name: None,
            user_session_id: None,
            is_synapse_admin: admin,
            created_at: DateTime::from_timestamp(1_800_000_000, 0).expect("valid"),
            finished_at: None,
            user_agent: None,
            last_active_at: None,
            last_active_ip: None,
        }
    }

    #[test]
    fn generated_device_ids_are_ten_upper_case_alphanumerics() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..50 {
            let id = generate_device_id(&mut rng);
            assert_eq!(id.len(), 10);
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
                "{id}"
            );
            assert!(is_acceptable_device_id(&id));
        }
    }

    #[test]
    fn a_requested_device_id_is_kept_when_it_fits_in_a_scope() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(
            choose_device_id(Some("BOT"), &mut rng).as_deref(),
            Ok("BOT")
        );
        assert_eq!(
            choose_device_id(Some("my device"), &mut rng),
            Err("my device".to_owned())
        );
        assert!(choose_device_id(Some(""), &mut rng).is_err());
        assert!(choose_device_id(Some("é"), &mut rng).is_err());
        assert_eq!(choose_device_id(None, &mut rng).map(|id| id.len()), Ok(10));
    }

    #[test]
    fn the_scope_has_the_api_and_the_device_in_both_namespaces() {
        let scope = session_scope(&session("ABCDEFGHIJ", false), false).expect("a scope");
        assert_eq!(
            scope.to_string(),
            "urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ \
             urn:matrix:org.matrix.msc2967.client:api:* \
             urn:matrix:org.matrix.msc2967.client:device:ABCDEFGHIJ"
        );
    }

    #[test]
    fn an_admin_session_has_the_synapse_admin_scope() {
        let scope = session_scope(&session("ABCDEFGHIJ", true), true).expect("a scope");
        assert!(scope.contains("urn:synapse:admin:*"));
        assert_eq!(scope.device_id(), None, "the device is told apart");
    }

    #[test]
    fn a_device_that_cannot_be_a_scope_needs_the_device_id_field() {
        assert_eq!(session_scope(&session("odd device", false), false), None);
        assert!(session_scope(&session("odd device", false), true).is_some());
    }
}
