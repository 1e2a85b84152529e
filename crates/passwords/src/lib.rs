//! Local passwords: hashing with versioned schemes, verification with upgrade on login, and
//! strength checks.
//!
//! Each configured scheme has a version; the highest hashes new passwords and every one
//! verifies. A hash is stored with the version that made it, and when a user logs in with a
//! hash from an older scheme, the verification also returns a new hash to store in its place
//! ([`Verified::OkNeedsUpgrade`]). This is how a Synapse database hashed with bcrypt moves to
//! argon2id one login at a time.
//!
//! Hashing runs on a bounded pool of blocking threads ([`PoolLimits`]): when too many checks
//! are already running or waiting, [`PasswordManager::hash`] and [`PasswordManager::verify`]
//! fail at once with [`PasswordError::Busy`] instead of queueing without end.
//!
//! This crate never logs a password, a pepper or a hash.

mod argon2_memory;
mod complexity;
mod pool;
mod scheme;

use std::{collections::BTreeMap, error::Error as StdError, fmt, io, sync::Arc};

use portcullis_config::PasswordsConfig;
use zeroize::Zeroizing;

#[cfg(feature = "testing")]
pub use crate::pool::EveryPlace;
pub use crate::{
    complexity::{Suggestion, Warning, WeakPassword, check_complexity},
    pool::{DEFAULT_MAX_WAIT, PoolLimits, Waiting},
};
use crate::{pool::BlockingPool, scheme::Scheme};

/// The result of a successful verification. Deliberately not comparable: hashes are checked
/// by [`PasswordManager::verify`], never by comparing strings.
#[derive(Clone)]
pub enum Verified {
    /// The password matches and its hash is made by the current scheme.
    Ok,
    /// The password matches, but its hash is made by an older scheme: store this new hash,
    /// made by the current scheme, in its place.
    OkNeedsUpgrade {
        /// Version of the scheme that made `hashed`.
        version: u16,
        /// The new hash.
        hashed: String,
    },
}

impl fmt::Debug for Verified {
    // A hash is as sensitive as the password it lets an attacker brute-force: keep it out of
    // logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("Ok"),
            Self::OkNeedsUpgrade { version, .. } => f
                .debug_struct("OkNeedsUpgrade")
                .field("version", version)
                .finish_non_exhaustive(),
        }
    }
}

/// Why a password could not be hashed or verified.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The password does not match the hash. The only error that is the user's doing.
    #[error("wrong password")]
    Mismatch,

    /// Passwords are disabled (`passwords.enabled: false`).
    #[error("password login is disabled")]
    Disabled,

    /// Too many password checks are running or waiting; try again in a moment. The HTTP
    /// layer answers 429 or 503 with `Retry-After`.
    #[error("too many password checks in progress")]
    Busy,

    /// The hash was stored with a scheme version that is no longer configured.
    #[error("no password hashing scheme has version {version}")]
    UnknownScheme {
        /// The stored version.
        version: u16,
    },

    /// The stored hash cannot be read by its scheme's algorithm.
    #[error("the stored password hash is malformed: {0}")]
    MalformedHash(String),

    /// Hashing itself failed, or the hashing thread panicked.
    #[error("password hashing failed")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl PasswordError {
    /// Whether this is a fault of the server rather than of the user or the load: to be
    /// logged, and shown without detail.
    #[must_use]
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Self::UnknownScheme { .. } | Self::MalformedHash(_) | Self::Internal(_)
        )
    }

    pub(crate) fn internal(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Internal(error.into())
    }

    pub(crate) fn malformed(error: impl fmt::Display) -> Self {
        Self::MalformedHash(error.to_string())
    }
}

/// Why the password configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PasswordConfigError {
    /// Passwords are enabled but no scheme is configured.
    #[error("passwords.schemes: no hashing scheme")]
    NoScheme,

    /// Two schemes share a version.
    #[error("passwords.schemes: version {version} is used twice")]
    DuplicateVersion {
        /// The repeated version.
        version: u16,
    },

    /// A bcrypt cost outside 4..=31.
    #[error("passwords.schemes: version {version}: bcrypt's cost goes from 4 to 31, not {cost}")]
    BcryptCost {
        /// The scheme's version.
        version: u16,
        /// The configured cost.
        cost: u32,
    },

    /// The pepper file cannot be read.
    #[error("passwords.schemes: version {version}: cannot read the secret_file")]
    Pepper {
        /// The scheme's version.
        version: u16,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// argon2 refuses the pepper (it takes at most 2³² - 1 bytes).
    #[error("passwords.schemes: version {version}: unusable secret: {reason}")]
    Argon2Pepper {
        /// The scheme's version.
        version: u16,
        /// argon2's reason.
        reason: String,
    },

    /// The system refused a thread for the hashing pool.
    #[error("cannot start the password hashing threads")]
    Threads(#[source] io::Error),
}

/// Hashes and verifies passwords with the configured schemes. Cheap to clone: clones share
/// the schemes and the pool.
#[derive(Clone)]
pub struct PasswordManager {
    /// `None` when passwords are disabled.
    inner: Option<Arc<Inner>>,
    minimum_complexity: u8,
}

struct Inner {
    /// Every scheme by version; the last one is the current one.
    schemes: BTreeMap<u16, Arc<Scheme>>,
    current: Arc<Scheme>,
    pool: BlockingPool,
    retry_after: std::time::Duration,
}

impl fmt::Debug for PasswordManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let versions: Option<Vec<u16>> = self
            .inner
            .as_ref()
            .map(|inner| inner.schemes.keys().copied().collect());
        f.debug_struct("PasswordManager")
            .field("versions", &versions)
            .field("minimum_complexity", &self.minimum_complexity)
            .finish_non_exhaustive()
    }
}

impl PasswordManager {
    /// A manager for the `passwords` section, hashing on a pool sized for this machine
    /// ([`PoolLimits::for_this_machine`]). Reads the pepper files.
    ///
    /// # Errors
    /// When a scheme cannot be used (see [`PasswordConfigError`]).
    pub fn new(config: &PasswordsConfig) -> Result<Self, PasswordConfigError> {
        Self::with_limits(config, PoolLimits::for_this_machine())
    }

    /// Like [`PasswordManager::new`], with explicit pool limits.
    ///
    /// # Errors
    /// When a scheme cannot be used, or the pool's threads cannot start (see
    /// [`PasswordConfigError`]).
    pub fn with_limits(
        config: &PasswordsConfig,
        limits: PoolLimits,
    ) -> Result<Self, PasswordConfigError> {
        let minimum_complexity = config.minimum_complexity;
        if !config.enabled {
            return Ok(Self {
                inner: None,
                minimum_complexity,
            });
        }
        let mut schemes = BTreeMap::new();
        for scheme in &config.schemes {
            let version = scheme.version;
            let scheme = Arc::new(Scheme::from_config(scheme)?);
            if schemes.insert(version, scheme).is_some() {
                return Err(PasswordConfigError::DuplicateVersion { version });
            }
        }
        let current = schemes
            .values()
            .next_back()
            .cloned()
            .ok_or(PasswordConfigError::NoScheme)?;
        Ok(Self {
            inner: Some(Arc::new(Inner {
                schemes,
                current,
                pool: BlockingPool::new(limits).map_err(PasswordConfigError::Threads)?,
                retry_after: limits.retry_after(),
            })),
            minimum_complexity,
        })
    }

    /// A manager that refuses everything, as with `passwords.enabled: false`.
    #[must_use]
    pub fn disabled() -> Self {
        Self {
            inner: None,
            minimum_complexity: PasswordsConfig::default().minimum_complexity,
        }
    }

    /// Whether local passwords are enabled.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether a hash or a verification would be admitted right now. A cheap look for callers
    /// that would rather refuse a request before doing any other work for it (a sign-in during
    /// a storm of them); [`PasswordManager::verify`] and [`PasswordManager::hash`] still decide.
    /// False when passwords are disabled.
    #[must_use]
    pub fn has_room(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|inner| inner.pool.has_room())
    }

    /// How long a caller refused with [`PasswordError::Busy`] should wait before trying again
    /// ([`PoolLimits::retry_after`]).
    #[must_use]
    pub fn retry_after(&self) -> std::time::Duration {
        self.inner.as_ref().map_or_else(
            || PoolLimits::for_this_machine().retry_after(),
            |inner| inner.retry_after,
        )
    }

    /// Hashes a throwaway password in the background, so that the pool knows how long a hash
    /// takes on this machine before the first sign-in: until it has timed a job, it assumes a
    /// slow one and lets fewer wait ([`Waiting::Time`]). For the server, at start; a command
    /// that hashes once has no use for it.
    pub fn time_one_hash(&self) {
        let Some(inner) = &self.inner else {
            return;
        };
        let scheme = Arc::clone(&inner.current);
        // Nobody waits for the result: the pool times the job, which is all this is for.
        let _ = inner.pool.submit_unwatched(move || {
            let _ = scheme.hash("a throwaway password to time a hash");
        });
    }

    /// Takes every place of the pool, running and waiting, until the returned value is
    /// dropped: for tests of what callers do when hashing is saturated. `None` when passwords
    /// are disabled.
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn take_every_place(&self) -> Option<pool::EveryPlace> {
        self.inner
            .as_ref()
            .map(|inner| inner.pool.take_every_place())
    }

    /// The version new passwords are hashed with, if passwords are enabled.
    #[must_use]
    pub fn current_version(&self) -> Option<u16> {
        self.inner.as_ref().map(|inner| inner.current.version)
    }

    /// The zxcvbn score new passwords must reach.
    #[must_use]
    pub fn minimum_complexity(&self) -> u8 {
        self.minimum_complexity
    }

    /// Checks a new password against the configured minimum; see [`check_complexity`].
    ///
    /// # Errors
    /// [`WeakPassword`] when it falls short.
    pub fn check_complexity(
        &self,
        password: &str,
        user_inputs: &[&str],
    ) -> Result<(), WeakPassword> {
        check_complexity(password, user_inputs, self.minimum_complexity)
    }

    /// Hashes a new password with the current scheme, returning that scheme's version and the
    /// hash (a PHC string, or a `$2b$` string for bcrypt) to store together.
    ///
    /// # Errors
    /// [`PasswordError::Disabled`], [`PasswordError::Busy`] (at once, without waiting), or
    /// [`PasswordError::Internal`].
    #[tracing::instrument(name = "passwords.hash", skip_all)]
    pub async fn hash(&self, password: Zeroizing<String>) -> Result<(u16, String), PasswordError> {
        let inner = self.inner()?;
        let scheme = Arc::clone(&inner.current);
        let hashed = inner.pool.submit(move || scheme.hash(&password))?.await??;
        Ok((inner.current.version, hashed))
    }

    /// Verifies a password against a stored hash and the version of the scheme that made it.
    /// When that scheme is not the current one, the password is also hashed with the current
    /// scheme, in the same turn on the pool, and the new hash returned for storage.
    ///
    /// # Errors
    /// [`PasswordError::Mismatch`] for a wrong password; [`PasswordError::Disabled`],
    /// [`PasswordError::Busy`] (at once, without waiting); the others are internal
    /// ([`PasswordError::is_internal`]).
    #[tracing::instrument(name = "passwords.verify", skip_all, fields(version = version))]
    pub async fn verify(
        &self,
        version: u16,
        hashed: &str,
        password: Zeroizing<String>,
    ) -> Result<Verified, PasswordError> {
        let inner = self.inner()?;
        let scheme = inner
            .schemes
            .get(&version)
            .cloned()
            .ok_or(PasswordError::UnknownScheme { version })?;
        let upgrade_to = (version != inner.current.version).then(|| Arc::clone(&inner.current));
        let hashed = hashed.to_owned();
        inner
            .pool
            .submit(move || {
                scheme.verify(&hashed, &password)?;
                match upgrade_to {
                    None => Ok(Verified::Ok),
                    Some(current) => Ok(Verified::OkNeedsUpgrade {
                        version: current.version,
                        hashed: current.hash(&password)?,
                    }),
                }
            })?
            .await?
    }

    /// Spends on `password` what verifying it costs, then fails as a wrong password does: for
    /// a sign-in to an account that does not exist or has no password, so that neither the
    /// answer nor the time it takes tells that the account is not there.
    ///
    /// # Errors
    /// Always: [`PasswordError::Mismatch`] once the work is done; [`PasswordError::Disabled`],
    /// [`PasswordError::Busy`] as [`PasswordManager::verify`] does.
    #[tracing::instrument(name = "passwords.verify_against_nothing", skip_all)]
    pub async fn verify_against_nothing(
        &self,
        password: Zeroizing<String>,
    ) -> Result<Verified, PasswordError> {
        let inner = self.inner()?;
        let scheme = Arc::clone(&inner.current);
        inner
            .pool
            .submit(move || {
                // Every scheme verifies by hashing again and comparing: one hash is the cost.
                scheme.hash(&password)?;
                Err(PasswordError::Mismatch)
            })?
            .await?
    }

    fn inner(&self) -> Result<&Inner, PasswordError> {
        self.inner.as_deref().ok_or(PasswordError::Disabled)
    }
}

#[cfg(test)]
mod tests {
    use std::{io::Write, path::PathBuf, sync::mpsc};

    use portcullis_config::{
        Secret,
        sections::passwords::{HashingAlgorithm, HashingScheme},
    };

    use super::*;

    fn scheme(version: u16, algorithm: HashingAlgorithm) -> HashingScheme {
        HashingScheme {
            version,
            algorithm,
            // bcrypt's cheapest cost keeps tests fast; the format is the same.
            cost: (algorithm == HashingAlgorithm::Bcrypt).then_some(4),
            secret: None,
            secret_file: None,
            unicode_normalization: false,
        }
    }

    fn config(schemes: Vec<HashingScheme>) -> PasswordsConfig {
        PasswordsConfig {
            schemes,
            ..PasswordsConfig::default()
        }
    }

    fn manager(schemes: Vec<HashingScheme>) -> PasswordManager {
        PasswordManager::new(&config(schemes)).expect("valid configuration")
    }

    fn password(text: &str) -> Zeroizing<String> {
        Zeroizing::new(text.to_owned())
    }

    #[tokio::test]
    async fn a_hashed_password_verifies_with_the_current_scheme() {
        let manager = manager(vec![scheme(1, HashingAlgorithm::Argon2id)]);

        let (version, hashed) = manager.hash(password("hunter2")).await.expect("hashed");
        let verified = manager.verify(version, &hashed, password("hunter2")).await;

        assert_eq!(version, 1);
        assert!(matches!(verified, Ok(Verified::Ok)));
    }

    #[tokio::test]
    async fn the_highest_version_hashes_new_passwords_whatever_the_order_in_the_file() {
        let manager = manager(vec![
            scheme(2, HashingAlgorithm::Bcrypt),
            scheme(1, HashingAlgorithm::Argon2id),
        ]);

        let (version, hashed) = manager.hash(password("hunter2")).await.expect("hashed");

        assert_eq!(version, 2);
        assert!(hashed.starts_with("$2b$"));
    }

    #[tokio::test]
    async fn a_bcrypt_hash_of_version_1_is_upgraded_to_argon2id_of_version_2() {
        // Given a Synapse-style hash (python bcrypt) stored under version 1
        let synapse_hash = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";
        let manager = manager(vec![
            scheme(1, HashingAlgorithm::Bcrypt),
            scheme(2, HashingAlgorithm::Argon2id),
        ]);

        // When the user logs in
        let verified = manager
            .verify(1, synapse_hash, password("correct horse battery staple"))
            .await
            .expect("right password");

        // Then a version 2 argon2id hash comes back, and it verifies without upgrade
        let Verified::OkNeedsUpgrade { version, hashed } = verified else {
            panic!("expected an upgrade, got {verified:?}");
        };
        assert_eq!(version, 2);
        assert!(hashed.starts_with("$argon2id$"));
        let again = manager
            .verify(version, &hashed, password("correct horse battery staple"))
            .await;
        assert!(matches!(again, Ok(Verified::Ok)));
    }

    #[tokio::test]
    async fn a_wrong_password_is_a_mismatch_and_not_an_internal_error() {
        let manager = manager(vec![scheme(1, HashingAlgorithm::Bcrypt)]);
        let (version, hashed) = manager.hash(password("hunter2")).await.expect("hashed");

        let result = manager.verify(version, &hashed, password("hunter3")).await;

        let error = result.expect_err("wrong password");
        assert!(matches!(error, PasswordError::Mismatch));
        assert!(!error.is_internal());
    }

    #[tokio::test]
    async fn verifying_against_nothing_fails_as_a_wrong_password_does() {
        let manager = manager(vec![scheme(1, HashingAlgorithm::Bcrypt)]);

        let result = manager.verify_against_nothing(password("hunter2")).await;

        assert!(matches!(result, Err(PasswordError::Mismatch)));
        assert!(matches!(
            PasswordManager::disabled()
                .verify_against_nothing(password("hunter2"))
                .await,
            Err(PasswordError::Disabled)
        ));
    }

    #[tokio::test]
    async fn a_wrong_password_with_an_old_scheme_is_not_upgraded() {
        let synapse_hash = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";
        let manager = manager(vec![
            scheme(1, HashingAlgorithm::Bcrypt),
            scheme(2, HashingAlgorithm::Argon2id),
        ]);

        let result = manager.verify(1, synapse_hash, password("wrong")).await;

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }

    #[tokio::test]
    async fn a_hash_of_an_unconfigured_version_is_an_internal_error() {
        let manager = manager(vec![scheme(2, HashingAlgorithm::Bcrypt)]);

        let result = manager
            .verify(1, "$2b$04$whatever", password("hunter2"))
            .await;

        let error = result.expect_err("no such version");
        assert!(matches!(error, PasswordError::UnknownScheme { version: 1 }));
        assert!(error.is_internal());
    }

    #[tokio::test]
    async fn the_pepper_changes_the_hash_and_is_required_to_verify() {
        let mut peppered = scheme(1, HashingAlgorithm::Bcrypt);
        peppered.secret = Some(Secret::new("pepper"));
        let with_pepper = manager(vec![peppered]);
        let without_pepper = manager(vec![scheme(1, HashingAlgorithm::Bcrypt)]);
        let (version, hashed) = with_pepper.hash(password("hunter2")).await.expect("hashed");

        let result = without_pepper
            .verify(version, &hashed, password("hunter2"))
            .await;

        assert!(matches!(result, Err(PasswordError::Mismatch)));
        let verified = with_pepper
            .verify(version, &hashed, password("hunter2"))
            .await;
        assert!(matches!(verified, Ok(Verified::Ok)));
    }

    #[tokio::test]
    async fn a_pepper_file_is_read_byte_for_byte() {
        let mut file = tempfile::NamedTempFile::new().expect("temporary file");
        file.write_all(b"pepper\n").expect("written");
        let mut from_file = scheme(1, HashingAlgorithm::Bcrypt);
        from_file.secret_file = Some(file.path().to_owned());
        let mut inline = scheme(1, HashingAlgorithm::Bcrypt);
        inline.secret = Some(Secret::new("pepper\n"));
        let (version, hashed) = manager(vec![from_file])
            .hash(password("hunter2"))
            .await
            .expect("hashed");

        let result = manager(vec![inline])
            .verify(version, &hashed, password("hunter2"))
            .await;

        assert!(matches!(result, Ok(Verified::Ok)));
    }

    #[test]
    fn a_missing_pepper_file_is_a_configuration_error() {
        let mut missing = scheme(1, HashingAlgorithm::Argon2id);
        missing.secret_file = Some(PathBuf::from("/nonexistent/portcullis-pepper"));

        let result = PasswordManager::new(&config(vec![missing]));

        assert!(matches!(
            result,
            Err(PasswordConfigError::Pepper { version: 1, .. })
        ));
    }

    #[test]
    fn two_schemes_with_the_same_version_are_a_configuration_error() {
        let schemes = vec![
            scheme(1, HashingAlgorithm::Argon2id),
            scheme(1, HashingAlgorithm::Bcrypt),
        ];

        let result = PasswordManager::new(&config(schemes));

        assert!(matches!(
            result,
            Err(PasswordConfigError::DuplicateVersion { version: 1 })
        ));
    }

    #[test]
    fn an_out_of_range_bcrypt_cost_is_a_configuration_error() {
        let mut expensive = scheme(1, HashingAlgorithm::Bcrypt);
        expensive.cost = Some(40);

        let result = PasswordManager::new(&config(vec![expensive]));

        assert!(matches!(
            result,
            Err(PasswordConfigError::BcryptCost {
                version: 1,
                cost: 40
            })
        ));
    }

    #[test]
    fn enabled_passwords_without_a_scheme_are_a_configuration_error() {
        let result = PasswordManager::new(&config(vec![]));

        assert!(matches!(result, Err(PasswordConfigError::NoScheme)));
    }

    #[tokio::test]
    async fn disabled_passwords_refuse_to_hash() {
        let disabled = PasswordsConfig {
            enabled: false,
            ..PasswordsConfig::default()
        };
        let manager = PasswordManager::new(&disabled).expect("valid configuration");

        let result = manager.hash(password("hunter2")).await;

        assert!(!manager.is_enabled());
        assert!(matches!(result, Err(PasswordError::Disabled)));
    }

    #[tokio::test]
    async fn disabled_passwords_refuse_to_verify() {
        let manager = PasswordManager::disabled();
        let python_bcrypt = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";

        let result = manager
            .verify(1, python_bcrypt, password("correct horse battery staple"))
            .await;

        assert!(matches!(result, Err(PasswordError::Disabled)));
    }

    /// Occupies the manager's only worker until the returned sender is used or dropped.
    fn occupy_the_pool(
        manager: &PasswordManager,
    ) -> (mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, wait) = mpsc::channel::<()>();
        let pool = &manager.inner().expect("enabled").pool;
        let job = pool
            .submit(move || {
                let _ = wait.recv();
            })
            .expect("the pool is idle");
        let running = tokio::spawn(async move {
            job.await.expect("the job ran");
        });
        (release, running)
    }

    fn single_worker_without_queue() -> PasswordManager {
        let limits = PoolLimits {
            workers: 1,
            waiting: Waiting::Jobs(0),
        };
        PasswordManager::with_limits(&config(vec![scheme(1, HashingAlgorithm::Bcrypt)]), limits)
            .expect("valid configuration")
    }

    #[tokio::test]
    async fn hashing_is_refused_at_once_when_the_pool_and_its_queue_are_full() {
        let manager = single_worker_without_queue();
        let (release, running) = occupy_the_pool(&manager);

        let result = manager.hash(password("hunter2")).await;

        assert!(matches!(result, Err(PasswordError::Busy)));
        assert!(!result.expect_err("busy").is_internal());
        drop(release);
        running.await.expect("no panic");
    }

    #[tokio::test]
    async fn verification_is_refused_at_once_when_the_pool_and_its_queue_are_full() {
        let manager = single_worker_without_queue();
        let python_bcrypt = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";
        let (release, running) = occupy_the_pool(&manager);

        let result = manager
            .verify(1, python_bcrypt, password("correct horse battery staple"))
            .await;

        assert!(matches!(result, Err(PasswordError::Busy)));
        drop(release);
        running.await.expect("no panic");
    }

    #[tokio::test]
    async fn the_manager_says_whether_its_pool_has_room() {
        let manager = single_worker_without_queue();
        assert!(manager.has_room());
        let (release, running) = occupy_the_pool(&manager);

        assert!(!manager.has_room());

        drop(release);
        running.await.expect("no panic");
        assert!(manager.has_room());
        assert!(!PasswordManager::disabled().has_room());
    }

    #[tokio::test]
    async fn hashing_works_again_once_the_pool_has_room() {
        let manager = single_worker_without_queue();
        let (release, running) = occupy_the_pool(&manager);
        drop(release);
        running.await.expect("no panic");

        let result = manager.hash(password("hunter2")).await;

        assert!(result.is_ok());
    }

    #[tokio::test]
    async fn timing_one_hash_at_start_tells_the_pool_how_long_a_hash_takes() {
        let manager = PasswordManager::with_limits(
            &config(vec![scheme(1, HashingAlgorithm::Bcrypt)]),
            PoolLimits {
                workers: 1,
                waiting: Waiting::Time(std::time::Duration::from_secs(60)),
            },
        )
        .expect("valid configuration");
        let pool = &manager.inner().expect("enabled").pool;
        let assumed = format!("{pool:?}");

        manager.time_one_hash();
        // The job runs on the hashing thread; its place is given back when it is done.
        while format!("{pool:?}").contains("taken: 1") {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }

        assert_ne!(
            format!("{pool:?}"),
            assumed,
            "the places follow the time measured"
        );
    }

    #[test]
    fn a_verified_upgrade_does_not_show_the_hash_in_debug_output() {
        let verified = Verified::OkNeedsUpgrade {
            version: 2,
            hashed: "$argon2id$secret-looking".to_owned(),
        };

        let shown = format!("{verified:?}");

        assert!(!shown.contains("argon2id"));
    }
}
