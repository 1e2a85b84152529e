//! The worker against a real (SQLite) queue.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use chrono::{TimeDelta, TimeZone as _, Utc};
use portcullis_model::{Clock as _, Job, JobStatus, MockClock};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use portcullis_worker::{JobError, JobHandler, PeriodicTask, Worker};

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

/// Sends the time of each of its runs; fails its first run, to show that
/// a failure does not stop it.
struct Ticking {
    runs: AtomicUsize,
    times: tokio::sync::mpsc::UnboundedSender<tokio::time::Instant>,
}

#[async_trait]
impl PeriodicTask for Ticking {
    async fn run(&self) -> Result<(), JobError> {
        let previous = self.runs.fetch_add(1, Ordering::SeqCst);
        self.times
            .send(tokio::time::Instant::now())
            .map_err(|_| "the test is gone")?;
        if previous == 0 {
            Err("the first run fails".into())
        } else {
            Ok(())
        }
    }
}

#[tokio::test]
async fn a_periodic_task_runs_at_start_then_once_per_interval_even_after_a_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let (sender, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let interval = std::time::Duration::from_millis(200);
    let worker = Worker::new(Arc::new(database), Arc::new(clock()))
        .with_poll_interval(std::time::Duration::from_millis(20))
        .with_periodic_task(
            "ticking",
            interval,
            Arc::new(Ticking {
                runs: AtomicUsize::new(0),
                times: sender,
            }),
        );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));

    let first = runs.recv().await.expect("a first run");
    let second = runs.recv().await.expect("a second run");
    let third = runs.recv().await.expect("a third run");
    shutdown.cancel();
    running.await.expect("the worker stops");

    assert!(second - first >= interval, "not again before the interval");
    assert!(
        third - second >= interval,
        "the failed first run changed nothing"
    );
}

#[tokio::test]
async fn a_periodic_task_runs_when_the_worker_starts_without_waiting_for_its_interval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = database(&dir).await;
    let (sender, mut runs) = tokio::sync::mpsc::unbounded_channel();
    let day = std::time::Duration::from_secs(86_400);
    let worker = Worker::new(Arc::new(database), Arc::new(clock())).with_periodic_task(
        "daily",
        day,
        Arc::new(Ticking {
            runs: AtomicUsize::new(1),
            times: sender,
        }),
    );
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(shutdown.clone()));

    runs.recv().await.expect("a run at start");
    shutdown.cancel();
    running.await.expect("the worker stops");
    assert!(runs.try_recv().is_err(), "only one run in this day");
}
