//! The model's state machines and storage's conditional updates agree: for every stage a
//! grant, login or session can be in and every transition, what the model's method refuses,
//! storage refuses too, and what the model allows, storage stores as the stage the model
//! computed.

use chrono::TimeDelta;
use portcullis_model::ResponseMode;
use portcullis_storage::{NewAuthorizationGrant, NewDeviceCodeGrant};

use crate::{
    fixtures::{World, add_session, start, world},
    support::repo,
};

/// The model's verdict against storage's, for `context`: the new stage when both moved.
fn agree<S, E>(context: impl std::fmt::Debug, model: Result<S, E>, stored: Option<S>) -> Option<S>
where
    S: PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    match (model, stored) {
        (Ok(expected), Some(stored)) => {
            assert_eq!(stored, expected, "{context:?}");
            Some(stored)
        }
        (Err(_), None) => None,
        (model, stored) => panic!("{context:?}: the model says {model:?}, storage {stored:?}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrantStep {
    Fulfill,
    Exchange,
    Cancel,
}

fn authorization_request(world: &World) -> NewAuthorizationGrant {
    NewAuthorizationGrant {
        client_id: world.client.id,
        redirect_uri: "https://app.example/callback".parse().expect("a URL"),
        scope: "openid".parse().expect("a scope"),
        state: None,
        nonce: None,
        response_mode: ResponseMode::Query,
        response_type_code: true,
        response_type_id_token: false,
        code_challenge: None,
        max_age: None,
        login_hint: None,
        locale: None,
        requires_consent: false,
        raw_parameters: None,
    }
}

backend_test!(
    async fn the_model_and_storage_agree_on_every_authorization_grant_transition(db: Database) {
        use GrantStep::{Cancel, Exchange, Fulfill};
        let world = world(&db).await;
        let paths: [&[GrantStep]; 4] = [&[], &[Fulfill], &[Fulfill, Exchange], &[Cancel]];
        for (round, path) in paths.iter().enumerate() {
            for step in [Fulfill, Exchange, Cancel] {
                let code = format!("code-{round}-{step:?}");
                let mut tx = repo(&db).await;
                let grant = tx
                    .oauth_authorization_grants()
                    .add(&authorization_request(&world), Some(&code), start())
                    .await
                    .expect("stored");
                let session =
                    add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
                let browser = &world.browser_session;
                let mut at = start();
                let mut stage = grant.stage;
                for current in path.iter().chain(std::iter::once(&step)) {
                    at += TimeDelta::seconds(1);
                    let grants = tx.oauth_authorization_grants();
                    let stored = match current {
                        Fulfill => grants.fulfill(grant.id, &session, browser, None, at).await,
                        Exchange => grants.exchange(&code, at).await,
                        Cancel => grants.cancel(grant.id, at).await,
                    }
                    .expect("storage works")
                    .map(|grant| grant.stage);
                    let model = match current {
                        Fulfill => stage.fulfill(session.id, browser.id, at),
                        Exchange => stage.exchange(at),
                        Cancel => stage.cancel(at),
                    };
                    if let Some(next) = agree((path, current), model, stored) {
                        stage = next;
                    }
                }
                tx.rollback().await.expect("rolled back");
            }
        }
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStep {
    Fulfill,
    Reject,
    Exchange,
}

backend_test!(
    async fn the_model_and_storage_agree_on_every_device_code_grant_transition(db: Database) {
        use DeviceStep::{Exchange, Fulfill, Reject};
        let world = world(&db).await;
        let paths: [&[DeviceStep]; 4] = [&[], &[Fulfill], &[Fulfill, Exchange], &[Reject]];
        for (round, path) in paths.iter().enumerate() {
            for step in [Fulfill, Reject, Exchange] {
                let device_code = format!("device-{round}-{step:?}");
                let user_code = format!("U{round}{step:?}");
                let mut tx = repo(&db).await;
                let request = NewDeviceCodeGrant {
                    client_id: world.client.id,
                    scope: "openid".parse().expect("a scope"),
                    expires_at: start() + TimeDelta::minutes(20),
                    ip: None,
                    user_agent: None,
                };
                let grant = tx
                    .oauth_device_code_grants()
                    .add(&request, &device_code, &user_code, start())
                    .await
                    .expect("stored");
                let session =
                    add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
                let browser = &world.browser_session;
                let mut at = start();
                let mut stage = grant.stage;
                for current in path.iter().chain(std::iter::once(&step)) {
                    at += TimeDelta::seconds(1);
                    let grants = tx.oauth_device_code_grants();
                    let stored = match current {
                        Fulfill => grants.fulfill(grant.id, browser, at).await,
                        Reject => grants.reject(grant.id, at).await,
                        Exchange => grants.exchange(&device_code, &session, at).await,
                    }
                    .expect("storage works")
                    .map(|grant| grant.stage);
                    let model = match current {
                        Fulfill => stage.fulfill(browser.id, browser.user_id, at),
                        Reject => stage.reject(at),
                        Exchange => stage.exchange(session.id, at),
                    };
                    if let Some(next) = agree((path, current), model, stored) {
                        stage = next;
                    }
                }
                tx.rollback().await.expect("rolled back");
            }
        }
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefreshStep {
    Consume,
    Revoke,
}

backend_test!(
    async fn the_model_and_storage_agree_on_every_refresh_token_transition(db: Database) {
        use RefreshStep::{Consume, Revoke};
        let world = world(&db).await;
        let paths: [&[RefreshStep]; 3] = [&[], &[Consume], &[Revoke]];
        for (round, path) in paths.iter().enumerate() {
            for step in [Consume, Revoke] {
                let token = format!("refresh-{round}-{step:?}");
                let mut tx = repo(&db).await;
                let session =
                    add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
                let refresh = tx
                    .oauth_refresh_tokens()
                    .add(&session, &token, None, start())
                    .await
                    .expect("stored");
                let mut at = start();
                let mut state = refresh.state;
                for current in path.iter().chain(std::iter::once(&step)) {
                    at += TimeDelta::seconds(1);
                    // The token a consumption points to exists: the next one of the session.
                    let next = tx
                        .oauth_refresh_tokens()
                        .add(&session, &format!("{token}-after-{at}"), None, at)
                        .await
                        .expect("stored")
                        .id;
                    let tokens = tx.oauth_refresh_tokens();
                    let stored = match current {
                        Consume => tokens.consume(&token, next, at).await,
                        Revoke => tokens.revoke(refresh.id, at).await,
                    }
                    .expect("storage works")
                    .map(|refresh| refresh.state);
                    let model = match current {
                        Consume => state.consume(at, next),
                        Revoke => Ok(state.revoke(at)),
                    };
                    if let Some(next) = agree((path, current), model, stored) {
                        state = next;
                    }
                }
                tx.rollback().await.expect("rolled back");
            }
        }
    }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SsoStep {
    Fulfill,
    Exchange,
}

backend_test!(
    async fn the_model_and_storage_agree_on_every_single_sign_on_login_transition(db: Database) {
        use SsoStep::{Exchange, Fulfill};
        let world = world(&db).await;
        let paths: [&[SsoStep]; 3] = [&[], &[Fulfill], &[Fulfill, Exchange]];
        for (round, path) in paths.iter().enumerate() {
            for step in [Fulfill, Exchange] {
                let mut tx = repo(&db).await;
                let redirect = "https://app.example/sso".parse().expect("a URL");
                let login = tx
                    .compat_sso_logins()
                    .add(&format!("placeholder-{round}-{step:?}"), &redirect, start())
                    .await
                    .expect("stored");
                let device = format!("DEVICE{round}{step:?}");
                let session =
                    crate::compat_session::add_compat_session(&mut tx, &world.user, &device).await;
                let browser = &world.browser_session;
                let mut at = start();
                let mut state = login.state;
                for current in path.iter().chain(std::iter::once(&step)) {
                    at += TimeDelta::seconds(1);
                    let token = format!("token-{round}-{step:?}-{at}");
                    let logins = tx.compat_sso_logins();
                    let stored = match current {
                        Fulfill => logins.fulfill(login.id, browser.id, &token, at).await,
                        Exchange => logins.exchange(login.id, session.id, at).await,
                    }
                    .expect("storage works")
                    .map(|login| login.state);
                    let model = match current {
                        Fulfill => state.fulfill(at, browser.id),
                        Exchange => state.exchange(at, session.id),
                    };
                    if let Some(next) = agree((path, current), model, stored) {
                        state = next;
                    }
                }
                tx.rollback().await.expect("rolled back");
            }
        }
    }
);

backend_test!(
    async fn the_model_and_storage_agree_on_ending_every_kind_of_session(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let mut browser = world.browser_session.clone();
        let mut oauth = add_session(&mut tx, &world.client, Some(&browser)).await;
        let mut compat =
            crate::compat_session::add_compat_session(&mut tx, &world.user, "ENDING").await;
        // Ending twice: the first instant stays.
        for round in 1..=2 {
            let at = start() + TimeDelta::minutes(round);
            let stored = tx.browser_sessions().finish(browser.id, at).await;
            let model = Ok::<_, ()>(Some(browser.finish(at)));
            let stored = stored.expect("storage works");
            agree(
                ("browser", round),
                model,
                stored.as_ref().map(|s| s.finished_at),
            );
            browser = stored.expect("found");

            let stored = tx.oauth_sessions().finish(oauth.id, at).await;
            let model = Ok::<_, ()>(Some(oauth.finish(at)));
            let stored = stored.expect("storage works");
            agree(
                ("oauth", round),
                model,
                stored.as_ref().map(|s| s.finished_at),
            );
            oauth = stored.expect("found");

            let stored = tx.compat_sessions().finish(compat.id, at).await;
            let model = Ok::<_, ()>(Some(compat.finish(at)));
            let stored = stored.expect("storage works");
            agree(
                ("compat", round),
                model,
                stored.as_ref().map(|s| s.finished_at),
            );
            compat = stored.expect("found");
        }
        assert_eq!(compat.finished_at, Some(start() + TimeDelta::minutes(1)));
        tx.rollback().await.expect("rolled back");
    }
);
