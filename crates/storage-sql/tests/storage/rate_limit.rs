//! The rate limits' buckets: one attempt counted at a time, only while it fits, through a unit
//! of work of single statements; writing them leaves cached reads valid.

use chrono::TimeDelta;
use portcullis_storage::RepositoryFactory as _;
use portcullis_storage_sql::Database;

use crate::fixtures::start;

const MINUTE: TimeDelta = TimeDelta::minutes(1);

/// Counts one attempt of `key` (three at once, then one a minute) at `now`, as the shared
/// limiters do: in a writer of its own, committed.
async fn take(
    db: &Database,
    key: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let mut unit = db.writer().await.expect("a writer");
    let refused = unit
        .rate_limits()
        .take("login.per_ip", key, now, MINUTE, 3)
        .await
        .expect("counted or refused");
    unit.commit().await.expect("committed");
    refused
}

backend_test!(
    async fn a_bucket_counts_its_burst_then_one_a_period(db: Database) {
        let before = db.committed_changes();
        for _ in 0..3 {
            assert_eq!(take(&db, "192.0.2.1", start()).await, None);
        }
        // The fourth is refused, and says where the bucket stands: three minutes from now.
        assert_eq!(
            take(&db, "192.0.2.1", start()).await,
            Some(start() + MINUTE * 3)
        );
        // A refusal changes nothing: still refused a second later.
        let second = start() + TimeDelta::seconds(1);
        assert_eq!(
            take(&db, "192.0.2.1", second).await,
            Some(start() + MINUTE * 3)
        );
        // Other keys and other limiters have buckets of their own.
        assert_eq!(take(&db, "192.0.2.2", start()).await, None);
        // A minute later, one more fits.
        let later = start() + MINUTE;
        assert_eq!(take(&db, "192.0.2.1", later).await, None);
        assert!(take(&db, "192.0.2.1", later).await.is_some());
        // Long after, the bucket is full again: the burst again.
        let much_later = start() + TimeDelta::hours(1);
        for _ in 0..3 {
            assert_eq!(take(&db, "192.0.2.1", much_later).await, None);
        }

        assert_eq!(
            db.committed_changes(),
            before,
            "no cache reads the buckets: writing them leaves cached reads valid"
        );

        let mut unit = db.transaction().await.expect("a unit of work");
        let deleted = unit
            .rate_limits()
            .delete_full_buckets(much_later)
            .await
            .expect("deleted");
        unit.commit().await.expect("committed");
        assert_eq!(deleted, 1, "the second address's bucket, full again");
    }
);
