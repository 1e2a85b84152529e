//! The workers sharing the queue: who is alive, who leads, which recurring jobs were queued.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StorageError;

/// The workers of every process sharing the database.
///
/// Each worker registers when it starts and sends a heartbeat now and then; one of them holds
/// the leadership, a lease it renews while it lives, and does the work that must happen once
/// per deployment: queueing the recurring jobs, and giving the jobs of silent workers to the
/// others.
#[async_trait]
pub trait QueueWorkerRepository: Send {
    /// Records that `worker_id` started now.
    async fn register(&mut self, worker_id: &str, now: DateTime<Utc>) -> Result<(), StorageError>;

    /// Records that `worker_id` is alive; `false` when it was declared lost meanwhile (it then
    /// registers again).
    async fn heartbeat(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StorageError>;

    /// Records that `worker_id` stopped, and gives up its leadership if it held it.
    async fn stop(&mut self, worker_id: &str, now: DateTime<Utc>) -> Result<(), StorageError>;

    /// Takes or renews the leadership for `worker_id` until `now + lease`; `true` when it
    /// leads. It succeeds when nobody leads, when the leader's lease ran out, or when
    /// `worker_id` already leads.
    async fn try_lead(
        &mut self,
        worker_id: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<bool, StorageError>;

    /// Declares lost the workers not heard of since `silent_since`, and makes the jobs they
    /// were running available to the others at once (their attempt counts); returns how many
    /// workers were declared lost.
    async fn stop_silent(
        &mut self,
        silent_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StorageError>;

    /// Forgets the workers stopped before `before`; returns how many.
    async fn delete_stopped_before(&mut self, before: DateTime<Utc>) -> Result<u64, StorageError>;

    /// The slot the recurring job `name` was last queued for.
    async fn last_scheduled(&mut self, name: &str) -> Result<Option<DateTime<Utc>>, StorageError>;

    /// Records that the recurring job `name` is queued for `slot`; `false` when it already
    /// was for this slot or a later one (another process got there first).
    async fn claim_schedule(
        &mut self,
        name: &str,
        slot: DateTime<Utc>,
    ) -> Result<bool, StorageError>;
}
