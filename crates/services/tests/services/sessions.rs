//! Ending sessions: what ends with them, what is queued, and that only the first end counts.

use portcullis_services::{
    jobs::delete_device::{self, DeleteDevice},
    sessions::{self, ActiveSessions, Devices, SessionKind},
};

use crate::common::{add_client, add_compat_session, add_oauth_session, add_user, start, world};

fn deletions(jobs: &[portcullis_model::Job]) -> Vec<DeleteDevice> {
    jobs.iter()
        .filter(|job| job.kind == delete_device::KIND)
        .map(|job| serde_json::from_value(job.payload.clone()).expect("a delete-device payload"))
        .collect()
}

#[tokio::test]
async fn an_oauth_session_ends_with_its_refresh_tokens_and_queues_its_device_once() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let client = add_client(&mut tx).await;
    let session = add_oauth_session(&mut tx, &client, &user, "PHONEPHONE").await;
    let refresh = tx
        .oauth_refresh_tokens()
        .add(&session, "mar_first", None, start())
        .await
        .expect("a refresh token");
    assert!(
        sessions::end_oauth_session(&mut *tx, &session, start())
            .await
            .expect("ends")
    );
    tx.commit().await.expect("commit");

    let mut tx = world.tx().await;
    let stored = tx
        .oauth_sessions()
        .find(session.id)
        .await
        .expect("storage works")
        .expect("present");
    assert!(!stored.is_active());
    let refresh = tx
        .oauth_refresh_tokens()
        .find(refresh.id)
        .await
        .expect("storage works")
        .expect("present");
    assert!(
        !refresh.state.is_valid(),
        "the refresh token is revoked with its session"
    );
    // Ending it again (as read now) changes nothing and queues nothing more.
    assert!(
        !sessions::end_oauth_session(&mut *tx, &stored, start())
            .await
            .expect("ends")
    );
    tx.commit().await.expect("commit");

    let queued = deletions(&world.take_jobs().await);
    assert_eq!(
        queued,
        vec![DeleteDevice {
            user_id: user.id,
            device_id: "PHONEPHONE".to_owned()
        }]
    );
}

#[tokio::test]
async fn a_compat_session_ends_and_queues_its_device_once() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let session = add_compat_session(&mut tx, &user, "BOT").await;
    assert!(
        sessions::end_compat_session(&mut *tx, &session, start())
            .await
            .expect("storage works")
    );
    let stored = tx
        .compat_sessions()
        .find(session.id)
        .await
        .expect("storage works")
        .expect("present");
    assert!(!stored.is_active());
    assert!(
        !sessions::end_compat_session(&mut *tx, &stored, start())
            .await
            .expect("storage works")
    );
    tx.commit().await.expect("commit");

    let queued = deletions(&world.take_jobs().await);
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].device_id, "BOT");
}

#[tokio::test]
async fn a_new_login_replaces_the_sessions_of_its_device_and_keeps_the_device() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let client = add_client(&mut tx).await;
    let old_oauth = add_oauth_session(&mut tx, &client, &user, "LAPTOPLAPT").await;
    let old_compat = add_compat_session(&mut tx, &user, "LAPTOPLAPT").await;
    let other_oauth = add_oauth_session(&mut tx, &client, &user, "PHONEPHONE").await;
    let other_compat = add_compat_session(&mut tx, &user, "TABLET").await;

    let ended = sessions::replace_device_sessions(&mut *tx, &user, "LAPTOPLAPT", start())
        .await
        .expect("storage works");
    tx.commit().await.expect("commit");
    assert_eq!(ended, 2);

    let mut tx = world.tx().await;
    assert!(
        !tx.oauth_sessions()
            .find(old_oauth.id)
            .await
            .expect("storage works")
            .expect("present")
            .is_active()
    );
    assert!(
        tx.oauth_sessions()
            .find(other_oauth.id)
            .await
            .expect("storage works")
            .expect("present")
            .is_active()
    );
    assert!(
        !tx.compat_sessions()
            .find(old_compat.id)
            .await
            .expect("storage works")
            .expect("present")
            .is_active()
    );
    assert!(
        tx.compat_sessions()
            .find(other_compat.id)
            .await
            .expect("storage works")
            .expect("present")
            .is_active()
    );
    tx.rollback().await.expect("storage works");
    assert!(
        deletions(&world.take_jobs().await).is_empty(),
        "the device lives on in the new session"
    );
}

#[tokio::test]
async fn a_user_ends_only_their_own_sessions() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    let mallory = add_user(&mut tx, "mallory").await;
    let client = add_client(&mut tx).await;
    let browser = tx
        .browser_sessions()
        .add(&alice, None, start())
        .await
        .expect("storage works");
    let oauth = add_oauth_session(&mut tx, &client, &alice, "PHONEPHONE").await;
    let compat = add_compat_session(&mut tx, &alice, "BOT").await;

    for id in [browser.id, oauth.id, compat.id] {
        let ended = sessions::end_user_session(&mut *tx, &mallory, id, start())
            .await
            .expect("storage works");
        assert_eq!(ended, None, "mallory cannot end alice's sessions");
    }
    assert_eq!(
        ActiveSessions::of(&mut *tx, &alice)
            .await
            .expect("storage works")
            .len(),
        3
    );

    let kinds = [
        sessions::end_user_session(&mut *tx, &alice, browser.id, start())
            .await
            .expect("storage works"),
        sessions::end_user_session(&mut *tx, &alice, oauth.id, start())
            .await
            .expect("storage works"),
        sessions::end_user_session(&mut *tx, &alice, compat.id, start())
            .await
            .expect("storage works"),
    ];
    assert_eq!(
        kinds,
        [
            Some(SessionKind::Browser),
            Some(SessionKind::OAuth),
            Some(SessionKind::Compat)
        ]
    );
    assert!(
        ActiveSessions::of(&mut *tx, &alice)
            .await
            .expect("storage works")
            .is_empty()
    );
    tx.commit().await.expect("storage works");
    let mut devices: Vec<String> = deletions(&world.take_jobs().await)
        .into_iter()
        .map(|job| job.device_id)
        .collect();
    devices.sort();
    assert_eq!(devices, ["BOT", "PHONEPHONE"]);
}

#[tokio::test]
async fn ending_everything_deletes_each_device_once_unless_the_user_goes_with_them_or_they_are_kept()
 {
    for (fate, expected) in [
        (Devices::Delete, vec!["BOT", "PHONEPHONE"]),
        (Devices::GoWithTheUser, vec![]),
        (Devices::Keep, vec![]),
    ] {
        let world = world().await;
        let mut tx = world.tx().await;
        let user = add_user(&mut tx, "alice").await;
        let client = add_client(&mut tx).await;
        tx.browser_sessions()
            .add(&user, None, start())
            .await
            .expect("storage works");
        add_oauth_session(&mut tx, &client, &user, "PHONEPHONE").await;
        add_compat_session(&mut tx, &user, "PHONEPHONE").await;
        add_compat_session(&mut tx, &user, "BOT").await;

        let active = ActiveSessions::of(&mut *tx, &user)
            .await
            .expect("storage works");
        assert_eq!(active.len(), 4);
        assert_eq!(active.devices().len(), 2);
        assert_eq!(
            active
                .end(&mut *tx, fate, start())
                .await
                .expect("storage works"),
            4
        );
        assert!(
            ActiveSessions::of(&mut *tx, &user)
                .await
                .expect("storage works")
                .is_empty()
        );
        tx.commit().await.expect("storage works");

        let mut devices: Vec<String> = deletions(&world.take_jobs().await)
            .into_iter()
            .map(|job| job.device_id)
            .collect();
        devices.sort();
        assert_eq!(devices, expected, "{fate:?}");
    }
}

#[tokio::test]
async fn a_device_is_in_use_while_a_session_of_either_kind_has_it() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let client = add_client(&mut tx).await;
    let oauth = add_oauth_session(&mut tx, &client, &user, "PHONEPHONE").await;
    let compat = add_compat_session(&mut tx, &user, "BOT").await;
    assert!(
        sessions::device_in_use(&mut *tx, &user, "PHONEPHONE")
            .await
            .expect("storage works")
    );
    assert!(
        sessions::device_in_use(&mut *tx, &user, "BOT")
            .await
            .expect("storage works")
    );
    assert!(
        !sessions::device_in_use(&mut *tx, &user, "OTHER")
            .await
            .expect("storage works")
    );
    sessions::end_oauth_session(&mut *tx, &oauth, start())
        .await
        .expect("storage works");
    sessions::end_compat_session(&mut *tx, &compat, start())
        .await
        .expect("storage works");
    assert!(
        !sessions::device_in_use(&mut *tx, &user, "PHONEPHONE")
            .await
            .expect("storage works")
    );
    assert!(
        !sessions::device_in_use(&mut *tx, &user, "BOT")
            .await
            .expect("storage works")
    );
    tx.rollback().await.expect("storage works");
}

#[tokio::test]
async fn a_device_named_by_a_standing_personal_session_is_in_use() {
    use portcullis_model::PersonalSessionOwner;
    use portcullis_storage::NewPersonalSession;

    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let session = tx
        .personal_sessions()
        .add(
            &NewPersonalSession {
                owner: PersonalSessionOwner::User(user.id),
                actor_user_id: user.id,
                human_name: "bot".to_owned(),
                scope: "urn:matrix:client:api:* urn:matrix:client:device:BOTDEVICE01"
                    .parse()
                    .expect("a scope"),
            },
            start(),
        )
        .await
        .expect("storage works");
    assert!(
        sessions::device_in_use(&mut *tx, &user, "BOTDEVICE01")
            .await
            .expect("storage works")
    );
    // A device ID that contains the other one is another device.
    assert!(
        !sessions::device_in_use(&mut *tx, &user, "BOTDEVICE0")
            .await
            .expect("storage works")
    );
    tx.personal_sessions()
        .revoke(session.id, start())
        .await
        .expect("storage works");
    assert!(
        !sessions::device_in_use(&mut *tx, &user, "BOTDEVICE01")
            .await
            .expect("storage works")
    );
}
