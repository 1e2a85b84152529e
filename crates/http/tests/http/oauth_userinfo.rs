//! `GET` and `POST /oauth2/userinfo`.

use crate::common::{
    TestApp, app, body_json, body_text,
    oauth::{
        Authorization, VERIFIER, add_client, add_email, consented_code, exchange, sign_in,
        store_client, tokens,
    },
};
use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use portcullis_model::{OAuthClient, User};

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];

/// An access token of Alice for `client` with `scope`.
async fn access_token(app: &TestApp, client: &OAuthClient, scope: &str) -> (String, User) {
    let alice = sign_in(app, "alice").await;
    add_email(app, &alice.user, "alice@example.org").await;
    let code = consented_code(
        app,
        client,
        &alice,
        &Authorization {
            scope,
            ..Authorization::default()
        },
    )
    .await;
    let body =
        tokens(exchange(app, &client.client_id, None, &code.code, Some(VERIFIER)).await).await;
    (
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
        alice.user,
    )
}

async fn userinfo(app: &TestApp, method: &str, token: &str) -> Response<Body> {
    app.send(
        Request::builder()
            .method(method)
            .uri("/oauth2/userinfo")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn userinfo_names_the_user_of_an_openid_token() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let (token, alice) = access_token(&app, &client, "openid urn:matrix:client:api:*").await;

    let response = userinfo(&app, "GET", &token).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(
        body,
        serde_json::json!({ "sub": alice.id.to_string(), "username": "alice" })
    );
}

#[tokio::test]
async fn userinfo_answers_post_too_and_adds_the_email_with_its_scope() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let (token, _) = access_token(&app, &client, "openid email").await;

    let response = userinfo(&app, "POST", &token).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = body_json(response).await;
    assert_eq!(body["email"], "alice@example.org");
    assert_eq!(body["email_verified"], true);
}

#[tokio::test]
async fn userinfo_refuses_a_token_without_openid() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let (token, _) = access_token(&app, &client, "urn:matrix:client:api:*").await;

    let response = userinfo(&app, "GET", &token).await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()[header::WWW_AUTHENTICATE]
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert_eq!(body_json(response).await["error"], "insufficient_scope");
}

#[tokio::test]
async fn userinfo_refuses_an_invalid_token() {
    let app = app().await;
    let unknown = portcullis_oauth::token::TokenType::AccessToken.generate(&mut rand::thread_rng());

    for token in [unknown.as_str(), "garbage"] {
        let response = userinfo(&app, "GET", token).await;

        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(body_json(response).await["error"], "invalid_token");
    }
}

#[tokio::test]
async fn userinfo_without_a_token_is_refused() {
    let app = app().await;

    let response = app
        .send(
            Request::get("/oauth2/userinfo")
                .body(Body::empty())
                .expect("request"),
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn userinfo_is_a_signed_jwt_for_a_client_that_asked_for_one() {
    let app = app().await;
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "signed-app".to_owned(),
        is_static: true,
        client_auth_method: "none".parse().expect("valid"),
        redirect_uris: vec![crate::common::oauth::REDIRECT_URI.parse().expect("valid")],
        grant_types: CODE_GRANTS
            .iter()
            .map(|g| g.parse().expect("valid"))
            .collect(),
        userinfo_signed_response_alg: Some("RS256".to_owned()),
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    let client = store_client(&app, &client).await;
    let (token, alice) = access_token(&app, &client, "openid").await;

    let response = userinfo(&app, "GET", &token).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/jwt");
    let jwt = body_text(response).await;
    let jwks = body_text(
        app.send(
            Request::get("/oauth2/keys.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await,
    )
    .await;
    let claims = portcullis_keys::verify_jwt(&jwks, &jwt).expect("signed by a published key");
    assert_eq!(claims["sub"], alice.id.to_string());
    assert_eq!(claims["username"], "alice");
    assert_eq!(claims["iss"], "https://example.com/");
    assert_eq!(claims["aud"], "signed-app");
}
