//! The users.

use chrono::TimeDelta;
use portcullis_model::{Clock, MockClock};
use portcullis_storage::StorageError;

use crate::support::{commit, repo};

backend_test!(
    async fn an_added_user_can_be_found_by_id_and_by_username(db: Database) {
        let clock = MockClock::default();

        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let by_id = tx.users().find_by_id(user.id).await.expect("lookup works");
        let by_username = tx
            .users()
            .find_by_username("alice")
            .await
            .expect("lookup works");
        assert_eq!(by_id.as_ref(), Some(&user));
        assert_eq!(by_username.as_ref(), Some(&user));
        assert!(user.is_active());
        assert!(!user.can_request_admin);
    }
);

backend_test!(
    async fn an_unknown_username_finds_nobody(db: Database) {
        let mut tx = repo(&db).await;

        let found = tx
            .users()
            .find_by_username("nobody")
            .await
            .expect("lookup works");

        assert_eq!(found, None);
    }
);

backend_test!(
    async fn a_taken_username_is_a_conflict(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.users()
            .add("alice", clock.now())
            .await
            .expect("the first alice is added");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let second = tx.users().add("alice", clock.now()).await;

        assert!(
            matches!(second, Err(StorageError::Conflict(_))),
            "{second:?}"
        );
    }
);

backend_test!(
    async fn a_user_added_in_a_rolled_back_transaction_does_not_exist(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        tx.rollback().await.expect("the transaction rolls back");

        let mut tx = repo(&db).await;
        let found = tx
            .users()
            .find_by_username("alice")
            .await
            .expect("lookup works");

        assert_eq!(found, None);
    }
);

backend_test!(
    async fn a_locked_user_is_inactive_until_unlocked(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        clock.advance(TimeDelta::minutes(5));

        let locked = tx
            .users()
            .lock(user, clock.now())
            .await
            .expect("the user is locked");
        assert_eq!(locked.locked_at, Some(clock.now()));
        assert!(!locked.is_active());

        let unlocked = tx
            .users()
            .unlock(locked)
            .await
            .expect("the user is unlocked");
        assert_eq!(unlocked.locked_at, None);
        assert!(unlocked.is_active());
    }
);

backend_test!(
    async fn locking_a_locked_user_keeps_the_first_lock_time(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        let first = tx
            .users()
            .lock(user, clock.now())
            .await
            .expect("the user is locked");
        clock.advance(TimeDelta::hours(1));

        let again = tx
            .users()
            .lock(first.clone(), clock.now())
            .await
            .expect("locking again works");

        assert_eq!(again.locked_at, first.locked_at);
    }
);

backend_test!(
    async fn locking_a_deleted_user_is_not_found(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        tx.rollback().await.expect("the transaction rolls back");

        let mut tx = repo(&db).await;
        let locked = tx.users().lock(user, clock.now()).await;

        assert!(
            matches!(locked, Err(StorageError::NotFound { entity: "user", .. })),
            "{locked:?}"
        );
    }
);

backend_test!(
    async fn the_admin_permission_is_stored(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");

        let updated = tx
            .users()
            .set_can_request_admin(user, true)
            .await
            .expect("updated");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .users()
            .find_by_id(updated.id)
            .await
            .expect("lookup works");
        assert!(found.expect("the user exists").can_request_admin);
    }
);

backend_test!(
    async fn users_are_listed_oldest_first_up_to_the_limit(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        for name in ["carol", "alice", "bob"] {
            tx.users()
                .add(name, clock.now())
                .await
                .expect("the user is added");
            clock.advance(TimeDelta::seconds(1));
        }

        let listed = tx.users().list(2).await.expect("users can be listed");

        let names: Vec<_> = listed.iter().map(|user| user.username.as_str()).collect();
        assert_eq!(names, ["carol", "alice"]);
    }
);

backend_test!(
    async fn a_deactivated_user_is_inactive_until_reactivated(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        let deactivated_at = clock.now();
        let deactivated = tx
            .users()
            .deactivate(user, deactivated_at)
            .await
            .expect("the user is deactivated");
        assert_eq!(deactivated.deactivated_at, Some(deactivated_at));
        assert!(!deactivated.is_active());

        clock.advance(TimeDelta::minutes(5));
        let again = tx
            .users()
            .deactivate(deactivated, clock.now())
            .await
            .expect("deactivating again works");
        assert_eq!(again.deactivated_at, Some(deactivated_at));

        let reactivated = tx
            .users()
            .reactivate(again)
            .await
            .expect("the user is reactivated");
        assert_eq!(reactivated.deactivated_at, None);
        assert!(reactivated.is_active());
    }
);

backend_test!(
    async fn new_ids_are_the_instant_and_the_given_random_source(db: Database) {
        use rand::{RngCore as _, SeedableRng as _, rngs::StdRng};

        let db = db.with_random_source(StdRng::seed_from_u64(7));
        let mut same_source = StdRng::seed_from_u64(7);
        let now = MockClock::default().now();

        let mut tx = repo(&db).await;
        let alice = tx.users().add("alice", now).await.expect("added");
        let bob = tx.users().add("bob", now).await.expect("added");
        commit(tx).await;

        for user in [alice, bob] {
            let random =
                (u128::from(same_source.next_u64()) << 64) | u128::from(same_source.next_u64());
            let millis = u64::try_from(now.timestamp_millis()).expect("after 1970");
            assert_eq!(user.id, ulid::Ulid::from_parts(millis, random));
        }
    }
);
