//! `expire-inactive-sessions`: ends the sessions left unused for longer than
//! `experimental.inactive_session_expiration.ttl`, every 15 minutes (MAS's schedule), when
//! that option is set. Their devices are then deleted on the homeserver by `delete-device`
//! jobs, as when users sign out.

use async_trait::async_trait;
use portcullis_model::Job;
use portcullis_services::sessions::{InactivityExpiry, expire_inactive};
use portcullis_worker::{JobError, JobHandler, Worker};

use crate::JobContext;

/// The job's kind.
pub const KIND: &str = "expire-inactive-sessions";

/// Its schedule: at 30 seconds past every quarter of an hour.
pub const SCHEDULE: &str = "30 */15 * * * *";

/// How many sessions of each kind one unit of work ends.
pub const BATCH: usize = 100;

/// `worker` with the job, its handler and its schedule.
#[must_use]
pub fn register(worker: Worker, context: &JobContext, expiry: InactivityExpiry) -> Worker {
    worker
        .with_handler(
            KIND,
            std::sync::Arc::new(Handler {
                context: context.clone(),
                expiry,
            }),
        )
        .with_recurring(KIND, SCHEDULE)
}

/// The handler.
pub struct Handler {
    pub context: JobContext,
    pub expiry: InactivityExpiry,
}

#[async_trait]
impl JobHandler for Handler {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        let now = self.context.clock.now();
        let (mut compat, mut oauth, mut browser) = (0, 0, 0);
        loop {
            let mut repository = self.context.repositories.transaction().await?;
            let expired = expire_inactive(&mut *repository, &self.expiry, now, BATCH).await?;
            repository.commit().await?;
            compat += expired.compat;
            oauth += expired.oauth;
            browser += expired.browser;
            if !expired.filled(BATCH) {
                break;
            }
        }
        if compat + oauth + browser > 0 {
            tracing::info!(compat, oauth, browser, "inactive sessions expired");
        }
        Ok(())
    }
}
