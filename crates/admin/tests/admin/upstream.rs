//! `/upstream-oauth-providers`: the configured providers, read only; `/upstream-oauth-links`:
//! the accounts at those providers tied to users.

use crate::common::{World, ids, title};
use axum::http::StatusCode;
use portcullis_model::{Clock as _, UpstreamProvider};
use serde_json::{Value, json};

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

const POCKET: &str = "01JDZ8ZQ8K3B4S0M4W5Y6Z7A8B";
const KEYCLOAK: &str = "01JDZ8ZQ8K3B4S0M4W5Y6Z7A8C";

/// Stores providers with these ids.
async fn providers(world: &World, ids: &[&str]) {
    let mut tx = world.database.transaction().await.expect("tx");
    for id in ids {
        tx.upstream_providers()
            .upsert(&UpstreamProvider {
                id: (*id).to_owned(),
                issuer: Some(format!("https://{id}.example.com")),
                human_name: None,
                brand_name: None,
                encrypted_client_secret: None,
                config: json!({}),
                created_at: world.clock.now(),
                disabled_at: None,
            })
            .await
            .expect("stored");
    }
    tx.commit().await.expect("committed");
}

async fn add_link(world: &World, user: &str, provider: &str, subject: &str) -> (StatusCode, Value) {
    world
        .post(
            "/api/admin/v1/upstream-oauth-links",
            Some(json!({
                "user_id": user,
                "provider_id": provider,
                "subject": subject,
                "human_account_name": format!("{subject}@example.com"),
            })),
        )
        .await
}

admin_test!(
    async fn links_are_added_listed_by_every_filter_read_and_deleted(world: World) {
        providers(&world, &[POCKET, KEYCLOAK]).await;
        let alice = world.user("alice").await.id.to_string();
        let bob = world.user("bob").await.id.to_string();

        let (status, body) = add_link(&world, &alice, POCKET, "a-1").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let attributes = &body["data"]["attributes"];
        assert_eq!(body["data"]["type"], "upstream-oauth-link");
        assert_eq!(attributes["user_id"], alice.as_str());
        assert_eq!(attributes["provider_id"], POCKET);
        assert_eq!(attributes["subject"], "a-1");
        assert_eq!(attributes["human_account_name"], "a-1@example.com");
        let first = body["data"]["id"].as_str().expect("an id").to_owned();
        assert_eq!(
            body["data"]["links"]["self"],
            format!("/api/admin/v1/upstream-oauth-links/{first}")
        );
        let mut all = vec![first.clone()];
        for (user, provider, subject) in [(&alice, KEYCLOAK, "a-2"), (&bob, POCKET, "b-1")] {
            world.clock.advance(chrono::TimeDelta::seconds(1));
            let (status, body) = add_link(&world, user, provider, subject).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            all.push(body["data"]["id"].as_str().expect("an id").to_owned());
        }

        let list = |query: String| {
            let world = &world;
            async move {
                let (status, body) = world
                    .get(&format!("/api/admin/v1/upstream-oauth-links{query}"))
                    .await;
                assert_eq!(status, StatusCode::OK, "{query}: {body}");
                body
            }
        };
        let body = list(String::new()).await;
        assert_eq!(ids(&body), all);
        assert_eq!(body["meta"]["count"], 3);
        for (query, expected) in [
            (format!("?filter[user]={alice}"), vec![0, 1]),
            (format!("?filter[provider]={POCKET}"), vec![0, 2]),
            ("?filter[subject]=b-1".to_owned(), vec![2]),
            (
                "?filter[human-account-name]=a-2@example.com".to_owned(),
                vec![1],
            ),
            (
                format!("?filter[user]={alice}&filter[provider]={POCKET}"),
                vec![0],
            ),
            ("?filter[subject]=nobody".to_owned(), vec![]),
        ] {
            let expected: Vec<_> = expected
                .into_iter()
                .map(|index| all[index].clone())
                .collect();
            let body = list(query.clone()).await;
            assert_eq!(ids(&body), expected, "{query}");
            assert_eq!(body["meta"]["count"], expected.len(), "{query}");
        }
        let body = list(format!("?page[first]=2&page[after]={}", all[0])).await;
        assert_eq!(ids(&body), &all[1..]);
        let body = list("?page[last]=1".to_owned()).await;
        assert_eq!(ids(&body), &all[2..]);
        assert!(body["links"]["prev"].is_string(), "{body}");
        let body = list(format!("?page[last]=5&page[before]={}", all[2])).await;
        assert_eq!(ids(&body), &all[..2]);
        let body = list("?count=only".to_owned()).await;
        assert_eq!(body["meta"]["count"], 3);
        assert!(body.get("data").is_none_or(Value::is_null), "{body}");

        let (status, body) = world
            .get(&format!("/api/admin/v1/upstream-oauth-links/{}", all[2]))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["user_id"], bob.as_str());

        let uri = format!("/api/admin/v1/upstream-oauth-links/{first}");
        let token = world.admin_token().await;
        let (status, _) = world.call("DELETE", &uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, body) = world.get(&uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            title(&body),
            format!("Upstream OAuth 2.0 link ID {first} not found")
        );
        let (status, _) = world.call("DELETE", &uri, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Deleted, the account can be linked again, to anyone.
        let (status, body) = add_link(&world, &bob, POCKET, "a-1").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
);

admin_test!(
    async fn an_account_linked_to_someone_conflicts_and_one_linked_to_nobody_is_claimed(
        world: World,
    ) {
        providers(&world, &[POCKET]).await;
        let alice = world.user("alice").await;
        let bob = world.user("bob").await.id.to_string();
        let (status, _) = add_link(&world, &alice.id.to_string(), POCKET, "a-1").await;
        assert_eq!(status, StatusCode::CREATED);
        for user in [&alice.id.to_string(), &bob] {
            let (status, body) = add_link(&world, user, POCKET, "a-1").await;
            assert_eq!(status, StatusCode::CONFLICT, "{body}");
            assert!(title(&body).contains("already exists"), "{body}");
        }

        // An upstream sign-in that found no account leaves a link tied to nobody.
        let mut tx = world.database.transaction().await.expect("tx");
        let pending = tx
            .upstream_links()
            .add(POCKET, "pending", None, world.clock.now())
            .await
            .expect("stored");
        tx.commit().await.expect("committed");
        let (status, body) = add_link(&world, &bob, POCKET, "pending").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["id"], pending.id.to_string());
        assert_eq!(body["data"]["attributes"]["user_id"], bob.as_str());
    }
);

admin_test!(
    async fn unknown_users_providers_and_bad_bodies_are_refused(world: World) {
        providers(&world, &[POCKET, "pocketid"]).await;
        let alice = world.user("alice").await.id.to_string();
        let nobody = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

        let (status, body) = add_link(&world, nobody, POCKET, "x").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(title(&body), format!("User ID {nobody} not found"));
        let (status, body) = add_link(&world, &alice, nobody, "x").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            title(&body),
            format!("Upstream OAuth 2.0 provider ID {nobody} not found")
        );
        let (status, body) = add_link(&world, &alice, POCKET, "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = world
            .post(
                "/api/admin/v1/upstream-oauth-links",
                Some(json!({"user_id": alice, "provider_id": "pocketid", "subject": "x"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        for filter in [
            format!("filter[user]={nobody}"),
            format!("filter[provider]={nobody}"),
        ] {
            let (status, body) = world
                .get(&format!("/api/admin/v1/upstream-oauth-links?{filter}"))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{filter}: {body}");
        }
        let (status, _) = world
            .get("/api/admin/v1/upstream-oauth-links?filter[provider]=pocketid")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // A provider named by a short name has no ULID: its links stay out of the API.
        let mut tx = world.database.transaction().await.expect("tx");
        let hidden = tx
            .upstream_links()
            .add("pocketid", "short", None, world.clock.now())
            .await
            .expect("stored");
        tx.commit().await.expect("committed");
        let (_, body) = world.get("/api/admin/v1/upstream-oauth-links").await;
        assert_eq!(ids(&body), Vec::<String>::new());
        let (status, _) = world
            .get(&format!("/api/admin/v1/upstream-oauth-links/{}", hidden.id))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
