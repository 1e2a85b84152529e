//! Password attempts on the sign-in page are limited, like those of the Matrix login API.

use std::num::NonZeroU32;

use crate::common::{add_user_with_password, app_with, browser::Browser};
use axum::http::{StatusCode, header};
use portcullis_config::sections::rate_limiting::RateLimiterConfig;

const PASSWORD: &str = "a long and unguessable passphrase 42";

#[tokio::test]
async fn guessing_a_password_is_refused_after_the_account_limit_even_with_the_right_one() {
    let app = app_with(|config| {
        config.rate_limiting.login.per_account = RateLimiterConfig {
            burst: NonZeroU32::new(2).expect("not zero"),
            per_second: 1.0 / 60.0,
        };
    })
    .await;
    add_user_with_password(&app, "alice", PASSWORD, false).await;
    let mut browser = Browser::new(&app);

    for _ in 0..2 {
        let page = browser.get("/login").await;
        let csrf = page.field("csrf").expect("a csrf field");
        let refused = browser
            .post(
                "/login",
                &[("csrf", &csrf), ("username", "alice"), ("password", "nope")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }

    let page = browser.get("/login").await;
    let csrf = page.field("csrf").expect("a csrf field");
    let limited = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After header in seconds");
    assert!(retry_after >= 1);
    assert!(
        limited.body.contains("Too many sign-in attempts"),
        "{}",
        limited.body
    );
    // The wait in words that agree with its number, and the form again, to retry from here.
    let said = match retry_after {
        1 => "1 second".to_owned(),
        2..60 => format!("{retry_after} seconds"),
        60 => "1 minute".to_owned(),
        _ => format!("{} minutes", retry_after.div_ceil(60)),
    };
    assert!(
        limited.body.contains(&format!("try again in {said}.")),
        "{}",
        limited.body
    );
    assert!(limited.field("csrf").is_some(), "the form is shown again");
    assert!(limited.body.contains("value=\"alice\""), "{}", limited.body);
}
