//! The worker against a real (SQLite) queue.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use chrono::{TimeDelta, TimeZone as _, Utc};
use portcullis_model::{Clock as _, Job, JobStatus, MockClock};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use portcullis_worker::{JobError, JobHandler, Worker};

struct Counting {
    runs: AtomicUsize,
    fail: bool,
}

#[async_trait]
impl JobHandler for Counting {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            Err("the homeserver is down".into())
        } else {
            Ok(())
        }
    }
}

async fn database(dir: &tempfile::TempDir) -> Database {
    let options = ConnectOptions::Sqlite {
        path: dir.path().join("queue.db"),
    };
    let database = Database::connect(&options, &PoolOptions::default())
        .await
        .expect("SQLite opens");
    database.migrate().await.expect("migrations apply");
    database
}

async fn schedule(database: &Database, kind: &str, clock: &MockClock) -> ulid::Ulid {
    let mut repository = database.transaction().await.expect("transaction");
    let job = repository
        .jobs()
        .schedule(
            kind,
            serde_json::json!({"user": "alice"}),
            clock.now(),
            clock.now(),
        )
        .await
        .expect("job scheduled");
    repository.commit().await.expect("commit");
    job.id
}

fn clock() -> MockClock {
    MockClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("valid date"),
    )
}

#[tokio::test]
async fn a_due_job_runs_once_and_is_completed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let id = schedule(&database, "greet", &clock).await;
    let handler = Arc::new(Counting {
        runs: AtomicUsize::new(0),
        fail: false,
    });
    let worker = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()))
        .with_handler("greet", handler.clone());

    let ran = worker
        .run_once()
        .await
        .expect("queue readable")
        .expect("a job was due");
    assert_eq!(ran.id, id);
    assert_eq!(ran.status, JobStatus::Completed);
    assert!(
        worker.run_once().await.expect("queue readable").is_none(),
        "nothing left to run"
    );
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_job_waits_for_its_back_off_then_runs_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let id = schedule(&database, "provision", &clock).await;
    let handler = Arc::new(Counting {
        runs: AtomicUsize::new(0),
        fail: true,
    });
    let worker = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()))
        .with_handler("provision", handler.clone());

    let ran = worker
        .run_once()
        .await
        .expect("queue readable")
        .expect("a job was due");
    assert_eq!(
        ran.status,
        JobStatus::Available,
        "a failed attempt is retried later"
    );
    assert!(
        worker.run_once().await.expect("queue readable").is_none(),
        "not before its back-off"
    );

    clock.advance(TimeDelta::minutes(1));
    let ran = worker
        .run_once()
        .await
        .expect("queue readable")
        .expect("due again after the back-off");
    assert_eq!(ran.id, id);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 2);

    let mut repository = database.transaction().await.expect("transaction");
    let job = repository
        .jobs()
        .find(id)
        .await
        .expect("readable")
        .expect("job exists");
    assert_eq!(job.last_error.as_deref(), Some("the homeserver is down"));
}

#[tokio::test]
async fn a_job_of_an_unknown_kind_fails_with_a_message_naming_the_kind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let id = schedule(&database, "send-pigeon", &clock).await;
    let worker = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()));

    worker
        .run_once()
        .await
        .expect("queue readable")
        .expect("a job was due");

    let mut repository = database.transaction().await.expect("transaction");
    let job = repository
        .jobs()
        .find(id)
        .await
        .expect("readable")
        .expect("job exists");
    assert_eq!(job.status, JobStatus::Available);
    assert!(
        job.last_error
            .as_deref()
            .is_some_and(|e| e.contains("send-pigeon")),
        "{:?}",
        job.last_error
    );
}

/// A worker on `database` with a handler for the recurring job `tick`, queued every hour.
fn ticking_worker(database: &Database, clock: &MockClock, handler: Arc<Counting>) -> Worker {
    Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()))
        .with_handler("tick", handler)
        .with_recurring("tick", "0 0 * * * *")
}

fn counting() -> Arc<Counting> {
    Arc::new(Counting {
        runs: AtomicUsize::new(0),
        fail: false,
    })
}

#[tokio::test]
async fn one_leader_queues_each_slot_of_a_recurring_job_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let handler = counting();
    let first = ticking_worker(&database, &clock, handler.clone());
    let second = ticking_worker(&database, &clock, handler.clone());

    let upkeep = first.upkeep().await.expect("upkeep");
    assert!(upkeep.leads);
    assert_eq!(upkeep.queued, ["tick"], "the slot of noon, at start");
    let upkeep = second.upkeep().await.expect("upkeep");
    assert!(!upkeep.leads, "one leader at a time");
    assert!(upkeep.queued.is_empty());
    assert!(
        first.upkeep().await.expect("upkeep").queued.is_empty(),
        "noon is queued"
    );

    second
        .run_once()
        .await
        .expect("queue")
        .expect("the job runs anywhere");
    assert!(first.run_once().await.expect("queue").is_none(), "once");
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);

    clock.advance(TimeDelta::minutes(59));
    assert!(
        first.upkeep().await.expect("upkeep").queued.is_empty(),
        "not before one"
    );
    clock.advance(TimeDelta::minutes(1));
    assert_eq!(
        first.upkeep().await.expect("upkeep").queued,
        ["tick"],
        "one o'clock"
    );
}

#[tokio::test]
async fn when_the_leader_stops_another_worker_takes_over() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let first = ticking_worker(&database, &clock, counting());
    let second = ticking_worker(&database, &clock, counting());
    assert!(first.upkeep().await.expect("upkeep").leads);
    assert!(!second.upkeep().await.expect("upkeep").leads);

    // A worker stopping cleanly hands the leadership over at once.
    let shutdown = tokio_util::sync::CancellationToken::new();
    shutdown.cancel();
    first.run(shutdown).await;
    assert!(second.upkeep().await.expect("upkeep").leads);
}

#[tokio::test]
async fn a_silent_workers_job_goes_to_another_before_its_lease_ends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    let handler = counting();
    let lost = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()));
    let survivor = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()))
        .with_handler("greet", handler.clone());
    assert!(lost.upkeep().await.expect("upkeep").leads);
    survivor.upkeep().await.expect("upkeep");
    let id = schedule(&database, "greet", &clock).await;
    // The lost worker takes the job and dies before running it: no handler, no report.
    let mut repository = database.transaction().await.expect("transaction");
    let claimed = repository
        .jobs()
        .claim(lost.id(), clock.now(), std::time::Duration::from_secs(300))
        .await
        .expect("claim")
        .expect("the job");
    repository.commit().await.expect("commit");
    assert_eq!(claimed.id, id);

    // Three minutes later the survivor, still sending heartbeats, leads and hands the job over.
    clock.advance(TimeDelta::seconds(30));
    survivor.upkeep().await.expect("upkeep");
    clock.advance(TimeDelta::seconds(150));
    let upkeep = survivor.upkeep().await.expect("upkeep");
    assert!(upkeep.leads);
    assert_eq!(upkeep.lost_workers, 1);
    let ran = survivor
        .run_once()
        .await
        .expect("queue")
        .expect("the lost worker's job");
    assert_eq!(ran.id, id);
    assert_eq!(ran.status, JobStatus::Completed);
    assert_eq!(handler.runs.load(Ordering::SeqCst), 1);
}

/// A handler that tells the test each time it runs.
struct Telling(tokio::sync::mpsc::UnboundedSender<ulid::Ulid>);

#[async_trait]
impl JobHandler for Telling {
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        self.0.send(job.id).map_err(|_| "the test is gone")?;
        Ok(())
    }
}

/// Runs a worker on `worker_side` that looks at the queue once an hour on its own, queues a
/// job through `queue_side`, and checks that the worker runs it: it was woken up.
async fn a_queued_job_wakes_the_worker(worker_side: Database, queue_side: Database) {
    let clock = clock();
    let (sender, mut ran) = tokio::sync::mpsc::unbounded_channel();
    let worker = Worker::new(Arc::new(worker_side), Arc::new(clock.clone()))
        .with_handler("greet", Arc::new(Telling(sender)))
        .with_poll_interval(std::time::Duration::from_secs(3600));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));
    // The worker is idle, or about to be: the first look found nothing.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let id = schedule(&queue_side, "greet", &clock).await;
    // Bounded so that a worker left asleep fails the test rather than hanging it.
    let woken = tokio::time::timeout(std::time::Duration::from_secs(60), ran.recv()).await;
    shutdown.cancel();
    running.await.expect("the worker stops");
    assert_eq!(woken.ok().flatten(), Some(id), "the worker ran the new job");
}

#[tokio::test]
async fn a_job_queued_in_the_same_process_wakes_the_worker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    a_queued_job_wakes_the_worker(database.clone(), database).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_a_job_queued_by_another_process_wakes_the_worker() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    // Two pools: two processes, as far as PostgreSQL can tell.
    let worker_side = portcullis_storage_sql::testing::connect_postgres(&uri).await;
    worker_side.migrate().await.expect("migrations apply");
    let queue_side = portcullis_storage_sql::testing::connect_postgres(&uri).await;
    a_queued_job_wakes_the_worker(worker_side.clone(), queue_side.clone()).await;
    worker_side.close().await;
    queue_side.close().await;
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}

/// A handler whose jobs each wait until `MAX_CONCURRENT_JOBS` of them are running.
struct Meeting(tokio::sync::Barrier);

#[async_trait]
impl JobHandler for Meeting {
    async fn run(&self, _job: &Job) -> Result<(), JobError> {
        self.0.wait().await;
        Ok(())
    }
}

#[tokio::test]
async fn a_worker_runs_up_to_ten_jobs_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let clock = clock();
    // One more than the limit: the last one runs alone, after the others met.
    for _ in 0..=portcullis_worker::MAX_CONCURRENT_JOBS {
        schedule(&database, "meet", &clock).await;
    }
    let meeting = Arc::new(Meeting(tokio::sync::Barrier::new(
        portcullis_worker::MAX_CONCURRENT_JOBS,
    )));
    let worker = Worker::new(Arc::new(database.clone()), Arc::new(clock.clone()))
        .with_handler("meet", meeting)
        .with_poll_interval(std::time::Duration::from_millis(50));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));

    // Run one at a time, the first job would wait for the others forever; bounded so that
    // such a worker fails the test rather than hanging it. The eleventh waits at the barrier
    // until it is released by nine more meetings that never come: it stays running.
    let mut completed = 0;
    for _ in 0..600 {
        let mut repository = database.read_transaction().await.expect("a unit of work");
        completed = repository
            .jobs()
            .count_by_status(JobStatus::Completed)
            .await
            .expect("counted");
        repository.rollback().await.expect("rolled back");
        if completed >= portcullis_worker::MAX_CONCURRENT_JOBS as u64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    running.abort();
    assert_eq!(completed, portcullis_worker::MAX_CONCURRENT_JOBS as u64);
}
