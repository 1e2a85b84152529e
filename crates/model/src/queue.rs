//! Background jobs and the rule that decides what happens when one fails.

use std::{fmt, str::FromStr};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use ulid::Ulid;

/// How many times a job is attempted, unless scheduled otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

/// The delay before the first retry; each further retry waits twice as long as the one before.
pub const RETRY_BASE_DELAY: TimeDelta = TimeDelta::seconds(5);

/// The longest delay between two attempts, however many attempts were made: past it, doubling
/// only postpones work without easing the load.
pub const RETRY_MAX_DELAY: TimeDelta = TimeDelta::hours(1);

/// Where a job is in its life.
///
/// ```text
/// Available ──claim──▶ Running ──complete──▶ Completed
///     ▲                  │ │
///     └──fail (retry)────┘ └──fail (no attempts left)──▶ Failed
/// ```
///
/// A `Running` job whose lease has expired (its worker died) can be claimed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for its `run_at` instant and a worker.
    Available,
    /// Claimed by a worker, until its lease ends.
    Running,
    /// Done.
    Completed,
    /// Given up after its last allowed attempt failed.
    Failed,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 4] = [
        Self::Available,
        Self::Running,
        Self::Completed,
        Self::Failed,
    ];

    /// The lowercase name, as stored.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job status name that is not one of [`JobStatus`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job status {0:?} (expected available, running, completed or failed)")]
pub struct UnknownJobStatus(pub String);

impl FromStr for JobStatus {
    type Err = UnknownJobStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownJobStatus(s.to_owned()))
    }
}

/// A unit of background work (an email to send, a device to provision...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Job {
    /// Internal identifier.
    pub id: Ulid,
    /// What to do, e.g. `provision-user`; the worker dispatches on it.
    pub kind: String,
    /// The job's arguments.
    pub payload: serde_json::Value,
    /// Where the job is in its life.
    pub status: JobStatus,
    /// How many times a worker has started it (a claim counts as an attempt).
    pub attempts: u32,
    /// After this many failed attempts, the job is given up.
    pub max_attempts: u32,
    /// The earliest instant a worker may start it.
    pub run_at: DateTime<Utc>,
    /// The worker that holds it, while running.
    pub locked_by: Option<String>,
    /// When the running worker's lease ends; past it, another worker may take the job over.
    pub locked_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the job was scheduled.
    pub created_at: DateTime<Utc>,
    /// When it completed or was given up.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    /// What happens if the current attempt fails at `now`; see [`after_failure`].
    #[must_use]
    pub fn outcome_of_failure(&self, now: DateTime<Utc>) -> FailureOutcome {
        after_failure(self.attempts, self.max_attempts, now)
    }
}

/// What to do with a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Make it available again from this instant.
    RetryAt(DateTime<Utc>),
    /// No attempts left: mark it failed.
    GiveUp,
}

/// The wait before the next attempt, once `attempts` attempts have failed:
/// 5 s · 2^(attempts − 1), i.e. 5 s, 10 s, 20 s..., never more than [`RETRY_MAX_DELAY`].
#[must_use]
pub fn retry_delay(attempts: u32) -> TimeDelta {
    let doublings = attempts.saturating_sub(1);
    // 2^10 × 5 s already exceeds the cap, so larger exponents need not be computed (and would
    // overflow).
    if doublings >= 10 {
        return RETRY_MAX_DELAY;
    }
    (RETRY_BASE_DELAY * 2_i32.pow(doublings)).min(RETRY_MAX_DELAY)
}

/// The retry rule: after the attempt number `attempts` failed at `now`, retry after
/// [`retry_delay`] unless `max_attempts` attempts have been made.
#[must_use]
pub fn after_failure(attempts: u32, max_attempts: u32, now: DateTime<Utc>) -> FailureOutcome {
    if attempts >= max_attempts {
        FailureOutcome::GiveUp
    } else {
        FailureOutcome::RetryAt(now + retry_delay(attempts))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn the_first_retry_waits_five_seconds() {
        assert_eq!(retry_delay(1), TimeDelta::seconds(5));
    }

    #[test]
    fn each_retry_waits_twice_as_long_as_the_previous_one() {
        assert_eq!(retry_delay(2), TimeDelta::seconds(10));
        assert_eq!(retry_delay(3), TimeDelta::seconds(20));
        assert_eq!(retry_delay(9), TimeDelta::seconds(1280));
    }

    #[test]
    fn the_retry_delay_is_capped_at_one_hour() {
        assert_eq!(retry_delay(11), RETRY_MAX_DELAY);
        assert_eq!(retry_delay(u32::MAX), RETRY_MAX_DELAY);
    }

    #[test]
    fn a_failure_with_attempts_left_is_retried_after_the_delay() {
        assert_eq!(
            after_failure(3, 10, instant()),
            FailureOutcome::RetryAt(instant() + TimeDelta::seconds(20))
        );
    }

    #[test]
    fn a_failure_of_the_last_allowed_attempt_gives_up() {
        assert_eq!(after_failure(10, 10, instant()), FailureOutcome::GiveUp);
    }

    #[test]
    fn job_status_names_round_trip() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(status));
        }
    }

    #[test]
    fn an_unknown_job_status_name_is_refused() {
        assert!("lost".parse::<JobStatus>().is_err());
    }
}
