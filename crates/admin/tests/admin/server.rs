//! `/site-config` and `/version`.

use axum::http::StatusCode;

admin_test!(
    async fn the_site_config_says_what_users_may_do(world: World) {
        let (status, body) = world.get("/api/admin/v1/site-config").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["server_name"], "example.com");
        assert_eq!(body["password_login_enabled"], true);
        assert_eq!(body["captcha_enabled"], false);
        assert_eq!(
            body["registration_token_required"],
            body["password_registration_token_required"]
        );
        assert!(
            body["minimum_password_complexity"]
                .as_u64()
                .is_some_and(|n| n <= 4)
        );

        let (status, body) = world.get("/api/admin/v1/version").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    }
);

admin_test!(
    async fn policy_data_is_set_read_back_and_versioned(world: World) {
        let (status, _) = world.get("/api/admin/v1/policy-data/latest").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let data =
            serde_json::json!({"registration": {"banned_usernames": {"literals": ["root"]}}});
        let (status, body) = world
            .post(
                "/api/admin/v1/policy-data",
                Some(serde_json::json!({"data": data})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["type"], "policy-data");
        assert_eq!(body["data"]["attributes"]["data"], data);
        let first = body["data"]["id"].as_str().expect("an id").to_owned();

        world.clock.advance(chrono::TimeDelta::seconds(1));
        let (_, body) = world
            .post(
                "/api/admin/v1/policy-data",
                Some(serde_json::json!({"data": {}})),
            )
            .await;
        let second = body["data"]["id"].as_str().expect("an id").to_owned();
        let (status, body) = world.get("/api/admin/v1/policy-data/latest").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["id"], second);
        let (status, body) = world
            .get(&format!("/api/admin/v1/policy-data/{first}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["data"], data);

        let (status, body) = world
            .post(
                "/api/admin/v1/policy-data",
                Some(serde_json::json!({"data": [1, 2]})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        // Data the policy cannot use is refused with its path, and the latest stays.
        let (status, body) = world
            .post(
                "/api/admin/v1/policy-data",
                Some(serde_json::json!({"data": {"requester": {"banned_ips": ["10.0.0.0/8", "nonsense"]}}})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body.to_string().contains("data.requester.banned_ips[1]"),
            "{body}"
        );
        let (_, body) = world.get("/api/admin/v1/policy-data/latest").await;
        assert_eq!(body["data"]["id"], second);
    }
);

admin_test!(
    async fn new_policy_data_is_used_at_once(world: World) {
        // The state's policy decides with the data just stored.
        let data = serde_json::json!({"admin_users": ["carol"]});
        assert!(!world.state.policy().lists_admin_user("carol"));
        let (status, body) = world
            .post(
                "/api/admin/v1/policy-data",
                Some(serde_json::json!({"data": data})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(world.state.policy().lists_admin_user("carol"));
    }
);
