//! `/personal-sessions`: made by the caller for an actor, their token shown once, usable at
//! once, regenerated, revoked and listed.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::{ids, title};

admin_test!(
    async fn a_personal_session_is_made_used_regenerated_and_revoked(world: World) {
        let bot = world.user("bot").await;
        let (status, body) = world
            .post(
                "/api/admin/v1/personal-sessions",
                Some(json!({
                    "actor_user_id": bot.id,
                    "human_name": "Deploy bot",
                    "scope": "urn:mas:admin urn:matrix:client:api:*",
                    "expires_in": 3600,
                })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let data = &body["data"];
        assert_eq!(data["type"], "personal-session");
        let attributes = &data["attributes"];
        assert_eq!(attributes["actor_user_id"], bot.id.to_string());
        assert_eq!(attributes["owner_client_id"], world.client.id.to_string());
        assert!(attributes["owner_user_id"].is_null());
        assert_eq!(attributes["human_name"], "Deploy bot");
        assert!(attributes["expires_at"].is_string());
        let token = attributes["access_token"]
            .as_str()
            .expect("the token, once");
        assert!(token.starts_with("mpt_"), "{token}");
        let id = data["id"].as_str().expect("an id").to_owned();

        // The token opens the Admin API, acting as the bot.
        let (status, _) = world
            .call("GET", "/api/admin/v1/version", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK);

        // It is shown once: reading the session again does not show it.
        let (status, body) = world
            .get(&format!("/api/admin/v1/personal-sessions/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body["data"]["attributes"].get("access_token").is_none(),
            "{body}"
        );

        // Regenerating replaces the token.
        let (status, body) = world
            .post(
                &format!("/api/admin/v1/personal-sessions/{id}/regenerate"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let new_token = body["data"]["attributes"]["access_token"]
            .as_str()
            .expect("a new token")
            .to_owned();
        assert!(body["data"]["attributes"]["expires_at"].is_null());
        let (status, _) = world
            .call("GET", "/api/admin/v1/version", Some(token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token is gone");
        let (status, _) = world
            .call("GET", "/api/admin/v1/version", Some(&new_token), None)
            .await;
        assert_eq!(status, StatusCode::OK);

        // Revoking ends it; revoking again is a conflict.
        let uri = format!("/api/admin/v1/personal-sessions/{id}/revoke");
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["data"]["attributes"]["revoked_at"].is_string());
        let (status, _) = world
            .call("GET", "/api/admin/v1/version", Some(&new_token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = world
            .post(
                &format!("/api/admin/v1/personal-sessions/{id}/regenerate"),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

admin_test!(
    async fn a_personal_session_of_a_deactivated_or_locked_actor_stops_working(world: World) {
        let bot = world.user("bot").await;
        let (_, body) = world
            .post(
                "/api/admin/v1/personal-sessions",
                Some(json!({"actor_user_id": bot.id, "human_name": "b", "scope": "urn:mas:admin"})),
            )
            .await;
        let token = body["data"]["attributes"]["access_token"]
            .as_str()
            .expect("a token")
            .to_owned();
        let (status, _) = world
            .post(&format!("/api/admin/v1/users/{}/lock", bot.id), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = world
            .call("GET", "/api/admin/v1/version", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(title(&body), "The user of this token is locked");
        world
            .post(&format!("/api/admin/v1/users/{}/deactivate", bot.id), None)
            .await;
        let (status, body) = world
            .call("GET", "/api/admin/v1/version", Some(&token), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(title(&body), "The user of this token is deactivated");

        // And no new session can be made for them.
        let (status, body) = world
            .post(
                "/api/admin/v1/personal-sessions",
                Some(json!({"actor_user_id": bot.id, "human_name": "b", "scope": "urn:mas:admin"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).contains("locked or deactivated"), "{body}");
    }
);

admin_test!(
    async fn bad_requests_are_refused_with_their_reason(world: World) {
        let bot = world.user("bot").await;
        for (body, status, expected) in [
            (
                json!({"actor_user_id": bot.id, "human_name": "  ", "scope": "urn:mas:admin"}),
                StatusCode::BAD_REQUEST,
                "The name must not be empty",
            ),
            (
                json!({"actor_user_id": bot.id, "human_name": "b", "scope": "openid"}),
                StatusCode::BAD_REQUEST,
                "The scope openid cannot be given to a personal session",
            ),
            (
                json!({"actor_user_id": bot.id, "human_name": "b", "scope": ""}),
                StatusCode::BAD_REQUEST,
                "The scope is empty",
            ),
            (
                json!({"actor_user_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "human_name": "b", "scope": "urn:mas:admin"}),
                StatusCode::NOT_FOUND,
                "User ID 01ARZ3NDEKTSV4RRFFQ69G5FAV not found",
            ),
        ] {
            let (got, answer) = world
                .post("/api/admin/v1/personal-sessions", Some(body.clone()))
                .await;
            assert_eq!(got, status, "{body}: {answer}");
            assert_eq!(title(&answer), expected, "{body}");
        }
    }
);

admin_test!(
    async fn personal_sessions_are_listed_with_their_filters(world: World) {
        let alice = world.user("alice").await;
        let bot = world.user("bot").await;
        let mut made = Vec::new();
        for (actor, scope) in [
            (&alice, "urn:matrix:client:api:*"),
            (&bot, "urn:mas:admin"),
            (
                &bot,
                "urn:matrix:client:api:* urn:matrix:client:device:BOTDEVICE01",
            ),
        ] {
            let (status, body) = world
                .post(
                    "/api/admin/v1/personal-sessions",
                    Some(json!({"actor_user_id": actor.id, "human_name": "s", "scope": scope})),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            made.push(body["data"]["id"].as_str().expect("an id").to_owned());
            world.clock.advance(chrono::TimeDelta::seconds(1));
        }
        // The device named by the scope was made on the homeserver first.
        assert!(
            world
                .homeserver
                .devices("bot")
                .iter()
                .any(|device| device == "BOTDEVICE01"),
            "{:?}",
            world.homeserver.devices("bot")
        );
        world
            .post(
                &format!("/api/admin/v1/personal-sessions/{}/revoke", made[0]),
                None,
            )
            .await;
        let cases: [(String, Vec<&str>); 5] = [
            (
                format!("filter[actor_user]={}", bot.id),
                vec![&made[1], &made[2]],
            ),
            ("filter[status]=revoked".to_owned(), vec![&made[0]]),
            ("filter[status]=active".to_owned(), vec![&made[1], &made[2]]),
            (
                "filter[scope]=urn:matrix:client:api:*".to_owned(),
                vec![&made[0], &made[2]],
            ),
            (
                format!("filter[owner_client]={}", world.client.id),
                vec![&made[0], &made[1], &made[2]],
            ),
        ];
        for (query, expected) in cases {
            let (status, body) = world
                .get(&format!("/api/admin/v1/personal-sessions?{query}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            assert_eq!(ids(&body), expected, "{query}");
        }
        let (status, _) = world
            .get("/api/admin/v1/personal-sessions?filter[actor_user]=01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
