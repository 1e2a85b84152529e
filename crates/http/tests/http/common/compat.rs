//! What the tests of the Matrix login API share: JSON requests, password logins, sessions made
//! directly in storage, introspection as the homeserver does it, and running the job queue.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, Response, StatusCode, header},
};
use portcullis_model::{CompatSession, JobStatus, User};
use portcullis_storage::NewCompatSession;
use serde_json::{Value, json};

use super::{HOMESERVER_SECRET, TestApp, body_json, oauth::post_form_with_auth};

pub const LOGIN: &str = "/_matrix/client/v3/login";
pub const PASSWORD: &str = "correct horse battery staple";

/// A JSON POST.
pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("valid request")
}

/// A JSON POST with `Authorization: Bearer <token>`.
pub fn post_json_with_token(uri: &str, token: &str, body: &Value) -> Request<Body> {
    let mut request = post_json(uri, body);
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a valid header"),
    );
    request
}

/// `POST /login` with `body`.
pub async fn login(app: &TestApp, body: &Value) -> Response<Body> {
    app.send(post_json(LOGIN, body)).await
}

/// A password login of `user` (as the identifier names it) with [`PASSWORD`], plus `extra`
/// fields.
pub fn password_body(user: &str, extra: &Value) -> Value {
    let mut body = json!({
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": PASSWORD,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            body.insert(key.clone(), value.clone());
        }
    }
    body
}

/// Logs `user` in with [`PASSWORD`] and `extra` fields, expecting success.
pub async fn logged_in(app: &TestApp, user: &str, extra: &Value) -> Value {
    let response = login(app, &password_body(user, extra)).await;
    let status = response.status();
    let body = body_json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The errcode of an error response, after checking its status.
pub async fn errcode(response: Response<Body>, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let body = body_json(response).await;
    body["errcode"].as_str().expect("an errcode").to_owned()
}

/// Introspects `token` as the homeserver does, with `X-MAS-Supports-Device-Id: 1` if
/// `device_id_header`, and `hint` if any.
pub async fn introspect(
    app: &TestApp,
    token: &str,
    hint: Option<&str>,
    device_id_header: bool,
) -> Value {
    let mut pairs = vec![("token", token)];
    if let Some(hint) = hint {
        pairs.push(("token_type_hint", hint));
    }
    let mut request = post_form_with_auth(
        "/oauth2/introspect",
        &format!("Bearer {HOMESERVER_SECRET}"),
        &pairs,
    );
    if device_id_header {
        request.headers_mut().insert(
            "x-mas-supports-device-id",
            "1".parse().expect("a valid header"),
        );
    }
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    body_json(response).await
}

/// Whether introspection says `token` is active.
pub async fn is_active(app: &TestApp, token: &str) -> bool {
    introspect(app, token, None, false).await["active"] == Value::Bool(true)
}

/// A compatibility session of `user` on `device_id` with the access token `token`, made
/// directly in storage as `manage issue-compatibility-token` or a migration would.
pub async fn stored_session(
    app: &TestApp,
    user: &User,
    device_id: &str,
    token: &str,
    synapse_admin: bool,
) -> CompatSession {
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("tx");
    let session = repo
        .compat_sessions()
        .add(
            &NewCompatSession {
                user_id: user.id,
                device_id: device_id.to_owned(),
                human_name: None,
                user_session_id: None,
                is_synapse_admin: synapse_admin,
                user_agent: None,
            },
            now,
        )
        .await
        .expect("session added");
    repo.compat_access_tokens()
        .add(&session, token, None, now)
        .await
        .expect("token added");
    repo.commit().await.expect("commit");
    session
}

/// The active compatibility sessions of `user`.
pub async fn active_sessions(app: &TestApp, user: &User) -> Vec<CompatSession> {
    let mut repo = app.database.transaction().await.expect("tx");
    let sessions = repo
        .compat_sessions()
        .list_active_for_user(user)
        .await
        .expect("listed");
    repo.rollback().await.expect("rollback");
    sessions
}

/// Runs every due job with the application's homeserver; returns the status of each.
pub async fn run_jobs(app: &TestApp) -> Vec<JobStatus> {
    let context = portcullis_jobs::JobContext {
        repositories: Arc::new(app.database.clone()),
        homeserver: app.homeserver.clone(),
        clock: Arc::new(app.clock.clone()),
        mailer: app.mailer.clone(),
    };
    let worker = portcullis_jobs::register(
        portcullis_worker::Worker::new(Arc::new(app.database.clone()), Arc::new(app.clock.clone())),
        &context,
    );
    let mut statuses = Vec::new();
    while let Some(ran) = worker.run_once().await.expect("the queue works") {
        statuses.push(ran.status);
    }
    statuses
}
