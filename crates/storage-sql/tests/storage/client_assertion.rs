//! The accepted client assertions, remembered against replays.

use chrono::TimeDelta;

use crate::{
    fixtures::{start, world},
    support::{commit, repo},
};

backend_test!(
    async fn an_assertion_is_accepted_the_first_time_only(db: Database) {
        let world = world(&db).await;
        let expires_at = start() + TimeDelta::minutes(5);
        let mut tx = repo(&db).await;

        let first = tx
            .oauth_client_assertions()
            .record_jti(&world.client, "jti-1", expires_at, start())
            .await
            .expect("recorded");
        let again = tx
            .oauth_client_assertions()
            .record_jti(&world.client, "jti-1", expires_at, start())
            .await
            .expect("recorded");
        let other = tx
            .oauth_client_assertions()
            .record_jti(&world.client, "jti-2", expires_at, start())
            .await
            .expect("recorded");

        assert!(first);
        assert!(!again);
        assert!(other);
    }
);

backend_test!(
    async fn a_replay_is_detected_across_transactions(db: Database) {
        let world = world(&db).await;
        let expires_at = start() + TimeDelta::minutes(5);
        let mut tx = repo(&db).await;
        assert!(
            tx.oauth_client_assertions()
                .record_jti(&world.client, "jti", expires_at, start())
                .await
                .expect("recorded")
        );
        commit(tx).await;

        let mut tx = repo(&db).await;
        let replayed = tx
            .oauth_client_assertions()
            .record_jti(
                &world.client,
                "jti",
                expires_at,
                start() + TimeDelta::minutes(1),
            )
            .await
            .expect("recorded");

        assert!(!replayed);
    }
);

backend_test!(
    async fn expired_entries_are_forgotten(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        tx.oauth_client_assertions()
            .record_jti(
                &world.client,
                "jti",
                start() + TimeDelta::minutes(1),
                start(),
            )
            .await
            .expect("recorded");

        // Once the first assertion has expired, its entry goes; an assertion reusing the jti
        // with a later expiry is then new.
        let later = start() + TimeDelta::minutes(2);
        let reused = tx
            .oauth_client_assertions()
            .record_jti(&world.client, "jti", later + TimeDelta::minutes(5), later)
            .await
            .expect("recorded");

        assert!(reused);
    }
);
