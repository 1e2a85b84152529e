//! Passkeys (WebAuthn): adding one to an account, and signing in with one, alone or as the
//! second step after the password.
//!
//! The ceremonies are `webauthn_rp`'s. Every passkey is a discoverable credential verified by
//! the authenticator (a PIN, a fingerprint): it proves both what the user has and who they are.
//! The server's state of a ceremony is kept in storage under its challenge until the answer
//! comes back (to whichever process), and taken once: an answer is never accepted twice. The
//! relying party is the host of `http.public_base`; browsers refuse WebAuthn on an IP address,
//! so a server reached by IP has no passkeys.

use chrono::{DateTime, TimeDelta, Utc};
use data_encoding::BASE64URL_NOPAD;
use portcullis_config::SecondFactorRequirement;
use portcullis_model::{Ulid, User, UserPasskey};
use portcullis_storage::{NewPasskey, Repository, StorageError};

use crate::second_factor::{self, Kept};
use webauthn_rp::{
    AuthenticatedCredential, DiscoverableAuthentication16, DiscoverableAuthenticationServerState,
    DiscoverableCredentialRequestOptions, PublicKeyCredentialCreationOptions, Registration,
    RegistrationServerState,
    bin::{Decode as _, Encode as _},
    request::{
        AsciiDomain, PublicKeyCredentialDescriptor, RpId, TimedCeremony as _,
        auth::AuthenticationVerificationOptions,
        register::{
            CredProtect, Nickname, PublicKeyCredentialUserEntity, RegistrationVerificationOptions,
            UserHandle16, Username,
        },
    },
    response::{
        AuthTransports, CredentialId,
        register::{CompressedPubKey, DynamicState, StaticState},
    },
};

/// How long a ceremony waits for its answer (the browser is told five minutes; this leaves
/// room for a slow network).
pub const CEREMONY_WINDOW: TimeDelta = TimeDelta::minutes(6);

/// Bytes of a user handle: random, the same for all of a user's passkeys.
const USER_HANDLE_LEN: usize = 16;

/// Longest name of a passkey, in characters.
pub const NAME_MAX: usize = 64;

/// Who the passkeys are for: the host browsers see (the RP ID) and the origin of the pages.
#[derive(Debug)]
pub struct RelyingParty {
    rp_id: RpId,
    origin: String,
}

impl RelyingParty {
    /// The relying party of a server whose pages are under `public_base`; `None` when its host
    /// is an IP address (browsers refuse WebAuthn there) or not a domain.
    #[must_use]
    pub fn of(public_base: &url::Url) -> Option<Self> {
        let url::Host::Domain(domain) = public_base.host()? else {
            return None;
        };
        let rp_id = RpId::Domain(AsciiDomain::try_from(domain.to_owned()).ok()?);
        let origin = public_base.origin().ascii_serialization();
        Some(Self { rp_id, origin })
    }
}

/// Why an answer of the browser was not accepted. The user is told one of two things: try
/// again ([`Self::Expired`]), or this passkey does not work here (the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an answer of a browser to a WebAuthn request.
    #[error("not a WebAuthn answer")]
    Malformed,
    /// The ceremony is unknown: it expired, was answered already, or never was.
    #[error("the request expired or was answered already")]
    Expired,
    /// The answer does not prove what it must (the signature, the origin, user verification).
    #[error("the passkey's answer was not accepted")]
    Invalid,
    /// No passkey of this server has this credential (it was removed), or it is not the
    /// expected user's, or its user cannot sign in.
    #[error("unknown passkey")]
    Unknown,
    /// This authenticator's passkey is registered already.
    #[error("this passkey is registered already")]
    AlreadyRegistered,
}

/// How a challenge is stored: its 128 bits in hex.
fn challenge_key(challenge: u128) -> String {
    format!("{challenge:032x}")
}

/// A value stored as base64url, decoded; a corrupt value is a storage error.
fn decoded(value: &str, what: &str) -> Result<Vec<u8>, StorageError> {
    BASE64URL_NOPAD
        .decode(value.as_bytes())
        .map_err(|error| StorageError::InvalidData(format!("a passkey's {what}: {error}")))
}

/// The user handle of `user`'s passkeys: the one their passkeys have, or a new random one for
/// their first.
fn user_handle_of(passkeys: &[UserPasskey]) -> Result<UserHandle16, StorageError> {
    let Some(passkey) = passkeys.first() else {
        return Ok(UserHandle16::new());
    };
    let bytes: [u8; USER_HANDLE_LEN] = decoded(&passkey.user_handle, "user handle")?
        .try_into()
        .map_err(|_| StorageError::InvalidData("a passkey's user handle length".to_owned()))?;
    UserHandle16::decode(bytes)
        .map_err(|_| StorageError::InvalidData("a passkey's user handle".to_owned()))
}

/// Starts adding a passkey to `user`'s account, named in the authenticator `account` (their
/// Matrix ID): the options to pass to `navigator.credentials.create()`, as JSON. The user's
/// passkeys are excluded, so that an authenticator is not registered twice.
///
/// # Errors
/// When storage fails.
pub async fn start_registration(
    repo: &mut dyn Repository,
    party: &RelyingParty,
    user: &User,
    account: &str,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
    let passkeys = repo.user_passkeys().list(user).await?;
    let handle = user_handle_of(&passkeys)?;
    let excluded = passkeys
        .iter()
        .map(|passkey| {
            let id = decoded(&passkey.credential_id, "credential ID")?;
            // No transports: the browser looks for the credential everywhere.
            let transports = AuthTransports::decode(0)
                .map_err(|error| StorageError::InvalidData(format!("transports: {error}")))?;
            CredentialId::<Vec<u8>>::decode(id)
                .map(|id| PublicKeyCredentialDescriptor { id, transports })
                .map_err(|error| StorageError::InvalidData(format!("a credential ID: {error}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = Username::try_from(account)
        .or_else(|_| Username::try_from(user.username.as_str()))
        .map_err(|error| StorageError::InvalidData(format!("a passkey user name: {error}")))?;
    let entity = PublicKeyCredentialUserEntity {
        name,
        id: &handle,
        display_name: Nickname::try_from(user.username.as_str()).ok(),
    };
    let mut options = PublicKeyCredentialCreationOptions::passkey(&party.rp_id, entity, excluded);
    // Not the credProtect extension, which many platform authenticators do not implement (the
    // browser would refuse to create the passkey where the crate's default enforces it); user
    // verification is required of every ceremony anyway.
    options.extensions.cred_protect = CredProtect::None;
    let (server, client) = options
        .start_ceremony()
        .map_err(|error| StorageError::InvalidData(format!("passkey options: {error}")))?;
    let challenge = challenge_key(server.sent_challenge().0);
    let state = server
        .encode()
        .map_err(|error| StorageError::InvalidData(format!("a passkey ceremony: {error}")))?;
    let options = serde_json::to_string(&client)
        .map_err(|error| StorageError::InvalidData(format!("passkey options: {error}")))?;
    repo.passkey_challenges()
        .add(
            &challenge,
            Some(user.id),
            &BASE64URL_NOPAD.encode(&state),
            now,
        )
        .await?;
    Ok(options)
}

/// Finishes adding a passkey named `name` to `user`'s account with the browser's `answer`
/// (the JSON of the credential `navigator.credentials.create()` gave).
///
/// # Errors
/// When storage fails.
pub async fn finish_registration(
    repo: &mut dyn Repository,
    party: &RelyingParty,
    user: &User,
    (name, answer): (&str, &str),
    now: DateTime<Utc>,
) -> Result<Result<UserPasskey, Refused>, StorageError> {
    let Ok(registration) = Registration::from_json_relaxed(answer.as_bytes()) else {
        return Ok(Err(Refused::Malformed));
    };
    let Ok(challenge) = registration.challenge_relaxed() else {
        return Ok(Err(Refused::Malformed));
    };
    let taken = repo
        .passkey_challenges()
        .take(&challenge_key(challenge.0), now - CEREMONY_WINDOW)
        .await?;
    let Some((Some(owner), state)) = taken else {
        return Ok(Err(Refused::Expired));
    };
    if owner != user.id {
        return Ok(Err(Refused::Expired));
    }
    let state = decoded(&state, "ceremony")?;
    let server = RegistrationServerState::<USER_HANDLE_LEN>::decode(state.as_slice())
        .map_err(|error| StorageError::InvalidData(format!("a passkey ceremony: {error}")))?;
    let origins = [party.origin.as_str()];
    let options = RegistrationVerificationOptions::<&str, &str> {
        allowed_origins: &origins,
        ..RegistrationVerificationOptions::default()
    };
    let credential = match server.verify(&party.rp_id, &registration, &options) {
        Ok(credential) => credential,
        Err(error) => {
            tracing::info!(user.id = %user.id, %error, "a passkey registration was refused");
            return Ok(Err(Refused::Invalid));
        }
    };
    let static_state = credential
        .static_state()
        .encode()
        .map_err(|error| StorageError::InvalidData(format!("a passkey's key: {error:?}")))?;
    let dynamic_state = credential
        .dynamic_state()
        .encode()
        .map_err(|error| StorageError::InvalidData(format!("a passkey's state: {error:?}")))?;
    let handle = credential.user_id().encode().map_err(|error| {
        StorageError::InvalidData(format!("a passkey's user handle: {error:?}"))
    })?;
    let name: String = name.trim().chars().take(NAME_MAX).collect();
    let new = NewPasskey {
        credential_id: BASE64URL_NOPAD.encode(credential.id().as_ref()),
        name,
        user_handle: BASE64URL_NOPAD.encode(&handle),
        static_state: BASE64URL_NOPAD.encode(&static_state),
        dynamic_state: BASE64URL_NOPAD.encode(&dynamic_state),
    };
    Ok(repo
        .user_passkeys()
        .add(user, new, now)
        .await?
        .ok_or(Refused::AlreadyRegistered))
}

/// Starts a sign-in with a passkey (any of this server's: the browser lets the user choose):
/// the options to pass to `navigator.credentials.get()`, as JSON.
///
/// # Errors
/// When storage fails.
pub async fn start_sign_in(
    repo: &mut dyn Repository,
    party: &RelyingParty,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
    let (server, client) = DiscoverableCredentialRequestOptions::passkey(&party.rp_id)
        .start_ceremony()
        .map_err(|error| StorageError::InvalidData(format!("passkey options: {error}")))?;
    let challenge = challenge_key(server.sent_challenge().0);
    let state = server
        .encode()
        .map_err(|error| StorageError::InvalidData(format!("a passkey ceremony: {error:?}")))?;
    let options = serde_json::to_string(&client)
        .map_err(|error| StorageError::InvalidData(format!("passkey options: {error}")))?;
    repo.passkey_challenges()
        .add(&challenge, None, &BASE64URL_NOPAD.encode(&state), now)
        .await?;
    Ok(options)
}

/// Finishes a sign-in with the browser's `answer` (the JSON of the credential
/// `navigator.credentials.get()` gave): the passkey's user, if they may sign in, and the
/// passkey, its use recorded.
///
/// # Errors
/// When storage fails.
pub async fn finish_sign_in(
    repo: &mut dyn Repository,
    party: &RelyingParty,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<Result<(User, UserPasskey), Refused>, StorageError> {
    let Ok(authentication) = DiscoverableAuthentication16::from_json_relaxed(answer.as_bytes())
    else {
        return Ok(Err(Refused::Malformed));
    };
    let Ok(challenge) = authentication.challenge_relaxed() else {
        return Ok(Err(Refused::Malformed));
    };
    let taken = repo
        .passkey_challenges()
        .take(&challenge_key(challenge.0), now - CEREMONY_WINDOW)
        .await?;
    let Some((None, state)) = taken else {
        return Ok(Err(Refused::Expired));
    };
    let state = decoded(&state, "ceremony")?;
    let server = DiscoverableAuthenticationServerState::decode(state.as_slice())
        .map_err(|error| StorageError::InvalidData(format!("a passkey ceremony: {error}")))?;
    let credential_id = BASE64URL_NOPAD.encode(authentication.raw_id().as_ref());
    let Some(passkey) = repo
        .user_passkeys()
        .find_by_credential_id(&credential_id)
        .await?
    else {
        return Ok(Err(Refused::Unknown));
    };
    let handle = authentication.response().user_handle();
    if BASE64URL_NOPAD.encode(handle.as_ref()) != passkey.user_handle {
        return Ok(Err(Refused::Unknown));
    }
    let static_state: StaticState<CompressedPubKey<_, _, _, _>> =
        StaticState::decode(decoded(&passkey.static_state, "key")?.as_slice())
            .map_err(|error| StorageError::InvalidData(format!("a passkey's key: {error}")))?;
    let dynamic: [u8; 7] = decoded(&passkey.dynamic_state, "state")?
        .try_into()
        .map_err(|_| StorageError::InvalidData("a passkey's state length".to_owned()))?;
    let dynamic_state = DynamicState::decode(dynamic)
        .map_err(|error| StorageError::InvalidData(format!("a passkey's state: {error}")))?;
    let Ok(mut credential) =
        AuthenticatedCredential::new(authentication.raw_id(), handle, static_state, dynamic_state)
    else {
        return Ok(Err(Refused::Invalid));
    };
    let origins = [party.origin.as_str()];
    let options = AuthenticationVerificationOptions::<&str, &str> {
        allowed_origins: &origins,
        ..AuthenticationVerificationOptions::default()
    };
    if let Err(error) = server.verify(&party.rp_id, &authentication, &mut credential, &options) {
        tracing::info!(passkey.id = %passkey.id, %error, "a passkey sign-in was refused");
        return Ok(Err(Refused::Invalid));
    }
    let dynamic_state = credential
        .dynamic_state()
        .encode()
        .map_err(|error| StorageError::InvalidData(format!("a passkey's state: {error:?}")))?;
    if !repo
        .user_passkeys()
        .record_use(&passkey, &BASE64URL_NOPAD.encode(&dynamic_state), now)
        .await?
    {
        return Ok(Err(Refused::Expired));
    }
    let user = repo.users().find_by_id(passkey.user_id).await?;
    match user.filter(User::is_active) {
        Some(user) => Ok(Ok((user, passkey))),
        None => Ok(Err(Refused::Unknown)),
    }
}

/// Finishes a ceremony that must prove `user` (the second step of their sign-in, or a
/// re-authentication): [`finish_sign_in`], and the passkey must be theirs. The ceremony is
/// used up either way, whoever's passkey answered.
///
/// # Errors
/// When storage fails.
pub async fn finish_for(
    repo: &mut dyn Repository,
    party: &RelyingParty,
    user: &User,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<Result<UserPasskey, Refused>, StorageError> {
    Ok(match finish_sign_in(repo, party, answer, now).await? {
        Ok((owner, passkey)) if owner.id == user.id => Ok(passkey),
        Ok(_) => {
            tracing::info!(user.id = %user.id, "a passkey of another account answered");
            Err(Refused::Unknown)
        }
        Err(refused) => Err(refused),
    })
}

/// The passkeys of `user`, oldest first.
///
/// # Errors
/// When storage fails.
pub async fn list(
    repo: &mut dyn Repository,
    user: &User,
) -> Result<Vec<UserPasskey>, StorageError> {
    repo.user_passkeys().list(user).await
}

/// Whether `user` may remove their passkey `id` themselves: it must be theirs, not their last
/// second factor while the operator requires one of them, and not their last way in.
///
/// # Errors
/// When storage fails.
pub async fn may_remove(
    repo: &mut dyn Repository,
    user: &User,
    id: Ulid,
    requirement: SecondFactorRequirement,
    counted: crate::ways_in::Counted,
) -> Result<Result<(), Kept>, StorageError> {
    let passkeys = repo.user_passkeys().list(user).await?;
    if !passkeys.iter().any(|passkey| passkey.id == id) {
        return Ok(Err(Kept::Unknown));
    }
    let factors = second_factor::factors_of(repo, user).await?;
    let last_factor = !factors.totp && factors.passkeys <= 1;
    if last_factor && second_factor::required_for(requirement, user) {
        return Ok(Err(Kept::Required));
    }
    let ways_in = crate::ways_in::ways_in(repo, user, counted).await?;
    if ways_in.any() && !ways_in.any_but_passkey(id) {
        return Ok(Err(Kept::LastWayIn));
    }
    Ok(Ok(()))
}

/// Removes `user`'s passkey `id` at their own request (re-authenticated), if [`may_remove`].
/// With their last second factor go their recovery codes.
///
/// # Errors
/// When storage fails.
pub async fn remove_own(
    repo: &mut dyn Repository,
    user: &User,
    id: Ulid,
    requirement: SecondFactorRequirement,
    counted: crate::ways_in::Counted,
) -> Result<Result<(), Kept>, StorageError> {
    if let Err(kept) = may_remove(repo, user, id, requirement, counted).await? {
        return Ok(Err(kept));
    }
    if !repo.user_passkeys().remove(user, id).await? {
        return Ok(Err(Kept::Unknown));
    }
    if !second_factor::factors_of(repo, user).await?.any() {
        second_factor::remove_all(repo, user).await?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_host_of_the_public_base_and_never_an_address() {
        let party = RelyingParty::of(&"https://auth.example.com/".parse().expect("a URL"))
            .expect("a domain");
        assert_eq!(party.origin, "https://auth.example.com");
        let party = RelyingParty::of(&"http://localhost:8080/auth/".parse().expect("a URL"))
            .expect("a domain");
        assert_eq!(party.origin, "http://localhost:8080");
        for address in [
            "http://127.0.0.1:8080/",
            "http://[::1]:8080/",
            "http://[::]:8080/",
        ] {
            assert!(
                RelyingParty::of(&address.parse().expect("a URL")).is_none(),
                "{address}"
            );
        }
    }

    #[test]
    fn challenges_are_stored_as_32_hex_digits() {
        assert_eq!(challenge_key(1), "00000000000000000000000000000001");
        assert_eq!(challenge_key(u128::MAX), "f".repeat(32));
    }
}
