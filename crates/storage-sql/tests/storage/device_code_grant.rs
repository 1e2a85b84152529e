//! The device code grants: bound to the first approval, redeemed once, refused once expired.

use std::net::{IpAddr, Ipv6Addr};

use chrono::TimeDelta;
use portcullis_model::{DeviceCodeGrantStage, token::hash_token};
use portcullis_storage::{NewDeviceCodeGrant, StorageError};

use crate::{
    fixtures::{World, add_browser_session, add_session, add_user, start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const DEVICE_CODE: &str = "Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0hJ";
const USER_CODE: &str = "QX7K2M";
const LIFETIME: TimeDelta = TimeDelta::minutes(20);

fn request(world: &World) -> NewDeviceCodeGrant {
    NewDeviceCodeGrant {
        client_id: world.client.id,
        scope: "openid urn:matrix:client:api:*".parse().expect("a scope"),
        expires_at: start() + LIFETIME,
        ip: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        user_agent: Some("matrix-rust-sdk".to_owned()),
    }
}

async fn add_grant(
    db: &portcullis_storage_sql::Database,
    world: &World,
    device_code: &str,
    user_code: &str,
) -> portcullis_model::DeviceCodeGrant {
    let mut tx = repo(db).await;
    let grant = tx
        .oauth_device_code_grants()
        .add(&request(world), device_code, user_code, start())
        .await
        .expect("the grant is stored");
    commit(tx).await;
    grant
}

backend_test!(
    async fn a_grant_is_found_by_either_code_but_only_their_hashes_are_stored(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;

        let rows = table_as_text(&db, "oauth2_device_code_grants").await;
        let mut tx = repo(&db).await;
        let by_device = tx
            .oauth_device_code_grants()
            .find_by_device_code(DEVICE_CODE)
            .await
            .expect("lookup works");
        let by_user = tx
            .oauth_device_code_grants()
            .find_by_user_code(USER_CODE)
            .await
            .expect("lookup works");
        let by_id = tx
            .oauth_device_code_grants()
            .find(grant.id)
            .await
            .expect("lookup works");

        assert!(
            !rows[0].contains(DEVICE_CODE),
            "clear device code: {}",
            rows[0]
        );
        assert!(!rows[0].contains(USER_CODE), "clear user code: {}", rows[0]);
        assert_eq!(grant.stage, DeviceCodeGrantStage::Pending);
        assert_eq!(grant.device_code_hash, hash_token(DEVICE_CODE));
        assert_eq!(grant.user_code_hash, hash_token(USER_CODE));
        assert_eq!(grant.client_id, world.client.id);
        assert_eq!(grant.expires_at, start() + LIFETIME);
        assert_eq!(grant.ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(grant.user_agent.as_deref(), Some("matrix-rust-sdk"));
        assert_eq!(grant.last_polled_at, None);
        assert_eq!(by_device.as_ref(), Some(&grant));
        assert_eq!(by_user.as_ref(), Some(&grant));
        assert_eq!(by_id, Some(grant));
    }
);

backend_test!(
    async fn a_pending_grant_is_bound_to_the_first_approval(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        let mallory = add_user(&mut tx, "mallory").await;
        let mallorys_browser = add_browser_session(&mut tx, &mallory).await;
        let approved_at = start() + TimeDelta::minutes(1);

        let first = tx
            .oauth_device_code_grants()
            .fulfill(grant.id, &world.browser_session, approved_at)
            .await
            .expect("ok");
        let second = tx
            .oauth_device_code_grants()
            .fulfill(grant.id, &mallorys_browser, approved_at)
            .await
            .expect("ok");
        let rejected = tx
            .oauth_device_code_grants()
            .reject(grant.id, approved_at)
            .await
            .expect("ok");

        assert_eq!(
            first.expect("the grant was pending").stage,
            DeviceCodeGrantStage::Fulfilled {
                browser_session_id: world.browser_session.id,
                user_id: world.user.id,
                fulfilled_at: approved_at,
            }
        );
        assert_eq!(second, None);
        assert_eq!(rejected, None);
    }
);

backend_test!(
    async fn an_expired_grant_can_be_neither_approved_nor_rejected(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;

        let approved = tx
            .oauth_device_code_grants()
            .fulfill(grant.id, &world.browser_session, grant.expires_at)
            .await
            .expect("ok");
        let rejected = tx
            .oauth_device_code_grants()
            .reject(grant.id, grant.expires_at)
            .await
            .expect("ok");
        let just_before = tx
            .oauth_device_code_grants()
            .reject(grant.id, grant.expires_at - TimeDelta::microseconds(1))
            .await
            .expect("ok");

        assert_eq!(approved, None);
        assert_eq!(rejected, None);
        assert!(just_before.is_some());
    }
);

backend_test!(
    async fn a_rejected_grant_can_be_neither_approved_nor_exchanged(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;

        let rejected = tx
            .oauth_device_code_grants()
            .reject(grant.id, start())
            .await
            .expect("ok");
        let approved = tx
            .oauth_device_code_grants()
            .fulfill(grant.id, &world.browser_session, start())
            .await
            .expect("ok");
        let exchanged = tx
            .oauth_device_code_grants()
            .exchange(DEVICE_CODE, &session, start())
            .await
            .expect("ok");

        assert_eq!(
            rejected.expect("the grant was pending").stage,
            DeviceCodeGrantStage::Rejected {
                rejected_at: start()
            }
        );
        assert_eq!(approved, None);
        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn a_pending_grant_cannot_be_exchanged(db: Database) {
        let world = world(&db).await;
        add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;

        let exchanged = tx
            .oauth_device_code_grants()
            .exchange(DEVICE_CODE, &session, start())
            .await
            .expect("ok");

        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn an_approved_grant_is_exchanged_only_once(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        let approved_at = start() + TimeDelta::minutes(1);
        tx.oauth_device_code_grants()
            .fulfill(grant.id, &world.browser_session, approved_at)
            .await
            .expect("ok")
            .expect("approved");
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let polled_at = approved_at + TimeDelta::seconds(5);

        let exchanged = tx
            .oauth_device_code_grants()
            .exchange(DEVICE_CODE, &session, polled_at)
            .await
            .expect("ok");
        let again = tx
            .oauth_device_code_grants()
            .exchange(DEVICE_CODE, &session, polled_at)
            .await
            .expect("ok");

        assert_eq!(
            exchanged.expect("the grant was approved").stage,
            DeviceCodeGrantStage::Exchanged {
                browser_session_id: world.browser_session.id,
                user_id: world.user.id,
                fulfilled_at: approved_at,
                session_id: session.id,
                exchanged_at: polled_at,
            }
        );
        assert_eq!(again, None);
    }
);

backend_test!(
    async fn an_approved_grant_cannot_be_exchanged_once_expired(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        tx.oauth_device_code_grants()
            .fulfill(grant.id, &world.browser_session, start())
            .await
            .expect("ok")
            .expect("approved");
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;

        let exchanged = tx
            .oauth_device_code_grants()
            .exchange(DEVICE_CODE, &session, grant.expires_at)
            .await
            .expect("ok");

        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn a_poll_returns_the_instant_of_the_poll_before(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        let first = start() + TimeDelta::seconds(5);
        let second = first + TimeDelta::seconds(2);

        let before_first = tx
            .oauth_device_code_grants()
            .record_poll(grant.id, first)
            .await
            .expect("recorded");
        let before_second = tx
            .oauth_device_code_grants()
            .record_poll(grant.id, second)
            .await
            .expect("recorded");
        let stored = tx
            .oauth_device_code_grants()
            .find(grant.id)
            .await
            .expect("lookup works")
            .expect("the grant exists");

        assert_eq!(before_first, None);
        assert_eq!(before_second, Some(first));
        assert_eq!(stored.last_polled_at, Some(second));
    }
);

backend_test!(
    async fn recording_a_poll_of_an_unknown_grant_is_not_found(db: Database) {
        let mut tx = repo(&db).await;

        let polled = tx
            .oauth_device_code_grants()
            .record_poll(portcullis_model::Ulid::new(), start())
            .await;

        assert!(
            matches!(polled, Err(StorageError::NotFound { .. })),
            "{polled:?}"
        );
    }
);

backend_test!(
    async fn a_user_code_of_a_pending_grant_cannot_be_issued_again(db: Database) {
        let world = world(&db).await;
        add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;

        let again = tx
            .oauth_device_code_grants()
            .add(&request(&world), "another-device-code", USER_CODE, start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn a_user_code_comes_up_again_once_its_grant_is_decided(db: Database) {
        let world = world(&db).await;
        let old = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let mut tx = repo(&db).await;
        tx.oauth_device_code_grants()
            .reject(old.id, start())
            .await
            .expect("ok")
            .expect("rejected");

        let new = tx
            .oauth_device_code_grants()
            .add(&request(&world), "another-device-code", USER_CODE, start())
            .await
            .expect("the user code is free again");
        let found = tx
            .oauth_device_code_grants()
            .find_by_user_code(USER_CODE)
            .await
            .expect("lookup works");

        assert_eq!(found.map(|grant| grant.id), Some(new.id));
    }
);

backend_test!(
    async fn twenty_concurrent_approvals_bind_the_grant_to_one_user(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let mut browsers = Vec::new();
        for index in 0..20 {
            let user = add_user(&mut tx, &format!("user{index}")).await;
            browsers.push(add_browser_session(&mut tx, &user).await);
        }
        commit(tx).await;

        for round in 1..=ROUNDS {
            let grant = add_grant(
                &db,
                &world,
                &format!("{DEVICE_CODE}-{round}"),
                &format!("CODE{round}"),
            )
            .await;

            let raced = browsers.clone();
            let winners = race(&db, 20, move |db, index| {
                let browser = raced[index].clone();
                async move {
                    let mut tx = repo(&db).await;
                    let won = tx
                        .oauth_device_code_grants()
                        .fulfill(grant.id, &browser, start())
                        .await
                        .expect("ok");
                    commit(tx).await;
                    won.is_some()
                }
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
            let mut tx = repo(&db).await;
            let stored = tx
                .oauth_device_code_grants()
                .find(grant.id)
                .await
                .expect("lookup works")
                .expect("the grant exists");
            let DeviceCodeGrantStage::Fulfilled {
                browser_session_id,
                user_id,
                ..
            } = stored.stage
            else {
                panic!("round {round}: the grant is {:?}", stored.stage);
            };
            let browser = browsers
                .iter()
                .find(|browser| browser.id == browser_session_id)
                .expect("one of the contenders won");
            assert_eq!(user_id, browser.user_id, "round {round}");
        }
    }
);

backend_test!(
    async fn twenty_concurrent_exchanges_of_one_device_code_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let device_code = format!("{DEVICE_CODE}-{round}");
            let grant = add_grant(&db, &world, &device_code, &format!("CODE{round}")).await;
            let mut tx = repo(&db).await;
            tx.oauth_device_code_grants()
                .fulfill(grant.id, &world.browser_session, start())
                .await
                .expect("ok")
                .expect("approved");
            commit(tx).await;

            let (raced, client, browser) = (
                device_code.clone(),
                world.client.clone(),
                world.browser_session.clone(),
            );
            let winners = race(&db, 20, move |db, _| {
                let (device_code, client, browser) =
                    (raced.clone(), client.clone(), browser.clone());
                async move {
                    // Each poll creates the session its tokens would belong to; the losers'
                    // sessions are rolled back.
                    let mut tx = repo(&db).await;
                    let session = add_session(&mut tx, &client, Some(&browser)).await;
                    let won = tx
                        .oauth_device_code_grants()
                        .exchange(&device_code, &session, start())
                        .await
                        .expect("ok");
                    if won.is_some() {
                        commit(tx).await;
                        true
                    } else {
                        tx.rollback().await.expect("the transaction rolls back");
                        false
                    }
                }
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
        }
    }
);

backend_test!(
    async fn concurrent_polls_each_see_the_poll_just_before_theirs(db: Database) {
        let world = world(&db).await;
        let grant = add_grant(&db, &world, DEVICE_CODE, USER_CODE).await;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));

        let recorded = std::sync::Arc::clone(&seen);
        race(&db, 20, move |db, index| {
            let seen = std::sync::Arc::clone(&recorded);
            async move {
                let polled_at = start() + TimeDelta::seconds(i64::try_from(index).expect("small"));
                let mut tx = repo(&db).await;
                let previous = tx
                    .oauth_device_code_grants()
                    .record_poll(grant.id, polled_at)
                    .await
                    .expect("recorded");
                commit(tx).await;
                seen.lock()
                    .expect("no contender panicked")
                    .push((polled_at, previous));
                true
            }
        })
        .await;

        // Whatever the order the polls took, they form one chain: each saw the poll committed
        // just before it, the first saw none, and the last is the one stored.
        let mut tx = repo(&db).await;
        let last = tx
            .oauth_device_code_grants()
            .find(grant.id)
            .await
            .expect("lookup works")
            .expect("the grant exists")
            .last_polled_at;
        let seen = seen.lock().expect("no contender panicked").clone();
        let mut previous: Vec<_> = seen.iter().map(|(_, previous)| *previous).collect();
        let mut expected: Vec<_> = seen
            .iter()
            .map(|(polled_at, _)| Some(*polled_at))
            .filter(|polled_at| *polled_at != last)
            .chain([None])
            .collect();
        previous.sort();
        expected.sort();
        assert_eq!(previous, expected);
    }
);
