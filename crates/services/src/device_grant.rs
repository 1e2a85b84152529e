//! The device authorization grant (RFC 8628): starting a grant for a device, and a signed-in
//! user's answer to it. Redeeming the device code for tokens is
//! [`crate::tokens::device_code`].

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_model::{
    BrowserSession, DeviceCodeGrant, DeviceCodeGrantStage, OAuthClient, User, token::hash_token,
};
use portcullis_oauth::{
    ClientError, ToClientError as _,
    requests::{DeviceAuthorizationRequest, GrantType},
    scope::{GrantKind, ScopeContext, check_requested_scope},
    token::{UserCode, generate_code},
};
use portcullis_storage::{NewDeviceCodeGrant, Repository, RepositoryFactory, StorageError};
use rand::RngCore;
use subtle::ConstantTimeEq as _;
use ulid::Ulid;

pub use crate::tokens::device_code::POLL_INTERVAL;

/// How long the device and the user have to finish. MAS uses the same; RFC 8628 leaves it to
/// the server.
pub const GRANT_LIFETIME: TimeDelta = TimeDelta::minutes(20);

/// Alphanumerics in a device code: about 190 bits, like an authorization code, since it is a
/// bearer secret that polls for tokens (RFC 8628 §5.1 and §6.1: the device code must be
/// unguessable, unlike the short user code).
const DEVICE_CODE_LENGTH: usize = 32;

/// User codes are short (about 38 bits), so one may collide with the code of another pending
/// grant; a fresh pair is drawn this many times before giving up.
const USER_CODE_ATTEMPTS: usize = 5;

/// Why a grant is not started.
#[derive(Debug)]
pub enum StartError {
    /// The client did not register the device code grant.
    UnauthorizedClient,
    /// The scope is not allowed, as the protocol crate judged it.
    Request(ClientError),
    /// Storage failed (or is out of reach for a moment).
    Storage(StorageError),
    /// Our fault.
    Internal(String),
}

impl From<StorageError> for StartError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// A grant just stored, with its codes in clear (only their hashes are stored).
#[derive(Debug)]
pub struct Started {
    /// The grant.
    pub grant: DeviceCodeGrant,
    /// The code the device polls with.
    pub device_code: String,
    /// The code the user types.
    pub user_code: UserCode,
}

/// What a device asks for, beside its client and scope.
#[derive(Debug, Clone, Copy)]
pub struct Requester<'a> {
    /// The device's address.
    pub ip: Option<std::net::IpAddr>,
    /// The device's `User-Agent`.
    pub user_agent: Option<&'a str>,
}

/// Starts a grant for `client` (authenticated by the caller) under fresh codes, drawing new
/// ones when the user code is taken.
///
/// # Errors
/// A [`StartError`] when the client may not use the grant or the scope is not allowed.
pub async fn start(
    repositories: &dyn RepositoryFactory,
    client: &OAuthClient,
    request: &DeviceAuthorizationRequest,
    requester: Requester<'_>,
    rng: &mut (dyn RngCore + Send),
    now: DateTime<Utc>,
) -> Result<Started, StartError> {
    // RFC 8628 §3.1 with RFC 6749 §5.2: a client may only start the grants it registered.
    if !client.has_grant(GrantType::DeviceCode) {
        return Err(StartError::UnauthorizedClient);
    }
    // The user is not known yet: admin scopes pass here and are checked against whoever
    // approves ([`answer`]).
    let context = ScopeContext {
        grant: GrantKind::DeviceCode,
    };
    check_requested_scope(&request.scope, &context)
        .map_err(|violation| StartError::Request(violation.to_client_error()))?;
    let new_grant = NewDeviceCodeGrant {
        client_id: client.id,
        scope: request.scope.clone(),
        expires_at: now + GRANT_LIFETIME,
        ip: requester.ip,
        user_agent: requester.user_agent.map(str::to_owned),
    };
    for _ in 0..USER_CODE_ATTEMPTS {
        let device_code = generate_code(rng, DEVICE_CODE_LENGTH);
        let user_code = UserCode::generate(rng);
        // One unit of work per attempt: on PostgreSQL a failed insert spoils its transaction.
        let mut repo = repositories.transaction().await?;
        match repo
            .oauth_device_code_grants()
            .add(&new_grant, &device_code, user_code.as_str(), now)
            .await
        {
            Ok(grant) => {
                repo.commit().await?;
                return Ok(Started {
                    grant,
                    device_code,
                    user_code,
                });
            }
            Err(StorageError::Conflict(_)) => {
                repo.rollback().await?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(StartError::Internal(format!(
        "no free user code after {USER_CODE_ATTEMPTS} attempts"
    )))
}

/// A grant waiting for its user, as [`find_pending`] found it.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request and matched at once"
)]
pub enum Pending {
    /// Unknown, answered or expired.
    Gone,
    /// The code given is not this grant's.
    WrongCode,
    /// Waiting, with its client and the code the user typed.
    Waiting {
        /// The grant.
        grant: DeviceCodeGrant,
        /// Its client.
        client: OAuthClient,
        /// The user code, checked against the grant's.
        user_code: UserCode,
    },
}

/// The grant `id` if it is still waiting and `code` is its user code (only its hash is
/// stored, so the code the user typed comes along and is compared here, in constant time).
///
/// # Errors
/// When storage fails.
pub async fn find_pending(
    repo: &mut dyn Repository,
    id: Ulid,
    code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Pending, StorageError> {
    let Some(grant) = repo
        .oauth_device_code_grants()
        .find(id)
        .await?
        .filter(|grant| grant.stage == DeviceCodeGrantStage::Pending && !grant.is_expired(now))
    else {
        return Ok(Pending::Gone);
    };
    let user_code = code.and_then(|code| UserCode::parse(code).ok());
    let Some(user_code) = user_code.filter(|user_code| {
        bool::from(
            hash_token(user_code.as_str())
                .as_bytes()
                .ct_eq(grant.user_code_hash.as_bytes()),
        )
    }) else {
        return Ok(Pending::WrongCode);
    };
    let Some(client) = repo.oauth_clients().find(grant.client_id).await? else {
        return Ok(Pending::Gone);
    };
    Ok(Pending::Waiting {
        grant,
        client,
        user_code,
    })
}

/// Why an answer was not recorded.
#[derive(Debug)]
pub enum AnswerError {
    /// The policy refuses the grant (an admin scope without admin rights, a banned requester,
    /// too many sessions) or could not be evaluated: the grant is refused, the device told
    /// `access_denied`.
    Refused(crate::policy::Decision),
    /// Someone answered first (another tab, another approval): the first answer stands.
    AlreadyAnswered,
    /// Storage failed.
    Storage(StorageError),
}

impl From<StorageError> for AnswerError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

/// Who answers a device's grant.
#[derive(Clone, Copy)]
pub struct Approver<'a> {
    pub user: &'a User,
    pub browser_session: &'a BrowserSession,
    /// The policy deciding the grant.
    pub policy: &'a portcullis_policy::Policy,
    pub requester: &'a portcullis_policy::Requester,
    /// How sessions are counted (`experimental.session_limit`).
    pub session_limit: Option<&'a portcullis_config::sections::experimental::SessionLimitConfig>,
}

/// Records the user's answer to a waiting grant of `client`: approved in the approver's browser
/// session, the device may redeem its code; refused, it is told so. An approval the policy
/// refuses (`authorization_grant/violation`) refuses the grant.
///
/// # Errors
/// An [`AnswerError`] when the policy refuses the grant or the grant was answered.
pub async fn answer(
    repositories: &dyn RepositoryFactory,
    grant: &DeviceCodeGrant,
    client: &OAuthClient,
    approver: Approver<'_>,
    approve: bool,
    now: DateTime<Utc>,
) -> Result<(), AnswerError> {
    let Approver {
        user,
        browser_session,
        ..
    } = approver;
    let mut refused_by_policy = None;
    if approve {
        let mut repository = repositories.transaction().await?;
        let verdict = crate::authorization::grant_verdict(
            &mut *repository,
            crate::authorization::GrantAsked {
                policy: approver.policy,
                user,
                client,
                scope: &grant.scope,
                grant_type: portcullis_policy::GrantType::DeviceCode,
                requester: approver.requester,
                session_limit: approver.session_limit,
            },
            now,
        )
        .await?;
        repository.rollback().await?;
        if !matches!(verdict, crate::policy::Decision::Allowed) {
            refused_by_policy = Some(verdict);
        }
    }
    let approve = approve && refused_by_policy.is_none();
    let mut repository = repositories.transaction().await?;
    let grants = repository.oauth_device_code_grants();
    let answered = if approve {
        grants.fulfill(grant.id, browser_session, now).await?
    } else {
        grants.reject(grant.id, now).await?
    };
    if answered.is_none() {
        return Err(AnswerError::AlreadyAnswered);
    }
    repository.commit().await?;
    tracing::info!(grant.id = %grant.id, approved = approve, user.id = %user.id, "device code grant answered");
    match refused_by_policy {
        Some(decision) => Err(AnswerError::Refused(decision)),
        None => Ok(()),
    }
}
