//! The authorization grants: consent, then a single exchange of the code.

use chrono::TimeDelta;
use portcullis_model::{
    AuthorizationGrantStage, CodeChallenge, CodeChallengeMethod, ResponseMode, token::hash_token,
};
use portcullis_storage::{NewAuthorizationGrant, StorageError};

use crate::{
    fixtures::{World, add_session, start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const CODE: &str = "Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0hJ";

fn request(world: &World) -> NewAuthorizationGrant {
    NewAuthorizationGrant {
        client_id: world.client.id,
        redirect_uri: "https://app.example/callback".parse().expect("valid"),
        scope: "openid urn:matrix:client:api:*".parse().expect("a scope"),
        state: Some("af0ifjsldkj".to_owned()),
        nonce: Some("n-0S6_WzA2Mj".to_owned()),
        response_mode: ResponseMode::Fragment,
        response_type_code: true,
        response_type_id_token: false,
        code_challenge: Some(CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
            method: CodeChallengeMethod::S256,
        }),
        max_age: Some(3600),
        login_hint: Some("mxid:@alice:example.org".to_owned()),
        locale: Some("fr".to_owned()),
        requires_consent: true,
        raw_parameters: Some(serde_json::json!({"client_id": "app", "prompt": "login"})),
    }
}

/// A grant of the world's client, its session, fulfilled in the world's browser session, and
/// committed.
async fn fulfilled_grant(db: &portcullis_storage_sql::Database, world: &World, code: &str) {
    let mut tx = repo(db).await;
    let grant = tx
        .oauth_authorization_grants()
        .add(&request(world), Some(code), start())
        .await
        .expect("the grant is stored");
    let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
    tx.oauth_authorization_grants()
        .fulfill(grant.id, &session, &world.browser_session, None, start())
        .await
        .expect("ok")
        .expect("the grant is pending");
    commit(tx).await;
}

backend_test!(
    async fn a_grant_is_stored_as_requested_and_pending(db: Database) {
        let world = world(&db).await;
        let request = request(&world);

        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .add(&request, Some(CODE), start())
            .await
            .expect("the grant is stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .oauth_authorization_grants()
            .find(grant.id)
            .await
            .expect("lookup works");
        assert_eq!(found.as_ref(), Some(&grant));
        assert_eq!(grant.stage, AuthorizationGrantStage::Pending);
        assert_eq!(grant.client_id, request.client_id);
        assert_eq!(grant.redirect_uri, request.redirect_uri);
        assert_eq!(grant.scope, request.scope);
        assert_eq!(grant.state, request.state);
        assert_eq!(grant.nonce, request.nonce);
        assert_eq!(grant.response_mode, ResponseMode::Fragment);
        assert!(grant.response_type_code);
        assert!(!grant.response_type_id_token);
        assert_eq!(grant.code_hash, Some(hash_token(CODE)));
        assert_eq!(grant.code_challenge, request.code_challenge);
        assert_eq!(grant.max_age, Some(3600));
        assert_eq!(grant.login_hint, request.login_hint);
        assert_eq!(grant.locale.as_deref(), Some("fr"));
        assert!(grant.requires_consent);
        assert_eq!(grant.created_at, start());
        assert_eq!(grant.raw_parameters, request.raw_parameters);
    }
);

backend_test!(
    async fn a_grant_without_code_or_pkce_is_stored_too(db: Database) {
        let world = world(&db).await;
        let request = NewAuthorizationGrant {
            response_type_code: false,
            response_type_id_token: true,
            code_challenge: None,
            max_age: None,
            ..request(&world)
        };
        let mut tx = repo(&db).await;

        let grant = tx
            .oauth_authorization_grants()
            .add(&request, None, start())
            .await
            .expect("the grant is stored");

        assert_eq!(grant.code_hash, None);
        assert_eq!(grant.code_challenge, None);
        assert_eq!(grant.max_age, None);
    }
);

backend_test!(
    async fn only_the_hash_of_a_code_is_stored(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await
            .expect("the grant is stored");
        commit(tx).await;

        let rows = table_as_text(&db, "oauth2_authorization_grants").await;

        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains(CODE),
            "the clear code is stored: {}",
            rows[0]
        );
        let mut tx = repo(&db).await;
        let found = tx
            .oauth_authorization_grants()
            .find_by_code(CODE)
            .await
            .expect("lookup works");
        assert_eq!(found, Some(grant));
    }
);

backend_test!(
    async fn a_pending_grant_is_fulfilled_only_once(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await
            .expect("the grant is stored");
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let other = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let consented_at = start() + TimeDelta::seconds(30);

        let fulfilled = tx
            .oauth_authorization_grants()
            .fulfill(
                grant.id,
                &session,
                &world.browser_session,
                None,
                consented_at,
            )
            .await
            .expect("ok");
        let again = tx
            .oauth_authorization_grants()
            .fulfill(grant.id, &other, &world.browser_session, None, consented_at)
            .await
            .expect("ok");

        assert_eq!(
            fulfilled.expect("the grant was pending").stage,
            AuthorizationGrantStage::Fulfilled {
                session_id: session.id,
                user_session_id: world.browser_session.id,
                fulfilled_at: consented_at,
            }
        );
        assert_eq!(again, None);
    }
);

backend_test!(
    async fn a_fulfilled_grants_code_is_exchanged_only_once(db: Database) {
        let world = world(&db).await;
        fulfilled_grant(&db, &world, CODE).await;
        let exchanged_at = start() + TimeDelta::minutes(1);

        let mut tx = repo(&db).await;
        let first = tx
            .oauth_authorization_grants()
            .exchange(CODE, exchanged_at)
            .await
            .expect("ok");
        let replay = tx
            .oauth_authorization_grants()
            .exchange(CODE, exchanged_at + TimeDelta::seconds(5))
            .await
            .expect("ok");
        let after = tx
            .oauth_authorization_grants()
            .find_by_code(CODE)
            .await
            .expect("lookup works");

        let first = first.expect("the code is exchanged");
        assert!(matches!(
            first.stage,
            AuthorizationGrantStage::Exchanged { exchanged_at: at, .. } if at == exchanged_at
        ));
        assert_eq!(replay, None);
        // A replay can be told from an unknown code, to revoke what the code gave.
        assert_eq!(after.map(|grant| grant.stage), Some(first.stage));
    }
);

backend_test!(
    async fn a_pending_grants_code_cannot_be_exchanged(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        tx.oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await
            .expect("the grant is stored");

        let exchanged = tx
            .oauth_authorization_grants()
            .exchange(CODE, start())
            .await
            .expect("ok");

        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn an_unknown_code_is_refused(db: Database) {
        let world = world(&db).await;
        fulfilled_grant(&db, &world, CODE).await;
        let mut tx = repo(&db).await;

        let exchanged = tx
            .oauth_authorization_grants()
            .exchange("not-the-code", start())
            .await
            .expect("ok");

        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn a_cancelled_grant_can_be_neither_fulfilled_nor_exchanged(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await
            .expect("the grant is stored");
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;

        let cancelled = tx
            .oauth_authorization_grants()
            .cancel(grant.id, start())
            .await
            .expect("ok");
        let fulfilled = tx
            .oauth_authorization_grants()
            .fulfill(grant.id, &session, &world.browser_session, None, start())
            .await
            .expect("ok");
        let exchanged = tx
            .oauth_authorization_grants()
            .exchange(CODE, start())
            .await
            .expect("ok");

        assert_eq!(
            cancelled.expect("the grant was pending").stage,
            AuthorizationGrantStage::Cancelled {
                cancelled_at: start()
            }
        );
        assert_eq!(fulfilled, None);
        assert_eq!(exchanged, None);
    }
);

backend_test!(
    async fn a_fulfilled_grant_cannot_be_cancelled(db: Database) {
        let world = world(&db).await;
        fulfilled_grant(&db, &world, CODE).await;
        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .find_by_code(CODE)
            .await
            .expect("lookup works")
            .expect("the grant exists");

        let cancelled = tx
            .oauth_authorization_grants()
            .cancel(grant.id, start())
            .await
            .expect("ok");

        assert_eq!(cancelled, None);
    }
);

backend_test!(
    async fn the_same_code_cannot_be_issued_twice(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        tx.oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await
            .expect("the grant is stored");

        let again = tx
            .oauth_authorization_grants()
            .add(&request(&world), Some(CODE), start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn twenty_concurrent_exchanges_of_one_code_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let code = format!("{CODE}-{round}");
            fulfilled_grant(&db, &world, &code).await;

            let raced = code.clone();
            let winners = race(&db, 20, move |db, _| {
                let code = raced.clone();
                async move {
                    let mut tx = repo(&db).await;
                    let won = tx
                        .oauth_authorization_grants()
                        .exchange(&code, start())
                        .await
                        .expect("ok");
                    commit(tx).await;
                    won.is_some()
                }
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
        }
    }
);

backend_test!(
    async fn a_code_made_at_consent_time_can_be_exchanged(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let grant = tx
            .oauth_authorization_grants()
            .add(&request(&world), None, start())
            .await
            .expect("the grant is stored");
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        tx.oauth_authorization_grants()
            .fulfill(
                grant.id,
                &session,
                &world.browser_session,
                Some("made-at-consent"),
                start(),
            )
            .await
            .expect("ok")
            .expect("the grant is pending");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let exchanged = tx
            .oauth_authorization_grants()
            .exchange("made-at-consent", start())
            .await
            .expect("ok");
        assert_eq!(exchanged.map(|g| g.id), Some(grant.id));
    }
);
