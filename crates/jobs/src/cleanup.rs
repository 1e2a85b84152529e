//! Housekeeping: deletes what can no longer be used and has been kept long enough to explain
//! recent events, so that the database does not grow with every sign-up and recovery.
//!
//! Runs once an hour on every worker (deleting twice is harmless). What is deleted, and after
//! how long — MAS's retention for the same data:
//!
//! | rows | deleted when |
//! | --- | --- |
//! | password recovery tickets | expired more than 7 days ago, used or not |
//! | email verification codes (and the unfinished registrations waiting on them) | expired more than 7 days ago |
//! | upstream sign-in attempts that signed nobody in | started more than 7 days ago |
//! | login tokens issued for bots | expired more than 7 days ago, redeemed or not |
//! | versions of the dynamic policy data | replaced more than 7 days ago (the latest is kept) |

use async_trait::async_trait;
use chrono::TimeDelta;
use portcullis_worker::{JobError, PeriodicTask};

use crate::JobContext;

/// How often the worker runs the cleanup.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// How long expired rows are kept.
pub const KEPT_AFTER_EXPIRY: TimeDelta = TimeDelta::days(7);

/// How many rows one run deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deleted {
    /// Password recovery tickets.
    pub recovery_tickets: u64,
    /// Email verification codes.
    pub email_authentications: u64,
    /// Upstream sign-in attempts that signed nobody in.
    pub upstream_authorization_sessions: u64,
    /// Login tokens issued for bots.
    pub login_tokens: u64,
    /// Replaced versions of the dynamic policy data.
    pub policy_data: u64,
}

/// The periodic task.
pub struct Cleanup(pub JobContext);

impl Cleanup {
    /// Deletes, in one transaction, every row the table in the module documentation names.
    ///
    /// # Errors
    /// When storage fails: nothing is deleted then.
    pub async fn run_once(&self) -> Result<Deleted, JobError> {
        let before = self.0.clock.now() - KEPT_AFTER_EXPIRY;
        let mut repository = self.0.repositories.transaction().await?;
        let deleted = Deleted {
            recovery_tickets: repository
                .user_recovery_tickets()
                .delete_expired_before(before)
                .await?,
            email_authentications: repository
                .user_email_authentications()
                .delete_expired_before(before)
                .await?,
            upstream_authorization_sessions: repository
                .upstream_authorization_sessions()
                .delete_unused_before(before)
                .await?,
            login_tokens: repository
                .compat_login_tokens()
                .delete_expired_before(before)
                .await?,
            policy_data: repository
                .policy_data()
                .delete_replaced_before(before)
                .await?,
        };
        repository.commit().await?;
        Ok(deleted)
    }
}

#[async_trait]
impl PeriodicTask for Cleanup {
    async fn run(&self) -> Result<(), JobError> {
        let deleted = self.run_once().await?;
        if deleted != Deleted::default() {
            tracing::info!(
                recovery_tickets = deleted.recovery_tickets,
                email_authentications = deleted.email_authentications,
                upstream_authorization_sessions = deleted.upstream_authorization_sessions,
                login_tokens = deleted.login_tokens,
                policy_data = deleted.policy_data,
                "deleted expired rows"
            );
        }
        Ok(())
    }
}
