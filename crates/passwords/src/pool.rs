//! A bounded pool for CPU-heavy work: a fixed number of worker threads run the jobs, a fixed
//! number more may wait, and anything beyond that is refused at once.
//!
//! Hashing a password costs tens of milliseconds of CPU and, for argon2, tens of megabytes of
//! memory. Left unbounded, a burst of logins would pile up jobs, exhaust memory and starve every
//! other request; refusing early lets the HTTP layer answer "try again later" while the server
//! stays responsive. The workers live as long as the pool, at the lowest scheduling priority,
//! and keep argon2's working memory from one job to the next while jobs keep coming: a storm
//! of logins then maps, faults in and unmaps no memory at all. A worker idle for
//! [`MEMORY_KEPT_WHILE_IDLE`] gives its memory back.

use std::{
    collections::VecDeque,
    future::Future,
    num::NonZeroUsize,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{Arc, Condvar, Mutex, PoisonError},
    time::Duration,
};

use tokio::sync::Semaphore;
use tracing::Span;

use crate::PasswordError;

/// How long an idle worker keeps argon2's working memory for the next job.
pub(crate) const MEMORY_KEPT_WHILE_IDLE: Duration = Duration::from_secs(1);

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

type Job = Box<dyn FnOnce() + Send>;

/// The jobs waiting for a worker, and whether the pool is gone.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// What the workers share with the pool.
#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a job is queued, and when the pool is dropped.
    ready: Condvar,
}

impl Shared {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        // A job never runs under the lock, so a poisoned lock still holds a sound queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Closes the queue when the last clone of the pool is dropped; the workers then finish the
/// jobs already queued and stop.
struct Workers(Arc<Shared>);

impl Drop for Workers {
    fn drop(&mut self) {
        self.0.queue().closed = true;
        self.0.ready.notify_all();
    }
}

/// The pool itself; cheap to clone, clones share their workers and limits.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    workers: Arc<Workers>,
    /// One permit per admitted job, running or waiting.
    admission: Arc<Semaphore>,
}

impl std::fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingPool")
            .field("room", &self.admission.available_permits())
            .finish_non_exhaustive()
    }
}

impl BlockingPool {
    /// Starts `limits.workers` threads (at least one).
    ///
    /// # Errors
    /// If the system refuses a new thread.
    pub(crate) fn new(limits: PoolLimits) -> std::io::Result<Self> {
        let workers = limits.workers.clamp(1, Semaphore::MAX_PERMITS);
        let admitted = workers
            .saturating_add(limits.queue)
            .min(Semaphore::MAX_PERMITS);
        let shared = Arc::new(Shared::default());
        for _ in 0..workers {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("password-hashing".to_owned())
                .spawn(move || work(&shared))?;
        }
        Ok(Self {
            workers: Arc::new(Workers(shared)),
            admission: Arc::new(Semaphore::new(admitted)),
        })
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
        let span = Span::current();
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let value = catch_unwind(AssertUnwindSafe(|| span.in_scope(job)));
            // The place is given back when the job is done, not when the caller is, and before
            // the caller hears of it, so that it finds the place free.
            drop(admitted);
            let _ = done.send(value);
        });
        let shared = &self.workers.0;
        shared.queue().jobs.push_back(job);
        shared.ready.notify_one();

        Ok(async move {
            match result.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(_panic)) => Err(PasswordError::internal("the hashing job panicked")),
                Err(gone) => Err(PasswordError::internal(gone)),
            }
        })
    }
}

/// A worker: runs queued jobs one at a time until the pool is dropped, below every ordinary
/// thread, and gives argon2's memory back after [`MEMORY_KEPT_WHILE_IDLE`] without a job.
fn work(shared: &Shared) {
    lower_priority();
    let mut queue = shared.queue();
    loop {
        if let Some(job) = queue.jobs.pop_front() {
            drop(queue);
            job();
            queue = shared.queue();
            continue;
        }
        if queue.closed {
            break;
        }
        let (guard, waited) = shared
            .ready
            .wait_timeout(queue, MEMORY_KEPT_WHILE_IDLE)
            .unwrap_or_else(PoisonError::into_inner);
        queue = guard;
        if waited.timed_out() && queue.jobs.is_empty() {
            drop(queue);
            crate::argon2_memory::release_memory();
            queue = shared
                .ready
                .wait_while(shared.queue(), |queue| {
                    queue.jobs.is_empty() && !queue.closed
                })
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
    drop(queue);
    crate::argon2_memory::release_memory();
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
        let pool = BlockingPool::new(limits(1, 0)).expect("threads start");

        let result = pool.submit(|| 6 * 7).expect("the pool is idle").await;

        assert_eq!(result.expect("the job ran"), 42);
    }

    #[tokio::test]
    async fn a_job_is_refused_when_the_only_worker_is_taken_and_there_is_no_queue() {
        let pool = BlockingPool::new(limits(1, 0)).expect("threads start");
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
        let pool = BlockingPool::new(limits(1, 1)).expect("threads start");
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
        let pool = BlockingPool::new(limits(1, 1)).expect("threads start");
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
        let pool = BlockingPool::new(limits(1, 0)).expect("threads start");
        pool.submit(|| ())
            .expect("the pool is idle")
            .await
            .expect("the job ran");

        let next = pool.submit(|| ());

        assert!(next.is_ok());
    }

    #[tokio::test]
    async fn zero_workers_still_gets_one_worker() {
        let pool = BlockingPool::new(limits(0, 0)).expect("threads start");

        let result = pool.submit(|| "ran").expect("the pool is idle").await;

        assert_eq!(result.expect("the job ran"), "ran");
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_internal_error_and_its_worker_goes_on() {
        let pool = BlockingPool::new(limits(1, 0)).expect("threads start");
        let panicked = pool
            .submit(|| -> () { panic!("deliberate") })
            .expect("the pool is idle")
            .await;
        assert!(matches!(panicked, Err(PasswordError::Internal(_))));

        let next = pool
            .submit(|| "still here")
            .expect("the place was given back");

        assert_eq!(next.await.expect("the job ran"), "still here");
    }

    #[tokio::test]
    async fn as_many_jobs_run_at_once_as_there_are_workers() {
        let pool = BlockingPool::new(limits(2, 0)).expect("threads start");
        let meeting = Arc::new(std::sync::Barrier::new(2));
        let jobs: Vec<_> = (0..2)
            .map(|_| {
                let meeting = Arc::clone(&meeting);
                // Each job waits for the other: with fewer than two workers this never ends.
                pool.submit(move || meeting.wait().is_leader())
                    .expect("there is room")
            })
            .collect();

        let mut leaders = 0;
        for job in jobs {
            leaders += usize::from(job.await.expect("the job ran"));
        }

        assert_eq!(leaders, 1);
    }

    #[tokio::test]
    async fn a_job_queued_before_the_pool_is_dropped_still_runs() {
        let pool = BlockingPool::new(limits(1, 1)).expect("threads start");
        let (release, wait) = mpsc::channel::<()>();
        let running = pool.submit(move || wait.recv()).expect("the pool is idle");
        let queued = pool
            .submit(|| "queued")
            .expect("there is room in the queue");

        drop(pool);
        release.send(()).expect("the running job waits for this");

        assert!(running.await.expect("the job ran").is_ok());
        assert_eq!(queued.await.expect("the job ran"), "queued");
    }
}
