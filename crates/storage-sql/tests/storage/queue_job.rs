//! The background job queue.

use std::time::Duration;

use chrono::TimeDelta;
use portcullis_model::{
    Clock, JobStatus, MockClock,
    queue::{DEFAULT_MAX_ATTEMPTS, retry_delay},
};
use portcullis_storage::StorageError;
use serde_json::json;

use crate::support::{ROUNDS, commit, race, repo};

const LEASE: Duration = Duration::from_secs(60);

backend_test!(
    async fn a_job_is_not_claimed_before_its_time(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let run_at = clock.now() + TimeDelta::minutes(1);
        tx.jobs()
            .schedule("send-email", json!({}), run_at, clock.now())
            .await
            .expect("scheduled");

        let early = tx
            .jobs()
            .claim("worker-1", clock.now(), LEASE)
            .await
            .expect("ok");
        clock.advance(TimeDelta::minutes(1));
        let on_time = tx
            .jobs()
            .claim("worker-1", clock.now(), LEASE)
            .await
            .expect("ok");

        assert_eq!(early, None);
        assert!(on_time.is_some());
    }
);

backend_test!(
    async fn a_claimed_job_runs_under_its_worker_lease(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let payload = json!({ "user_id": "01HZX", "devices": ["A", "B"] });
        let scheduled = tx
            .jobs()
            .schedule("provision-user", payload.clone(), clock.now(), clock.now())
            .await
            .expect("scheduled");
        assert_eq!(scheduled.status, JobStatus::Available);
        assert_eq!(scheduled.attempts, 0);

        let claimed = tx
            .jobs()
            .claim("worker-1", clock.now(), LEASE)
            .await
            .expect("ok");

        let claimed = claimed.expect("the job is due");
        assert_eq!(claimed.id, scheduled.id);
        assert_eq!(claimed.kind, "provision-user");
        assert_eq!(claimed.payload, payload);
        assert_eq!(claimed.status, JobStatus::Running);
        assert_eq!(claimed.attempts, 1);
        assert_eq!(claimed.max_attempts, DEFAULT_MAX_ATTEMPTS);
        assert_eq!(claimed.locked_by.as_deref(), Some("worker-1"));
        assert_eq!(
            claimed.locked_until,
            Some(clock.now() + TimeDelta::seconds(60))
        );
        assert_eq!(
            tx.jobs()
                .claim("worker-2", clock.now(), LEASE)
                .await
                .expect("ok"),
            None
        );
    }
);

backend_test!(
    async fn jobs_are_claimed_oldest_first(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let now = clock.now();
        let later = tx
            .jobs()
            .schedule("b", json!({}), now, now)
            .await
            .expect("scheduled");
        let sooner = tx
            .jobs()
            .schedule("a", json!({}), now - TimeDelta::seconds(1), now)
            .await
            .expect("scheduled");

        let first = tx
            .jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");
        let second = tx
            .jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");

        assert_eq!(first.id, sooner.id);
        assert_eq!(second.id, later.id);
    }
);

backend_test!(
    async fn twenty_concurrent_workers_claiming_one_job_have_one_winner(db: Database) {
        let clock = MockClock::default();
        // A race can go right by luck: run several, with the pool's connections warm after the
        // first, so that the claims really overlap.
        for round in 1..=ROUNDS {
            let now = clock.now();
            let mut tx = repo(&db).await;
            tx.jobs()
                .schedule("send-email", json!({}), now, now)
                .await
                .expect("scheduled");
            commit(tx).await;

            let winners = race(&db, 20, move |db, worker| async move {
                let mut tx = repo(&db).await;
                let claimed = tx
                    .jobs()
                    .claim(&format!("worker-{worker}"), now, LEASE)
                    .await
                    .expect("claiming works");
                commit(tx).await;
                claimed.is_some()
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
            let mut tx = repo(&db).await;
            let running = tx
                .jobs()
                .count_by_status(JobStatus::Running)
                .await
                .expect("counted");
            assert_eq!(running, u64::from(round));
        }
    }
);

backend_test!(
    async fn a_completed_job_is_finished_and_never_claimed_again(db: Database) {
        let clock = MockClock::default();
        let now = clock.now();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), now, now)
            .await
            .expect("scheduled");
        tx.jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");
        clock.advance(TimeDelta::seconds(3));

        let completed = tx
            .jobs()
            .complete(job.id, clock.now())
            .await
            .expect("completed");

        assert_eq!(completed.status, JobStatus::Completed);
        assert_eq!(completed.finished_at, Some(clock.now()));
        assert_eq!(completed.locked_by, None);
        clock.advance(TimeDelta::hours(1));
        assert_eq!(
            tx.jobs()
                .claim("worker", clock.now(), LEASE)
                .await
                .expect("ok"),
            None
        );
    }
);

backend_test!(
    async fn completing_a_job_that_is_not_running_is_a_conflict(db: Database) {
        let clock = MockClock::default();
        let now = clock.now();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), now, now)
            .await
            .expect("scheduled");

        let completed = tx.jobs().complete(job.id, now).await;

        assert!(
            matches!(completed, Err(StorageError::Conflict(_))),
            "{completed:?}"
        );
    }
);

backend_test!(
    async fn failing_an_unknown_job_is_not_found(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;

        let failed = tx
            .jobs()
            .fail(portcullis_model::Ulid::new(), "boom", clock.now())
            .await;

        assert!(
            matches!(failed, Err(StorageError::NotFound { entity: "job", .. })),
            "{failed:?}"
        );
    }
);

backend_test!(
    async fn a_failed_job_is_retried_after_its_back_off(db: Database) {
        let clock = MockClock::default();
        let now = clock.now();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), now, now)
            .await
            .expect("scheduled");
        tx.jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");

        let failed = tx
            .jobs()
            .fail(job.id, "homeserver unreachable", now)
            .await
            .expect("failed");

        assert_eq!(failed.status, JobStatus::Available);
        assert_eq!(failed.run_at, now + retry_delay(1));
        assert_eq!(failed.last_error.as_deref(), Some("homeserver unreachable"));
        assert_eq!(failed.locked_by, None);
        let before = clock.now() + retry_delay(1) - TimeDelta::microseconds(1);
        assert_eq!(
            tx.jobs().claim("worker", before, LEASE).await.expect("ok"),
            None
        );
        let retried = tx
            .jobs()
            .claim("worker", now + retry_delay(1), LEASE)
            .await
            .expect("ok");
        assert_eq!(retried.expect("the retry is due").attempts, 2);
    }
);

backend_test!(
    async fn a_job_failing_every_attempt_ends_failed_after_max_attempts(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), clock.now(), clock.now())
            .await
            .expect("scheduled");

        let mut last = None;
        for attempt in 1..=DEFAULT_MAX_ATTEMPTS {
            let claimed = tx
                .jobs()
                .claim("worker", clock.now(), LEASE)
                .await
                .expect("ok");
            assert_eq!(claimed.expect("the attempt is due").attempts, attempt);
            let failed = tx
                .jobs()
                .fail(job.id, "boom", clock.now())
                .await
                .expect("failed");
            clock.advance(retry_delay(attempt));
            last = Some(failed);
        }

        let last = last.expect("at least one attempt");
        assert_eq!(last.status, JobStatus::Failed);
        assert_eq!(last.attempts, DEFAULT_MAX_ATTEMPTS);
        assert!(last.finished_at.is_some());
        clock.advance(TimeDelta::days(1));
        assert_eq!(
            tx.jobs()
                .claim("worker", clock.now(), LEASE)
                .await
                .expect("ok"),
            None
        );
        assert_eq!(
            tx.jobs()
                .count_by_status(JobStatus::Failed)
                .await
                .expect("counted"),
            1
        );
    }
);

backend_test!(
    async fn an_expired_lease_makes_a_running_job_claimable_again(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), clock.now(), clock.now())
            .await
            .expect("scheduled");
        tx.jobs()
            .claim("worker-1", clock.now(), LEASE)
            .await
            .expect("ok")
            .expect("due");

        clock.advance(TimeDelta::seconds(59));
        let during_lease = tx
            .jobs()
            .claim("worker-2", clock.now(), LEASE)
            .await
            .expect("ok");
        clock.advance(TimeDelta::seconds(1));
        let after_lease = tx
            .jobs()
            .claim("worker-2", clock.now(), LEASE)
            .await
            .expect("ok");

        assert_eq!(during_lease, None);
        let taken_over = after_lease.expect("the job is claimable again");
        assert_eq!(taken_over.id, job.id);
        assert_eq!(taken_over.locked_by.as_deref(), Some("worker-2"));
        assert_eq!(taken_over.attempts, 2);
    }
);

backend_test!(
    async fn a_lease_expiring_during_the_last_attempt_fails_the_job(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let job = tx
            .jobs()
            .schedule("a", json!({}), clock.now(), clock.now())
            .await
            .expect("scheduled");
        for _ in 0..DEFAULT_MAX_ATTEMPTS {
            tx.jobs()
                .claim("worker", clock.now(), LEASE)
                .await
                .expect("ok")
                .expect("due");
            clock.advance(TimeDelta::seconds(60));
        }

        let claimed = tx
            .jobs()
            .claim("worker", clock.now(), LEASE)
            .await
            .expect("ok");

        assert_eq!(claimed, None);
        let job = tx
            .jobs()
            .find(job.id)
            .await
            .expect("lookup")
            .expect("the job exists");
        assert_eq!(job.status, JobStatus::Failed);
        assert_eq!(job.finished_at, Some(clock.now()));
    }
);

backend_test!(
    async fn jobs_are_counted_by_status(db: Database) {
        let clock = MockClock::default();
        let now = clock.now();
        let mut tx = repo(&db).await;
        for kind in ["a", "b", "c"] {
            tx.jobs()
                .schedule(kind, json!({}), now, now)
                .await
                .expect("scheduled");
        }
        let claimed = tx
            .jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");
        tx.jobs()
            .complete(claimed.id, now)
            .await
            .expect("completed");
        tx.jobs()
            .claim("worker", now, LEASE)
            .await
            .expect("ok")
            .expect("due");

        let available = tx
            .jobs()
            .count_by_status(JobStatus::Available)
            .await
            .expect("counted");
        let running = tx
            .jobs()
            .count_by_status(JobStatus::Running)
            .await
            .expect("counted");
        let completed = tx
            .jobs()
            .count_by_status(JobStatus::Completed)
            .await
            .expect("counted");
        let failed = tx
            .jobs()
            .count_by_status(JobStatus::Failed)
            .await
            .expect("counted");

        assert_eq!((available, running, completed, failed), (1, 1, 1, 0));
    }
);
