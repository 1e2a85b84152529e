//! What introspection read about access tokens lately: a token presented again soon after costs
//! no database read.
//!
//! An entry is trusted only while two things hold. Storage has committed nothing since it was
//! read ([`RepositoryFactory::committed_changes`]): whatever this process changes (a revocation, a
//! session ended, a user locked) is seen by the next introspection. And it was read less than
//! [`FRESH_FOR`] ago: changes made by another process sharing the database (another server, a
//! command of the CLI) are seen within that time, well within the second a revocation may
//! take to reach every process. A token found expired at the time of the request is read
//! again, whatever the entry says. Tokens are kept by their SHA-256 digest, never in clear, and
//! only active ones: an unknown token is read every time, so that nobody fills the cache with
//! guesses.
//!
//! When an entry goes stale, every request in flight for that token would read it again at
//! once (a homeserver introspects the same token for many requests): one reads, the others
//! wait for its answer ([`AccessTokenCache::turn_to_read`]), so that a commit costs one read
//! per token in use, not one per request in flight.
//!
//! [`RepositoryFactory::committed_changes`]: portcullis_storage::RepositoryFactory::committed_changes

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError, Weak},
};

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_storage::{ActiveAccessToken, ActiveCompatAccessToken, ActivePersonalAccessToken};
use sha2::{Digest, Sha256};

/// How long an entry may answer for a token without a new read.
pub const FRESH_FOR: TimeDelta = TimeDelta::milliseconds(500);

/// Past this many entries, the cache starts again from empty (it holds the tokens used in
/// the last second or so, far fewer on any real server).
const MOST_ENTRIES: usize = 10_000;

/// An active access token as storage found it, of any kind.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    OAuth(ActiveAccessToken),
    Compat(ActiveCompatAccessToken),
    Personal(ActivePersonalAccessToken),
}

impl Found {
    fn expires_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Self::OAuth(found) => found.access_token.expires_at,
            Self::Compat(found) => found.access_token.expires_at,
            Self::Personal(found) => found.token.expires_at,
        }
    }
}

struct Entry {
    found: Found,
    read_at: DateTime<Utc>,
    commits: u64,
}

/// The turn to read one token from storage; see [`AccessTokenCache::turn_to_read`].
pub(crate) type ReadTurn = Arc<tokio::sync::Mutex<()>>;

#[derive(Default)]
struct Entries {
    by_digest: HashMap<TokenKey, Entry>,
    /// The reads in flight, by token.
    reading: HashMap<TokenKey, Weak<tokio::sync::Mutex<()>>>,
    /// When entries too old to answer were last dropped.
    swept_at: Option<DateTime<Utc>>,
}

/// The cache; one per process, shared by every introspection.
#[derive(Default)]
pub struct AccessTokenCache {
    entries: Mutex<Entries>,
}

impl std::fmt::Debug for AccessTokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenCache").finish_non_exhaustive()
    }
}

/// A token as the cache knows it: its SHA-256 digest, computed once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenKey([u8; 32]);

impl TokenKey {
    pub(crate) fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }
}

impl AccessTokenCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Entries are replaced whole under the lock: a panic elsewhere cannot leave one half
        // written.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What was read for `token`, if it may still answer at `now` with storage at `commits`.
    pub(crate) fn get(&self, key: TokenKey, now: DateTime<Utc>, commits: u64) -> Option<Found> {
        let entries = self.entries();
        let entry = entries.by_digest.get(&key)?;
        let age = now - entry.read_at;
        let fresh = entry.commits == commits && age >= TimeDelta::zero() && age < FRESH_FOR;
        let unexpired = entry
            .found
            .expires_at()
            .is_none_or(|expires_at| expires_at > now);
        (fresh && unexpired).then(|| entry.found.clone())
    }

    /// The turn to read `token`: whoever holds it reads, and the others, once they have it,
    /// find the entry it left (check [`AccessTokenCache::get`] again before reading).
    pub(crate) fn turn_to_read(&self, key: TokenKey) -> ReadTurn {
        let mut entries = self.entries();
        if let Some(turn) = entries.reading.get(&key).and_then(Weak::upgrade) {
            return turn;
        }
        let turn = ReadTurn::default();
        entries.reading.insert(key, Arc::downgrade(&turn));
        turn
    }

    /// Keeps what was read for `token` at `read_at`, with storage at `commits` before the
    /// read.
    pub(crate) fn put(&self, key: TokenKey, found: Found, read_at: DateTime<Utc>, commits: u64) {
        let mut entries = self.entries();
        let sweep_due = entries
            .swept_at
            .is_none_or(|swept_at| read_at - swept_at >= FRESH_FOR || read_at < swept_at);
        if sweep_due {
            entries
                .by_digest
                .retain(|_, entry| read_at - entry.read_at < FRESH_FOR);
            entries.reading.retain(|_, turn| turn.strong_count() > 0);
            entries.swept_at = Some(read_at);
        }
        if entries.by_digest.len() >= MOST_ENTRIES {
            entries.by_digest.clear();
        }
        entries.by_digest.insert(
            key,
            Entry {
                found,
                read_at,
                commits,
            },
        );
    }

    /// How many entries the cache holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries().by_digest.len()
    }

    /// Whether the cache holds no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_for_one_token_share_the_turn_to_read_it_while_it_is_held() {
        let cache = AccessTokenCache::default();

        let first = cache.turn_to_read(TokenKey::of("mct_one"));
        let second = cache.turn_to_read(TokenKey::of("mct_one"));
        let other = cache.turn_to_read(TokenKey::of("mct_two"));

        assert!(Arc::ptr_eq(&first, &second));
        assert!(!Arc::ptr_eq(&first, &other));
        drop((first, second));
        let later = cache.turn_to_read(TokenKey::of("mct_one"));
        assert_eq!(
            Arc::strong_count(&later),
            1,
            "a new turn once the last was given up"
        );
    }
}
