//! `/user-emails` and `/oauth2-clients`.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{ids, title};

admin_test!(
    async fn addresses_are_added_listed_read_and_deleted(world: World) {
        let alice = world.user("alice").await;
        let bob = world.user("bob").await;
        let (status, body) = world
            .post(
                "/api/admin/v1/user-emails",
                Some(json!({"user_id": alice.id, "email": "alice@example.com"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["type"], "user-email");
        let id = body["data"]["id"].as_str().expect("an id").to_owned();

        for (request, status, expected) in [
            (
                json!({"user_id": bob.id, "email": "ALICE@example.com"}),
                StatusCode::CONFLICT,
                "User email already in use",
            ),
            (
                json!({"user_id": bob.id, "email": "not an address"}),
                StatusCode::BAD_REQUEST,
                "Email address is not valid",
            ),
            (
                json!({"user_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "email": "x@example.com"}),
                StatusCode::NOT_FOUND,
                "User ID 01ARZ3NDEKTSV4RRFFQ69G5FAV not found",
            ),
        ] {
            let (got, body) = world
                .post("/api/admin/v1/user-emails", Some(request.clone()))
                .await;
            assert_eq!(got, status, "{request}: {body}");
            assert!(title(&body).starts_with(expected), "{body}");
        }

        let (_, body) = world
            .get("/api/admin/v1/user-emails?filter[email]=Alice@Example.com")
            .await;
        assert_eq!(ids(&body), std::slice::from_ref(&id));
        let (_, body) = world
            .get(&format!(
                "/api/admin/v1/user-emails?filter[user]={}",
                bob.id
            ))
            .await;
        assert!(ids(&body).is_empty());
        let (status, body) = world.get(&format!("/api/admin/v1/user-emails/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["email"], "alice@example.com");

        let token = world.admin_token().await;
        let uri = format!("/api/admin/v1/user-emails/{id}");
        let (status, _) = world.call("DELETE", &uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _) = world.call("DELETE", &uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

admin_test!(
    async fn clients_are_listed_with_their_filters_and_read(world: World) {
        let (status, body) = world.get("/api/admin/v1/oauth2-clients").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids(&body), [world.client.id.to_string()]);
        let client = &body["data"][0]["attributes"];
        assert_eq!(client["client_id"], "admin-tool");
        assert_eq!(client["is_static"], true);
        assert_eq!(client["grant_types"], json!(["client_credentials"]));

        // The admin token of every call is a session of this client.
        let (_, body) = world
            .get("/api/admin/v1/oauth2-clients?filter[has-active-sessions]=true&filter[grant-type]=client_credentials&filter[client-kind]=static")
            .await;
        assert_eq!(ids(&body).len(), 1);
        let (_, body) = world
            .get("/api/admin/v1/oauth2-clients?filter[client-kind]=dynamic")
            .await;
        assert!(ids(&body).is_empty());
        let (status, _) = world
            .get("/api/admin/v1/oauth2-clients?filter[grant-type]=telepathy")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, body) = world
            .get(&format!("/api/admin/v1/oauth2-clients/{}", world.client.id))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["type"], "oauth2-client");
        let (status, _) = world
            .get("/api/admin/v1/oauth2-clients/01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
