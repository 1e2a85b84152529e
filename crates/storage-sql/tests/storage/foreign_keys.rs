//! What deleting a row takes along (the foreign keys' `ON DELETE`), on both backends.

use portcullis_storage::{NewCompatSession, NewOAuthSession};

use crate::{
    compat_session::add_compat_session,
    fixtures::{add_session, delete_row, start, world},
    support::{commit, repo, table_as_text},
};

backend_test!(
    async fn deleting_a_user_takes_their_sessions_tokens_and_grants_along(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let access = tx
            .oauth_access_tokens()
            .add(&session, "mat_token", None, start())
            .await
            .expect("stored");
        tx.oauth_refresh_tokens()
            .add(&session, "mar_token", Some(&access), start())
            .await
            .expect("stored");
        tx.browser_sessions()
            .authenticate(
                &world.browser_session,
                portcullis_model::AuthenticationKind::Password,
                start(),
            )
            .await
            .expect("recorded");
        tx.user_passwords()
            .add(&world.user, "$argon2id$hash", 1, None, start())
            .await
            .expect("stored");
        tx.user_emails()
            .add(&world.user, "alice@example.org", start())
            .await
            .expect("stored");
        tx.oauth_consents()
            .grant(&world.user, &world.client, &["openid".to_owned()], start())
            .await
            .expect("granted");
        let compat_session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let compat_access = tx
            .compat_access_tokens()
            .add(&compat_session, "mct_token", None, start())
            .await
            .expect("stored");
        tx.compat_refresh_tokens()
            .add(&compat_session, "mcr_token", &compat_access, start())
            .await
            .expect("stored");
        let login = tx
            .compat_sso_logins()
            .add(
                "mcl_token",
                &"https://app.example/sso".parse().expect("a URL"),
                start(),
            )
            .await
            .expect("stored");
        tx.compat_sso_logins()
            .fulfill(login.id, world.browser_session.id, "mcl_token", start())
            .await
            .expect("ok")
            .expect("fulfilled");
        tx.compat_sso_logins()
            .exchange(login.id, compat_session.id, start())
            .await
            .expect("ok")
            .expect("exchanged");
        commit(tx).await;

        delete_row(&db, "users", "user_id", world.user.id).await;

        for table in [
            "user_sessions",
            "user_session_authentications",
            "user_passwords",
            "user_emails",
            "oauth2_sessions",
            "oauth2_access_tokens",
            "oauth2_refresh_tokens",
            "oauth2_consents",
            "compat_sessions",
            "compat_access_tokens",
            "compat_refresh_tokens",
            "compat_sso_logins",
        ] {
            assert!(
                table_as_text(&db, table).await.is_empty(),
                "{table} is not empty"
            );
        }
        assert_eq!(table_as_text(&db, "oauth2_clients").await.len(), 1);
    }
);

backend_test!(
    async fn deleting_a_browser_session_keeps_the_oauth_sessions_started_from_it(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        commit(tx).await;

        delete_row(
            &db,
            "user_sessions",
            "user_session_id",
            world.browser_session.id,
        )
        .await;

        let mut tx = repo(&db).await;
        let kept = tx
            .oauth_sessions()
            .find(session.id)
            .await
            .expect("lookup works")
            .expect("the session is kept");
        assert_eq!(kept.user_session_id, None);
        assert_eq!(kept.user_id, Some(world.user.id));
    }
);

backend_test!(
    async fn deleting_a_browser_session_keeps_the_compat_sessions_started_from_it(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: world.user.id,
                    device_id: "DEVICE".to_owned(),
                    human_name: None,
                    user_session_id: Some(world.browser_session.id),
                    is_synapse_admin: false,
                    user_agent: None,
                },
                start(),
            )
            .await
            .expect("the session starts");
        let pending = tx
            .compat_sso_logins()
            .add(
                "mcl_pending",
                &"https://app.example/sso".parse().expect("a URL"),
                start(),
            )
            .await
            .expect("stored");
        let fulfilled = tx
            .compat_sso_logins()
            .add(
                "mcl_fulfilled",
                &"https://app.example/sso".parse().expect("a URL"),
                start(),
            )
            .await
            .expect("stored");
        tx.compat_sso_logins()
            .fulfill(
                fulfilled.id,
                world.browser_session.id,
                "mcl_fulfilled",
                start(),
            )
            .await
            .expect("ok")
            .expect("fulfilled");
        commit(tx).await;

        delete_row(
            &db,
            "user_sessions",
            "user_session_id",
            world.browser_session.id,
        )
        .await;

        let mut tx = repo(&db).await;
        let kept = tx
            .compat_sessions()
            .find(session.id)
            .await
            .expect("lookup works")
            .expect("the session is kept");
        assert_eq!(kept.user_session_id, None);
        assert_eq!(kept.user_id, world.user.id);
        let logins = (
            tx.compat_sso_logins().find(pending.id).await.expect("ok"),
            tx.compat_sso_logins().find(fulfilled.id).await.expect("ok"),
        );
        assert_eq!(logins, (Some(pending), None));
    }
);

backend_test!(
    async fn deleting_a_compat_access_token_takes_its_refresh_token_along(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let access = tx
            .compat_access_tokens()
            .add(&session, "mct_token", None, start())
            .await
            .expect("stored");
        tx.compat_refresh_tokens()
            .add(&session, "mcr_token", &access, start())
            .await
            .expect("stored");
        commit(tx).await;

        delete_row(
            &db,
            "compat_access_tokens",
            "compat_access_token_id",
            access.id,
        )
        .await;

        assert!(table_as_text(&db, "compat_refresh_tokens").await.is_empty());
        assert_eq!(table_as_text(&db, "compat_sessions").await.len(), 1);
    }
);

backend_test!(
    async fn deleting_a_client_takes_its_sessions_and_tokens_along(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = tx
            .oauth_sessions()
            .add(
                &NewOAuthSession {
                    client_id: world.client.id,
                    user_id: None,
                    user_session_id: None,
                    scope: "urn:mas:admin".parse().expect("a scope"),
                    user_agent: None,
                    human_name: None,
                },
                start(),
            )
            .await
            .expect("the session starts");
        tx.oauth_access_tokens()
            .add(&session, "mat_token", None, start())
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let deleted = tx
            .oauth_clients()
            .delete(world.client.id)
            .await
            .expect("the client is deleted");
        commit(tx).await;

        assert!(deleted);
        assert!(table_as_text(&db, "oauth2_sessions").await.is_empty());
        assert!(table_as_text(&db, "oauth2_access_tokens").await.is_empty());
    }
);

backend_test!(
    async fn deleting_a_refresh_tokens_successor_keeps_it_consumed(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let old = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_old", None, start())
            .await
            .expect("stored");
        let next = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_next", None, start())
            .await
            .expect("stored");
        tx.oauth_refresh_tokens()
            .consume("mar_old", next.id, start())
            .await
            .expect("ok")
            .expect("consumed");
        commit(tx).await;

        delete_row(
            &db,
            "oauth2_refresh_tokens",
            "oauth2_refresh_token_id",
            next.id,
        )
        .await;

        let mut tx = repo(&db).await;
        let kept = tx
            .oauth_refresh_tokens()
            .find(old.id)
            .await
            .expect("lookup works")
            .expect("the old token is kept");
        assert_eq!(
            kept.state,
            portcullis_model::RefreshTokenState::Consumed {
                consumed_at: start(),
                next_refresh_token_id: None,
            }
        );
    }
);
