//! A bounded pool for CPU-heavy work: a fixed number of worker threads run the jobs, more may
//! wait while their wait stays short, and anything beyond that is refused at once.
//!
//! Hashing a password costs tens of milliseconds of CPU and, for argon2, tens of megabytes of
//! memory. Left unbounded, a burst of logins would pile up jobs, exhaust memory and starve every
//! other request; refusing early lets the HTTP layer answer "try again later" while the server
//! stays responsive.
//!
//! How many may wait is a time, not a count ([`Waiting::Time`]): a job is admitted while the
//! work already admitted ahead of it, at the recent average time of a job, would be done within
//! that bound. On a fast machine more sign-ins wait their turn; on a slow or busy one fewer, and
//! none waits longer than the bound whatever the hashing parameters.
//!
//! The workers live as long as the pool, one per core, at the scheduling policy and priority of
//! the process that starts them: hashing competes with the other processes of the host as the
//! rest of the server does, never below them. The requests that do not hash keep their share
//! by design: the kernel divides a busy CPU evenly between runnable threads of equal priority,
//! and there are as many request threads as hashing threads, so the request threads get half
//! the cores or more whenever they have work (one core's worth on two cores). The workers keep
//! argon2's working memory from one job to the next while jobs keep coming: a storm of logins
//! then maps, faults in and unmaps no memory at all. A worker idle for
//! [`MEMORY_KEPT_WHILE_IDLE`] gives its memory back.

use std::{
    collections::VecDeque,
    future::Future,
    num::NonZeroUsize,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, Condvar, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use tracing::Span;

use crate::PasswordError;

/// The pool's instruments, on the global meter.
mod metrics {
    use std::sync::LazyLock;

    use opentelemetry::metrics::{Counter, Histogram, UpDownCounter};

    pub(super) struct Instruments {
        pub(super) queued: UpDownCounter<i64>,
        pub(super) wait: Histogram<f64>,
        pub(super) refused: Counter<u64>,
    }

    pub(super) static INSTRUMENTS: LazyLock<Instruments> = LazyLock::new(|| {
        let meter = opentelemetry::global::meter("portcullis");
        Instruments {
            queued: meter
                .i64_up_down_counter("portcullis.password_hashing.queued")
                .with_description("Password hashes admitted and waiting for a hashing thread")
                .build(),
            wait: meter
                .f64_histogram("portcullis.password_hashing.wait")
                .with_unit("ms")
                .with_description("How long admitted password hashes waited for a thread")
                .build(),
            refused: meter
                .u64_counter("portcullis.password_hashing.refused")
                .with_description(
                    "Password hashes refused because the hashing threads were saturated",
                )
                .build(),
        }
    });
}

/// How long an idle worker keeps argon2's working memory for the next job.
pub(crate) const MEMORY_KEPT_WHILE_IDLE: Duration = Duration::from_secs(1);

/// The time a job is assumed to take until jobs have been timed: on the slow side of an
/// argon2id hash with the default parameters, so that a pool just started admits fewer jobs
/// rather than more.
const ASSUMED_JOB_TIME: Duration = Duration::from_millis(100);

/// How long a sign-in may wait for a hashing worker before it is refused instead.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(5);

/// How many jobs may wait for a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// At most this many.
    Jobs(usize),
    /// As many as the workers can start within this time, judged from how long recent jobs
    /// took.
    Time(Duration),
}

/// How many hashing jobs run at once, and how many more may wait for a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolLimits {
    /// Jobs running at the same time (at least one is always allowed).
    pub workers: usize,
    /// Jobs waiting for a worker; past this, new jobs are refused with
    /// [`PasswordError::Busy`].
    pub waiting: Waiting,
}

impl PoolLimits {
    /// One worker per CPU core, so that sign-ins waiting keep every core busy, and jobs waiting
    /// while they would start within [`DEFAULT_MAX_WAIT`].
    #[must_use]
    pub fn for_this_machine() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            waiting: Waiting::Time(DEFAULT_MAX_WAIT),
        }
    }

    /// How long a refused caller should wait before trying again: the longest wait the pool
    /// admits, in whole seconds, at least one.
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        let longest = match self.waiting {
            Waiting::Time(time) => time,
            Waiting::Jobs(_) => Duration::ZERO,
        };
        let seconds = longest.as_secs() + u64::from(longest.subsec_nanos() > 0);
        Duration::from_secs(seconds.max(1))
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

/// Which jobs get in: the places taken (jobs running or waiting) against the places the limits
/// give, and the recent average time of a job that [`Waiting::Time`] counts in.
struct Admission {
    workers: usize,
    waiting: Waiting,
    taken: AtomicUsize,
    /// Exponentially weighted average of the last jobs' times, in nanoseconds; zero until a
    /// job has been timed.
    average_nanos: AtomicU64,
}

impl Admission {
    fn places(&self) -> usize {
        let waiting = match self.waiting {
            Waiting::Jobs(jobs) => jobs,
            Waiting::Time(bound) => {
                let average = match self.average_nanos.load(Ordering::Relaxed) {
                    0 => ASSUMED_JOB_TIME.as_nanos(),
                    nanos => u128::from(nanos),
                };
                // A job admitted behind `n` others starts after about `n × average / workers`.
                let workers = u128::try_from(self.workers).unwrap_or(u128::MAX);
                let starts = bound.as_nanos().saturating_mul(workers) / average.max(1);
                usize::try_from(starts).unwrap_or(usize::MAX)
            }
        };
        self.workers.saturating_add(waiting)
    }

    fn has_room(&self) -> bool {
        self.taken.load(Ordering::Acquire) < self.places()
    }

    fn take_place(self: &Arc<Self>) -> Option<Place> {
        let places = self.places();
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < places).then_some(taken + 1)
            })
            .ok()?;
        Some(Place(Arc::clone(self)))
    }

    fn record(&self, took: Duration) {
        let sample = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX).max(1);
        // Each new time counts for an eighth: a change of machine load shows within a few
        // dozen jobs, one odd job barely moves it.
        let _ = self
            .average_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |average| {
                Some(if average == 0 {
                    sample
                } else {
                    average - average / 8 + sample / 8
                })
            });
    }
}

/// A place in the pool, given back when dropped.
struct Place(Arc<Admission>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the workers share with the pool.
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a job is queued, and when the pool is dropped.
    ready: Condvar,
    admission: Arc<Admission>,
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
}

impl std::fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let admission = &self.workers.0.admission;
        f.debug_struct("BlockingPool")
            .field("taken", &admission.taken.load(Ordering::Relaxed))
            .field("places", &admission.places())
            .finish_non_exhaustive()
    }
}

impl BlockingPool {
    /// Starts `limits.workers` threads (at least one).
    ///
    /// # Errors
    /// If the system refuses a new thread.
    pub(crate) fn new(limits: PoolLimits) -> std::io::Result<Self> {
        let workers = limits.workers.max(1);
        let shared = Arc::new(Shared {
            queue: Mutex::default(),
            ready: Condvar::new(),
            admission: Arc::new(Admission {
                workers,
                waiting: limits.waiting,
                taken: AtomicUsize::new(0),
                average_nanos: AtomicU64::new(0),
            }),
        });
        let pool = Self {
            workers: Arc::new(Workers(Arc::clone(&shared))),
        };
        for _ in 0..workers {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("password-hashing".to_owned())
                .spawn(move || work(&shared))?;
        }
        Ok(pool)
    }

    /// Whether one more job would be admitted right now. Only a look: by the time a job is
    /// submitted the answer may have changed, and [`BlockingPool::submit`] still decides.
    pub(crate) fn has_room(&self) -> bool {
        self.workers.0.admission.has_room()
    }

    /// Admits `job`, or refuses it with [`PasswordError::Busy`] right away when every worker
    /// is taken and the jobs already waiting fill the queue.
    ///
    /// Admission happens here, before the returned future is polled, so whether a job gets in
    /// never depends on scheduling. The job keeps its place until it has finished running,
    /// even if the caller stops waiting for it once it has started: the work cannot be
    /// interrupted, so it counts. A job whose caller stopped waiting before a worker took it
    /// is not run.
    pub(crate) fn submit<T, F>(
        &self,
        job: F,
    ) -> Result<impl Future<Output = Result<T, PasswordError>> + Send + 'static, PasswordError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.enqueue(job, Some(done))?;
        Ok(async move {
            match result.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(_panic)) => Err(PasswordError::internal("the hashing job panicked")),
                Err(gone) => Err(PasswordError::internal(gone)),
            }
        })
    }

    /// Admits `job` as [`BlockingPool::submit`] does, for its effect on the pool alone (the
    /// time it takes): it runs although nobody waits for it.
    pub(crate) fn submit_unwatched<F>(&self, job: F) -> Result<(), PasswordError>
    where
        F: FnOnce() + Send + 'static,
    {
        self.enqueue(job, None)
    }

    /// Takes a place for `job` and queues it; its result goes to `done` if given, and it is
    /// dropped unrun if `done` was given and nobody listens to it any more when its turn comes.
    fn enqueue<T, F>(
        &self,
        job: F,
        done: Option<tokio::sync::oneshot::Sender<std::thread::Result<T>>>,
    ) -> Result<(), PasswordError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let shared = &self.workers.0;
        let Some(place) = shared.admission.take_place() else {
            metrics::INSTRUMENTS.refused.add(1, &[]);
            return Err(PasswordError::Busy);
        };
        let span = Span::current();
        let queued = Instant::now();
        metrics::INSTRUMENTS.queued.add(1, &[]);
        let job: Job = Box::new(move || {
            let started = Instant::now();
            metrics::INSTRUMENTS.queued.add(-1, &[]);
            // Nobody waits for it any more (the client went away while it was queued): its
            // place goes to the next job without a hash computed for nobody.
            if done
                .as_ref()
                .is_some_and(tokio::sync::oneshot::Sender::is_closed)
            {
                return;
            }
            metrics::INSTRUMENTS
                .wait
                .record((started - queued).as_secs_f64() * 1000.0, &[]);
            let value = catch_unwind(AssertUnwindSafe(|| span.in_scope(job)));
            place.0.record(started.elapsed());
            // The place is given back when the job is done, not when the caller is, and before
            // the caller hears of it, so that it finds the place free.
            drop(place);
            if let Some(done) = done {
                let _ = done.send(value);
            }
        });
        shared.queue().jobs.push_back(job);
        shared.ready.notify_one();
        Ok(())
    }
}

/// Every place of a pool, taken by jobs that wait until this is dropped
/// ([`crate::PasswordManager::take_every_place`]).
#[cfg(feature = "testing")]
pub struct EveryPlace(Arc<(Mutex<bool>, Condvar)>);

#[cfg(feature = "testing")]
impl Drop for EveryPlace {
    fn drop(&mut self) {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.0.1.notify_all();
    }
}

#[cfg(feature = "testing")]
impl BlockingPool {
    pub(crate) fn take_every_place(&self) -> EveryPlace {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        loop {
            let gate = Arc::clone(&gate);
            let job = self.submit_unwatched(move || {
                let (open, opened) = &*gate;
                let _open = opened
                    .wait_while(
                        open.lock().unwrap_or_else(PoisonError::into_inner),
                        |open| !*open,
                    )
                    .unwrap_or_else(PoisonError::into_inner);
            });
            if job.is_err() {
                break;
            }
        }
        EveryPlace(gate)
    }
}

/// A worker: runs queued jobs one at a time until the pool is dropped (each job times itself
/// for the admission), and gives argon2's memory back after [`MEMORY_KEPT_WHILE_IDLE`] without a job.
fn work(shared: &Shared) {
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn limits(workers: usize, queue: usize) -> PoolLimits {
        PoolLimits {
            workers,
            waiting: Waiting::Jobs(queue),
        }
    }

    fn admission(workers: usize, bound: Duration) -> Arc<Admission> {
        Arc::new(Admission {
            workers,
            waiting: Waiting::Time(bound),
            taken: AtomicUsize::new(0),
            average_nanos: AtomicU64::new(0),
        })
    }

    #[test]
    fn jobs_wait_while_the_workers_would_start_them_within_the_bound() {
        let admission = admission(2, Duration::from_secs(1));
        for _ in 0..64 {
            admission.record(Duration::from_millis(100));
        }

        // Two running, and twenty more: two workers start twenty 100 ms jobs within a second.
        let places: Vec<Place> = std::iter::from_fn(|| admission.take_place()).collect();

        assert_eq!(places.len(), 22);
        assert!(!admission.has_room());
        drop(places);
        assert!(admission.has_room());
    }

    #[test]
    fn faster_jobs_let_more_wait_and_slower_ones_fewer() {
        let admission = admission(1, Duration::from_secs(1));
        for _ in 0..64 {
            admission.record(Duration::from_millis(10));
        }
        let fast = admission.places();
        for _ in 0..64 {
            admission.record(Duration::from_millis(250));
        }
        let slow = admission.places();

        assert!((95..=101).contains(&fast), "{fast} places");
        assert!((4..=5).contains(&slow), "{slow} places");
    }

    #[test]
    fn before_any_job_is_timed_the_pool_assumes_slow_jobs() {
        let admission = admission(2, Duration::from_secs(2));

        assert_eq!(admission.places(), 2 + 2 * 2000 / 100);
    }

    #[test]
    fn a_refused_caller_is_told_the_longest_wait_in_whole_seconds() {
        let limits = |waiting| PoolLimits {
            workers: 2,
            waiting,
        };

        assert_eq!(
            limits(Waiting::Time(Duration::from_millis(2500))).retry_after(),
            Duration::from_secs(3)
        );
        assert_eq!(
            limits(Waiting::Time(Duration::from_secs(2))).retry_after(),
            Duration::from_secs(2)
        );
        assert_eq!(
            limits(Waiting::Jobs(4)).retry_after(),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn this_machine_hashes_on_every_core_and_bounds_the_wait() {
        let limits = PoolLimits::for_this_machine();

        assert_eq!(
            limits.workers,
            std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
        );
        assert_eq!(limits.waiting, Waiting::Time(DEFAULT_MAX_WAIT));
    }

    /// The scheduling policy and niceness of the calling thread, from `/proc`.
    #[cfg(target_os = "linux")]
    fn scheduling_of_this_thread() -> (String, String) {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("procfs");
        // The fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("a command name")
            .1
            .split_whitespace()
            .collect();
        // proc(5): field 19 is the niceness and field 41 the policy; `fields` starts at field 3.
        (fields[19 - 3].to_owned(), fields[41 - 3].to_owned())
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_runs_at_the_policy_and_niceness_of_the_server() {
        let pool = BlockingPool::new(limits(1, 0)).expect("threads start");

        let worker = pool
            .submit(scheduling_of_this_thread)
            .expect("the pool is idle")
            .await
            .expect("the job ran");

        assert_eq!(worker, scheduling_of_this_thread());
        // SCHED_OTHER: not SCHED_IDLE (5), which runs only on time every other process leaves.
        assert_eq!(worker.1, "0");
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
    async fn a_queued_job_nobody_waits_for_any_more_is_not_run() {
        let pool = BlockingPool::new(limits(1, 2)).expect("threads start");
        let (release, wait) = mpsc::channel::<()>();
        let running = pool.submit(move || wait.recv()).expect("the pool is idle");
        let ran = Arc::new(AtomicUsize::new(0));
        let abandoned = {
            let ran = Arc::clone(&ran);
            pool.submit(move || ran.fetch_add(1, Ordering::SeqCst))
                .expect("there is room in the queue")
        };
        let next = pool.submit(|| "next").expect("there is room in the queue");

        drop(abandoned);
        release.send(()).expect("the running job waits for this");
        assert!(running.await.expect("the job ran").is_ok());
        // The queue is first in, first out: the abandoned job's turn came before this one.
        assert_eq!(next.await.expect("the job ran"), "next");

        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert!(pool.has_room());
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
