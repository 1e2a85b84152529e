//! The compatibility sessions of the Matrix login API.

use chrono::TimeDelta;
use portcullis_model::{CompatSession, User};
use portcullis_storage::{BoxRepository, NewCompatSession};

use crate::{
    fixtures::{add_user, start, world},
    support::{commit, repo},
};

/// A compatibility session of `user` on device `device_id`, started at `start()`.
pub async fn add_compat_session(
    tx: &mut BoxRepository,
    user: &User,
    device_id: &str,
) -> CompatSession {
    tx.compat_sessions()
        .add(
            &NewCompatSession {
                user_id: user.id,
                device_id: device_id.to_owned(),
                human_name: None,
                user_session_id: None,
                is_synapse_admin: false,
                user_agent: Some("Element/1.11".to_owned()),
            },
            start(),
        )
        .await
        .expect("the compat session starts")
}

backend_test!(
    async fn a_compat_session_is_stored_as_given(db: Database) {
        let world = world(&db).await;
        let new = NewCompatSession {
            user_id: world.user.id,
            device_id: "ABCDEFGHIJ".to_owned(),
            human_name: Some("Element on Firefox".to_owned()),
            user_session_id: Some(world.browser_session.id),
            is_synapse_admin: true,
            user_agent: Some("Element/1.11".to_owned()),
        };

        let mut tx = repo(&db).await;
        let session = tx
            .compat_sessions()
            .add(&new, start())
            .await
            .expect("the session starts");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .compat_sessions()
            .find(session.id)
            .await
            .expect("lookup works");
        assert_eq!(found.as_ref(), Some(&session));
        assert_eq!(session.user_id, world.user.id);
        assert_eq!(session.device_id, "ABCDEFGHIJ");
        assert_eq!(session.human_name.as_deref(), Some("Element on Firefox"));
        assert_eq!(session.user_session_id, Some(world.browser_session.id));
        assert!(session.is_synapse_admin);
        assert_eq!(session.user_agent.as_deref(), Some("Element/1.11"));
        assert_eq!(session.created_at, start());
        assert_eq!(session.last_active_at, None);
        assert_eq!(session.last_active_ip, None);
        assert!(session.is_active());
    }
);

backend_test!(
    async fn a_password_login_has_no_browser_session_and_no_admin_rights(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;

        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;

        assert_eq!(session.user_session_id, None);
        assert!(!session.is_synapse_admin);
        assert_eq!(session.human_name, None);
    }
);

backend_test!(
    async fn an_unknown_compat_session_is_not_found_and_not_finished(db: Database) {
        let mut tx = repo(&db).await;
        let unknown = portcullis_model::Ulid::new();

        let found = tx.compat_sessions().find(unknown).await.expect("ok");
        let finished = tx
            .compat_sessions()
            .finish(unknown, start())
            .await
            .expect("ok");

        assert_eq!(found, None);
        assert_eq!(finished, None);
    }
);

backend_test!(
    async fn finishing_a_compat_session_twice_keeps_the_first_instant(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let first = start() + TimeDelta::hours(1);

        let finished = tx
            .compat_sessions()
            .finish(session.id, first)
            .await
            .expect("ok");
        let again = tx
            .compat_sessions()
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
    async fn only_the_users_unfinished_compat_sessions_are_listed_oldest_first(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let bob = add_user(&mut tx, "bob").await;
        let mut sessions = Vec::new();
        // Added newest first, so that the order listed is not the order of insertion.
        for minutes in [30, 20, 10] {
            let session = tx
                .compat_sessions()
                .add(
                    &NewCompatSession {
                        user_id: world.user.id,
                        device_id: format!("DEVICE{minutes}"),
                        human_name: None,
                        user_session_id: None,
                        is_synapse_admin: false,
                        user_agent: None,
                    },
                    start() + TimeDelta::minutes(minutes),
                )
                .await
                .expect("the session starts");
            sessions.push(session);
        }
        let finished = add_compat_session(&mut tx, &world.user, "FINISHED").await;
        tx.compat_sessions()
            .finish(finished.id, start())
            .await
            .expect("finished");
        add_compat_session(&mut tx, &bob, "DEVICE10").await;

        let listed = tx
            .compat_sessions()
            .list_active_for_user(&world.user)
            .await
            .expect("listed");

        let devices: Vec<_> = listed.iter().map(|s| s.device_id.as_str()).collect();
        assert_eq!(devices, ["DEVICE10", "DEVICE20", "DEVICE30"]);
    }
);

backend_test!(
    async fn only_the_unfinished_sessions_of_the_users_device_are_listed(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let bob = add_user(&mut tx, "bob").await;
        let first = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let second = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: world.user.id,
                    device_id: "DEVICE".to_owned(),
                    human_name: None,
                    user_session_id: None,
                    is_synapse_admin: false,
                    user_agent: None,
                },
                start() + TimeDelta::minutes(1),
            )
            .await
            .expect("the session starts");
        let finished = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        tx.compat_sessions()
            .finish(finished.id, start())
            .await
            .expect("finished");
        add_compat_session(&mut tx, &world.user, "OTHER").await;
        add_compat_session(&mut tx, &bob, "DEVICE").await;
        commit(tx).await;

        let mut tx = repo(&db).await;
        let listed = tx
            .compat_sessions()
            .list_active_for_device(world.user.id, "DEVICE")
            .await
            .expect("listed");
        let none = tx
            .compat_sessions()
            .list_active_for_device(world.user.id, "device")
            .await
            .expect("listed");

        let ids: Vec<_> = listed.iter().map(|session| session.id).collect();
        assert_eq!(ids, [first.id, second.id]);
        assert!(none.is_empty(), "device ids are case-sensitive");
    }
);
