//! The browser sessions and their authentications.

use chrono::TimeDelta;

use crate::{
    fixtures::{add_browser_session, add_user, start},
    support::{commit, repo},
};

backend_test!(
    async fn a_started_browser_session_is_active_and_can_be_found(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;

        let session = tx
            .browser_sessions()
            .add(&user, Some("Firefox/128.0"), start())
            .await
            .expect("the session starts");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .browser_sessions()
            .find(session.id)
            .await
            .expect("lookup works");
        assert_eq!(found.as_ref(), Some(&session));
        assert_eq!(session.user_id, user.id);
        assert_eq!(session.user_agent.as_deref(), Some("Firefox/128.0"));
        assert_eq!(session.created_at, start());
        assert!(session.is_active());
    }
);

backend_test!(
    async fn finishing_a_browser_session_twice_keeps_the_first_instant(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let session = add_browser_session(&mut tx, &user).await;
        let first = start() + TimeDelta::hours(1);

        let finished = tx
            .browser_sessions()
            .finish(session.id, first)
            .await
            .expect("ok");
        let again = tx
            .browser_sessions()
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
    async fn finishing_an_unknown_browser_session_finds_nothing(db: Database) {
        let mut tx = repo(&db).await;

        let finished = tx
            .browser_sessions()
            .finish(portcullis_model::Ulid::new(), start())
            .await
            .expect("ok");

        assert_eq!(finished, None);
    }
);

backend_test!(
    async fn only_the_users_unfinished_browser_sessions_are_listed_oldest_first(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let mut alices = Vec::new();
        for minutes in [0, 1, 2] {
            let session = tx
                .browser_sessions()
                .add(&alice, None, start() + TimeDelta::minutes(minutes))
                .await
                .expect("the session starts");
            alices.push(session);
        }
        add_browser_session(&mut tx, &bob).await;
        tx.browser_sessions()
            .finish(alices[1].id, start() + TimeDelta::hours(1))
            .await
            .expect("finished");

        let listed = tx
            .browser_sessions()
            .list_active_for_user(&alice)
            .await
            .expect("listed");

        assert_eq!(listed, [alices[0].clone(), alices[2].clone()]);
    }
);

backend_test!(
    async fn a_browser_session_never_authenticated_has_no_last_authentication(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let session = add_browser_session(&mut tx, &user).await;

        let last = tx
            .browser_sessions()
            .last_authentication(&session)
            .await
            .expect("ok");

        assert_eq!(last, None);
    }
);

backend_test!(
    async fn the_last_authentication_is_the_newest_password_proof_of_that_session(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let session = add_browser_session(&mut tx, &user).await;
        let other = add_browser_session(&mut tx, &user).await;
        let newest = start() + TimeDelta::minutes(30);
        for at in [start(), newest, start() + TimeDelta::minutes(10)] {
            let authentication = tx
                .browser_sessions()
                .authenticate(&session, portcullis_model::AuthenticationKind::Password, at)
                .await
                .expect("recorded");
            assert_eq!(
                authentication.kind,
                portcullis_model::AuthenticationKind::Password
            );
            assert_eq!(authentication.user_session_id, session.id);
        }
        tx.browser_sessions()
            .authenticate(
                &other,
                portcullis_model::AuthenticationKind::Password,
                newest + TimeDelta::hours(1),
            )
            .await
            .expect("recorded");

        let last = tx
            .browser_sessions()
            .last_authentication(&session)
            .await
            .expect("ok");

        assert_eq!(last, Some(newest));
    }
);
