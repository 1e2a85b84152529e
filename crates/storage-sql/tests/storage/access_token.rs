//! The access tokens, and introspection's single read.

use chrono::TimeDelta;
use portcullis_model::token::hash_token;
use portcullis_storage::StorageError;

use crate::{
    fixtures::{add_session, start, world},
    support::{commit, repo, table_as_text},
};

const TOKEN: &str = "mat_Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0_1a2B3c";

backend_test!(
    async fn a_token_is_found_by_its_clear_value_but_only_its_hash_is_stored(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let expires_at = start() + TimeDelta::minutes(5);
        let token = tx
            .oauth_access_tokens()
            .add(&session, TOKEN, Some(expires_at), start())
            .await
            .expect("the token is stored");
        commit(tx).await;

        let rows = table_as_text(&db, "oauth2_access_tokens").await;
        let mut tx = repo(&db).await;
        let by_token = tx
            .oauth_access_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");
        let by_id = tx
            .oauth_access_tokens()
            .find(token.id)
            .await
            .expect("lookup works");

        assert!(
            !rows[0].contains(TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert_eq!(token.token_hash, hash_token(TOKEN));
        assert_eq!(token.session_id, session.id);
        assert_eq!(token.expires_at, Some(expires_at));
        assert_eq!(by_token.as_ref(), Some(&token));
        assert_eq!(by_id, Some(token));
    }
);

backend_test!(
    async fn the_same_access_token_cannot_be_issued_twice(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        tx.oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let again = tx
            .oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn introspection_finds_an_active_token_with_its_session_client_and_user(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let token = tx
            .oauth_access_tokens()
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
            .oauth_access_tokens()
            .find_active_by_token(TOKEN, start() + TimeDelta::minutes(1))
            .await
            .expect("lookup works")
            .expect("the token is active");

        assert_eq!(active.access_token, token);
        assert_eq!(active.session, session);
        assert_eq!(active.client_id, "app");
        assert_eq!(active.user, Some(world.user));
    }
);

backend_test!(
    async fn introspection_of_a_client_credentials_token_has_no_user(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        tx.oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let active = tx
            .oauth_access_tokens()
            .find_active_by_token(TOKEN, start() + TimeDelta::days(365))
            .await
            .expect("lookup works")
            .expect("a token without expiry stays active");

        assert_eq!(active.session, session);
        assert_eq!(active.user, None);
    }
);

backend_test!(
    async fn introspection_refuses_a_token_from_its_expiry_on(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        // Fractions of a second on purpose: instants must compare as times on both backends.
        let expires_at = start() + TimeDelta::milliseconds(300_250);
        tx.oauth_access_tokens()
            .add(&session, TOKEN, Some(expires_at), start())
            .await
            .expect("stored");

        let mut seen = Vec::new();
        for at in [expires_at - TimeDelta::microseconds(1), expires_at] {
            let active = tx
                .oauth_access_tokens()
                .find_active_by_token(TOKEN, at)
                .await
                .expect("lookup works");
            seen.push(active.is_some());
        }

        assert_eq!(seen, [true, false]);
    }
);

backend_test!(
    async fn introspection_refuses_a_revoked_token(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let token = tx
            .oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.oauth_access_tokens()
            .revoke(token.id, start())
            .await
            .expect("revoked");

        let active = tx
            .oauth_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");

        assert_eq!(active, None);
    }
);

backend_test!(
    async fn introspection_refuses_a_token_of_a_finished_session(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        tx.oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.oauth_sessions()
            .finish(session.id, start())
            .await
            .expect("finished");

        let active = tx
            .oauth_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");

        assert_eq!(active, None);
    }
);

backend_test!(
    async fn introspection_returns_a_locked_user_for_the_caller_to_refuse(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        tx.oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        tx.users()
            .lock(world.user.clone(), start())
            .await
            .expect("locked");

        let active = tx
            .oauth_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works")
            .expect("the token itself is active");

        let user = active.user.expect("the session has a user");
        assert_eq!(user.locked_at, Some(start()));
        assert!(!user.is_active());
    }
);

backend_test!(
    async fn introspection_does_not_record_the_first_use(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        tx.oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        tx.oauth_access_tokens()
            .find_active_by_token(TOKEN, start())
            .await
            .expect("lookup works");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let token = tx
            .oauth_access_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works")
            .expect("the token exists");
        assert_eq!(token.first_used_at, None);
    }
);

backend_test!(
    async fn the_first_use_of_an_access_token_is_kept(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let token = tx
            .oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        let first = start() + TimeDelta::seconds(3);

        let used = tx
            .oauth_access_tokens()
            .mark_used(token.id, first)
            .await
            .expect("ok");
        let again = tx
            .oauth_access_tokens()
            .mark_used(token.id, first + TimeDelta::minutes(1))
            .await
            .expect("ok");

        assert_eq!(used.expect("the token exists").first_used_at, Some(first));
        assert_eq!(again.expect("the token exists").first_used_at, Some(first));
    }
);

backend_test!(
    async fn revoking_an_access_token_twice_keeps_the_first_instant(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let token = tx
            .oauth_access_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");

        let revoked = tx
            .oauth_access_tokens()
            .revoke(token.id, start())
            .await
            .expect("ok")
            .expect("the token exists");
        let again = tx
            .oauth_access_tokens()
            .revoke(token.id, start() + TimeDelta::hours(1))
            .await
            .expect("ok")
            .expect("the token exists");

        assert_eq!(revoked.revoked_at, Some(start()));
        assert!(!revoked.is_valid(start()));
        assert_eq!(again.revoked_at, Some(start()));
    }
);
