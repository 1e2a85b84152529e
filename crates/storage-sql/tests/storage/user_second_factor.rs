//! Second factors: TOTP authenticators and recovery codes.

use portcullis_model::User;
use portcullis_storage_sql::Database;

use crate::{
    fixtures::{add_user, start},
    support::{commit, race, repo, table_as_text},
};

/// `alice` with a confirmed authenticator, whose first code was of step 100.
async fn alice_enrolled(db: &Database) -> User {
    let mut tx = repo(db).await;
    let alice = add_user(&mut tx, "alice").await;
    tx.user_totp()
        .start(&alice, "encrypted-secret", start())
        .await
        .expect("stored")
        .expect("started");
    assert!(
        tx.user_totp()
            .confirm(&alice, 100, start())
            .await
            .expect("ok")
    );
    commit(tx).await;
    alice
}

backend_test!(
    async fn an_enrolment_is_replaced_until_confirmed_and_a_confirmed_one_is_kept(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let first = tx
            .user_totp()
            .start(&alice, "first-secret", start())
            .await
            .expect("stored")
            .expect("started");
        assert_eq!(first.confirmed_at, None);
        let second = tx
            .user_totp()
            .start(&alice, "second-secret", start())
            .await
            .expect("stored")
            .expect("an unconfirmed enrolment is replaced");
        assert_eq!(second.encrypted_secret, "second-secret");

        assert!(
            tx.user_totp()
                .confirm(&alice, 100, start())
                .await
                .expect("ok")
        );
        assert!(
            !tx.user_totp()
                .confirm(&alice, 101, start())
                .await
                .expect("ok"),
            "confirmed once"
        );
        let again = tx
            .user_totp()
            .start(&alice, "third-secret", start())
            .await
            .expect("stored");
        assert_eq!(again, None, "a confirmed authenticator is not replaced");
        let found = tx
            .user_totp()
            .find(&alice)
            .await
            .expect("found")
            .expect("there");
        commit(tx).await;

        assert_eq!(found.encrypted_secret, "second-secret");
        assert_eq!(found.confirmed_at, Some(start()));
        assert_eq!(found.last_used_step, Some(100));
    }
);

backend_test!(
    async fn a_time_step_is_accepted_once_and_never_an_earlier_one(db: Database) {
        let alice = alice_enrolled(&db).await;
        let mut tx = repo(&db).await;
        let totp = tx.user_totp();
        assert!(
            !totp.use_step(&alice, 100).await.expect("ok"),
            "the confirming code's step"
        );
        assert!(totp.use_step(&alice, 101).await.expect("ok"));
        assert!(!totp.use_step(&alice, 101).await.expect("ok"), "a replay");
        assert!(
            !totp.use_step(&alice, 99).await.expect("ok"),
            "an older step"
        );
        assert!(totp.use_step(&alice, 103).await.expect("ok"));
        commit(tx).await;
    }
);

backend_test!(
    async fn an_unconfirmed_enrolment_accepts_no_code_and_removal_ends_it(db: Database) {
        let mut tx = repo(&db).await;
        let bob = add_user(&mut tx, "bob").await;
        tx.user_totp()
            .start(&bob, "secret", start())
            .await
            .expect("stored")
            .expect("started");
        assert!(!tx.user_totp().use_step(&bob, 5).await.expect("ok"));
        assert!(tx.user_totp().remove(&bob).await.expect("removed"));
        assert!(
            !tx.user_totp().remove(&bob).await.expect("ok"),
            "nothing left"
        );
        assert_eq!(tx.user_totp().find(&bob).await.expect("ok"), None);
        commit(tx).await;
    }
);

backend_test!(
    async fn concurrent_codes_of_one_step_have_one_winner(db: Database) {
        let alice = alice_enrolled(&db).await;
        let winners = race(&db, 4, move |db, _| {
            let alice = alice.clone();
            async move {
                let mut tx = repo(&db).await;
                let won = tx.user_totp().use_step(&alice, 200).await.expect("ok");
                commit(tx).await;
                won
            }
        })
        .await;
        assert_eq!(winners, 1);
    }
);

backend_test!(
    async fn recovery_codes_are_stored_hashed_used_once_and_replaced_as_a_set(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let codes: Vec<String> = ["aaaa-1111", "bbbb-2222", "cccc-3333"]
            .map(str::to_owned)
            .to_vec();
        tx.user_recovery_codes()
            .replace(&alice, &codes, start())
            .await
            .expect("stored");
        commit(tx).await;
        let stored = table_as_text(&db, "user_recovery_codes").await.join("\n");
        assert!(!stored.contains("aaaa-1111"), "only hashes: {stored}");

        let mut tx = repo(&db).await;
        let recovery = tx.user_recovery_codes();
        assert_eq!(recovery.count_unused(&alice).await.expect("ok"), 3);
        assert!(
            recovery
                .consume(&alice, "bbbb-2222", start())
                .await
                .expect("ok")
        );
        assert!(
            !recovery
                .consume(&alice, "bbbb-2222", start())
                .await
                .expect("ok"),
            "once"
        );
        assert!(
            !recovery
                .consume(&bob, "aaaa-1111", start())
                .await
                .expect("ok"),
            "not bob's"
        );
        assert_eq!(recovery.count_unused(&alice).await.expect("ok"), 2);
        recovery
            .replace(&alice, &["dddd-4444".to_owned()], start())
            .await
            .expect("replaced");
        assert!(
            !recovery
                .consume(&alice, "aaaa-1111", start())
                .await
                .expect("ok"),
            "gone"
        );
        assert_eq!(recovery.count_unused(&alice).await.expect("ok"), 1);
        assert_eq!(recovery.remove_all(&alice).await.expect("ok"), 1);
        assert_eq!(recovery.count_unused(&alice).await.expect("ok"), 0);
        commit(tx).await;
    }
);

backend_test!(
    async fn concurrent_uses_of_a_recovery_code_have_one_winner(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        tx.user_recovery_codes()
            .replace(&alice, &["eeee-5555".to_owned()], start())
            .await
            .expect("stored");
        commit(tx).await;
        let winners = race(&db, 4, move |db, _| {
            let alice = alice.clone();
            async move {
                let mut tx = repo(&db).await;
                let won = tx
                    .user_recovery_codes()
                    .consume(&alice, "eeee-5555", start())
                    .await
                    .expect("ok");
                commit(tx).await;
                won
            }
        })
        .await;
        assert_eq!(winners, 1);
    }
);
