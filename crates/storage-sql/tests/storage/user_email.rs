//! The users' email addresses.

use chrono::TimeDelta;
use portcullis_storage::StorageError;

use crate::{
    fixtures::{add_user, start},
    support::{commit, repo},
};

backend_test!(
    async fn an_address_is_found_whatever_its_case(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let email = tx
            .user_emails()
            .add(&user, "Alice@Example.org", start())
            .await
            .expect("added");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .user_emails()
            .find_by_email("alice@EXAMPLE.ORG")
            .await
            .expect("lookup works");

        assert_eq!(found.as_ref(), Some(&email));
        let found = found.expect("the address is known");
        assert_eq!(found.email, "Alice@Example.org", "kept as written");
        assert_eq!(found.user_id, user.id);
    }
);

backend_test!(
    async fn non_ascii_addresses_are_compared_ignoring_case_on_every_backend(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "elodie").await;
        tx.user_emails()
            .add(&user, "ÉLODIE@exemple.fr", start())
            .await
            .expect("added");

        let found = tx
            .user_emails()
            .find_by_email("élodie@exemple.fr")
            .await
            .expect("lookup works");

        assert!(found.is_some());
    }
);

backend_test!(
    async fn an_address_taken_in_another_case_is_a_conflict(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let mallory = add_user(&mut tx, "mallory").await;
        tx.user_emails()
            .add(&alice, "alice@example.org", start())
            .await
            .expect("added");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let taken = tx
            .user_emails()
            .add(&mallory, "ALICE@example.org", start())
            .await;

        assert!(matches!(taken, Err(StorageError::Conflict(_))), "{taken:?}");
    }
);

backend_test!(
    async fn an_unknown_address_finds_nobody(db: Database) {
        let mut tx = repo(&db).await;

        let found = tx
            .user_emails()
            .find_by_email("nobody@example.org")
            .await
            .expect("lookup works");

        assert_eq!(found, None);
    }
);

backend_test!(
    async fn a_users_addresses_are_listed_oldest_first(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let mut added = Vec::new();
        for (minutes, email) in [
            (2, "c@example.org"),
            (0, "a@example.org"),
            (1, "b@example.org"),
        ] {
            let at = start() + TimeDelta::minutes(minutes);
            added.push(
                tx.user_emails()
                    .add(&alice, email, at)
                    .await
                    .expect("added"),
            );
        }
        tx.user_emails()
            .add(&bob, "bob@example.org", start())
            .await
            .expect("added");

        let listed = tx
            .user_emails()
            .list_for_user(&alice)
            .await
            .expect("listed");

        let emails: Vec<_> = listed.iter().map(|email| email.email.as_str()).collect();
        assert_eq!(emails, ["a@example.org", "b@example.org", "c@example.org"]);
    }
);

backend_test!(
    async fn a_removed_address_is_gone_and_free_for_anyone(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let email = tx
            .user_emails()
            .add(&alice, "shared@example.org", start())
            .await
            .expect("added");

        let removed = tx.user_emails().remove(email.id).await.expect("removed");
        let again = tx.user_emails().remove(email.id).await.expect("ok");

        assert!(removed);
        assert!(!again);
        assert_eq!(
            tx.user_emails()
                .find_by_email("shared@example.org")
                .await
                .expect("lookup works"),
            None
        );
        tx.user_emails()
            .add(&bob, "shared@example.org", start())
            .await
            .expect("the address is free again");
    }
);
