//! The OAuth 2.0 sessions.

use chrono::TimeDelta;
use portcullis_storage::{NewOAuthSession, StorageError};
use portcullis_storage_sql::Backend;

use crate::{
    fixtures::{add_browser_session, add_session, add_user, start, world},
    support::{commit, repo},
};

backend_test!(
    async fn a_users_session_is_stored_as_given(db: Database) {
        let world = world(&db).await;
        let new = NewOAuthSession {
            client_id: world.client.id,
            user_id: Some(world.user.id),
            user_session_id: Some(world.browser_session.id),
            scope: "openid urn:matrix:client:device:ABCDEFGHIJ"
                .parse()
                .expect("a scope"),
            user_agent: Some("Element X/25.01".to_owned()),
            human_name: Some("Element X on Pixel 8".to_owned()),
        };

        let mut tx = repo(&db).await;
        let session = tx
            .oauth_sessions()
            .add(&new, start())
            .await
            .expect("the session starts");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .oauth_sessions()
            .find(session.id)
            .await
            .expect("lookup works");
        assert_eq!(found.as_ref(), Some(&session));
        assert_eq!(session.client_id, world.client.id);
        assert_eq!(session.user_id, Some(world.user.id));
        assert_eq!(session.user_session_id, Some(world.browser_session.id));
        assert_eq!(
            session
                .scope
                .iter()
                .map(|token| token.as_str())
                .collect::<Vec<_>>(),
            ["openid", "urn:matrix:client:device:ABCDEFGHIJ"]
        );
        assert_eq!(session.user_agent.as_deref(), Some("Element X/25.01"));
        assert_eq!(session.human_name.as_deref(), Some("Element X on Pixel 8"));
        assert_eq!(session.created_at, start());
        assert!(session.is_active());
    }
);

backend_test!(
    async fn a_client_credentials_session_has_no_user(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;

        let session = add_session(&mut tx, &world.client, None).await;

        assert_eq!(session.user_id, None);
        assert_eq!(session.user_session_id, None);
    }
);

backend_test!(
    async fn finishing_a_session_twice_keeps_the_first_instant(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let first = start() + TimeDelta::hours(1);

        let finished = tx
            .oauth_sessions()
            .finish(session.id, first)
            .await
            .expect("ok");
        let again = tx
            .oauth_sessions()
            .finish(session.id, first + TimeDelta::hours(1))
            .await
            .expect("finishing again works");

        let finished = finished.expect("the session exists");
        assert_eq!(finished.finished_at, Some(first));
        assert!(!finished.is_active());
        assert_eq!(again.expect("the session exists").finished_at, Some(first));
    }
);

backend_test!(
    async fn only_the_users_unfinished_sessions_are_listed(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let bob = add_user(&mut tx, "bob").await;
        let bobs_browser = add_browser_session(&mut tx, &bob).await;
        let first = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let finished = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let last = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        add_session(&mut tx, &world.client, Some(&bobs_browser)).await;
        add_session(&mut tx, &world.client, None).await;
        tx.oauth_sessions()
            .finish(finished.id, start())
            .await
            .expect("finished");

        let listed = tx
            .oauth_sessions()
            .list_active_for_user(&world.user)
            .await
            .expect("listed");

        let mut expected = vec![first.id, last.id];
        expected.sort();
        let mut ids: Vec<_> = listed.iter().map(|session| session.id).collect();
        ids.sort();
        assert_eq!(ids, expected);
    }
);

backend_test!(
    async fn a_stored_scope_that_is_not_a_scope_is_refused_when_read(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        commit(tx).await;
        // A scope token may not hold a double quote (RFC 6749 §3.3); someone wrote this by hand.
        let corrupt = "UPDATE oauth2_sessions SET scope = 'openid \"quoted\"'";
        match db.backend() {
            Backend::Postgres => sqlx::query(corrupt)
                .execute(db.postgres_pool().expect("a PostgreSQL database"))
                .await
                .map(drop),
            Backend::Sqlite => sqlx::query(corrupt)
                .execute(db.sqlite_pool().expect("a SQLite database"))
                .await
                .map(drop),
        }
        .expect("the row is changed");

        let mut tx = repo(&db).await;
        let read = tx.oauth_sessions().find(session.id).await;
        match read {
            Err(StorageError::InvalidData(message)) => {
                assert!(message.contains("oauth2_sessions.scope"), "{message}");
            }
            other => panic!("a corrupt scope was read as {other:?}"),
        }
    }
);
