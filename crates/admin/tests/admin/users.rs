//! `/users`: listing with every filter and both paging directions, and every change.

use axum::http::StatusCode;
use portcullis_homeserver::HomeserverConnection as _;
use serde_json::{Value, json};

use crate::common::title;

fn usernames(body: &Value) -> Vec<&str> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {body}"))
        .iter()
        .map(|user| user["attributes"]["username"].as_str().expect("a username"))
        .collect()
}

admin_test!(
    async fn users_are_listed_page_by_page_in_both_directions(world: World) {
        for i in 0..5 {
            world.user(&format!("user{i}")).await;
        }
        let (status, body) = world.get("/api/admin/v1/users?page[first]=2").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(usernames(&body), ["user0", "user1"]);
        assert_eq!(body["meta"]["count"], 5);
        let user = &body["data"][0];
        assert_eq!(user["type"], "user");
        let id = user["id"].as_str().expect("an id");
        assert_eq!(user["links"]["self"], format!("/api/admin/v1/users/{id}"));
        assert_eq!(user["meta"]["page"]["cursor"], id);
        assert_eq!(user["attributes"]["admin"], false);
        assert_eq!(user["attributes"]["legacy_guest"], false);
        assert!(body["links"]["prev"].is_null());

        // Following `next` to the end, then `prev` back to the start.
        let mut seen = usernames(&body)
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>();
        let mut next = body["links"]["next"].as_str().map(str::to_owned);
        let mut last_page = body;
        while let Some(link) = next {
            let (status, page) = world.get(&link).await;
            assert_eq!(status, StatusCode::OK, "{link}: {page}");
            seen.extend(usernames(&page).iter().map(|s| (*s).to_owned()));
            next = page["links"]["next"].as_str().map(str::to_owned);
            last_page = page;
        }
        assert_eq!(seen, ["user0", "user1", "user2", "user3", "user4"]);
        assert_eq!(usernames(&last_page), ["user4"]);

        let (_, last) = world.get("/api/admin/v1/users?page[last]=2").await;
        assert_eq!(usernames(&last), ["user3", "user4"]);
        assert!(last["links"]["next"].is_null());
        let prev = last["links"]["prev"].as_str().expect("a previous page");
        let (_, before) = world.get(prev).await;
        assert_eq!(usernames(&before), ["user1", "user2"]);

        // Counting only, and not counting.
        let (_, only) = world.get("/api/admin/v1/users?count=only").await;
        assert_eq!(only["meta"]["count"], 5);
        assert!(only.get("data").is_none(), "{only}");
        let (_, uncounted) = world.get("/api/admin/v1/users?count=false").await;
        assert!(uncounted.get("meta").is_none(), "{uncounted}");
        assert_eq!(usernames(&uncounted).len(), 5);
        // Its links read the other pages uncounted too.
        let (_, uncounted) = world
            .get("/api/admin/v1/users?count=false&page[first]=2")
            .await;
        let next = uncounted["links"]["next"].as_str().expect("a next page");
        assert!(next.contains("count=false"), "{next}");
        let (_, page) = world.get(next).await;
        assert!(page.get("meta").is_none(), "{page}");
        assert_eq!(usernames(&page), ["user2", "user3"]);

        // Bad pages are refused in the API's shape.
        for uri in [
            "/api/admin/v1/users?page[first]=2&page[last]=2",
            "/api/admin/v1/users?page[first]=0",
            "/api/admin/v1/users?page[first]=5000",
            "/api/admin/v1/users?page[after]=not-a-ulid",
            "/api/admin/v1/users?count=maybe",
            "/api/admin/v1/users?filter[status]=sleeping",
        ] {
            let (status, body) = world.get(uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert!(!title(&body).is_empty());
        }
    }
);

admin_test!(
    async fn every_filter_selects_what_it_names_and_keeps_to_its_pages(world: World) {
        let alice = world.user("alice").await;
        let bob = world.user("bob").await;
        world.user("carol").await;
        let (status, _) = world
            .post(&format!("/api/admin/v1/users/{}/lock", bob.id), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = world
            .post(
                &format!("/api/admin/v1/users/{}/set-admin", alice.id),
                Some(json!({"admin": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        // An admin token of alice gives her an active OAuth 2.0 session of the world's client.
        world.token(Some(&alice), "urn:mas:admin").await;

        let client = world.client.id;
        let cases: [(String, &[&str]); 8] = [
            ("filter[admin]=true".to_owned(), &["alice"]),
            ("filter[admin]=false".to_owned(), &["bob", "carol"]),
            ("filter[status]=locked".to_owned(), &["bob"]),
            ("filter[status]=active".to_owned(), &["alice", "carol"]),
            ("filter[search]=ar".to_owned(), &["carol"]),
            ("filter[legacy-guest]=true".to_owned(), &[]),
            (
                "filter[has-active-oauth2-session]=true".to_owned(),
                &["alice"],
            ),
            (
                format!(
                    "filter[active-oauth2-client]={client}&filter[active-oauth2-client]={client}"
                ),
                &["alice"],
            ),
        ];
        for (query, expected) in cases {
            let (status, body) = world.get(&format!("/api/admin/v1/users?{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {body}");
            assert_eq!(usernames(&body), expected, "{query}");
            assert_eq!(body["meta"]["count"], expected.len(), "{query}");
        }

        // Links keep the filter.
        let (_, body) = world
            .get("/api/admin/v1/users?filter[status]=active&page[first]=1")
            .await;
        let next = body["links"]["next"].as_str().expect("a next page");
        assert!(next.contains("filter%5Bstatus%5D=active"), "{next}");
        let (_, page) = world.get(next).await;
        assert_eq!(usernames(&page), ["carol"]);

        let (status, body) = world
            .get("/api/admin/v1/users?filter[active-oauth2-client]=01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            title(&body).contains("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
            "{body}"
        );

        let (_, body) = world
            .get("/api/admin/v1/users?filter[has-active-compat-session]=false")
            .await;
        assert_eq!(usernames(&body), ["alice", "bob", "carol"]);
    }
);

admin_test!(
    async fn a_user_is_found_by_id_and_by_username(world: World) {
        let alice = world.user("alice").await;
        let (status, body) = world
            .get(&format!("/api/admin/v1/users/{}", alice.id))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["attributes"]["username"], "alice");
        assert_eq!(
            body["links"]["self"],
            format!("/api/admin/v1/users/{}", alice.id)
        );
        let (status, body) = world.get("/api/admin/v1/users/by-username/alice").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["id"], alice.id.to_string());

        let (status, body) = world
            .get("/api/admin/v1/users/01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(title(&body).contains("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
        let (status, _) = world.get("/api/admin/v1/users/by-username/nobody").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = world.get("/api/admin/v1/users/not-an-id").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(title(&body), "Invalid ID: expected a ULID");
    }
);

admin_test!(
    async fn a_user_is_created_checked_with_the_homeserver_and_provisioned(world: World) {
        let (status, body) = world
            .post(
                "/api/admin/v1/users",
                Some(json!({"username": "dave", "displayname": "Dave"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["attributes"]["username"], "dave");
        // Provisioning is queued in the same unit of work.
        let mut tx = world.database.transaction().await.expect("tx");
        let jobs = tx
            .jobs()
            .count_by_status(portcullis_model::JobStatus::Available)
            .await
            .expect("counted");
        tx.rollback().await.expect("rolled back");
        assert!(jobs >= 1, "a provisioning job is queued");

        let (status, body) = world
            .post("/api/admin/v1/users", Some(json!({"username": "dave"})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(title(&body), "User already exists");

        let (status, body) = world
            .post(
                "/api/admin/v1/users",
                Some(json!({"username": "Not Valid!"})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).starts_with("Username is not valid"), "{body}");

        // Taken on the homeserver only: refused, unless told to skip the check.
        world
            .homeserver
            .provision_user(&portcullis_homeserver::ProvisionRequest::new("erin"))
            .await
            .expect("provisioned");
        let (status, body) = world
            .post("/api/admin/v1/users", Some(json!({"username": "erin"})))
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        let (status, _) = world
            .post(
                "/api/admin/v1/users",
                Some(json!({"username": "erin", "skip_homeserver_check": true})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);

        let (status, body) = world
            .post("/api/admin/v1/users", Some(json!({"name": "frank"})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).starts_with("Invalid request body"), "{body}");
    }
);

admin_test!(
    async fn lock_unlock_admin_deactivate_and_reactivate(world: World) {
        let alice = world.user("alice").await;
        let base = format!("/api/admin/v1/users/{}", alice.id);

        let (status, body) = world.post(&format!("{base}/lock"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["data"]["attributes"]["locked_at"].is_string());
        let (_, body) = world.post(&format!("{base}/unlock"), None).await;
        assert!(body["data"]["attributes"]["locked_at"].is_null());

        let (_, body) = world
            .post(&format!("{base}/set-admin"), Some(json!({"admin": true})))
            .await;
        assert_eq!(body["data"]["attributes"]["admin"], true);
        let (status, body) = world
            .post(&format!("{base}/set-admin"), Some(json!({})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

        // Without a body, and with one.
        let (status, body) = world.post(&format!("{base}/deactivate"), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["data"]["attributes"]["deactivated_at"].is_string());
        let (status, _) = world
            .post(
                &format!("{base}/deactivate"),
                Some(json!({"skip_erase": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);

        let (status, _) = world.post(&format!("{base}/reactivate"), None).await;
        assert_eq!(status, StatusCode::OK);

        let (status, _) = world
            .post("/api/admin/v1/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/lock", None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

admin_test!(
    async fn a_password_is_set_when_strong_enough_or_when_told_to_skip_the_check(world: World) {
        let alice = world.user("alice").await;
        let uri = format!("/api/admin/v1/users/{}/set-password", alice.id);
        let (status, body) = world
            .post(
                &uri,
                Some(json!({"password": "correct horse battery staple 42"})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let mut tx = world.database.transaction().await.expect("tx");
        let password = tx.user_passwords().active(&alice).await.expect("read");
        tx.rollback().await.expect("rolled back");
        assert!(password.is_some());

        let (status, body) = world.post(&uri, Some(json!({"password": "a"}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).starts_with("Password is too weak"), "{body}");
        let (status, _) = world
            .post(
                &uri,
                Some(json!({"password": "a", "skip_password_check": true})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
);

admin_test!(
    async fn an_operator_allows_a_cross_signing_reset_without_a_browser(world: World) {
        let bot = world.user("bot").await;
        let uri = format!("/api/admin/v1/users/{}/allow-cross-signing-reset", bot.id);
        // Not on the homeserver yet: the homeserver refuses.
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

        world
            .homeserver
            .provision_user(&portcullis_homeserver::ProvisionRequest::new("bot"))
            .await
            .expect("provisioned");
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            world
                .homeserver
                .user("bot")
                .is_some_and(|user| user.cross_signing_reset_allowed)
        );

        world
            .post(&format!("/api/admin/v1/users/{}/lock", bot.id), None)
            .await;
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).contains("locked or deactivated"));
    }
);

admin_test!(
    async fn an_operator_removes_the_second_factors_of_a_user_who_lost_them(world: World) {
        use portcullis_model::Clock as _;
        use portcullis_services::second_factor;

        let alice = world.user("alice").await;
        let mut tx = world.database.transaction().await.expect("a transaction");
        let now = world.clock.now();
        second_factor::start_enrolment(
            &mut *tx,
            world.state.encrypter(),
            &alice,
            ("Example", "@alice:example.com"),
            &mut rand::rngs::OsRng,
            now,
        )
        .await
        .expect("started")
        .expect("no authenticator app yet");
        second_factor::new_recovery_codes(&mut *tx, &alice, &mut rand::rngs::OsRng, now)
            .await
            .expect("codes made");
        tx.commit().await.expect("committed");

        let uri = format!("/api/admin/v1/users/{}/remove-second-factors", alice.id);
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["attributes"]["username"], "alice");
        let mut tx = world.database.transaction().await.expect("a transaction");
        let left = second_factor::factors_of(&mut *tx, &alice)
            .await
            .expect("read");
        tx.rollback().await.expect("rolled back");
        assert_eq!(left, second_factor::Factors::default(), "nothing left");
        // Again: nothing to remove, the same answer.
        let (status, _) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK);
        let unknown = "/api/admin/v1/users/01ARZ3NDEKTSV4RRFFQ69G5FAV/remove-second-factors";
        let (status, _) = world.post(unknown, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
