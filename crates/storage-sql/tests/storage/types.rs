//! How ids and instants are stored.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use portcullis_storage_sql::Backend;

use crate::support::{commit, repo};

fn instant_with_nanoseconds() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59)
        .single()
        .expect("valid date")
        + TimeDelta::nanoseconds(123_456_789)
}

backend_test!(
    async fn instants_round_trip_in_utc_to_the_microsecond(db: Database) {
        let now = instant_with_nanoseconds();

        let mut tx = repo(&db).await;
        let added = tx
            .users()
            .add("alice", now)
            .await
            .expect("the user is added");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx.users().find_by_id(added.id).await.expect("lookup works");
        let expected = Utc
            .with_ymd_and_hms(2024, 2, 29, 23, 59, 59)
            .single()
            .expect("valid date")
            + TimeDelta::microseconds(123_456);
        assert_eq!(added.created_at, expected);
        assert_eq!(found.expect("the user exists").created_at, expected);
    }
);

backend_test!(
    async fn ids_are_stored_as_native_ulids(db: Database) {
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", instant_with_nanoseconds())
            .await
            .expect("added");
        commit(tx).await;

        // PostgreSQL holds the ULID's 128 bits in a UUID column; SQLite its canonical text.
        let stored: String = match db.backend() {
            Backend::Postgres => sqlx::query_scalar("SELECT user_id::text FROM users")
                .fetch_one(db.postgres_pool().expect("a PostgreSQL database"))
                .await
                .expect("the users table can be read"),
            Backend::Sqlite => sqlx::query_scalar("SELECT user_id FROM users")
                .fetch_one(db.sqlite_pool().expect("a SQLite database"))
                .await
                .expect("the users table can be read"),
        };
        let expected = match db.backend() {
            Backend::Postgres => uuid::Uuid::from(user.id).to_string(),
            Backend::Sqlite => user.id.to_string(),
        };
        assert_eq!(stored, expected);
        assert_eq!(
            user.id.timestamp_ms(),
            u64::try_from(instant_with_nanoseconds().timestamp_millis()).expect("after 1970")
        );
    }
);
