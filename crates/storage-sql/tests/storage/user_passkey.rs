//! Passkeys, and the ceremonies under way.

use chrono::TimeDelta;
use portcullis_storage::NewPasskey;

use crate::{
    fixtures::{add_user, start},
    support::{commit, race, repo},
};

fn passkey(credential_id: &str, name: &str) -> NewPasskey {
    NewPasskey {
        credential_id: credential_id.to_owned(),
        name: name.to_owned(),
        user_handle: "handle".to_owned(),
        static_state: "key".to_owned(),
        dynamic_state: "state-0".to_owned(),
    }
}

backend_test!(
    async fn passkeys_are_listed_found_by_credential_and_registered_once(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let laptop = tx
            .user_passkeys()
            .add(&alice, passkey("cred-1", "Laptop"), start())
            .await
            .expect("stored")
            .expect("added");
        let phone = tx
            .user_passkeys()
            .add(
                &alice,
                passkey("cred-2", "Phone"),
                start() + TimeDelta::seconds(1),
            )
            .await
            .expect("stored")
            .expect("added");
        let again = tx
            .user_passkeys()
            .add(&bob, passkey("cred-1", "Stolen"), start())
            .await
            .expect("stored");
        assert_eq!(again, None, "a credential belongs to one account");

        let listed = tx.user_passkeys().list(&alice).await.expect("listed");
        assert_eq!(listed, vec![laptop.clone(), phone]);
        assert!(
            tx.user_passkeys()
                .list(&bob)
                .await
                .expect("listed")
                .is_empty()
        );
        let found = tx
            .user_passkeys()
            .find_by_credential_id("cred-1")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found, laptop);
        assert_eq!(found.user_id, alice.id);
        assert_eq!(found.last_used_at, None);
        assert_eq!(
            tx.user_passkeys()
                .find_by_credential_id("cred-9")
                .await
                .expect("read"),
            None
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn a_use_updates_the_state_it_started_from_once_and_removal_is_per_owner(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let laptop = tx
            .user_passkeys()
            .add(&alice, passkey("cred-1", "Laptop"), start())
            .await
            .expect("stored")
            .expect("added");
        let later = start() + TimeDelta::minutes(1);
        assert!(
            tx.user_passkeys()
                .record_use(&laptop, "state-1", later)
                .await
                .expect("ok")
        );
        assert!(
            !tx.user_passkeys()
                .record_use(&laptop, "state-1b", later)
                .await
                .expect("ok"),
            "the stored state moved on: a second use from the old one loses"
        );
        let used = tx
            .user_passkeys()
            .find_by_credential_id("cred-1")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(used.dynamic_state, "state-1");
        assert_eq!(used.last_used_at, Some(later));

        assert!(
            !tx.user_passkeys()
                .remove(&bob, laptop.id)
                .await
                .expect("ok"),
            "not bob's"
        );
        assert!(
            tx.user_passkeys()
                .remove(&alice, laptop.id)
                .await
                .expect("ok")
        );
        tx.user_passkeys()
            .add(&alice, passkey("cred-2", "Phone"), start())
            .await
            .expect("stored")
            .expect("added");
        tx.user_passkeys()
            .add(&alice, passkey("cred-3", "Key"), start())
            .await
            .expect("stored")
            .expect("added");
        assert_eq!(tx.user_passkeys().remove_all(&alice).await.expect("ok"), 2);
        assert!(
            tx.user_passkeys()
                .list(&alice)
                .await
                .expect("listed")
                .is_empty()
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn a_ceremony_is_taken_once_and_only_while_recent(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        tx.passkey_challenges()
            .add("challenge-a", Some(alice.id), "state-a", start())
            .await
            .expect("stored");
        tx.passkey_challenges()
            .add("challenge-b", None, "state-b", start())
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let taken = tx
            .passkey_challenges()
            .take("challenge-a", start())
            .await
            .expect("read");
        assert_eq!(taken, Some((Some(alice.id), "state-a".to_owned())));
        assert_eq!(
            tx.passkey_challenges()
                .take("challenge-a", start())
                .await
                .expect("read"),
            None,
            "taken once"
        );
        assert_eq!(
            tx.passkey_challenges()
                .take("challenge-b", start() + TimeDelta::seconds(1))
                .await
                .expect("read"),
            None,
            "too old"
        );
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert_eq!(
            tx.passkey_challenges()
                .remove_expired(start() + TimeDelta::hours(1))
                .await
                .expect("ok"),
            1,
            "the old ceremony nobody finished"
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn concurrent_answers_to_one_ceremony_have_one_winner(db: Database) {
        let mut tx = repo(&db).await;
        tx.passkey_challenges()
            .add("challenge", None, "state", start())
            .await
            .expect("stored");
        commit(tx).await;
        let winners = race(&db, 4, move |db, _| async move {
            let mut tx = repo(&db).await;
            let won = tx
                .passkey_challenges()
                .take("challenge", start())
                .await
                .expect("ok")
                .is_some();
            commit(tx).await;
            won
        })
        .await;
        assert_eq!(winners, 1);
    }
);
