//! Who may call: tokens whose scope holds `urn:mas:admin`, of an active user or of a client;
//! everything else refused in the API's error shape.

use axum::http::StatusCode;
use portcullis_model::Clock as _;

use crate::common::title;

admin_test!(
    async fn an_admin_token_of_a_user_or_a_client_opens_the_api(world: World) {
        let admin = world.user("root").await;
        let token = world.token(Some(&admin), "urn:mas:admin").await;
        let (status, body) = world
            .call("GET", "/api/admin/v1/version", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let token = world.admin_token().await;
        let (status, _) = world
            .call("GET", "/api/admin/v1/version", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
);

admin_test!(
    async fn every_other_call_is_refused_with_its_reason(world: World) {
        let uri = "/api/admin/v1/users";
        let (status, body) = world.call("GET", uri, None, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(title(&body), "Missing Authorization header");

        let (status, body) = world
            .call("GET", uri, Some("Basic Zm9vOmJhcg=="), None)
            .await;
        // `Bearer Basic …`: not a token of ours at all.
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

        let user = world.user("alice").await;
        let without_scope = world
            .token(Some(&user), "openid urn:matrix:client:api:*")
            .await;
        let (status, body) = world.call("GET", uri, Some(&without_scope), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(title(&body).contains("urn:mas:admin"), "{body}");

        let compat =
            portcullis_oauth::token::TokenType::CompatAccessToken.generate(&mut rand::thread_rng());
        let (status, body) = world.call("GET", uri, Some(&compat), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(title(&body).starts_with("Unsupported token type"), "{body}");

        let unknown =
            portcullis_oauth::token::TokenType::AccessToken.generate(&mut rand::thread_rng());
        let (status, body) = world.call("GET", uri, Some(&unknown), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(title(&body), "Invalid, expired or revoked token");

        // Expired: the clock moves past the token's five minutes.
        let expiring = world.admin_token().await;
        world.clock.advance(chrono::TimeDelta::minutes(6));
        let (status, _) = world.call("GET", uri, Some(&expiring), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
);

admin_test!(
    async fn a_locked_or_deactivated_admin_is_refused(world: World) {
        let admin = world.user("root").await;
        let token = world.token(Some(&admin), "urn:mas:admin").await;
        let mut tx = world.database.transaction().await.expect("tx");
        let locked = tx
            .users()
            .lock(admin, world.clock.now())
            .await
            .expect("locked");
        tx.commit().await.expect("committed");
        let (status, body) = world
            .call("GET", "/api/admin/v1/users", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(title(&body), "The user of this token is locked");

        let mut tx = world.database.transaction().await.expect("tx");
        tx.users()
            .deactivate(locked, world.clock.now())
            .await
            .expect("deactivated");
        tx.commit().await.expect("committed");
        let (status, body) = world
            .call("GET", "/api/admin/v1/users", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(title(&body), "The user of this token is deactivated");
    }
);
