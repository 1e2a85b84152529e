//! Users, their passwords and email addresses, and the tokens that allow registering one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use ulid::Ulid;

/// A local account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Internal identifier.
    pub id: Ulid,
    /// The Matrix localpart, already lowercase.
    pub username: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// Set while an administrator has locked the account: sign-in and introspection are
    /// refused, but sessions are kept so that unlocking restores them.
    pub locked_at: Option<DateTime<Utc>>,
    /// Set once the account is deactivated (its sessions are ended for good).
    pub deactivated_at: Option<DateTime<Utc>>,
    /// Whether the user may ask for the admin scope.
    pub can_request_admin: bool,
    /// A guest account moved from Synapse: kept for the record, with no password and no
    /// session (no guest account is made here).
    pub legacy_guest: bool,
}

impl User {
    /// Whether the user may sign in and use their sessions: neither locked nor deactivated.
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.locked_at.is_none() && self.deactivated_at.is_none()
    }
}

/// A password hash of a user.
///
/// A user's passwords are never updated in place: a new password, or the same password
/// re-hashed with a newer scheme after a successful sign-in, is a new row, and the newest one is
/// the user's password. Old hashes are kept, so an upgrade can be traced back
/// (`upgraded_from_id`).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct UserPassword {
    /// Internal identifier.
    pub id: Ulid,
    /// The user it belongs to.
    pub user_id: Ulid,
    /// The hash, in the scheme's own format (a PHC string for argon2, `$2b$...` for bcrypt).
    #[serde(skip)]
    pub hashed_password: String,
    /// The version of the hashing scheme in the configuration's list that produced it.
    pub version: u32,
    /// The password this one re-hashes, when it was upgraded to a newer scheme.
    pub upgraded_from_id: Option<Ulid>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserPassword {
    /// Leaves the hash out: values end up in logs, and a hash can be brute-forced offline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPassword")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("hashed_password", &"[redacted]")
            .field("version", &self.version)
            .field("upgraded_from_id", &self.upgraded_from_id)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// An email address of a user.
///
/// An address belongs to one user at most, whatever its case: `Alice@Example.org` and
/// `alice@example.org` are the same address (see [`UserEmail::normalize`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEmail {
    /// Internal identifier.
    pub id: Ulid,
    /// The user it belongs to.
    pub user_id: Ulid,
    /// The address, as the user wrote it.
    pub email: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl UserEmail {
    /// The form under which addresses are compared: lowercase.
    ///
    /// The local part is case-sensitive in theory (RFC 5321 §2.4) but in no mail system anyone
    /// uses, and treating `Alice@` and `alice@` as two accounts' addresses would let one person
    /// hold another's address. The rule is applied here rather than by the database, so that it
    /// is the same on every backend, non-ASCII letters included.
    #[must_use]
    pub fn normalize(email: &str) -> String {
        email.to_lowercase()
    }
}

/// A token that allows registering an account when registration requires one.
///
/// Administrators hand it out, so they can read it back: it is kept in clear beside the hash
/// lookups use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationToken {
    /// Internal identifier.
    pub id: Ulid,
    /// The token itself; `None` for tokens made before clear values were kept.
    pub token: Option<String>,
    /// How many registrations it allows; `None` means unlimited.
    pub usage_limit: Option<u32>,
    /// How many registrations it has allowed so far.
    pub times_used: u32,
    /// When the token was created.
    pub created_at: DateTime<Utc>,
    /// After this instant the token is refused.
    pub expires_at: Option<DateTime<Utc>>,
    /// Set once an administrator revoked the token.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When the token was last consumed.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl RegistrationToken {
    /// Whether the token would be accepted at `now`: not revoked, not expired and not used up.
    ///
    /// This is for display; the consumption itself is decided atomically by the database.
    #[must_use]
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none()
            && self.expires_at.is_none_or(|expires_at| expires_at > now)
            && self.usage_limit.is_none_or(|limit| self.times_used < limit)
    }
}

/// A 6-digit code sent to an email address, to prove the address is the user's: at
/// registration (no user yet) or when a signed-in user adds an address (`user_id`).
///
/// The code itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserEmailAuthentication {
    /// Internal identifier.
    pub id: Ulid,
    /// The address the code was sent to.
    pub email: String,
    /// The user adding the address, when this is not a registration.
    pub user_id: Option<Ulid>,
    /// When the code was sent.
    pub created_at: DateTime<Utc>,
    /// After this instant the code is refused.
    pub expires_at: DateTime<Utc>,
    /// Set once the right code was given.
    pub completed_at: Option<DateTime<Utc>>,
    /// How many codes were submitted so far, right or wrong.
    pub attempts: u32,
}

impl UserEmailAuthentication {
    /// Whether a code could still be accepted at `now`, `max_attempts` submissions allowed.
    #[must_use]
    pub fn is_pending(&self, now: DateTime<Utc>, max_attempts: u32) -> bool {
        self.completed_at.is_none() && self.expires_at > now && self.attempts < max_attempts
    }
}

/// A password recovery ticket: the secret of a link sent to one of the user's addresses,
/// good once, for a short while, to choose a new password.
///
/// The ticket itself is not part of this value: it is stored only as its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecoveryTicket {
    /// Internal identifier.
    pub id: Ulid,
    /// The user whose password it resets.
    pub user_id: Ulid,
    /// The address the link was sent to.
    pub email: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// After this instant the ticket is refused.
    pub expires_at: DateTime<Utc>,
    /// Set when the ticket was used.
    pub consumed_at: Option<DateTime<Utc>>,
}

impl UserRecoveryTicket {
    /// Whether the ticket could still be used at `now`.
    #[must_use]
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.consumed_at.is_none() && self.expires_at > now
    }
}

/// A registration waiting for its email address to be verified: everything the form gave,
/// the password already hashed.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct UserRegistration {
    /// Internal identifier.
    pub id: Ulid,
    /// The username asked for.
    pub username: String,
    /// The password's hash.
    #[serde(skip)]
    pub hashed_password: String,
    /// The version of the hashing scheme that produced it.
    pub password_version: u32,
    /// The display name asked for.
    pub display_name: Option<String>,
    /// The address being verified.
    pub email: String,
    /// The registration token checked at the form, consumed when the account is made.
    pub registration_token_id: Option<Ulid>,
    /// Where to go once the account exists, as the registration form's query string.
    pub continuation: Option<String>,
    /// The code sent to `email`.
    pub email_authentication_id: Ulid,
    /// When the form was sent.
    pub created_at: DateTime<Utc>,
    /// Set once the account was made.
    pub completed_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRegistration {
    /// Leaves the hash out, as for [`UserPassword`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRegistration")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("hashed_password", &"[redacted]")
            .field("password_version", &self.password_version)
            .field("display_name", &self.display_name)
            .field("email", &self.email)
            .field("registration_token_id", &self.registration_token_id)
            .field("continuation", &self.continuation)
            .field("email_authentication_id", &self.email_authentication_id)
            .field("created_at", &self.created_at)
            .field("completed_at", &self.completed_at)
            .finish()
    }
}

/// A user's TOTP authenticator (RFC 6238), a second factor.
#[derive(Clone, PartialEq, Eq)]
pub struct UserTotp {
    /// Whose it is.
    pub user_id: Ulid,
    /// The shared secret, encrypted with `secrets.encryption`.
    pub encrypted_secret: String,
    /// When enrolment started.
    pub created_at: DateTime<Utc>,
    /// When a first code proved that the user's app has the secret; until then it is not a
    /// second factor.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step a code was accepted for: no code of that step or before is accepted
    /// again.
    pub last_used_step: Option<u64>,
}

impl std::fmt::Debug for UserTotp {
    /// Without the secret, even encrypted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserTotp")
            .field("user_id", &self.user_id)
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish_non_exhaustive()
    }
}

/// A passkey of a user (a WebAuthn credential of theirs, discoverable and user-verifying).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPasskey {
    /// Its ID.
    pub id: Ulid,
    /// Whose it is.
    pub user_id: Ulid,
    /// The credential ID the authenticator chose, base64url: unique across the server.
    pub credential_id: String,
    /// The name the user gave it ("Laptop", "Phone").
    pub name: String,
    /// The user handle the authenticator stored with it, base64url (the same for all the
    /// user's passkeys; random, not the user's ID).
    pub user_handle: String,
    /// What does not change (its public key, algorithm, extensions), as `webauthn_rp` encodes
    /// it, base64url.
    pub static_state: String,
    /// What each use updates (the signature counter, backup state), as `webauthn_rp` encodes
    /// it, base64url.
    pub dynamic_state: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last signed in.
    pub last_used_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone};

    use super::*;

    fn instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn user() -> User {
        User {
            id: Ulid::nil(),
            username: "alice".to_owned(),
            created_at: instant(),
            locked_at: None,
            deactivated_at: None,
            can_request_admin: false,
            legacy_guest: false,
        }
    }

    fn token() -> RegistrationToken {
        RegistrationToken {
            token: None,
            id: Ulid::nil(),
            usage_limit: Some(1),
            times_used: 0,
            created_at: instant(),
            expires_at: Some(instant() + TimeDelta::hours(1)),
            revoked_at: None,
            last_used_at: None,
        }
    }

    #[test]
    fn a_locked_user_is_not_active() {
        let user = User {
            locked_at: Some(instant()),
            ..user()
        };
        assert!(!user.is_active());
    }

    #[test]
    fn a_deactivated_user_is_not_active() {
        let user = User {
            deactivated_at: Some(instant()),
            ..user()
        };
        assert!(!user.is_active());
    }

    #[test]
    fn a_fresh_user_is_active() {
        assert!(user().is_active());
    }

    #[test]
    fn email_addresses_are_compared_in_lowercase() {
        assert_eq!(
            UserEmail::normalize("Alice@Example.ORG"),
            "alice@example.org"
        );
        assert_eq!(
            UserEmail::normalize("ÉLODIE@example.org"),
            "élodie@example.org"
        );
    }

    #[test]
    fn a_password_hash_is_not_shown_in_debug_output() {
        let password = UserPassword {
            id: Ulid::nil(),
            user_id: Ulid::nil(),
            hashed_password: "$argon2id$v=19$secret".to_owned(),
            version: 1,
            upgraded_from_id: None,
            created_at: instant(),
        };
        assert!(!format!("{password:?}").contains("argon2id"));
    }

    #[test]
    fn a_registration_token_is_invalid_from_its_expiry_on() {
        let token = token();
        assert!(token.is_valid(instant()));
        assert!(!token.is_valid(instant() + TimeDelta::hours(1)));
    }

    #[test]
    fn a_used_up_registration_token_is_invalid() {
        let token = RegistrationToken {
            times_used: 1,
            ..token()
        };
        assert!(!token.is_valid(instant()));
    }

    #[test]
    fn a_revoked_registration_token_is_invalid() {
        let token = RegistrationToken {
            revoked_at: Some(instant()),
            ..token()
        };
        assert!(!token.is_valid(instant()));
    }
}
