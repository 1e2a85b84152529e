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
