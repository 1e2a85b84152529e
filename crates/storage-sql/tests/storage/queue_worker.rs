//! The workers sharing the queue: heartbeats, the leader's lease, lost workers, schedules.

use std::time::Duration;

use chrono::TimeDelta;
use portcullis_model::{Clock, JobStatus, MockClock};
use serde_json::json;

use crate::support::{ROUNDS, commit, race, repo};

const LEASE: Duration = Duration::from_secs(10);

backend_test!(
    async fn one_worker_leads_until_its_lease_runs_out(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let now = clock.now();
        assert!(
            tx.queue_workers()
                .try_lead("a", now, LEASE)
                .await
                .expect("ok")
        );
        assert!(
            !tx.queue_workers()
                .try_lead("b", now, LEASE)
                .await
                .expect("ok")
        );
        // The leader renews its lease; the other still cannot take it.
        clock.advance(TimeDelta::seconds(5));
        assert!(
            tx.queue_workers()
                .try_lead("a", clock.now(), LEASE)
                .await
                .expect("ok")
        );
        clock.advance(TimeDelta::seconds(9));
        assert!(
            !tx.queue_workers()
                .try_lead("b", clock.now(), LEASE)
                .await
                .expect("ok")
        );
        // Silent for a whole lease: the other takes over.
        clock.advance(TimeDelta::seconds(10));
        assert!(
            tx.queue_workers()
                .try_lead("b", clock.now(), LEASE)
                .await
                .expect("ok")
        );
        assert!(
            !tx.queue_workers()
                .try_lead("a", clock.now(), LEASE)
                .await
                .expect("ok")
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn a_stopping_leader_hands_over_at_once(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let workers = tx.queue_workers();
        workers.register("a", clock.now()).await.expect("ok");
        assert!(workers.try_lead("a", clock.now(), LEASE).await.expect("ok"));
        workers.stop("a", clock.now()).await.expect("ok");
        assert!(workers.try_lead("b", clock.now(), LEASE).await.expect("ok"));
        // A stopped worker's heartbeat tells it to register again.
        assert!(!workers.heartbeat("a", clock.now()).await.expect("ok"));
        commit(tx).await;
    }
);

backend_test!(
    async fn only_one_of_racing_workers_leads(db: Database) {
        for round in 0..ROUNDS {
            let now = MockClock::default().now() + TimeDelta::minutes(i64::from(round));
            let leaders = race(&db, 4, move |db, index| async move {
                let mut tx = repo(&db).await;
                let leads = tx
                    .queue_workers()
                    .try_lead(&format!("worker-{round}-{index}"), now, LEASE)
                    .await
                    .expect("ok");
                commit(tx).await;
                leads
            })
            .await;
            assert_eq!(leaders, 1, "round {round}");
        }
    }
);

backend_test!(
    async fn a_silent_worker_is_declared_lost_and_its_job_handed_over(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.queue_workers()
            .register("lost", clock.now())
            .await
            .expect("ok");
        tx.queue_workers()
            .register("alive", clock.now())
            .await
            .expect("ok");
        let job = tx
            .jobs()
            .schedule("provision-user", json!({}), clock.now(), clock.now())
            .await
            .expect("scheduled");
        let claimed = tx
            .jobs()
            .claim("lost", clock.now(), Duration::from_secs(300))
            .await
            .expect("ok")
            .expect("a job");
        assert_eq!(claimed.id, job.id);

        clock.advance(TimeDelta::minutes(3));
        assert!(
            tx.queue_workers()
                .heartbeat("alive", clock.now())
                .await
                .expect("ok")
        );
        let silent_since = clock.now() - TimeDelta::minutes(2);
        let lost = tx
            .queue_workers()
            .stop_silent(silent_since, clock.now())
            .await
            .expect("ok");
        assert_eq!(lost, 1);

        // Long before its lease of five minutes runs out, the job is another worker's.
        let again = tx
            .jobs()
            .claim("alive", clock.now(), Duration::from_secs(300))
            .await
            .expect("ok")
            .expect("the lost worker's job");
        assert_eq!(again.id, job.id);
        assert_eq!(again.status, JobStatus::Running);
        assert_eq!(again.attempts, 2);
        assert!(
            !tx.queue_workers()
                .heartbeat("lost", clock.now())
                .await
                .expect("ok")
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn a_schedule_slot_is_claimed_once(db: Database) {
        let clock = MockClock::default();
        let slot = clock.now();
        let mut tx = repo(&db).await;
        let workers = tx.queue_workers();
        assert_eq!(workers.last_scheduled("cleanup").await.expect("ok"), None);
        assert!(workers.claim_schedule("cleanup", slot).await.expect("ok"));
        assert!(!workers.claim_schedule("cleanup", slot).await.expect("ok"));
        let earlier = slot - TimeDelta::hours(1);
        assert!(
            !workers
                .claim_schedule("cleanup", earlier)
                .await
                .expect("ok")
        );
        assert_eq!(
            workers.last_scheduled("cleanup").await.expect("ok"),
            Some(slot)
        );
        let later = slot + TimeDelta::hours(1);
        assert!(workers.claim_schedule("cleanup", later).await.expect("ok"));
        commit(tx).await;

        let claims = race(&db, 4, move |db, _| async move {
            let mut tx = repo(&db).await;
            let next = later + TimeDelta::hours(1);
            let claimed = tx
                .queue_workers()
                .claim_schedule("cleanup", next)
                .await
                .expect("ok");
            commit(tx).await;
            claimed
        })
        .await;
        assert_eq!(claims, 1);
    }
);
