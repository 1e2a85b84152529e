//! The registration tokens.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use portcullis_model::token::hash_token;
use portcullis_storage::StorageError;

use crate::support::{ROUNDS, commit, race, repo, table_as_text};

const TOKEN: &str = "reg-token-9f8e7d6c5b4a";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0)
        .single()
        .expect("valid date")
}

backend_test!(
    async fn a_token_is_consumed_up_to_its_usage_limit(db: Database) {
        let mut tx = repo(&db).await;
        tx.registration_tokens()
            .add(TOKEN, Some(2), None, start())
            .await
            .expect("added");

        let first = tx
            .registration_tokens()
            .consume(TOKEN, start())
            .await
            .expect("ok");
        let second = tx
            .registration_tokens()
            .consume(TOKEN, start())
            .await
            .expect("ok");
        let third = tx
            .registration_tokens()
            .consume(TOKEN, start())
            .await
            .expect("ok");

        assert_eq!(first.expect("the first use is allowed").times_used, 1);
        let second = second.expect("the second use is allowed");
        assert_eq!(second.times_used, 2);
        assert_eq!(second.last_used_at, Some(start()));
        assert_eq!(third, None);
    }
);

backend_test!(
    async fn a_token_without_usage_limit_is_never_used_up(db: Database) {
        let mut tx = repo(&db).await;
        tx.registration_tokens()
            .add(TOKEN, None, None, start())
            .await
            .expect("added");

        for _ in 0..5 {
            tx.registration_tokens()
                .consume(TOKEN, start())
                .await
                .expect("ok")
                .expect("allowed");
        }

        let token = tx
            .registration_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");
        assert_eq!(token.expect("the token exists").times_used, 5);
    }
);

backend_test!(
    async fn a_token_is_refused_from_its_expiry_on(db: Database) {
        // Fractions of a second on purpose: instants must compare as times on both backends.
        let expires_at = start() + TimeDelta::milliseconds(100);
        let mut tx = repo(&db).await;
        tx.registration_tokens()
            .add(TOKEN, None, Some(expires_at), start())
            .await
            .expect("added");

        let just_before = expires_at - TimeDelta::microseconds(1);
        let before = tx
            .registration_tokens()
            .consume(TOKEN, just_before)
            .await
            .expect("ok");
        let at = tx
            .registration_tokens()
            .consume(TOKEN, expires_at)
            .await
            .expect("ok");
        let after = tx
            .registration_tokens()
            .consume(TOKEN, expires_at + TimeDelta::seconds(1))
            .await
            .expect("ok");

        assert!(before.is_some());
        assert_eq!(at, None);
        assert_eq!(after, None);
    }
);

backend_test!(
    async fn a_revoked_token_is_refused(db: Database) {
        let mut tx = repo(&db).await;
        let token = tx
            .registration_tokens()
            .add(TOKEN, None, None, start())
            .await
            .expect("added");

        let revoked = tx
            .registration_tokens()
            .revoke(token.id, start())
            .await
            .expect("revoked");
        let consumed = tx
            .registration_tokens()
            .consume(TOKEN, start())
            .await
            .expect("ok");

        assert_eq!(revoked.expect("the token exists").revoked_at, Some(start()));
        assert_eq!(consumed, None);
    }
);

backend_test!(
    async fn an_unknown_token_is_refused(db: Database) {
        let mut tx = repo(&db).await;
        tx.registration_tokens()
            .add(TOKEN, None, None, start())
            .await
            .expect("added");

        let consumed = tx
            .registration_tokens()
            .consume("not-the-token", start())
            .await
            .expect("ok");

        assert_eq!(consumed, None);
    }
);

backend_test!(
    async fn adding_the_same_token_twice_is_a_conflict(db: Database) {
        let mut tx = repo(&db).await;
        tx.registration_tokens()
            .add(TOKEN, None, None, start())
            .await
            .expect("added");

        let again = tx
            .registration_tokens()
            .add(TOKEN, Some(1), None, start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn only_the_hash_of_a_token_is_stored(db: Database) {
        let mut tx = repo(&db).await;
        let added = tx
            .registration_tokens()
            .add(TOKEN, Some(1), None, start())
            .await
            .expect("added");
        commit(tx).await;

        let rows = table_as_text(&db, "user_registration_tokens").await;

        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains(TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert!(
            rows[0].contains(&hash_token(TOKEN)),
            "the hash is missing: {}",
            rows[0]
        );
        let mut tx = repo(&db).await;
        let found = tx
            .registration_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");
        assert_eq!(found, Some(added));
    }
);

backend_test!(
    async fn twenty_concurrent_consumers_of_a_single_use_token_have_one_winner(db: Database) {
        // A race can go right by luck: run several, with the pool's connections warm after the
        // first, so that the consumptions really overlap.
        for round in 1..=ROUNDS {
            let token = format!("{TOKEN}-{round}");
            let mut tx = repo(&db).await;
            tx.registration_tokens()
                .add(&token, Some(1), None, start())
                .await
                .expect("added");
            commit(tx).await;

            let consumed = token.clone();
            let winners = race(&db, 20, move |db, _| {
                let token = consumed.clone();
                async move {
                    let mut tx = repo(&db).await;
                    let won = tx
                        .registration_tokens()
                        .consume(&token, start())
                        .await
                        .expect("ok");
                    commit(tx).await;
                    won.is_some()
                }
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
            let mut tx = repo(&db).await;
            let stored = tx
                .registration_tokens()
                .find_by_token(&token)
                .await
                .expect("lookup");
            assert_eq!(stored.expect("the token exists").times_used, 1);
        }
    }
);
