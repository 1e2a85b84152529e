//! Housekeeping: deletes what can no longer be used and has been kept long enough to explain
//! recent events, so that the database does not grow with every sign-up and recovery.
//!
//! Each kind of row has its recurring job, queued by the leading worker at the slots of its
//! schedule (cron, with seconds; MAS's schedule where MAS has the job), so that each runs once
//! per deployment whatever the number of workers:
//!
//! | job | schedule | deletes |
//! | --- | --- | --- |
//! | `cleanup-user-recovery-sessions` | `0 50 * * * *` | password recovery tickets expired more than 7 days ago, used or not |
//! | `cleanup-user-email-authentications` | `0 50 * * * *` | email verification codes expired more than 7 days ago (and the unfinished registrations waiting on them) |
//! | `cleanup-upstream-oauth-sessions` | `0 40 * * * *` | upstream sign-in attempts that signed nobody in, started more than 7 days ago |
//! | `cleanup-compat-login-tokens` | `0 45 * * * *` | login tokens issued for bots, expired more than 7 days ago, redeemed or not |
//! | `cleanup-queue-jobs` | `0 55 * * * *` | jobs completed or failed more than 30 days ago, and workers stopped more than 30 days ago |
//! | `prune-stale-policy-data` | `0 0 2 * * *` | versions of the dynamic policy data replaced more than 7 days ago (the latest is kept) |

use async_trait::async_trait;
use chrono::TimeDelta;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler, Worker};

use crate::JobContext;

/// How long expired rows are kept.
pub const KEPT_AFTER_EXPIRY: TimeDelta = TimeDelta::days(7);

/// How long finished jobs and stopped workers are kept.
pub const FINISHED_JOBS_KEPT: TimeDelta = TimeDelta::days(30);

/// The recurring clean-up jobs and their schedules.
pub const SCHEDULES: &[(&str, &str)] = &[
    (RECOVERY_TICKETS, "0 50 * * * *"),
    (EMAIL_AUTHENTICATIONS, "0 50 * * * *"),
    (UPSTREAM_SESSIONS, "0 40 * * * *"),
    (LOGIN_TOKENS, "0 45 * * * *"),
    (QUEUE_JOBS, "0 55 * * * *"),
    (POLICY_DATA, "0 0 2 * * *"),
];

/// Password recovery tickets.
pub const RECOVERY_TICKETS: &str = "cleanup-user-recovery-sessions";
/// Email verification codes.
pub const EMAIL_AUTHENTICATIONS: &str = "cleanup-user-email-authentications";
/// Upstream sign-in attempts that signed nobody in.
pub const UPSTREAM_SESSIONS: &str = "cleanup-upstream-oauth-sessions";
/// Login tokens issued for bots.
pub const LOGIN_TOKENS: &str = "cleanup-compat-login-tokens";
/// Finished jobs and stopped workers.
pub const QUEUE_JOBS: &str = "cleanup-queue-jobs";
/// Replaced versions of the dynamic policy data.
pub const POLICY_DATA: &str = "prune-stale-policy-data";

/// `worker` with every clean-up job, its handler and its schedule.
#[must_use]
pub fn register(worker: Worker, context: &JobContext) -> Worker {
    SCHEDULES.iter().fold(worker, |worker, (kind, schedule)| {
        worker
            .with_handler(kind, std::sync::Arc::new(Handler(context.clone())))
            .with_recurring(kind, schedule)
    })
}

/// Runs the clean-up job of `kind`, in one unit of work; returns how many rows it deleted.
///
/// # Errors
/// When storage fails (nothing is deleted then), or for a kind that is no clean-up job.
pub async fn clean(context: &JobContext, kind: &str) -> Result<u64, JobError> {
    let now = context.clock.now();
    let expired_before = now - KEPT_AFTER_EXPIRY;
    let mut repository = context.repositories.transaction().await?;
    let deleted = match kind {
        RECOVERY_TICKETS => {
            repository
                .user_recovery_tickets()
                .delete_expired_before(expired_before)
                .await?
        }
        EMAIL_AUTHENTICATIONS => {
            repository
                .user_email_authentications()
                .delete_expired_before(expired_before)
                .await?
        }
        UPSTREAM_SESSIONS => {
            repository
                .upstream_authorization_sessions()
                .delete_unused_before(expired_before)
                .await?
        }
        LOGIN_TOKENS => {
            repository
                .compat_login_tokens()
                .delete_expired_before(expired_before)
                .await?
        }
        QUEUE_JOBS => {
            let before = now - FINISHED_JOBS_KEPT;
            repository.jobs().delete_finished_before(before).await?
                + repository
                    .queue_workers()
                    .delete_stopped_before(before)
                    .await?
        }
        POLICY_DATA => {
            repository
                .policy_data()
                .delete_replaced_before(expired_before)
                .await?
        }
        other => return Err(format!("`{other}` is no clean-up job").into()),
    };
    repository.commit().await?;
    Ok(deleted)
}

/// The handler of every clean-up job.
pub struct Handler(pub JobContext);

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let deleted = clean(&self.0, &job.kind).await?;
        if deleted > 0 {
            tracing::info!(job.kind = %job.kind, deleted, "deleted expired rows");
        }
        Ok(())
    }
}
