//! The database time of a piece of work, as the request and job spans report it.

use std::time::Duration;

use portcullis_model::{Clock, MockClock};
use portcullis_storage_sql::timing::measured;

use crate::support::{commit, repo};

backend_test!(
    async fn statements_count_towards_the_work_that_ran_them(db: Database) {
        let work = async {
            let mut tx = repo(&db).await;
            tx.users()
                .add("alice", MockClock::default().now())
                .await
                .expect("the user is added");
            commit(tx).await;
        };
        let ((), spent) = measured(work).await;
        assert!(spent > Duration::ZERO, "the statements were timed");

        // Work that does not touch the database spends no time there.
        let ((), idle) = measured(async {}).await;
        assert_eq!(idle, Duration::ZERO);
    }
);
