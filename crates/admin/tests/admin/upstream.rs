//! `/upstream-oauth-providers`: the configured providers, read only.

use crate::common::ids;
use axum::http::StatusCode;
use portcullis_model::{Clock as _, UpstreamProvider};
use serde_json::json;

admin_test!(
    async fn configured_providers_are_listed_filtered_and_read(world: World) {
        let pocket = "01JDZ8ZQ8K3B4S0M4W5Y6Z7A8B";
        let old = "01HQ0000000000000000000000";
        let mut tx = world.database.transaction().await.expect("tx");
        for (id, name, token_required) in [(pocket, "Pocket ID", true), (old, "Old IdP", false)] {
            tx.upstream_providers()
                .upsert(&UpstreamProvider {
                    id: id.to_owned(),
                    issuer: Some("https://id.example.com".to_owned()),
                    human_name: Some(name.to_owned()),
                    brand_name: None,
                    encrypted_client_secret: None,
                    config: json!({"registration_token_required": token_required}),
                    created_at: world.clock.now(),
                    disabled_at: None,
                })
                .await
                .expect("stored");
        }
        tx.upstream_providers()
            .disable(old, world.clock.now())
            .await
            .expect("disabled");
        tx.commit().await.expect("committed");

        let (status, body) = world.get("/api/admin/v1/upstream-oauth-providers").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids(&body), [old, pocket]);
        assert_eq!(body["meta"]["count"], 2);
        let (_, body) = world
            .get("/api/admin/v1/upstream-oauth-providers?filter[enabled]=true")
            .await;
        assert_eq!(ids(&body), [pocket]);
        let (_, body) = world
            .get("/api/admin/v1/upstream-oauth-providers?page[first]=1")
            .await;
        assert_eq!(ids(&body), [old]);
        assert!(body["links"]["next"].is_string());

        let (status, body) = world
            .get(&format!("/api/admin/v1/upstream-oauth-providers/{pocket}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let attributes = &body["data"]["attributes"];
        assert_eq!(attributes["human_name"], "Pocket ID");
        assert_eq!(attributes["registration_token_required"], true);
        assert!(attributes["disabled_at"].is_null());
        let (status, _) = world
            .get("/api/admin/v1/upstream-oauth-providers/01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
