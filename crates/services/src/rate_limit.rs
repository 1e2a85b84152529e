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
//! The limits live in each process's memory, as MAS's do. A key (an address, an account) is
//! kept only while its bucket is not full again: [`Limiters::prune`], which the server runs
//! every minute, forgets the others, so the memory they take is bounded by the attempts of the
//! last few minutes rather than by every address ever seen.

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
use ulid::Ulid;

/// User codes allowed per address: a burst of 10, then one every 6 seconds.
const USER_CODE_BURST: u32 = 10;
const USER_CODE_PERIOD: Duration = Duration::from_secs(6);

/// The monotonic clock of the limiters, which tests can move forward.
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

/// A limiter per key, on `clock`.
fn keyed<K: Hash + Eq + Clone>(quota: Quota, clock: &LimiterClock) -> Arc<Keyed<K>> {
    Arc::new(RateLimiter::dashmap_with_clock(quota, clock.clone()))
}

/// Forgets the keys of `limiter` whose bucket is full again; the keys left.
fn prune<K: Hash + Eq + Clone>(limiter: &Keyed<K>) -> usize {
    limiter.retain_recent();
    limiter.shrink_to_fit();
    limiter.len()
}

/// The limiters, shared by every request of a process.
#[derive(Clone)]
pub struct Limiters {
    clock: LimiterClock,
    user_code_guesses: Arc<Keyed<IpAddr>>,
    password_per_ip: Arc<Keyed<IpAddr>>,
    password_per_account: Arc<Keyed<Ulid>>,
    registration_per_ip: Arc<Keyed<IpAddr>>,
    email_per_ip: Arc<Keyed<IpAddr>>,
    email_per_address: Arc<Keyed<String>>,
    email_per_session: Arc<Keyed<Ulid>>,
    recovery_per_ip: Arc<Keyed<IpAddr>>,
    recovery_per_address: Arc<Keyed<String>>,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
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

/// The quota of a configured token bucket: `burst` at once, one more every `1 / per_second`
/// seconds.
fn quota(config: &RateLimiterConfig) -> Quota {
    // The configuration check refuses rates that are not positive and finite; should one get
    // through anyway, one attempt a day is the safe reading.
    let period = Duration::try_from_secs_f64(1.0 / config.per_second)
        .ok()
        .filter(|period| !period.is_zero())
        .unwrap_or(Duration::from_secs(86_400));
    Quota::with_period(period)
        .expect("the period is not zero")
        .allow_burst(config.burst)
}

/// Attempts refused by a rate limit, by limit (`password_per_ip`, `registration_per_ip`...).
static REFUSALS: std::sync::LazyLock<opentelemetry::metrics::Counter<u64>> =
    std::sync::LazyLock::new(|| {
        opentelemetry::global::meter("portcullis")
            .u64_counter("portcullis.rate_limit.refused")
            .with_description("Attempts refused by a rate limit, by limit")
            .build()
    });

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
        let email_defaults = EmailAuthenticationRateLimits::default();
        let recovery_defaults = AccountRecoveryRateLimits::default();
        let burst = NonZeroU32::new(USER_CODE_BURST).expect("the burst is a non-zero constant");
        let user_code = Quota::with_period(USER_CODE_PERIOD)
            .expect("the period is a non-zero constant")
            .allow_burst(burst);
        let c = &clock;
        Self {
            user_code_guesses: keyed(user_code, c),
            password_per_ip: keyed(quota(&login.per_ip), c),
            password_per_account: keyed(quota(&login.per_account), c),
            registration_per_ip: keyed(quota(registration), c),
            email_per_ip: keyed(quota(&email_defaults.per_ip), c),
            email_per_address: keyed(quota(&email_defaults.per_address), c),
            email_per_session: keyed(quota(&email_defaults.emails_per_session), c),
            recovery_per_ip: keyed(quota(&recovery_defaults.per_ip), c),
            recovery_per_address: keyed(quota(&recovery_defaults.per_address), c),
            clock,
        }
    }

    /// Forgets every key whose bucket is full again (an address or an account that has not
    /// tried anything for long enough is indistinguishable from one never seen); returns how
    /// many keys are left, in all limiters.
    pub fn prune(&self) -> usize {
        prune(&self.user_code_guesses)
            + prune(&self.password_per_ip)
            + prune(&self.password_per_account)
            + prune(&self.registration_per_ip)
            + prune(&self.email_per_ip)
            + prune(&self.email_per_address)
            + prune(&self.email_per_session)
            + prune(&self.recovery_per_ip)
            + prune(&self.recovery_per_address)
    }

    /// How long until the limiter lets the next attempt through.
    fn wait_time(&self, not_until: &governor::NotUntil<QuantaInstant>) -> Duration {
        not_until.wait_time_from(self.clock.now())
    }

    /// Counts a refusal by the limiter named `limit`, and tells how long to wait.
    fn refused(
        &self,
        limit: &'static str,
        not_until: &governor::NotUntil<QuantaInstant>,
    ) -> Duration {
        REFUSALS.add(1, &[opentelemetry::KeyValue::new("limit", limit)]);
        self.wait_time(not_until)
    }

    /// These limiters with the verification email limits `email`
    /// (`rate_limiting.email_authentication`).
    #[must_use]
    pub fn with_email(mut self, email: &EmailAuthenticationRateLimits) -> Self {
        self.email_per_ip = keyed(quota(&email.per_ip), &self.clock);
        self.email_per_address = keyed(quota(&email.per_address), &self.clock);
        self.email_per_session = keyed(quota(&email.emails_per_session), &self.clock);
        self
    }

    /// These limiters with the password recovery limits `recovery`
    /// (`rate_limiting.account_recovery`).
    #[must_use]
    pub fn with_recovery(mut self, recovery: &AccountRecoveryRateLimits) -> Self {
        self.recovery_per_ip = keyed(quota(&recovery.per_ip), &self.clock);
        self.recovery_per_address = keyed(quota(&recovery.per_address), &self.clock);
        self
    }

    /// Counts one password recovery request from `ip` for `address`; `Err(wait)` once either
    /// is over its limit. Addresses are compared lowercase.
    pub fn recovery_request(&self, ip: Option<IpAddr>, address: &str) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.recovery_per_ip
            .check_key(&key)
            .map_err(|not_until| self.refused("recovery_per_ip", &not_until))?;
        self.recovery_per_address
            .check_key(&address.to_lowercase())
            .map_err(|not_until| self.refused("recovery_per_address", &not_until))
    }

    /// Counts one verification email sent from `ip` to `address` for the verification
    /// `session` (a registration, or an address being added); `Err(wait)` once any of the
    /// three is over its limit. Addresses are compared lowercase.
    pub fn email_send(
        &self,
        ip: Option<IpAddr>,
        address: &str,
        session: Ulid,
    ) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.email_per_ip
            .check_key(&key)
            .map_err(|not_until| self.refused("email_per_ip", &not_until))?;
        self.email_per_address
            .check_key(&address.to_lowercase())
            .map_err(|not_until| self.refused("email_per_address", &not_until))?;
        self.email_per_session
            .check_key(&session)
            .map_err(|not_until| self.refused("email_per_session", &not_until))
    }

    /// Counts one user code typed from `ip`; `Err(wait)` once the address is over its limit.
    /// Every attempt counts, right or wrong, so an address over its limit cannot try one more
    /// guess. Requests without an address (a unix socket without PROXY header) share a bucket.
    pub fn user_code_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.user_code_guesses
            .check_key(&key)
            .map_err(|not_until| self.refused("user_code_guesses", &not_until))
    }

    /// Counts one password attempt from `ip` on the account `user_id` (when the account
    /// exists); `Err(wait)` once either is over its limit.
    ///
    /// A request without an address (a unix socket without PROXY header) is limited per
    /// account only, as in MAS: one bucket for every such client would let one of them lock
    /// all the others out.
    pub fn password_attempt(
        &self,
        ip: Option<IpAddr>,
        user_id: Option<Ulid>,
    ) -> Result<(), Duration> {
        if let Some(ip) = ip {
            self.password_per_ip
                .check_key(&ip)
                .map_err(|not_until| self.refused("password_per_ip", &not_until))?;
        }
        if let Some(user_id) = user_id {
            self.password_per_account
                .check_key(&user_id)
                .map_err(|not_until| self.refused("password_per_account", &not_until))?;
        }
        Ok(())
    }

    /// Counts one registration attempt from `ip`; `Err(wait)` once the address is over its
    /// limit. Requests without an address (a unix socket without PROXY header) share one
    /// bucket, as in MAS: there is no account yet to limit instead, and creating accounts
    /// without bound is what the limit is for.
    pub fn registration_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.registration_per_ip
            .check_key(&key)
            .map_err(|not_until| self.refused("registration_per_ip", &not_until))
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

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let limiters = Limiters::new(&limits(2, 100), &registrations(3));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(limiters.password_attempt(ip, None).is_ok());
        assert!(limiters.password_attempt(ip, None).is_ok());
        let wait = limiters
            .password_attempt(ip, None)
            .expect_err("the third attempt is over the limit");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 2])), None)
                .is_ok(),
            "other addresses are not affected"
        );
    }

    #[test]
    fn an_account_is_limited_whatever_the_address() {
        let limiters = Limiters::new(&limits(100, 1), &registrations(3));
        let user = Some(Ulid::from_parts(1, 1));
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 1])), user)
                .is_ok()
        );
        assert!(
            limiters
                .password_attempt(Some(IpAddr::from([192, 0, 2, 2])), user)
                .is_err()
        );
        assert!(limiters.password_attempt(None, user).is_err());
    }

    #[test]
    fn requests_without_an_address_are_limited_per_account_only() {
        let limiters = Limiters::new(&limits(1, 100), &registrations(3));
        for _ in 0..5 {
            assert!(limiters.password_attempt(None, None).is_ok());
        }
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let limiters = Limiters::new(&limits(100, 100), &registrations(2));
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        assert!(limiters.registration_attempt(ip).is_ok());
        assert!(limiters.registration_attempt(ip).is_ok());
        let wait = limiters
            .registration_attempt(ip)
            .expect_err("the third registration is over the limit");
        assert!(wait > Duration::from_secs(1000), "{wait:?}");
        assert!(
            limiters
                .registration_attempt(Some(IpAddr::from([192, 0, 2, 2])))
                .is_ok(),
            "other addresses are not affected"
        );
        assert!(
            limiters.password_attempt(ip, None).is_ok(),
            "registrations do not use up sign-ins"
        );
    }

    #[test]
    fn keys_are_forgotten_once_their_buckets_are_full_again() {
        let clock = LimiterClock::default();
        let limiters = Limiters::with_clock(&limits(2, 2), &registrations(3), clock.clone());
        let limited = Some(IpAddr::from([198, 51, 100, 1]));
        for n in 0..100_000_u32 {
            let ip = IpAddr::from(n.to_be_bytes());
            assert!(limiters.password_attempt(Some(ip), None).is_ok());
        }
        assert!(limiters.password_attempt(limited, None).is_ok());
        assert!(limiters.password_attempt(limited, None).is_ok());
        assert!(limiters.password_attempt(limited, None).is_err());
        assert_eq!(limiters.prune(), 100_001, "every key is still recent");

        // One token comes back every minute: after two, every bucket is full again but the one
        // that went over its limit a moment later... which is full too after three.
        clock.advance(Duration::from_secs(3 * 60));
        assert_eq!(limiters.prune(), 0, "every bucket is full again");
        assert!(
            limiters.password_attempt(limited, None).is_ok(),
            "a forgotten key starts afresh"
        );
        assert_eq!(limiters.prune(), 1);
    }
}
