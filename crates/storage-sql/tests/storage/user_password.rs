//! The users' password hashes.

use chrono::TimeDelta;

use crate::{
    fixtures::{add_user, start},
    support::{commit, repo, table_as_text},
};

backend_test!(
    async fn a_user_without_password_has_no_active_password(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;

        let active = tx.user_passwords().active(&user).await.expect("ok");

        assert_eq!(active, None);
    }
);

backend_test!(
    async fn the_newest_password_is_the_active_one(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        tx.user_passwords()
            .add(&alice, "$argon2id$old", 2, None, start())
            .await
            .expect("stored");
        let newest = tx
            .user_passwords()
            .add(
                &alice,
                "$argon2id$new",
                2,
                None,
                start() + TimeDelta::days(1),
            )
            .await
            .expect("stored");
        tx.user_passwords()
            .add(&bob, "$argon2id$bob", 2, None, start() + TimeDelta::days(2))
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let active = tx.user_passwords().active(&alice).await.expect("ok");

        assert_eq!(active.as_ref(), Some(&newest));
        let active = active.expect("alice has a password");
        assert_eq!(active.hashed_password, "$argon2id$new");
        assert_eq!(active.version, 2);
        assert_eq!(active.upgraded_from_id, None);
    }
);

backend_test!(
    async fn an_upgraded_password_points_at_the_hash_it_replaces(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let bcrypt = tx
            .user_passwords()
            .add(&user, "$2b$12$legacy", 1, None, start())
            .await
            .expect("stored");

        let upgraded = tx
            .user_passwords()
            .add(
                &user,
                "$argon2id$upgraded",
                2,
                Some(&bcrypt),
                start() + TimeDelta::minutes(1),
            )
            .await
            .expect("stored");
        commit(tx).await;

        assert_eq!(upgraded.upgraded_from_id, Some(bcrypt.id));
        assert_eq!(upgraded.version, 2);
        // The old hash is kept.
        assert_eq!(table_as_text(&db, "user_passwords").await.len(), 2);
    }
);

backend_test!(
    async fn removing_a_users_passwords_removes_them_all_and_nobody_elses(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let legacy = tx
            .user_passwords()
            .add(&alice, "$2b$12$legacy", 1, None, start())
            .await
            .expect("stored");
        tx.user_passwords()
            .add(
                &alice,
                "$argon2id$upgraded",
                2,
                Some(&legacy),
                start() + TimeDelta::minutes(1),
            )
            .await
            .expect("stored");
        tx.user_passwords()
            .add(&bob, "$argon2id$bob", 2, None, start())
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let removed = tx
            .user_passwords()
            .remove_all(&alice)
            .await
            .expect("removed");
        commit(tx).await;

        assert_eq!(removed, 2);
        let mut tx = repo(&db).await;
        assert_eq!(tx.user_passwords().active(&alice).await.expect("ok"), None);
        let bobs = tx.user_passwords().active(&bob).await.expect("ok");
        assert_eq!(
            bobs.map(|p| p.hashed_password).as_deref(),
            Some("$argon2id$bob")
        );
        let again = tx.user_passwords().remove_all(&alice).await.expect("ok");
        assert_eq!(again, 0);
    }
);
