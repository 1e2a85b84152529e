//! The ways a user signs in (a password, passkeys, accounts at upstream providers), so that
//! what a user removes of their own never leaves them without one: unlinking an upstream
//! account, removing a passkey or all their second factors, giving up their password.
//!
//! An operator's removals (`mas-cli manage remove-second-factors`, the Admin API) are not held
//! back: an operator recovering an account sets a password or a link next.

use portcullis_model::User;
use portcullis_storage::{Repository, StorageError};
use ulid::Ulid;

/// Which ways in count on this server: passwords only while `passwords` are enabled, passkeys
/// only while a passkey signs in alone (`account.second_factors.passkey_sign_in_allowed`, and
/// a host name in `http.public_base`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// `passwords.enabled`.
    pub passwords: bool,
    /// A passkey alone signs in here.
    pub passkey_sign_in: bool,
}

/// A user's ways in, as [`Counted`] on this server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaysIn {
    /// They have a password, and passwords are enabled.
    pub password: bool,
    /// Their passkeys that sign in alone (none when passkeys do not sign in alone here).
    pub passkeys: Vec<Ulid>,
    /// Their links to accounts at enabled upstream providers.
    pub links: Vec<Ulid>,
}

impl WaysIn {
    /// Whether any way in is left.
    #[must_use]
    pub fn any(&self) -> bool {
        self.password || !self.passkeys.is_empty() || !self.links.is_empty()
    }

    /// Whether a way in is left once the password is gone.
    #[must_use]
    pub fn any_but_password(&self) -> bool {
        Self {
            password: false,
            ..self.clone()
        }
        .any()
    }

    /// Whether a way in is left once the passkey `id` is gone.
    #[must_use]
    pub fn any_but_passkey(&self, id: Ulid) -> bool {
        let mut rest = self.clone();
        rest.passkeys.retain(|passkey| *passkey != id);
        rest.any()
    }

    /// Whether a way in is left once every passkey is gone.
    #[must_use]
    pub fn any_but_passkeys(&self) -> bool {
        Self {
            passkeys: Vec::new(),
            ..self.clone()
        }
        .any()
    }

    /// Whether a way in is left once the link `id` is gone.
    #[must_use]
    pub fn any_but_link(&self, id: Ulid) -> bool {
        let mut rest = self.clone();
        rest.links.retain(|link| *link != id);
        rest.any()
    }
}

/// `user`'s ways in, as `counted` here.
///
/// # Errors
/// When storage fails.
pub async fn ways_in(
    repo: &mut dyn Repository,
    user: &User,
    counted: Counted,
) -> Result<WaysIn, StorageError> {
    let password = counted.passwords && repo.user_passwords().active(user).await?.is_some();
    let passkeys = if counted.passkey_sign_in {
        repo.user_passkeys()
            .list(user)
            .await?
            .into_iter()
            .map(|passkey| passkey.id)
            .collect()
    } else {
        Vec::new()
    };
    let enabled: Vec<String> = crate::upstream_sign_in::enabled_providers(repo)
        .await?
        .into_iter()
        .map(|provider| provider.id)
        .collect();
    let links = crate::upstream_links::linked_accounts(repo, user)
        .await?
        .into_iter()
        .filter(|link| enabled.contains(&link.provider_id))
        .map(|link| link.id)
        .collect();
    Ok(WaysIn {
        password,
        passkeys,
        links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_way_in_is_whichever_is_left() {
        let passkey = Ulid::from_parts(1, 1);
        let link = Ulid::from_parts(2, 2);
        let only_passkey = WaysIn {
            password: false,
            passkeys: vec![passkey],
            links: Vec::new(),
        };
        assert!(only_passkey.any());
        assert!(!only_passkey.any_but_passkey(passkey));
        assert!(only_passkey.any_but_passkey(Ulid::from_parts(3, 3)));
        assert!(!only_passkey.any_but_passkeys());
        assert!(only_passkey.any_but_password());
        assert!(only_passkey.any_but_link(link));

        let password_and_link = WaysIn {
            password: true,
            passkeys: Vec::new(),
            links: vec![link],
        };
        assert!(password_and_link.any_but_password());
        assert!(password_and_link.any_but_link(link));
        let only_link = WaysIn {
            password: false,
            ..password_and_link
        };
        assert!(!only_link.any_but_link(link));
        assert!(only_link.any_but_passkeys());
    }
}
