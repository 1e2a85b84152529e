//! Units of work running side by side.

use portcullis_model::{Clock, MockClock};

use crate::support::{commit, race, repo};

backend_test!(
    async fn concurrent_units_of_work_that_read_then_write_all_succeed(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;

        // On SQLite, a transaction that starts reading and then writes cannot take the write
        // lock if another wrote since its read began; units of work must queue from the start.
        let succeeded = race(&db, 20, |db, index| async move {
            let mut tx = repo(&db).await;
            let user = tx
                .users()
                .find_by_username("alice")
                .await
                .expect("lookup works");
            let user = user.expect("the user exists");
            tx.users()
                .set_can_request_admin(user, index % 2 == 0)
                .await
                .expect("the update succeeds");
            commit(tx).await;
            true
        })
        .await;

        assert_eq!(succeeded, 20);
    }
);
