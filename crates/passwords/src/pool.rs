//! A bounded pool for CPU-heavy work: a fixed number of jobs run at once on tokio's blocking
//! threads, a fixed number more may wait, and anything beyond that is refused at once.
//!
//! Hashing a password costs tens of milliseconds of CPU and, for argon2, tens of megabytes of
//! memory. Left unbounded, a burst of logins would pile up blocking tasks, exhaust memory and
//! starve every other request; refusing early lets the HTTP layer answer "try again later"
//! while the server stays responsive.

use std::{future::Future, num::NonZeroUsize, sync::Arc};

use tokio::sync::Semaphore;
use tracing::Span;

use crate::PasswordError;

/// How many hashing jobs run at once, and how many more may wait for a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Jobs running at the same time (at least one is always allowed).
    pub workers: usize,
    /// Jobs waiting for a worker; past this, new jobs are refused with
    /// [`PasswordError::Busy`].
    pub queue: usize,
}

impl PoolLimits {
    /// One worker per CPU core but one (at least one), so that a storm of logins always
    /// leaves a core to the requests that do not hash (introspection above all), and four
    /// waiting jobs per core.
    #[must_use]
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self {
            workers: cores.saturating_sub(1).max(1),
            queue: cores.saturating_mul(4),
        }
    }
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

/// The pool itself; cheap to clone, clones share their limits.
#[derive(Debug, Clone)]
pub(crate) struct BlockingPool {
    /// One permit per running job.
    workers: Arc<Semaphore>,
    /// One permit per admitted job, running or waiting.
    admission: Arc<Semaphore>,
}

impl BlockingPool {
    pub(crate) fn new(limits: PoolLimits) -> Self {
        let workers = limits.workers.clamp(1, Semaphore::MAX_PERMITS);
        let admitted = workers
            .saturating_add(limits.queue)
            .min(Semaphore::MAX_PERMITS);
        Self {
            workers: Arc::new(Semaphore::new(workers)),
            admission: Arc::new(Semaphore::new(admitted)),
        }
    }

    /// Whether one more job would be admitted right now. Only a look: by the time a job is
    /// submitted the answer may have changed, and [`BlockingPool::submit`] still decides.
    pub(crate) fn has_room(&self) -> bool {
        self.admission.available_permits() > 0
    }

    /// Admits `job`, or refuses it with [`PasswordError::Busy`] right away when every worker
    /// and every place in the queue is taken.
    ///
    /// Admission happens here, before the returned future is polled, so whether a job gets in
    /// never depends on scheduling. The job keeps its place until it has finished running,
    /// even if the caller stops waiting for it: the work cannot be interrupted, so it counts.
    pub(crate) fn submit<T, F>(
        &self,
        job: F,
    ) -> Result<impl Future<Output = Result<T, PasswordError>> + Send + 'static, PasswordError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = Arc::clone(&self.admission)
            .try_acquire_owned()
            .map_err(|_| PasswordError::Busy)?;
        let workers = Arc::clone(&self.workers);
        let span = Span::current();

        Ok(async move {
            let worker = workers
                .acquire_owned()
                .await
                .map_err(PasswordError::internal)?;
            let (done, result) = tokio::sync::oneshot::channel();
            // A thread of its own (starting one costs microseconds; a hash, milliseconds), at
            // the lowest scheduling priority: when the cores are busy, requests that do not hash
            // (introspection above all) go first, and logins wait.
            std::thread::Builder::new()
                .name("password-hashing".to_owned())
                .spawn(move || {
                    lower_priority();
                    let value = span.in_scope(job);
                    // Both permits are released when the job is done, not when the caller is,
                    // and before the caller hears of it, so that it finds the place free.
                    drop((admitted, worker));
                    let _ = done.send(value);
                })
                .map_err(PasswordError::internal)?;
            result.await.map_err(PasswordError::internal)
        })
    }
}

/// Puts the current thread below every ordinary one: on Linux the `SCHED_IDLE` policy (it runs
/// only on time the others leave), elsewhere the lowest priority of its policy (niceness 19).
/// Lowering needs no privilege; if it fails anyway, the job runs at the usual priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    let lowered = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        thread_priority::ThreadPriority::Min,
        thread_priority::ThreadSchedulePolicy::Normal(
            thread_priority::NormalThreadSchedulePolicy::Idle,
        ),
    );
    #[cfg(not(target_os = "linux"))]
    let lowered =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min);
    if let Err(error) = lowered {
        tracing::debug!(?error, "cannot lower the priority of the hashing thread");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn limits(workers: usize, queue: usize) -> PoolLimits {
        PoolLimits { workers, queue }
    }

    #[tokio::test]
    async fn a_job_runs_and_returns_its_result() {
        let pool = BlockingPool::new(limits(1, 0));

        let result = pool.submit(|| 6 * 7).expect("the pool is idle").await;

        assert_eq!(result.expect("the job ran"), 42);
    }

    #[tokio::test]
    async fn a_job_is_refused_when_the_only_worker_is_taken_and_there_is_no_queue() {
        let pool = BlockingPool::new(limits(1, 0));
        let (release, wait) = mpsc::channel::<()>();
        let running = tokio::spawn(pool.submit(move || wait.recv()).expect("the pool is idle"));

        let refused = pool.submit(|| ());

        assert!(matches!(refused, Err(PasswordError::Busy)));
        release.send(()).expect("the running job waits for this");
        running
            .await
            .expect("no panic")
            .expect("the job ran")
            .expect("released");
    }

    #[tokio::test]
    async fn a_job_waits_in_the_queue_while_there_is_room() {
        let pool = BlockingPool::new(limits(1, 1));
        let (release, wait) = mpsc::channel::<()>();
        let running = tokio::spawn(pool.submit(move || wait.recv()).expect("the pool is idle"));

        let queued = pool.submit(|| "queued");
        let refused = pool.submit(|| "refused");

        assert!(queued.is_ok());
        assert!(matches!(refused, Err(PasswordError::Busy)));
        release.send(()).expect("the running job waits for this");
        running
            .await
            .expect("no panic")
            .expect("the job ran")
            .expect("released");
        let queued = queued.expect("checked above").await.expect("the job ran");
        assert_eq!(queued, "queued");
    }

    #[tokio::test]
    async fn the_pool_has_room_until_every_place_is_taken() {
        let pool = BlockingPool::new(limits(1, 1));
        let (release, wait) = mpsc::channel::<()>();
        assert!(pool.has_room());
        let running = tokio::spawn(pool.submit(move || wait.recv()).expect("the pool is idle"));
        assert!(pool.has_room(), "one place is left in the queue");
        let queued = pool.submit(|| ()).expect("there is room in the queue");

        assert!(!pool.has_room());

        release.send(()).expect("the running job waits for this");
        running
            .await
            .expect("no panic")
            .expect("the job ran")
            .expect("released");
        queued.await.expect("the job ran");
        assert!(pool.has_room());
    }

    #[tokio::test]
    async fn a_finished_job_gives_its_place_back() {
        let pool = BlockingPool::new(limits(1, 0));
        pool.submit(|| ())
            .expect("the pool is idle")
            .await
            .expect("the job ran");

        let next = pool.submit(|| ());

        assert!(next.is_ok());
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_internal_error() {
        let pool = BlockingPool::new(limits(1, 0));

        let result = pool
            .submit(|| -> () { panic!("deliberate") })
            .expect("the pool is idle")
            .await;

        assert!(matches!(result, Err(PasswordError::Internal(_))));
    }

    #[test]
    fn zero_workers_still_allows_one_job_at_a_time() {
        let pool = BlockingPool::new(limits(0, 0));

        assert_eq!(pool.workers.available_permits(), 1);
    }
}
