//! Per-address and per-account rate limits for guessable inputs.
//!
//! A user code is short (8 characters from a 28-letter alphabet: about 2^38 codes, a handful
//! valid at a time), so wrong guesses must be limited per address or a script could find a
//! pending code and approve a stranger's device for itself. The limit is generous for people
//! who mistype and tight for a script.
//!
//! Passwords are limited twice, as in MAS (`rate_limiting.login`): per client address, against
//! one machine trying many accounts, and per account, against many machines trying one
//! account. Every attempt counts, right or wrong.
//!
//! Registrations are limited per address (`rate_limiting.registration`, 3 an hour by default
//! as in MAS): each attempt that gets as far as looking up the username, the registration
//! token or creating the account counts, so nobody can script accounts, probe which names
//! are taken, or guess tokens quickly.
//!
//! # Where the buckets live
//!
//! One process (SQLite): in its memory. A key (an address, an account) is kept only while its
//! bucket is not full again: [`Limiters::prune`], which the server runs every minute, forgets
//! the others, so the memory they take is bounded by the attempts of the last few minutes
//! rather than by every address ever seen.
//!
//! Several processes on one PostgreSQL database ([`Limiters::shared`]): in the database, so that
//! two processes allow exactly what one would (MAS counts per process). Each bucket is one row
//! holding the instant it would be empty again (the generic cell rate algorithm, [`gcra`]),
//! moved by one statement outside any transaction that counts the attempt only if it fits:
//! attempts on one bucket, from any process, take turns on its row for that statement alone.
//! An attempt costs one database round trip per bucket, on the sign-in, registration,
//! recovery and email-code paths only (never introspection), and leaves introspection's cache
//! valid. When the database cannot say, the attempt is refused.

use std::{
    hash::Hash,
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, TimeDelta, Utc};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, QuantaClock, QuantaInstant},
    middleware::NoOpMiddleware,
    nanos::Nanos,
    state::keyed::DashMapStateStore,
};
use portcullis_config::sections::rate_limiting::{
    AccountRecoveryRateLimits, EmailAuthenticationRateLimits, LoginRateLimits, RateLimiterConfig,
    RateLimitingConfig,
};
use portcullis_storage::{RepositoryFactory, StorageError};
use ulid::Ulid;

/// User codes allowed per address: a burst of 10, then one every 6 seconds.
const USER_CODE_BURST: u32 = 10;
const USER_CODE_PERIOD: Duration = Duration::from_secs(6);

/// The monotonic clock of the in-memory limiters, which tests can move forward.
#[derive(Debug, Clone, Default)]
pub struct LimiterClock {
    base: QuantaClock,
    ahead: Arc<AtomicU64>,
}

impl LimiterClock {
    /// Moves this clock, and every limiter that reads it, `by` forward.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.ahead.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Clock for LimiterClock {
    type Instant = QuantaInstant;

    fn now(&self) -> QuantaInstant {
        self.base.now() + Nanos::from(self.ahead.load(Ordering::Relaxed))
    }
}

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, LimiterClock, NoOpMiddleware<QuantaInstant>>;

/// A token bucket: `burst` attempts at once, then one more every `period`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    burst: NonZeroU32,
    period: Duration,
}

impl Bucket {
    /// The bucket of a configured limit. The configuration check refuses rates that are not
    /// positive and finite; should one get through anyway, one attempt a day is the safe
    /// reading.
    fn from_config(config: &RateLimiterConfig) -> Self {
        let period = Duration::try_from_secs_f64(1.0 / config.per_second)
            .ok()
            .filter(|period| !period.is_zero())
            .unwrap_or(Duration::from_secs(86_400));
        Self {
            burst: config.burst,
            period,
        }
    }

    fn quota(self) -> Quota {
        Quota::with_period(self.period)
            .expect("the period is not zero")
            .allow_burst(self.burst)
    }
}

/// One limit: its name (the label of its refusals, and its buckets' name in the database),
/// its bucket, and its keys' buckets in this process's memory.
struct Limit<K: Hash + Eq + Clone> {
    name: &'static str,
    bucket: Bucket,
    local: Keyed<K>,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(name: &'static str, bucket: Bucket, clock: &LimiterClock) -> Arc<Self> {
        Arc::new(Self {
            name,
            bucket,
            local: RateLimiter::dashmap_with_clock(bucket.quota(), clock.clone()),
        })
    }

    /// Forgets the keys whose bucket is full again; the keys left.
    fn prune(&self) -> usize {
        self.local.retain_recent();
        self.local.shrink_to_fit();
        self.local.len()
    }
}

/// Attempts refused by a rate limit, by limit (`password_per_ip`, `registration_per_ip`...).
static REFUSALS: std::sync::LazyLock<opentelemetry::metrics::Counter<u64>> =
    std::sync::LazyLock::new(|| {
        opentelemetry::global::meter("portcullis")
            .u64_counter("portcullis.rate_limit.refused")
            .with_description("Attempts refused by a rate limit, by limit")
            .build()
    });

/// The limiters, shared by every request of a process.
#[derive(Clone)]
pub struct Limiters {
    clock: LimiterClock,
    shared: Option<SharedBuckets>,
    user_code_guesses: Arc<Limit<IpAddr>>,
    password_per_ip: Arc<Limit<IpAddr>>,
    password_per_account: Arc<Limit<Ulid>>,
    registration_per_ip: Arc<Limit<IpAddr>>,
    email_per_ip: Arc<Limit<IpAddr>>,
    email_per_address: Arc<Limit<String>>,
    email_per_session: Arc<Limit<Ulid>>,
    recovery_per_ip: Arc<Limit<IpAddr>>,
    recovery_per_address: Arc<Limit<String>>,
    second_factor_per_account: Arc<Limit<Ulid>>,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Limiters {
    fn default() -> Self {
        Self::new(
            &LoginRateLimits::default(),
            &RateLimitingConfig::default().registration,
        )
    }
}

impl Limiters {
    /// Limiters whose password limits are `login` and registration limit `registration`.
    #[must_use]
    pub fn new(login: &LoginRateLimits, registration: &RateLimiterConfig) -> Self {
        Self::with_clock(login, registration, LimiterClock::default())
    }

    /// [`Limiters::new`] on `clock`.
    #[must_use]
    pub fn with_clock(
        login: &LoginRateLimits,
        registration: &RateLimiterConfig,
        clock: LimiterClock,
    ) -> Self {
        let email = EmailAuthenticationRateLimits::default();
        let recovery = AccountRecoveryRateLimits::default();
        let user_code = Bucket {
            burst: NonZeroU32::new(USER_CODE_BURST).expect("the burst is a non-zero constant"),
            period: USER_CODE_PERIOD,
        };
        let c = &clock;
        let from = Bucket::from_config;
        Self {
            user_code_guesses: Limit::new("user_code_guesses", user_code, c),
            password_per_ip: Limit::new("password_per_ip", from(&login.per_ip), c),
            password_per_account: Limit::new("password_per_account", from(&login.per_account), c),
            registration_per_ip: Limit::new("registration_per_ip", from(registration), c),
            email_per_ip: Limit::new("email_per_ip", from(&email.per_ip), c),
            email_per_address: Limit::new("email_per_address", from(&email.per_address), c),
            email_per_session: Limit::new("email_per_session", from(&email.emails_per_session), c),
            recovery_per_ip: Limit::new("recovery_per_ip", from(&recovery.per_ip), c),
            recovery_per_address: Limit::new(
                "recovery_per_address",
                from(&recovery.per_address),
                c,
            ),
            second_factor_per_account: Limit::new(
                "second_factor_per_account",
                from(&RateLimitingConfig::default().second_factor),
                c,
            ),
            shared: None,
            clock,
        }
    }

    /// These limiters with their buckets in the database behind `repositories`, on the
    /// instants of `clock`: for several processes sharing one PostgreSQL database.
    #[must_use]
    pub fn shared(
        mut self,
        repositories: Arc<dyn RepositoryFactory>,
        clock: Arc<dyn portcullis_model::Clock>,
    ) -> Self {
        self.shared = Some(SharedBuckets {
            repositories,
            clock,
        });
        self
    }

    /// Forgets every key whose bucket is full again (an address or an account that has not
    /// tried anything for long enough is indistinguishable from one never seen); returns how
    /// many keys are left in this process's memory, in all limiters. The database's buckets
    /// are pruned by [`Limiters::prune_shared`].
    pub fn prune(&self) -> usize {
        self.user_code_guesses.prune()
            + self.password_per_ip.prune()
            + self.password_per_account.prune()
            + self.registration_per_ip.prune()
            + self.email_per_ip.prune()
            + self.email_per_address.prune()
            + self.email_per_session.prune()
            + self.recovery_per_ip.prune()
            + self.recovery_per_address.prune()
            + self.second_factor_per_account.prune()
    }

    /// Deletes the database's buckets that are full again; how many. Nothing without
    /// [`Limiters::shared`].
    ///
    /// # Errors
    /// When storage fails.
    pub async fn prune_shared(&self) -> Result<u64, StorageError> {
        let Some(shared) = &self.shared else {
            return Ok(0);
        };
        let mut repository = shared.repositories.transaction().await?;
        let deleted = repository
            .rate_limits()
            .delete_full_buckets(shared.clock.now())
            .await?;
        repository.commit().await?;
        Ok(deleted)
    }

    /// These limiters with the verification email limits `email`
    /// (`rate_limiting.email_authentication`).
    #[must_use]
    pub fn with_email(mut self, email: &EmailAuthenticationRateLimits) -> Self {
        let c = &self.clock;
        let from = Bucket::from_config;
        self.email_per_ip = Limit::new("email_per_ip", from(&email.per_ip), c);
        self.email_per_address = Limit::new("email_per_address", from(&email.per_address), c);
        self.email_per_session =
            Limit::new("email_per_session", from(&email.emails_per_session), c);
        self
    }

    /// These limiters with the password recovery limits `recovery`
    /// (`rate_limiting.account_recovery`).
    #[must_use]
    pub fn with_recovery(mut self, recovery: &AccountRecoveryRateLimits) -> Self {
        let c = &self.clock;
        let from = Bucket::from_config;
        self.recovery_per_ip = Limit::new("recovery_per_ip", from(&recovery.per_ip), c);
        self.recovery_per_address =
            Limit::new("recovery_per_address", from(&recovery.per_address), c);
        self
    }

    /// These limiters with the second-factor limit `second_factor`
    /// (`rate_limiting.second_factor`).
    #[must_use]
    pub fn with_second_factor(mut self, second_factor: &RateLimiterConfig) -> Self {
        self.second_factor_per_account = Limit::new(
            "second_factor_per_account",
            Bucket::from_config(second_factor),
            &self.clock,
        );
        self
    }

    /// Counts one attempt of `key` against `limit`; `Err(wait)` when it is over.
    async fn take<K>(&self, limit: &Limit<K>, key: &K) -> Result<(), Duration>
    where
        K: Hash + Eq + Clone + std::fmt::Display,
    {
        let outcome = match &self.shared {
            Some(shared) => {
                shared
                    .take(limit.name, &key.to_string(), limit.bucket)
                    .await
            }
            None => limit
                .local
                .check_key(key)
                .map_err(|not_until| not_until.wait_time_from(self.clock.now())),
        };
        if outcome.is_err() {
            REFUSALS.add(1, &[opentelemetry::KeyValue::new("limit", limit.name)]);
        }
        outcome
    }

    /// Counts one password recovery request from `ip` for `address`; `Err(wait)` once either
    /// is over its limit. Addresses are compared lowercase.
    pub async fn recovery_request(
        &self,
        ip: Option<IpAddr>,
        address: &str,
    ) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.take(&self.recovery_per_ip, &key).await?;
        self.take(&self.recovery_per_address, &address.to_lowercase())
            .await
    }

    /// Counts one verification email sent from `ip` to `address` for the verification
    /// `session` (a registration, or an address being added); `Err(wait)` once any of the
    /// three is over its limit. Addresses are compared lowercase.
    pub async fn email_send(
        &self,
        ip: Option<IpAddr>,
        address: &str,
        session: Ulid,
    ) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.take(&self.email_per_ip, &key).await?;
        self.take(&self.email_per_address, &address.to_lowercase())
            .await?;
        self.take(&self.email_per_session, &session).await
    }

    /// Counts one user code typed from `ip`; `Err(wait)` once the address is over its limit.
    /// Every attempt counts, right or wrong, so an address over its limit cannot try one more
    /// guess. Requests without an address (a unix socket without PROXY header) share a bucket.
    pub async fn user_code_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.take(&self.user_code_guesses, &key).await
    }

    /// Counts one password attempt from `ip` on the account `user_id` (when the account
    /// exists); `Err(wait)` once either is over its limit.
    ///
    /// A request without an address (a unix socket without PROXY header) is limited per
    /// account only, as in MAS: one bucket for every such client would let one of them lock
    /// all the others out.
    pub async fn password_attempt(
        &self,
        ip: Option<IpAddr>,
        user_id: Option<Ulid>,
    ) -> Result<(), Duration> {
        if let Some(ip) = ip {
            self.take(&self.password_per_ip, &ip).await?;
        }
        if let Some(user_id) = user_id {
            self.take(&self.password_per_account, &user_id).await?;
        }
        Ok(())
    }

    /// Counts one second-factor code (of an authenticator app, or a recovery code) typed for
    /// the account `user_id`, right or wrong; `Err(wait)` once the account is over its limit.
    /// Per account only: whoever types it has given the account's password already.
    pub async fn second_factor_attempt(&self, user_id: Ulid) -> Result<(), Duration> {
        self.take(&self.second_factor_per_account, &user_id).await
    }

    /// Counts one registration attempt from `ip`; `Err(wait)` once the address is over its
    /// limit. Requests without an address (a unix socket without PROXY header) share one
    /// bucket, as in MAS: there is no account yet to limit instead, and creating accounts
    /// without bound is what the limit is for.
    pub async fn registration_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.take(&self.registration_per_ip, &key).await
    }
}

/// The buckets in the database ([`Limiters::shared`]).
#[derive(Clone)]
struct SharedBuckets {
    repositories: Arc<dyn RepositoryFactory>,
    clock: Arc<dyn portcullis_model::Clock>,
}

impl SharedBuckets {
    /// Counts one attempt of `key` against the limit `limiter`. Fails closed: when the
    /// database cannot say, the attempt is refused for one period.
    async fn take(&self, limiter: &str, key: &str, bucket: Bucket) -> Result<(), Duration> {
        match self.try_take(limiter, key, bucket).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(limiter, %error, "cannot read a rate limit; the attempt is refused");
                Err(bucket.period)
            }
        }
    }

    /// One statement on PostgreSQL, outside any transaction: the bucket moves if the attempt
    /// fits ([`gcra`], computed by the database).
    async fn try_take(
        &self,
        limiter: &str,
        key: &str,
        bucket: Bucket,
    ) -> Result<Result<(), Duration>, StorageError> {
        let now = self.clock.now();
        let period = TimeDelta::from_std(bucket.period).unwrap_or(TimeDelta::days(1));
        let mut repository = self.repositories.writer().await?;
        let refused = repository
            .rate_limits()
            .take(limiter, key, now, period, bucket.burst.get())
            .await?;
        repository.commit().await?;
        Ok(match refused {
            None => Ok(()),
            Some(empty_at) => Err(gcra(Some(empty_at), now, bucket)
                .err()
                .unwrap_or(bucket.period)),
        })
    }
}

/// The generic cell rate algorithm on one bucket: `empty_at` is the instant the bucket would
/// be empty after the attempts so far (`None` or past: it is full). An attempt at `now` takes
/// one period's worth; it fits while that instant stays within `burst` periods of `now`.
/// Returns the bucket's new instant, or how long to wait.
fn gcra(
    empty_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    bucket: Bucket,
) -> Result<DateTime<Utc>, Duration> {
    let period = TimeDelta::from_std(bucket.period).unwrap_or(TimeDelta::days(1));
    let next = empty_at.map_or(now, |empty_at| empty_at.max(now)) + period;
    let limit = now + period * i32::try_from(bucket.burst.get()).unwrap_or(i32::MAX);
    if next <= limit {
        Ok(next)
    } else {
        Err((next - limit).to_std().unwrap_or(bucket.period))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_ip: u32, per_account: u32) -> LoginRateLimits {
        let bucket = |burst| RateLimiterConfig {
            burst: NonZeroU32::new(burst).expect("not zero"),
            per_second: 1.0 / 60.0,
        };
        LoginRateLimits {
            per_ip: bucket(per_ip),
            per_account: bucket(per_account),
        }
    }

    fn registrations(burst: u32) -> RateLimiterConfig {
        RateLimiterConfig {
            burst: NonZeroU32::new(burst).expect("not zero"),
            per_second: 1.0 / 3600.0,
        }
    }

    #[tokio::test]
    async fn an_address_gets_its_burst_then_waits() {
        let limiters = Limiters::new(&limits(2, 100), &registrations(3));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(limiters.password_attempt(ip, None).await.is_ok());
        assert!(limiters.password_attempt(ip, None).await.is_ok());
        let wait = limiters
            .password_attempt(ip, None)
            .await
            .expect_err("the third attempt is over the limit");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 2])), None)
                .await
                .is_ok(),
            "other addresses are not affected"
        );
    }

    #[tokio::test]
    async fn an_account_is_limited_whatever_the_address() {
        let limiters = Limiters::new(&limits(100, 1), &registrations(3));
        let user = Some(Ulid::from_parts(1, 1));
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 1])), user)
                .await
                .is_ok()
        );
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 2])), user)
                .await
                .is_err()
        );
        assert!(limiters.password_attempt(None, user).await.is_err());
    }

    #[tokio::test]
    async fn requests_without_an_address_are_limited_per_account_only() {
        let limiters = Limiters::new(&limits(1, 100), &registrations(3));
        for _ in 0..5 {
            assert!(limiters.password_attempt(None, None).await.is_ok());
        }
    }

    #[tokio::test]
    async fn registrations_are_limited_per_address() {
        let limiters = Limiters::new(&limits(100, 100), &registrations(2));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(limiters.registration_attempt(ip).await.is_ok());
        assert!(limiters.registration_attempt(ip).await.is_ok());
        let wait = limiters
            .registration_attempt(ip)
            .await
            .expect_err("the third registration is over the limit");
        assert!(wait > Duration::from_secs(1000), "{wait:?}");
        assert!(
            limiters
                .registration_attempt(Some(IpAddr::from([192, 0, 2, 2])))
                .await
                .is_ok(),
            "other addresses are not affected"
        );
        assert!(
            limiters.password_attempt(ip, None).await.is_ok(),
            "registrations do not use up sign-ins"
        );
    }

    #[tokio::test]
    async fn keys_are_forgotten_once_their_buckets_are_full_again() {
        let clock = LimiterClock::default();
        let limiters = Limiters::with_clock(&limits(2, 2), &registrations(3), clock.clone());
        let limited = Some(IpAddr::from([198, 51, 100, 1]));
        for n in 0..100_000_u32 {
            let ip = IpAddr::from(n.to_be_bytes());
            assert!(limiters.password_attempt(Some(ip), None).await.is_ok());
        }
        assert!(limiters.password_attempt(limited, None).await.is_ok());
        assert!(limiters.password_attempt(limited, None).await.is_ok());
        assert!(limiters.password_attempt(limited, None).await.is_err());
        assert_eq!(limiters.prune(), 100_001, "every key is still recent");

        // One token comes back every minute: after two, every bucket is full again but the one
        // that went over its limit a moment later... which is full too after three.
        clock.advance(Duration::from_secs(3 * 60));
        assert_eq!(limiters.prune(), 0, "every bucket is full again");
        assert!(
            limiters.password_attempt(limited, None).await.is_ok(),
            "a forgotten key starts afresh"
        );
        assert_eq!(limiters.prune(), 1);
    }

    fn bucket(burst: u32, seconds: u64) -> Bucket {
        Bucket {
            burst: NonZeroU32::new(burst).expect("not zero"),
            period: Duration::from_secs(seconds),
        }
    }

    #[test]
    fn the_cell_rate_algorithm_allows_the_burst_then_one_per_period() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let bucket = bucket(2, 60);
        let first = gcra(None, now, bucket).expect("a full bucket allows");
        let second = gcra(Some(first), now, bucket).expect("the burst allows two");
        let wait = gcra(Some(second), now, bucket).expect_err("not three");
        assert_eq!(wait, Duration::from_secs(60));
        let later = now + TimeDelta::seconds(60);
        assert!(
            gcra(Some(second), later, bucket).is_ok(),
            "one more a period later"
        );
        // A bucket whose instant has passed is full again.
        let much_later = now + TimeDelta::hours(1);
        assert_eq!(
            gcra(Some(second), much_later, bucket),
            Ok(much_later + TimeDelta::seconds(60))
        );
    }
}
