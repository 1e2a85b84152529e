//! What the job tests share: a worker with every handler, over a real, migrated SQLite
//! database, an in-memory homeserver and mailer, and a mock clock.

use std::sync::Arc;

use chrono::{TimeZone as _, Utc};
use portcullis_email::Mailer;
use portcullis_homeserver::MemoryHomeserver;
use portcullis_jobs::JobContext;
use portcullis_model::{JobStatus, MockClock};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use portcullis_worker::Worker;

pub struct World {
    pub database: Database,
    pub clock: MockClock,
    pub homeserver: Arc<MemoryHomeserver>,
    pub mailer: Mailer,
    pub worker: Worker,
    _dir: tempfile::TempDir,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = Database::connect(
        &ConnectOptions::Sqlite {
            path: dir.path().join("jobs.db"),
        },
        &PoolOptions::default(),
    )
    .await
    .expect("SQLite opens");
    database.migrate().await.expect("migrations apply");
    let clock = MockClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0)
            .single()
            .expect("a valid instant"),
    );
    let homeserver = Arc::new(MemoryHomeserver::new("example.com"));
    let mailer = Mailer::memory();
    let context = JobContext {
        repositories: Arc::new(database.clone()),
        homeserver: homeserver.clone(),
        clock: Arc::new(clock.clone()),
        mailer: mailer.clone(),
    };
    let worker = portcullis_jobs::register(
        Worker::new(Arc::new(database.clone()), Arc::new(clock.clone())),
        &context,
    );
    World {
        database,
        clock,
        homeserver,
        mailer,
        worker,
        _dir: dir,
    }
}

impl World {
    /// Runs every due job; the status each ended in.
    pub async fn run_due(&self) -> Vec<JobStatus> {
        let mut statuses = Vec::new();
        while let Some(ran) = self.worker.run_once().await.expect("the queue works") {
            statuses.push(ran.status);
        }
        statuses
    }
}
