//! `/user-sessions`, `/oauth2-sessions` and `/compat-sessions`: listed with their filters,
//! read one by one, and finished.

use axum::http::StatusCode;
use portcullis_model::Clock as _;
use portcullis_storage::NewCompatSession;

use crate::common::{ids, title};

admin_test!(
    async fn browser_sessions_are_listed_read_and_finished(world: World) {
        let alice = world.user("alice").await;
        let bob = world.user("bob").await;
        let mut tx = world.database.transaction().await.expect("tx");
        let first = tx
            .browser_sessions()
            .add(&alice, Some("Firefox"), world.clock.now())
            .await
            .expect("added");
        let second = tx
            .browser_sessions()
            .add(
                &bob,
                None,
                world.clock.now() + chrono::TimeDelta::minutes(1),
            )
            .await
            .expect("added");
        tx.commit().await.expect("committed");

        let (status, body) = world
            .get(&format!(
                "/api/admin/v1/user-sessions?filter[user]={}",
                alice.id
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids(&body), [first.id.to_string()]);
        assert_eq!(body["data"][0]["type"], "user-session");
        assert_eq!(body["data"][0]["attributes"]["user_agent"], "Firefox");

        let uri = format!("/api/admin/v1/user-sessions/{}/finish", second.id);
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["data"]["attributes"]["finished_at"].is_string());
        let (status, body) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(title(&body).contains("already finished"));

        let (_, body) = world
            .get("/api/admin/v1/user-sessions?filter[status]=active")
            .await;
        assert_eq!(ids(&body), [first.id.to_string()]);
        let (_, body) = world
            .get("/api/admin/v1/user-sessions?filter[status]=finished")
            .await;
        assert_eq!(ids(&body), [second.id.to_string()]);
        let (status, _) = world
            .get(&format!("/api/admin/v1/user-sessions/{}", first.id))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = world
            .get("/api/admin/v1/user-sessions?filter[user]=01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = world
            .get("/api/admin/v1/user-sessions?filter[created-after]=yesterday")
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

admin_test!(
    async fn oauth2_sessions_are_listed_by_client_kind_and_scope_and_finished(world: World) {
        let alice = world.user("alice").await;
        world
            .token(
                Some(&alice),
                "urn:matrix:client:api:* urn:matrix:client:device:ALICEDEV01",
            )
            .await;
        let (status, body) = world
            .get(&format!(
                "/api/admin/v1/oauth2-sessions?filter[user]={}&filter[scope]=urn:matrix:client:api:*",
                alice.id
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let found = ids(&body);
        assert_eq!(found.len(), 1);
        assert_eq!(
            body["data"][0]["attributes"]["client_id"],
            world.client.id.to_string()
        );
        let (_, body) = world
            .get("/api/admin/v1/oauth2-sessions?filter[client-kind]=dynamic")
            .await;
        assert!(ids(&body).is_empty());

        let (status, body) = world
            .post(
                &format!("/api/admin/v1/oauth2-sessions/{}/finish", found[0]),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The device is deleted on the homeserver by a queued job.
        let mut tx = world.database.transaction().await.expect("tx");
        let queued = tx
            .jobs()
            .count_by_status(portcullis_model::JobStatus::Available)
            .await
            .expect("counted");
        tx.rollback().await.expect("rolled back");
        assert!(queued >= 1);
        let (_, body) = world
            .get(&format!(
                "/api/admin/v1/oauth2-sessions?filter[user]={}&filter[status]=active",
                alice.id
            ))
            .await;
        assert!(ids(&body).is_empty());
        let (status, _) = world
            .get("/api/admin/v1/oauth2-sessions?filter[client]=01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

admin_test!(
    async fn compat_sessions_are_listed_read_and_finished(world: World) {
        let alice = world.user("alice").await;
        let mut tx = world.database.transaction().await.expect("tx");
        let session = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: alice.id,
                    device_id: "ALICEPHONE".to_owned(),
                    human_name: None,
                    user_session_id: None,
                    is_synapse_admin: false,
                    user_agent: None,
                },
                world.clock.now(),
            )
            .await
            .expect("added");
        tx.commit().await.expect("committed");

        let (status, body) = world
            .get(&format!(
                "/api/admin/v1/compat-sessions?filter[user]={}",
                alice.id
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(ids(&body), [session.id.to_string()]);
        assert_eq!(body["data"][0]["attributes"]["device_id"], "ALICEPHONE");

        let uri = format!("/api/admin/v1/compat-sessions/{}/finish", session.id);
        let (status, _) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = world.post(&uri, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, body) = world
            .get(&format!("/api/admin/v1/compat-sessions/{}", session.id))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["data"]["attributes"]["finished_at"].is_string());
        let (status, _) = world
            .get("/api/admin/v1/compat-sessions?filter[user-session]=01ARZ3NDEKTSV4RRFFQ69G5FAV")
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

/// The devices whose deletion is queued, taken off the queue.
async fn queued_device_deletions(world: &crate::common::World) -> Vec<String> {
    let mut tx = world.database.transaction().await.expect("tx");
    let mut devices = Vec::new();
    while let Some(job) = tx
        .jobs()
        .claim(
            "test",
            world.clock.now(),
            std::time::Duration::from_secs(60),
        )
        .await
        .expect("claimed")
    {
        if job.kind == "delete-device" {
            devices.push(
                job.payload["device_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    tx.commit().await.expect("committed");
    devices.sort();
    devices
}

admin_test!(
    async fn finishing_a_session_keeps_its_device_when_asked_to(world: World) {
        let alice = world.user("alice").await;
        queued_device_deletions(&world).await;
        let mut tx = world.database.transaction().await.expect("tx");
        let mut sessions = Vec::new();
        for device_id in ["ALICEBOT01", "ALICEPHONE"] {
            let new = NewCompatSession {
                user_id: alice.id,
                device_id: device_id.to_owned(),
                human_name: None,
                user_session_id: None,
                is_synapse_admin: false,
                user_agent: None,
            };
            let session = tx.compat_sessions().add(&new, world.clock.now()).await;
            sessions.push(session.expect("added").id);
        }
        tx.commit().await.expect("committed");

        let keep = format!(
            "/api/admin/v1/compat-sessions/{}/finish?keep_device=true",
            sessions[0]
        );
        let (status, body) = world.post(&keep, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["data"]["attributes"]["finished_at"].is_string());
        assert_eq!(queued_device_deletions(&world).await, Vec::<String>::new());

        let bad = format!(
            "/api/admin/v1/compat-sessions/{}/finish?keep_device=maybe",
            sessions[1]
        );
        let (status, _) = world.post(&bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let plain = format!("/api/admin/v1/compat-sessions/{}/finish", sessions[1]);
        let (status, _) = world.post(&plain, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(queued_device_deletions(&world).await, ["ALICEPHONE"]);

        // An OAuth 2.0 session bound to a device, likewise.
        world
            .token(
                Some(&alice),
                "urn:matrix:client:api:* urn:matrix:client:device:ALICETAB01",
            )
            .await;
        let (_, body) = world
            .get(&format!(
                "/api/admin/v1/oauth2-sessions?filter[user]={}&filter[status]=active",
                alice.id
            ))
            .await;
        let found = ids(&body);
        let keep = format!(
            "/api/admin/v1/oauth2-sessions/{}/finish?keep_device=true",
            found[0]
        );
        let (status, body) = world.post(&keep, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(queued_device_deletions(&world).await, Vec::<String>::new());

        // The description says it is ours.
        let (_, spec) = world.call("GET", "/api/spec.json", None, None).await;
        let parameters =
            &spec["paths"]["/api/admin/v1/compat-sessions/{id}/finish"]["post"]["parameters"];
        let flag = parameters
            .as_array()
            .and_then(|all| all.iter().find(|p| p["name"] == "keep_device"))
            .expect("documented");
        assert!(
            flag["description"]
                .as_str()
                .is_some_and(|d| d.contains("not part of MAS"))
        );
    }
);
