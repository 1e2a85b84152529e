//! The compatibility access tokens, and their introspection's single read.

use chrono::TimeDelta;
use portcullis_model::token::hash_token;
use portcullis_storage::StorageError;

use crate::{
    compat_session::add_compat_session,
    fixtures::{start, world},
    support::{commit, repo, table_as_text},
};

const TOKEN: &str = "mct_Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0_1a2B3c";

backend_test!(
    async fn a_compat_token_is_found_by_its_clear_value_but_only_its_hash_is_stored(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let expires_at = start() + TimeDelta::minutes(5);
        let token = tx
            .compat_access_tokens()
            .add(&session, TOKEN, Some(expires_at), start())
            .await
            .expect("the token is stored");
        commit(tx).await;

        let rows = table_as_text(&db, "compat_access_tokens").await;
        let mut tx = repo(&db).await;
        let by_token = tx
            .compat_access_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");
        let by_id = tx
            .compat_access_tokens()
            .find(token.id)
            .await
            .expect("lookup works");
        let unknown = tx
            .compat_access_tokens()
            .find_by_token("mct_unknown")
            .await
            .expect("lookup works");

        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains(TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert!(rows[0].contains(&hash_token(TOKEN)), "{}", rows[0]);
        assert_eq!(token.session_id, session.id);
        assert_eq!(token.created_at, start());
        assert_eq!(token.expires_at, Some(expires_at));
        assert_eq!(token.revoked_at, None);
        assert_eq!(by_token.as_ref(), Some(&token));
        assert_eq!(by_id, Some(token));
        assert_eq!(unknown, None);
    }
);

backend_test!(
    async fn the_same_compat_access_token_cannot_be_issued_twice(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        tx.compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let again = tx
            .compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn introspection_finds_an_active_compat_token_with_its_session_and_user(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let token = tx
            .compat_access_tokens()
            .add(
                &session,
                TOKEN,
                Some(start() + TimeDelta::minutes(5)),
                start(),
            )
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start() + TimeDelta::minutes(1))
            .await
            .expect("lookup works")
            .expect("the token is active");

        assert_eq!(active.access_token, token);
        assert_eq!(active.session, session);
        assert_eq!(active.user, world.user);
    }
);

backend_test!(
    async fn introspection_refuses_a_compat_token_from_its_expiry_on(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        // Fractions of a second on purpose: instants must compare as times on both backends.
        let expires_at = start() + TimeDelta::milliseconds(300_250);
        tx.compat_access_tokens()
            .add(&session, TOKEN, Some(expires_at), start())
            .await
            .expect("stored");

        let mut seen = Vec::new();
        for at in [expires_at - TimeDelta::microseconds(1), expires_at] {
            let active = tx
                .compat_access_tokens()
                .find_active_by_token(TOKEN, at)
                .await
                .expect("lookup works");
            seen.push(active.is_some());
        }

        assert_eq!(seen, [true, false]);
    }
);

backend_test!(
    async fn introspection_accepts_a_compat_token_without_expiry(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        tx.compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start() + TimeDelta::days(365))
            .await
            .expect("lookup works");

        assert!(active.is_some());
    }
);

backend_test!(
    async fn introspection_refuses_a_revoked_compat_token(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let token = tx
            .compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.compat_access_tokens()
            .revoke(token.id, start())
            .await
            .expect("revoked");

        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");
        let still_there = tx
            .compat_access_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");

        assert_eq!(active, None);
        assert_eq!(
            still_there.expect("the token exists").revoked_at,
            Some(start())
        );
    }
);

backend_test!(
    async fn introspection_refuses_a_token_of_a_finished_compat_session(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        tx.compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.compat_sessions()
            .finish(session.id, start())
            .await
            .expect("finished");

        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");

        assert_eq!(active, None);
    }
);

backend_test!(
    async fn introspection_of_an_unknown_compat_token_finds_nothing(db: Database) {
        let mut tx = repo(&db).await;

        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");

        assert_eq!(active, None);
    }
);

backend_test!(
    async fn compat_introspection_returns_a_locked_user_for_the_caller_to_refuse(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        tx.compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.users()
            .lock(world.user.clone(), start())
            .await
            .expect("locked");

        let active = tx
            .compat_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works")
            .expect("the token itself is active");

        assert_eq!(active.user.locked_at, Some(start()));
        assert!(!active.user.is_active());
    }
);

backend_test!(
    async fn revoking_a_compat_access_token_twice_keeps_the_first_instant(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let token = tx
            .compat_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let revoked = tx
            .compat_access_tokens()
            .revoke(token.id, start())
            .await
            .expect("ok")
            .expect("the token exists");
        let again = tx
            .compat_access_tokens()
            .revoke(token.id, start() + TimeDelta::hours(1))
            .await
            .expect("ok")
            .expect("the token exists");
        let unknown = tx
            .compat_access_tokens()
            .revoke(portcullis_model::Ulid::new(), start())
            .await
            .expect("ok");

        assert_eq!(revoked.revoked_at, Some(start()));
        assert!(!revoked.is_valid(start()));
        assert_eq!(again.revoked_at, Some(start()));
        assert_eq!(unknown, None);
    }
);
