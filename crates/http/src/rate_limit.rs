//! Per-address rate limits for guessable inputs.
//!
//! A user code is short (8 characters from a 28-letter alphabet: about 2^38 codes, a handful
//! valid at a time), so wrong guesses must be limited per address or a script could find a
//! pending code and approve a stranger's device for itself. The limit is generous for people
//! who mistype and tight for a script. It lives in each process's memory, as MAS's limits do.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// User codes allowed per address: a burst of 10, then one every 6 seconds.
const USER_CODE_BURST: u32 = 10;
const USER_CODE_PERIOD: Duration = Duration::from_secs(6);

/// The limiters, shared by every request of a process.
#[derive(Clone)]
pub struct Limiters {
    user_code_guesses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for Limiters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiters").finish_non_exhaustive()
    }
}

impl Default for Limiters {
    fn default() -> Self {
        let burst = NonZeroU32::new(USER_CODE_BURST).expect("the burst is a non-zero constant");
        let quota = Quota::with_period(USER_CODE_PERIOD)
            .expect("the period is a non-zero constant")
            .allow_burst(burst);
        Self {
            user_code_guesses: Arc::new(RateLimiter::keyed(quota)),
        }
    }
}

impl Limiters {
    /// Counts one user code typed from `ip`; `Err(wait)` once the address is over its limit.
    /// Every attempt counts, right or wrong, so an address over its limit cannot try one more
    /// guess. Requests without an address (a unix socket without PROXY header) share a bucket.
    pub fn user_code_attempt(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let key = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        self.user_code_guesses.check_key(&key).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
        })
    }
}
