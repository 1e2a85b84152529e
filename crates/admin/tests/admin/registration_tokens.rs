//! `/user-registration-tokens`: made, read back, changed, revoked, unrevoked and listed.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{ids, title};

admin_test!(
    async fn a_registration_token_is_made_changed_revoked_and_unrevoked(world: World) {
        let (status, body) = world
            .post("/api/admin/v1/user-registration-tokens", None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let attributes = &body["data"]["attributes"];
        assert_eq!(attributes["token"].as_str().map(str::len), Some(20));
        assert_eq!(attributes["valid"], true);
        assert_eq!(attributes["times_used"], 0);
        let generated = body["data"]["id"].as_str().expect("an id").to_owned();

        let (status, body) = world
            .post(
                "/api/admin/v1/user-registration-tokens",
                Some(json!({"token": "welcome", "usage_limit": 5, "expires_at": "2030-01-01T00:00:00Z"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["attributes"]["token"], "welcome");
        let id = body["data"]["id"].as_str().expect("an id").to_owned();
        let (status, body) = world
            .post(
                "/api/admin/v1/user-registration-tokens",
                Some(json!({"token": "welcome"})),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, body) = world
            .post(
                "/api/admin/v1/user-registration-tokens",
                Some(json!({"usage_limit": 0})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).contains("usage limit of 0"), "{body}");

        // PUT: a field left out stays, a null clears.
        let token = world.admin_token().await;
        let uri = format!("/api/admin/v1/user-registration-tokens/{id}");
        let (status, body) = world
            .call(
                "PUT",
                &uri,
                Some(&token),
                Some(json!({"usage_limit": null})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["data"]["attributes"]["usage_limit"].is_null());
        assert_eq!(
            body["data"]["attributes"]["expires_at"],
            "2030-01-01T00:00:00Z"
        );
        let (_, body) = world
            .call("PUT", &uri, Some(&token), Some(json!({"expires_at": null})))
            .await;
        assert!(body["data"]["attributes"]["expires_at"].is_null());

        let (status, body) = world.post(&format!("{uri}/revoke"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["valid"], false);
        let (status, _) = world.post(&format!("{uri}/revoke"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (_, body) = world
            .get("/api/admin/v1/user-registration-tokens?filter[revoked]=true")
            .await;
        assert_eq!(ids(&body), std::slice::from_ref(&id));
        let (_, body) = world
            .get("/api/admin/v1/user-registration-tokens?filter[valid]=true")
            .await;
        assert_eq!(ids(&body), [generated]);

        let (status, body) = world.post(&format!("{uri}/unrevoke"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["valid"], true);
        let (status, _) = world.post(&format!("{uri}/unrevoke"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = world
            .get("/api/admin/v1/user-registration-tokens/01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
