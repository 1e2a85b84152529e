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
    async fn a_token_is_found_by_its_hash_and_read_back_in_clear(db: Database) {
        // Administrators read registration tokens back (the Admin API lists them, as MAS's
        // does), so the clear value is kept; lookups go through the hash.
        let mut tx = repo(&db).await;
        let added = tx
            .registration_tokens()
            .add(TOKEN, Some(1), None, start())
            .await
            .expect("added");
        commit(tx).await;
        assert_eq!(added.token.as_deref(), Some(TOKEN));

        let rows = table_as_text(&db, "user_registration_tokens").await;
        assert_eq!(rows.len(), 1);
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
    async fn tokens_are_updated_unrevoked_and_listed_by_state(db: Database) {
        use chrono::TimeDelta;
        use portcullis_storage::{Pagination, RegistrationTokenChange, RegistrationTokenFilter};

        let mut tx = repo(&db).await;
        let fresh = tx
            .registration_tokens()
            .add("fresh", None, None, start())
            .await
            .expect("added");
        let used = tx
            .registration_tokens()
            .add("used", Some(1), None, start())
            .await
            .expect("added");
        tx.registration_tokens()
            .consume("used", start())
            .await
            .expect("consumed")
            .expect("accepted");
        let expiring = tx
            .registration_tokens()
            .add(
                "expiring",
                None,
                Some(start() + TimeDelta::hours(1)),
                start(),
            )
            .await
            .expect("added");
        let revoked = tx
            .registration_tokens()
            .add("revoked", None, None, start())
            .await
            .expect("added");
        tx.registration_tokens()
            .revoke(revoked.id, start())
            .await
            .expect("revoked");

        let later = start() + TimeDelta::hours(2);
        let filter = |f: fn(&mut RegistrationTokenFilter)| {
            let mut filter = RegistrationTokenFilter {
                used: None,
                revoked: None,
                expired: None,
                valid: None,
                now: later,
            };
            f(&mut filter);
            filter
        };
        let cases = [
            (filter(|f| f.used = Some(true)), vec![used.id]),
            (filter(|f| f.revoked = Some(true)), vec![revoked.id]),
            (filter(|f| f.expired = Some(true)), vec![expiring.id]),
            (filter(|f| f.valid = Some(true)), vec![fresh.id]),
            (
                filter(|f| f.valid = Some(false)),
                vec![used.id, expiring.id, revoked.id],
            ),
        ];
        for (filter, mut expected) in cases {
            let page = tx
                .registration_tokens()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            // Made at the same instant: their order is their random part's.
            let mut ids: Vec<_> = page.edges.iter().map(|t| t.id).collect();
            ids.sort();
            expected.sort();
            assert_eq!(ids, expected, "{filter:?}");
            assert_eq!(
                tx.registration_tokens()
                    .count(&filter)
                    .await
                    .expect("counted"),
                expected.len()
            );
        }

        let unrevoked = tx
            .registration_tokens()
            .unrevoke(revoked.id)
            .await
            .expect("unrevoked")
            .expect("found");
        assert_eq!(unrevoked.revoked_at, None);

        // Setting one field leaves the other; an explicit `None` clears.
        let updated = tx
            .registration_tokens()
            .update(
                expiring.id,
                &RegistrationTokenChange {
                    expires_at: None,
                    usage_limit: Some(Some(3)),
                },
            )
            .await
            .expect("updated")
            .expect("found");
        assert_eq!(updated.usage_limit, Some(3));
        assert_eq!(updated.expires_at, expiring.expires_at);
        let cleared = tx
            .registration_tokens()
            .update(
                expiring.id,
                &RegistrationTokenChange {
                    expires_at: Some(None),
                    usage_limit: None,
                },
            )
            .await
            .expect("updated")
            .expect("found");
        assert_eq!(cleared.expires_at, None);
        assert_eq!(cleared.usage_limit, Some(3));
        commit(tx).await;
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
