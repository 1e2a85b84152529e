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
