//! What the tests of the back-channel OAuth endpoints share: clients, signed-in users and
//! consented codes set up directly through storage, and requests to the token, introspection,
//! revocation and userinfo endpoints.

use axum::{
    body::Body,
    http::{Request, Response, header},
};
use base64ct::{Base64, Encoding as _};
use chrono::TimeDelta;
use portcullis_model::{
    AccessToken, BrowserSession, CodeChallenge, CodeChallengeMethod, OAuthClient, ResponseMode,
    User,
};
use portcullis_storage::{NewAuthorizationGrant, NewOAuthSession};
use serde_json::Value;

use super::{HOMESERVER_SECRET, TestApp, body_json, post_form};

pub const REDIRECT_URI: &str = "https://app.example.com/callback";
pub const CLIENT_SECRET: &str = "the-secret-of-the-client";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const MATRIX_SCOPE: &str = "openid urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ";

/// A static client with `auth_method`, the given grants, and (for secret methods) the secret
/// [`CLIENT_SECRET`], encrypted as the configuration loader stores it.
pub async fn add_client(
    app: &TestApp,
    client_id: &str,
    auth_method: &str,
    grant_types: &[&str],
) -> OAuthClient {
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: client_id.to_owned(),
        is_static: true,
        client_auth_method: auth_method.parse().expect("valid"),
        encrypted_client_secret: auth_method
            .starts_with("client_secret")
            .then(|| app.state.encrypter().encrypt(CLIENT_SECRET.as_bytes())),
        redirect_uris: vec![REDIRECT_URI.parse().expect("valid")],
        grant_types: grant_types
            .iter()
            .map(|g| g.parse().expect("valid"))
            .collect(),
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    store_client(app, &client).await
}

/// Stores `client` as a static client.
pub async fn store_client(app: &TestApp, client: &OAuthClient) -> OAuthClient {
    let mut repo = app.database.transaction().await.expect("tx");
    let client = repo
        .oauth_clients()
        .upsert_static(client)
        .await
        .expect("client stored");
    repo.commit().await.expect("commit");
    client
}

/// A user who signed in with a password in a browser session.
pub struct SignedIn {
    pub user: User,
    pub browser_session: BrowserSession,
}

/// Creates `username` and signs them in, now.
pub async fn sign_in(app: &TestApp, username: &str) -> SignedIn {
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("tx");
    let user = repo.users().add(username, now).await.expect("user added");
    let browser_session = repo
        .browser_sessions()
        .add(&user, Some("Firefox"), now)
        .await
        .expect("browser session");
    repo.browser_sessions()
        .authenticate(
            &browser_session,
            portcullis_model::AuthenticationKind::Password,
            now,
        )
        .await
        .expect("authenticated");
    repo.commit().await.expect("commit");
    SignedIn {
        user,
        browser_session,
    }
}

/// Adds `email` to the user's addresses.
pub async fn add_email(app: &TestApp, user: &User, email: &str) {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.user_emails()
        .add(user, email, app.state.now())
        .await
        .expect("email added");
    repo.commit().await.expect("commit");
}

/// Locks the user.
pub async fn lock(app: &TestApp, user: &User) {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.users()
        .lock(user.clone(), app.state.now())
        .await
        .expect("locked");
    repo.commit().await.expect("commit");
}

/// Deactivates `user` in storage, as the deactivation job does first.
pub async fn deactivate(app: &TestApp, user: &User) {
    let mut repo = app.database.transaction().await.expect("tx");
    repo.users()
        .deactivate(user.clone(), app.state.now())
        .await
        .expect("deactivated");
    repo.commit().await.expect("commit");
}

/// How the authorization request of a [`consented_code`] looked.
pub struct Authorization<'a> {
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    /// An S256 challenge of [`VERIFIER`].
    pub pkce: bool,
}

impl Default for Authorization<'_> {
    fn default() -> Self {
        Self {
            scope: MATRIX_SCOPE,
            nonce: Some("n-0S6_WzA2Mj"),
            pkce: true,
        }
    }
}

/// A code the user consented to, not exchanged yet.
pub struct Code {
    pub code: String,
}

/// What the authorization and consent pages leave behind: a fulfilled grant of `client` for
/// the signed-in user, with its session, and its code.
pub async fn consented_code(
    app: &TestApp,
    client: &OAuthClient,
    signed_in: &SignedIn,
    authorization: &Authorization<'_>,
) -> Code {
    let now = app.state.now();
    let code = portcullis_oauth::token::generate_code(&mut rand::thread_rng(), 32);
    let mut repo = app.database.transaction().await.expect("tx");
    let grant = repo
        .oauth_authorization_grants()
        .add(
            &NewAuthorizationGrant {
                client_id: client.id,
                redirect_uri: REDIRECT_URI.parse().expect("valid"),
                scope: authorization.scope.parse().expect("a scope"),
                state: Some("xyz".to_owned()),
                nonce: authorization.nonce.map(str::to_owned),
                response_mode: ResponseMode::Query,
                response_type_code: true,
                response_type_id_token: false,
                code_challenge: authorization.pkce.then(|| CodeChallenge {
                    challenge: CHALLENGE.to_owned(),
                    method: CodeChallengeMethod::S256,
                }),
                max_age: None,
                login_hint: None,
                locale: None,
                requires_consent: true,
                raw_parameters: None,
            },
            None,
            now,
        )
        .await
        .expect("grant added");
    let session = repo
        .oauth_sessions()
        .add(
            &NewOAuthSession {
                client_id: client.id,
                user_id: Some(signed_in.user.id),
                user_session_id: Some(signed_in.browser_session.id),
                scope: authorization.scope.parse().expect("a scope"),
                user_agent: Some("Element X".to_owned()),
                human_name: None,
            },
            now,
        )
        .await
        .expect("session added");
    repo.oauth_authorization_grants()
        .fulfill(
            grant.id,
            &session,
            &signed_in.browser_session,
            Some(&code),
            now,
        )
        .await
        .expect("fulfilled")
        .expect("the grant was pending");
    repo.commit().await.expect("commit");
    Code { code }
}

/// `Authorization: Basic` for `client_id` and `secret` (RFC 6749 §2.3.1).
pub fn basic(client_id: &str, secret: &str) -> String {
    let encode =
        |value: &str| url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        Base64::encode_string(format!("{}:{}", encode(client_id), encode(secret)).as_bytes())
    )
}

/// A form POST with an `Authorization` header.
pub fn post_form_with_auth(
    uri: &str,
    authorization: &str,
    pairs: &[(&str, &str)],
) -> Request<Body> {
    let mut request = post_form(uri, pairs);
    request.headers_mut().insert(
        header::AUTHORIZATION,
        authorization.parse().expect("a valid header value"),
    );
    request
}

/// Exchanges `code` for `client_id` (authenticated with `client_secret_post` when `secret` is
/// given), with `verifier` if any.
pub async fn exchange(
    app: &TestApp,
    client_id: &str,
    secret: Option<&str>,
    code: &str,
    verifier: Option<&str>,
) -> Response<Body> {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", client_id),
    ];
    if let Some(secret) = secret {
        pairs.push(("client_secret", secret));
    }
    if let Some(verifier) = verifier {
        pairs.push(("code_verifier", verifier));
    }
    app.send(post_form("/oauth2/token", &pairs)).await
}

/// Refreshes with `refresh_token` for the public client `client_id`.
pub async fn refresh(app: &TestApp, client_id: &str, refresh_token: &str) -> Response<Body> {
    app.send(post_form(
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    ))
    .await
}

/// The JSON of a successful token response.
pub async fn tokens(response: Response<Body>) -> Value {
    let status = response.status();
    let body = body_json(response).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

/// Introspects `token` as the homeserver does, and returns the answer.
pub async fn introspect(app: &TestApp, token: &str) -> Value {
    let response = app
        .send(post_form_with_auth(
            "/oauth2/introspect",
            &format!("Bearer {HOMESERVER_SECRET}"),
            &[("token", token), ("token_type_hint", "access_token")],
        ))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    body_json(response).await
}

/// Whether introspection says `token` is active.
pub async fn is_active(app: &TestApp, token: &str) -> bool {
    introspect(app, token).await["active"] == Value::Bool(true)
}

/// The stored access token `token`.
pub async fn stored_access_token(app: &TestApp, token: &str) -> AccessToken {
    let mut repo = app.database.transaction().await.expect("tx");
    let found = repo
        .oauth_access_tokens()
        .find_by_token(token)
        .await
        .expect("lookup")
        .expect("the token exists");
    repo.rollback().await.expect("rollback");
    found
}

/// Waits until the first use of `token`, which introspection records in the background, is
/// stored.
pub async fn wait_until_used(app: &TestApp, token: &str) {
    for _ in 0..200 {
        if stored_access_token(app, token)
            .await
            .first_used_at
            .is_some()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the first use of the access token was never recorded");
}

/// Moves the clock of `app` by `minutes`.
pub fn advance_minutes(app: &TestApp, minutes: i64) {
    app.clock.advance(TimeDelta::minutes(minutes));
}
