//! What the policy is told: the user, their sessions, the requester. The decisions themselves
//! are the policy's (`portcullis-policy`); callers refuse when it finds violations, and when it
//! fails to evaluate (a check that cannot run fails closed).

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_config::sections::experimental::SessionLimitConfig;
use portcullis_model::User;
use portcullis_policy::{Entrypoints, Policy, PolicyLoader, SessionCounts, Sources, UserInput};
use portcullis_storage::{
    CompatSessionFilter, OAuthSessionFilter, PersonalSessionFilter, Repository, SessionFilter,
    StorageError,
};

pub use portcullis_policy::{PolicyError, Requester, Verdict, Violation};

/// The policy `config` describes (`policy`), with its base data (`server_name`,
/// `session_limit`) and `policy.data`.
///
/// # Errors
/// A Rego file that cannot be read or parsed, or an entry point that does not evaluate.
pub fn loader(config: &portcullis_config::Config) -> Result<PolicyLoader, PolicyError> {
    let policy = &config.policy;
    let mut base = serde_json::Map::new();
    base.insert(
        "server_name".to_owned(),
        serde_json::Value::from(config.matrix.homeserver.clone()),
    );
    base.insert(
        "session_limit".to_owned(),
        config
            .experimental
            .session_limit
            .as_ref()
            .map_or(serde_json::Value::Null, |limit| {
                serde_json::json!({
                    "soft_limit": limit.soft_limit.get(),
                    "hard_limit": limit.hard_limit.get(),
                })
            }),
    );
    let sources = Sources {
        directory: policy.rego_directory.clone(),
        replace_default: policy.replace_default_policy,
    };
    let entrypoints = Entrypoints {
        register: policy.register_entrypoint.clone(),
        email: policy.email_entrypoint.clone(),
        client_registration: policy.client_registration_entrypoint.clone(),
        authorization_grant: policy.authorization_grant_entrypoint.clone(),
        compat_login: policy.compat_login_entrypoint.clone(),
    };
    PolicyLoader::new(&sources, entrypoints, base, policy.data.clone())
}

/// The user as the policy sees them.
#[must_use]
pub fn user_input(user: &User) -> UserInput<'_> {
    UserInput {
        id: user.id.to_string(),
        username: &user.username,
        can_request_admin: user.can_request_admin,
    }
}

/// Whether `user` may be given admin scopes outside a grant (personal tokens for the Admin API,
/// `manage generate-token --admin`): marked admin, or listed in `data.admin_users`. Grants ask
/// the policy itself.
#[must_use]
pub fn user_may_request_admin(policy: &Policy, user: &User) -> bool {
    user.can_request_admin || policy.lists_admin_user(&user.username)
}

/// How many sessions `user` holds, as the session limit counts them: standing sessions, and
/// with `max_session_threshold` only those active within it.
///
/// # Errors
/// When storage fails.
pub async fn session_counts(
    repo: &mut dyn Repository,
    user: &User,
    limit: Option<&SessionLimitConfig>,
    now: DateTime<Utc>,
) -> Result<SessionCounts, StorageError> {
    let last_active_after = limit
        .and_then(|limit| limit.max_session_threshold)
        .and_then(|seconds| i64::try_from(seconds.get()).ok())
        .and_then(TimeDelta::try_seconds)
        .map(|threshold| now - threshold);
    let session = SessionFilter {
        user: Some(user.id),
        active: Some(true),
        last_active_after,
        ..SessionFilter::default()
    };
    let oauth2 = repo
        .oauth_sessions()
        .count(&OAuthSessionFilter {
            session: session.clone(),
            ..OAuthSessionFilter::default()
        })
        .await?;
    let compat = repo
        .compat_sessions()
        .count(&CompatSessionFilter {
            session,
            ..CompatSessionFilter::default()
        })
        .await?;
    let personal = repo
        .personal_sessions()
        .count(&PersonalSessionFilter {
            actor_user: Some(user.id),
            active: Some(true),
            ..PersonalSessionFilter::default()
        })
        .await?;
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    Ok(SessionCounts::new(
        count(oauth2),
        count(compat),
        count(personal),
    ))
}

/// What the policy said.
#[derive(Debug)]
pub enum Decision {
    /// Nothing against it.
    Allowed,
    /// Refused, with the reasons.
    Refused(Verdict),
    /// The policy could not be evaluated: callers refuse (fail closed).
    Failed(PolicyError),
}

impl From<Result<Verdict, PolicyError>> for Decision {
    fn from(result: Result<Verdict, PolicyError>) -> Self {
        match result {
            Ok(verdict) if verdict.is_allowed() => Self::Allowed,
            Ok(verdict) => Self::Refused(verdict),
            Err(error) => {
                tracing::error!(%error, "a policy could not be evaluated");
                Self::Failed(error)
            }
        }
    }
}

/// Asks `compat_login/violation` whether `user` may sign in on `device_id` through the Matrix
/// login API (or the web step of its single sign-on): a login that replaces the device's
/// session adds none, so the session limits do not hold it back.
///
/// # Errors
/// When storage fails.
#[allow(clippy::too_many_arguments)]
pub async fn compat_login(
    repo: &mut dyn Repository,
    policy: &Policy,
    user: &User,
    device_id: Option<&str>,
    login: portcullis_policy::CompatLogin<'_>,
    requester: &Requester,
    limit: Option<&SessionLimitConfig>,
    now: DateTime<Utc>,
) -> Result<Decision, StorageError> {
    let session_counts = session_counts(repo, user, limit, now).await?;
    let session_replaced = match device_id {
        Some(device_id) => !repo
            .compat_sessions()
            .list_active_for_device(user.id, device_id)
            .await?
            .is_empty(),
        None => false,
    };
    let is_interactive = matches!(login, portcullis_policy::CompatLogin::Sso { .. });
    let input = portcullis_policy::CompatLoginInput {
        user: user_input(user),
        session_counts,
        session_replaced,
        login,
        is_interactive,
        requester,
    };
    Ok(policy.evaluate_compat_login(&input).into())
}

/// Brings `shared` up to the latest dynamic data stored (the Admin API's `POST /policy-data`),
/// if it is not using it already; returns whether it changed. Data that makes the policy fail
/// (the Rego changed since it was accepted) is not used: the error is logged and the policy in
/// use stays.
///
/// # Errors
/// When storage fails.
pub async fn refresh(
    repo: &mut dyn Repository,
    shared: &portcullis_policy::SharedPolicy,
) -> Result<bool, StorageError> {
    let Some(latest) = repo.policy_data().latest().await? else {
        return Ok(false);
    };
    let version = latest.id.to_string();
    if shared.version().as_deref() == Some(version.as_str()) {
        return Ok(false);
    }
    match shared.set_data(&version, &latest.data) {
        Ok(()) => {
            tracing::info!(policy_data.id = %version, "policy data updated");
            Ok(true)
        }
        Err(error) => {
            tracing::error!(policy_data.id = %version, %error, "the latest policy data is not used: it makes the policy fail");
            Ok(false)
        }
    }
}

/// Asks `register/violation` whether an account `username` (with `email`, if given) may be
/// made through `method`.
#[must_use]
pub fn register(
    policy: &Policy,
    method: portcullis_policy::RegistrationMethod,
    username: &str,
    email: Option<&str>,
    requester: &Requester,
) -> Decision {
    policy
        .evaluate_register(&portcullis_policy::RegisterInput {
            registration_method: method,
            username,
            email,
            requester,
        })
        .into()
}

/// Asks `email/violation` whether a user may add `email` to their account.
#[must_use]
pub fn email(policy: &Policy, email: &str, requester: &Requester) -> Decision {
    policy
        .evaluate_email(&portcullis_policy::EmailInput { email, requester })
        .into()
}

/// With `dangerous_hard_limit_eviction`, a login the policy refuses only for the number of
/// sessions makes room instead: the user's least recently active compatibility sessions are
/// ended (their devices with them, and what they could decrypt) until one more fits under the
/// hard limit. Returns how many were ended; `0` when eviction is off or cannot help.
///
/// # Errors
/// When storage fails.
pub async fn evict_for_login(
    repo: &mut dyn Repository,
    user: &User,
    verdict: &Verdict,
    limit: Option<&SessionLimitConfig>,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let Some(limit) = limit.filter(|limit| limit.dangerous_hard_limit_eviction) else {
        return Ok(0);
    };
    if !verdict
        .violations
        .iter()
        .all(|violation| violation.is("too-many-sessions"))
    {
        return Ok(0);
    }
    let counts = session_counts(repo, user, Some(limit), now).await?;
    let over = counts
        .total
        .saturating_add(1)
        .saturating_sub(limit.hard_limit.get());
    let mut sessions = repo.compat_sessions().list_active_for_user(user).await?;
    // Never active first, then by last activity, oldest first.
    sessions.sort_by_key(|session| (session.last_active_at, session.created_at));
    let mut ended = 0;
    for session in sessions
        .iter()
        .take(usize::try_from(over).unwrap_or(usize::MAX))
    {
        if crate::sessions::end_compat_session(repo, session, now).await? {
            ended += 1;
        }
    }
    if ended > 0 {
        tracing::warn!(user.id = %user.id, sessions = ended, "ended the least recently used sessions to make room for a login (dangerous_hard_limit_eviction)");
    }
    Ok(ended)
}
