//! The account page of personal access tokens: made after a re-authentication, shown once,
//! working at once, listed and revoked; the admin scope only for admins.

use axum::http::StatusCode;

use crate::common::{
    account::{PASSWORD, csrf_of, signed_in},
    app,
    compat::introspect,
    oauth::advance_minutes,
};

/// The token shown on a page that just made one.
fn shown_token(body: &str) -> String {
    let at = body.find("value=\"mpt_").expect("a new token on the page") + "value=\"".len();
    let end = at + body[at..].find('"').expect("a closing quote");
    body[at..end].to_owned()
}

#[tokio::test]
async fn a_user_makes_a_token_for_their_bot_sees_it_once_and_revokes_it() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let page = browser.get("/account/tokens").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("aria-current=\"page\">Access tokens"),
        "{}",
        page.body
    );
    // Not an admin: no admin choice offered.
    assert!(!page.body.contains("name=\"admin\""));

    let csrf = page.field("csrf").expect("a csrf field");
    let made = browser
        .post(
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "Weather bot"),
                ("device", "WEATHERBOT1"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let token = shown_token(&made.body);
    assert!(made.body.contains("Weather bot"));
    assert!(app.homeserver.devices("alice").contains("WEATHERBOT1"));

    // It works at once, as alice on the bot's device.
    let answer = introspect(&app, &token, None, true).await;
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["sub"], alice.id.to_string());
    assert_eq!(answer["device_id"], "WEATHERBOT1");

    // Shown once: the list shows the token, not its value.
    let list = browser.get("/account/tokens").await;
    assert!(list.body.contains("Weather bot"));
    assert!(!list.body.contains(&token));
    let revoke_at = list.body.find("/account/tokens/").expect("a revoke form");
    let revoke_end = revoke_at + list.body[revoke_at..].find('"').expect("end");
    let revoke_path = &list.body[revoke_at..revoke_end];
    assert!(revoke_path.ends_with("/revoke"), "{revoke_path}");
    let csrf = list.field("csrf").expect("csrf");
    let revoked = browser.post(revoke_path, &[("csrf", &csrf)]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let after = browser.get(&revoked.location_path()).await;
    assert!(after.body.contains("is revoked"), "{}", after.body);
    assert!(
        !after
            .body
            .contains("<h3 class=\"session-title\">Weather bot")
    );
    assert_eq!(introspect(&app, &token, None, false).await["active"], false);
}

#[tokio::test]
async fn making_a_token_needs_the_password_after_a_while_and_a_valid_form() {
    let app = app().await;
    let (mut browser, _) = signed_in(&app, "alice").await;
    advance_minutes(&app, 60);
    let csrf = csrf_of(&mut browser, "/account/tokens").await;
    let form = |password: &'static str, name: &'static str, device: &'static str| {
        vec![
            ("name", name),
            ("device", device),
            ("expires_in_days", "90"),
            ("password", password),
        ]
    };
    for (pairs, expected) in [
        (form("wrong", "bot", ""), "password"),
        (form(PASSWORD, "  ", ""), "Give the token a name"),
        (form(PASSWORD, "bot", "no"), "cannot be used"),
    ] {
        let mut pairs = pairs;
        pairs.push(("csrf", &csrf));
        let page = browser.post("/account/tokens", &pairs).await;
        assert_ne!(page.status, StatusCode::OK, "{pairs:?}");
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
        assert!(!page.body.contains("value=\"mpt_"));
    }
    let page = browser
        .post(
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "bot"),
                ("expires_in_days", "9999"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Until revoked is for administrators only.
    let never = browser
        .post(
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "bot"),
                ("expires_in_days", "never"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(never.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another user's token cannot be revoked from here.
    let stranger = browser
        .post(
            "/account/tokens/01ARZ3NDEKTSV4RRFFQ69G5FAV/revoke",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_admin_may_give_a_token_the_admin_api() {
    let app = app().await;
    let (mut browser, alice) = signed_in(&app, "alice").await;
    let mut tx = app.database.transaction().await.expect("tx");
    tx.users()
        .set_can_request_admin(alice, true)
        .await
        .expect("promoted");
    tx.commit().await.expect("committed");
    let page = browser.get("/account/tokens").await;
    assert!(page.body.contains("name=\"admin\""));
    let csrf = page.field("csrf").expect("csrf");
    let made = browser
        .post(
            "/account/tokens",
            &[
                ("csrf", &csrf),
                ("name", "admin script"),
                ("admin", "yes"),
                ("expires_in_days", "365"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let token = shown_token(&made.body);
    let answer = introspect(&app, &token, None, false).await;
    assert!(
        answer["scope"]
            .as_str()
            .is_some_and(|scope| scope.contains("urn:mas:admin")),
        "{answer}"
    );
    assert!(answer["exp"].is_number(), "a year at most: {answer}");
}
