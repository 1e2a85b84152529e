//! Housekeeping: deletes what can no longer be used and has been kept long enough to explain
//! recent events, so that the database does not grow with every sign-up and recovery.
//!
//! Each kind of row has its recurring job, queued by the leading worker at the slots of its
//! schedule (cron, with seconds; MAS's schedule where MAS has the job), so that each runs once
//! per deployment whatever the number of workers:
//!
//! | job | schedule | deletes |
//! | --- | --- | --- |
//! | `cleanup-revoked-oauth-access-tokens` | `0 0 * * * *` | access tokens revoked more than an hour ago |
//! | `cleanup-revoked-oauth-refresh-tokens` | `0 5 * * * *` | refresh tokens revoked more than an hour ago |
//! | `cleanup-consumed-oauth-refresh-tokens` | `0 5 * * * *` | refresh tokens exchanged more than an hour ago |
//! | `cleanup-expired-oauth-access-tokens` | `0 5 */4 * * *` | access tokens expired more than 30 days ago |
//! | `cleanup-finished-compat-sessions` | `0 10 * * * *` | compatibility sessions finished more than 30 days ago, with their tokens |
//! | `cleanup-finished-oauth2-sessions` | `0 15 * * * *` | OAuth 2.0 sessions finished more than 30 days ago, with their tokens |
//! | `cleanup-finished-user-sessions` | `0 20 * * * *` | browser sessions finished more than 30 days ago that no kept session was started from |
//! | `cleanup-inactive-session-ips` | `0 25 * * * *` | the last address of sessions unused for 30 days (cleared, not deleted) |
//! | `cleanup-oauth-authorization-grants` | `0 30 * * * *` | authorization grants created more than 7 days ago |
//! | `cleanup-oauth-device-code-grants` | `0 35 * * * *` | device authorization grants created more than 7 days ago |
//! | `cleanup-upstream-oauth-sessions` | `0 40 * * * *` | upstream sign-in attempts that signed nobody in, started more than 7 days ago |
//! | `cleanup-upstream-oauth-links` | `0 40 * * * *` | links to upstream accounts never tied to a user, created more than 7 days ago |
//! | `cleanup-user-registrations` | `0 45 * * * *` | registrations started more than 30 days ago |
//! | `cleanup-compat-login-tokens` | `0 45 * * * *` | login tokens issued for bots, expired more than 7 days ago, redeemed or not |
//! | `cleanup-user-recovery-sessions` | `0 50 * * * *` | password recovery tickets expired more than 7 days ago, used or not |
//! | `cleanup-user-email-authentications` | `0 50 * * * *` | email verification codes expired more than 7 days ago (and the unfinished registrations waiting on them) |
//! | `cleanup-user-passkey-challenges` | `0 55 * * * *` | passkey ceremonies nobody finished, started more than an hour ago |
//! | `cleanup-queue-jobs` | `0 55 * * * *` | jobs completed or failed more than 30 days ago, and workers stopped more than 30 days ago |
//! | `prune-stale-policy-data` | `0 0 2 * * *` | versions of the dynamic policy data replaced more than 7 days ago (the latest is kept) |
//!
//! MAS clears the addresses of each kind of session in a job of its own
//! (`cleanup-inactive-{oauth2,compat,user}-session-ips`); one job clears them all here, personal
//! sessions included.

use async_trait::async_trait;
use chrono::TimeDelta;
use portcullis_model::Job;
use portcullis_worker::{JobError, JobHandler, Worker};

use crate::JobContext;

/// How long expired rows are kept.
pub const KEPT_AFTER_EXPIRY: TimeDelta = TimeDelta::days(7);

/// How long finished jobs and stopped workers are kept.
pub const FINISHED_JOBS_KEPT: TimeDelta = TimeDelta::days(30);

/// How long revoked and exchanged tokens are kept.
pub const SPENT_TOKENS_KEPT: TimeDelta = TimeDelta::hours(1);

/// How long finished sessions, expired access tokens and registrations are kept, and how long
/// a session's last address.
pub const FINISHED_SESSIONS_KEPT: TimeDelta = TimeDelta::days(30);

/// The recurring clean-up jobs and their schedules.
pub const SCHEDULES: &[(&str, &str)] = &[
    (REVOKED_ACCESS_TOKENS, "0 0 * * * *"),
    (REVOKED_REFRESH_TOKENS, "0 5 * * * *"),
    (CONSUMED_REFRESH_TOKENS, "0 5 * * * *"),
    (EXPIRED_ACCESS_TOKENS, "0 5 */4 * * *"),
    (FINISHED_COMPAT_SESSIONS, "0 10 * * * *"),
    (FINISHED_OAUTH_SESSIONS, "0 15 * * * *"),
    (FINISHED_BROWSER_SESSIONS, "0 20 * * * *"),
    (SESSION_ADDRESSES, "0 25 * * * *"),
    (AUTHORIZATION_GRANTS, "0 30 * * * *"),
    (DEVICE_CODE_GRANTS, "0 35 * * * *"),
    (UPSTREAM_SESSIONS, "0 40 * * * *"),
    (UPSTREAM_LINKS, "0 40 * * * *"),
    (REGISTRATIONS, "0 45 * * * *"),
    (LOGIN_TOKENS, "0 45 * * * *"),
    (RECOVERY_TICKETS, "0 50 * * * *"),
    (EMAIL_AUTHENTICATIONS, "0 50 * * * *"),
    (PASSKEY_CHALLENGES, "0 55 * * * *"),
    (QUEUE_JOBS, "0 55 * * * *"),
    (POLICY_DATA, "0 0 2 * * *"),
];

/// Revoked OAuth 2.0 access tokens.
pub const REVOKED_ACCESS_TOKENS: &str = "cleanup-revoked-oauth-access-tokens";
/// Revoked OAuth 2.0 refresh tokens.
pub const REVOKED_REFRESH_TOKENS: &str = "cleanup-revoked-oauth-refresh-tokens";
/// Exchanged OAuth 2.0 refresh tokens.
pub const CONSUMED_REFRESH_TOKENS: &str = "cleanup-consumed-oauth-refresh-tokens";
/// Expired OAuth 2.0 access tokens.
pub const EXPIRED_ACCESS_TOKENS: &str = "cleanup-expired-oauth-access-tokens";
/// Finished compatibility sessions.
pub const FINISHED_COMPAT_SESSIONS: &str = "cleanup-finished-compat-sessions";
/// Finished OAuth 2.0 sessions.
pub const FINISHED_OAUTH_SESSIONS: &str = "cleanup-finished-oauth2-sessions";
/// Finished browser sessions.
pub const FINISHED_BROWSER_SESSIONS: &str = "cleanup-finished-user-sessions";
/// The last addresses of unused sessions.
pub const SESSION_ADDRESSES: &str = "cleanup-inactive-session-ips";
/// Authorization grants.
pub const AUTHORIZATION_GRANTS: &str = "cleanup-oauth-authorization-grants";
/// Device authorization grants.
pub const DEVICE_CODE_GRANTS: &str = "cleanup-oauth-device-code-grants";
/// Links to upstream accounts never tied to a user.
pub const UPSTREAM_LINKS: &str = "cleanup-upstream-oauth-links";
/// Registrations.
pub const REGISTRATIONS: &str = "cleanup-user-registrations";
/// Password recovery tickets.
pub const RECOVERY_TICKETS: &str = "cleanup-user-recovery-sessions";
/// Email verification codes.
pub const EMAIL_AUTHENTICATIONS: &str = "cleanup-user-email-authentications";
/// Upstream sign-in attempts that signed nobody in.
pub const UPSTREAM_SESSIONS: &str = "cleanup-upstream-oauth-sessions";
/// Login tokens issued for bots.
pub const LOGIN_TOKENS: &str = "cleanup-compat-login-tokens";
/// Passkey ceremonies nobody finished.
pub const PASSKEY_CHALLENGES: &str = "cleanup-user-passkey-challenges";
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
    let spent_before = now - SPENT_TOKENS_KEPT;
    let finished_before = now - FINISHED_SESSIONS_KEPT;
    let deleted = match kind {
        REVOKED_ACCESS_TOKENS => {
            repository
                .cleanup()
                .revoked_access_tokens(spent_before)
                .await?
        }
        REVOKED_REFRESH_TOKENS => {
            repository
                .cleanup()
                .revoked_refresh_tokens(spent_before)
                .await?
        }
        CONSUMED_REFRESH_TOKENS => {
            repository
                .cleanup()
                .consumed_refresh_tokens(spent_before)
                .await?
        }
        EXPIRED_ACCESS_TOKENS => {
            repository
                .cleanup()
                .expired_access_tokens(finished_before)
                .await?
        }
        FINISHED_COMPAT_SESSIONS => {
            repository
                .cleanup()
                .finished_compat_sessions(finished_before)
                .await?
        }
        FINISHED_OAUTH_SESSIONS => {
            repository
                .cleanup()
                .finished_oauth_sessions(finished_before)
                .await?
        }
        FINISHED_BROWSER_SESSIONS => {
            repository
                .cleanup()
                .finished_browser_sessions(finished_before)
                .await?
        }
        SESSION_ADDRESSES => {
            repository
                .cleanup()
                .inactive_session_addresses(finished_before)
                .await?
        }
        AUTHORIZATION_GRANTS => {
            repository
                .cleanup()
                .authorization_grants(expired_before)
                .await?
        }
        DEVICE_CODE_GRANTS => {
            repository
                .cleanup()
                .device_code_grants(expired_before)
                .await?
        }
        UPSTREAM_LINKS => {
            repository
                .cleanup()
                .orphaned_upstream_links(expired_before)
                .await?
        }
        REGISTRATIONS => {
            repository
                .cleanup()
                .user_registrations(finished_before)
                .await?
        }
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
        PASSKEY_CHALLENGES => {
            repository
                .passkey_challenges()
                .remove_expired(spent_before)
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
