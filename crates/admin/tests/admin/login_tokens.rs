//! `POST /users/{id}/login-tokens` and `GET /login-tokens/{id}` (Portcullis's own): a one-shot
//! login token for a bot, shown once.

use axum::http::StatusCode;
use serde_json::json;

admin_test!(
    async fn a_login_token_is_issued_shown_once_and_checked_by_its_id(world: World) {
        let bot = world.user("bot").await;
        let (status, body) = world
            .post(
                &format!("/api/admin/v1/users/{}/login-tokens", bot.id),
                Some(json!({ "device_id": "BOTDEVICE1", "expires_in": 3600 })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let data = &body["data"];
        assert_eq!(data["type"], "login-token");
        let attributes = &data["attributes"];
        assert_eq!(attributes["user_id"], bot.id.to_string());
        assert_eq!(attributes["device_id"], "BOTDEVICE1");
        assert!(attributes["consumed_at"].is_null());
        let token = attributes["login_token"].as_str().expect("the token, once");
        assert!(token.starts_with("mlt_"), "{token}");
        let id = data["id"].as_str().expect("an id");
        assert_eq!(
            data["links"]["self"],
            format!("/api/admin/v1/login-tokens/{id}")
        );

        let (status, body) = world.get(&format!("/api/admin/v1/login-tokens/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body["data"]["attributes"].get("login_token").is_none(),
            "{body}"
        );

        // The default lifetime is 10 minutes.
        let (status, body) = world
            .post(
                &format!("/api/admin/v1/users/{}/login-tokens", bot.id),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let created: chrono::DateTime<chrono::Utc> = body["data"]["attributes"]["created_at"]
            .as_str()
            .and_then(|at| at.parse().ok())
            .expect("created_at");
        let expires: chrono::DateTime<chrono::Utc> = body["data"]["attributes"]["expires_at"]
            .as_str()
            .and_then(|at| at.parse().ok())
            .expect("expires_at");
        assert_eq!(expires - created, chrono::TimeDelta::minutes(10));
    }
);

admin_test!(
    async fn bad_lifetimes_devices_users_and_ids_are_refused(world: World) {
        let bot = world.user("bot").await;
        let path = format!("/api/admin/v1/users/{}/login-tokens", bot.id);
        let (status, body) = world
            .post(&path, Some(json!({ "expires_in": 90000 })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = world
            .post(&path, Some(json!({ "device_id": "no spaces" })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, _) = world
            .post(
                &format!("/api/admin/v1/users/{}/login-tokens", ulid::Ulid::new()),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = world
            .get(&format!("/api/admin/v1/login-tokens/{}", ulid::Ulid::new()))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let (status, _) = world
            .post(
                &format!("/api/admin/v1/users/{}/lock", bot.id),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = world.post(&path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
);
