//! The OAuth 2.0 clients, as `config sync` and dynamic registration use them.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use portcullis_model::{Clock, MockClock, OAuthClient, Ulid};
use portcullis_storage::StorageError;
use serde_json::json;

use crate::support::{commit, repo};

fn static_client(clock: &MockClock, client_id: &str) -> OAuthClient {
    OAuthClient {
        id: Ulid::from_datetime(clock.now().into()),
        client_id: client_id.to_owned(),
        is_static: true,
        client_auth_method: "client_secret_basic".parse().expect("valid"),
        encrypted_client_secret: Some("opaque-ciphertext".to_owned()),
        redirect_uris: vec![
            "https://app.example/callback".parse().expect("valid"),
            "https://app.example/other".parse().expect("valid"),
        ],
        client_name: Some("App".to_owned()),
        client_uri: Some("https://app.example/".to_owned()),
        jwks: Some(json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": "abc" }] })),
        jwks_uri: None,
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "refresh_token".parse().expect("valid"),
        ],
        created_at: clock.now(),
        ..OAuthClient::default()
    }
}

backend_test!(
    async fn a_static_client_is_stored_as_given(db: Database) {
        let clock = MockClock::default();
        let client = static_client(&clock, "01J0000000000000000000APP1");

        let mut tx = repo(&db).await;
        let stored = tx
            .oauth_clients()
            .upsert_static(&client)
            .await
            .expect("the client is stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .oauth_clients()
            .find_by_client_id(&client.client_id)
            .await
            .expect("lookup");
        assert_eq!(stored, client);
        assert_eq!(found, Some(client));
    }
);

backend_test!(
    async fn upserting_a_static_client_again_updates_it_in_place(db: Database) {
        let clock = MockClock::default();
        let original = static_client(&clock, "app");
        let mut tx = repo(&db).await;
        tx.oauth_clients()
            .upsert_static(&original)
            .await
            .expect("the client is stored");
        commit(tx).await;
        clock.advance(TimeDelta::days(1));

        // The next `config sync` builds the client afresh: new internal id, new time.
        let changed = OAuthClient {
            redirect_uris: vec!["https://new.example/callback".parse().expect("valid")],
            encrypted_client_secret: None,
            client_auth_method: "none".parse().expect("valid"),
            jwks: None,
            ..static_client(&clock, "app")
        };
        let mut tx = repo(&db).await;
        let updated = tx
            .oauth_clients()
            .upsert_static(&changed)
            .await
            .expect("the client is updated");
        commit(tx).await;

        assert_eq!(updated.id, original.id);
        assert_eq!(updated.created_at, original.created_at);
        assert_eq!(updated.redirect_uris, changed.redirect_uris);
        assert_eq!(updated.client_auth_method.as_str(), "none");
        assert_eq!(updated.encrypted_client_secret, None);
        assert_eq!(updated.jwks, None);
        let mut tx = repo(&db).await;
        assert_eq!(
            tx.oauth_clients()
                .list_static()
                .await
                .expect("listed")
                .len(),
            1
        );
    }
);

backend_test!(
    async fn static_clients_are_listed_by_client_id(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        for client_id in ["zeta", "alpha", "mu"] {
            clock.advance(TimeDelta::seconds(1));
            let client = static_client(&clock, client_id);
            tx.oauth_clients()
                .upsert_static(&client)
                .await
                .expect("the client is stored");
        }

        let listed = tx
            .oauth_clients()
            .list_static()
            .await
            .expect("clients can be listed");

        let client_ids: Vec<_> = listed
            .iter()
            .map(|client| client.client_id.as_str())
            .collect();
        assert_eq!(client_ids, ["alpha", "mu", "zeta"]);
    }
);

backend_test!(
    async fn a_pruned_static_client_is_gone(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let client = tx
            .oauth_clients()
            .upsert_static(&static_client(&clock, "app"))
            .await
            .expect("the client is stored");

        let deleted = tx
            .oauth_clients()
            .delete(client.id)
            .await
            .expect("the client is deleted");

        assert!(deleted);
        assert_eq!(
            tx.oauth_clients()
                .find(client.id)
                .await
                .expect("lookup works"),
            None
        );
        assert!(
            !tx.oauth_clients()
                .delete(client.id)
                .await
                .expect("deleting again works")
        );
    }
);

/// A secret-less client as dynamic registration stores it, with every piece of metadata.
fn dynamic_client(clock: &MockClock, client_id: &str, digest: &str) -> OAuthClient {
    OAuthClient {
        id: Ulid::from_datetime(clock.now().into()),
        client_id: client_id.to_owned(),
        is_static: false,
        client_auth_method: "none".parse().expect("valid"),
        encrypted_client_secret: None,
        redirect_uris: vec!["https://element.example/callback".parse().expect("valid")],
        client_name: Some("Element".to_owned()),
        client_uri: Some("https://element.example/".to_owned()),
        jwks: None,
        jwks_uri: None,
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "refresh_token".parse().expect("valid"),
        ],
        created_at: clock.now(),
        metadata_digest: Some(digest.to_owned()),
        application_type: Some("native".parse().expect("valid")),
        response_types: vec!["code".parse().expect("valid")],
        logo_uri: Some("https://element.example/logo.png".to_owned()),
        policy_uri: Some("https://element.example/privacy".to_owned()),
        tos_uri: Some("https://element.example/terms".to_owned()),
        contacts: vec!["admin@element.example".to_owned()],
        token_endpoint_auth_signing_alg: None,
        id_token_signed_response_alg: Some("ES256".to_owned()),
        userinfo_signed_response_alg: None,
        post_logout_redirect_uris: vec!["https://element.example/bye".parse().expect("valid")],
        localized: BTreeMap::from([
            ("client_name#fr".to_owned(), "Élément".to_owned()),
            (
                "tos_uri#de".to_owned(),
                "https://element.example/agb".to_owned(),
            ),
        ]),
    }
}

backend_test!(
    async fn a_dynamic_client_is_stored_with_its_registration_metadata(db: Database) {
        let clock = MockClock::default();
        let client = dynamic_client(&clock, "01J00000000000000000DYNAM1", "digest-1");

        let mut tx = repo(&db).await;
        let stored = tx
            .oauth_clients()
            .add_dynamic(&client)
            .await
            .expect("the client is stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx.oauth_clients().find(client.id).await.expect("lookup");
        assert_eq!(stored, client);
        assert_eq!(found, Some(client));
    }
);

backend_test!(
    async fn a_dynamic_client_is_always_stored_as_dynamic(db: Database) {
        let clock = MockClock::default();
        let client = OAuthClient {
            is_static: true,
            ..dynamic_client(&clock, "sneaky", "digest-1")
        };

        let mut tx = repo(&db).await;
        let stored = tx
            .oauth_clients()
            .add_dynamic(&client)
            .await
            .expect("the client is stored");

        assert!(!stored.is_static);
        assert!(
            tx.oauth_clients()
                .list_static()
                .await
                .expect("listed")
                .is_empty()
        );
    }
);

backend_test!(
    async fn a_dynamic_client_is_found_by_its_metadata_digest(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let client = tx
            .oauth_clients()
            .add_dynamic(&dynamic_client(&clock, "dyn", "digest-1"))
            .await
            .expect("the client is stored");

        let same = tx
            .oauth_clients()
            .find_dynamic_by_metadata_digest("digest-1")
            .await
            .expect("lookup works");
        let other = tx
            .oauth_clients()
            .find_dynamic_by_metadata_digest("digest-2")
            .await
            .expect("lookup works");

        assert_eq!(same, Some(client));
        assert_eq!(other, None);
    }
);

backend_test!(
    async fn registering_the_same_metadata_twice_is_a_conflict(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.oauth_clients()
            .add_dynamic(&dynamic_client(&clock, "first", "digest-1"))
            .await
            .expect("the first client is stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let second = tx
            .oauth_clients()
            .add_dynamic(&dynamic_client(&clock, "second", "digest-1"))
            .await;

        assert!(
            matches!(second, Err(StorageError::Conflict(_))),
            "{second:?}"
        );
    }
);

backend_test!(
    async fn clients_with_a_secret_need_no_metadata_digest(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;

        for client_id in ["one", "two"] {
            let client = OAuthClient {
                client_auth_method: "client_secret_basic".parse().expect("valid"),
                encrypted_client_secret: Some("opaque-ciphertext".to_owned()),
                metadata_digest: None,
                ..dynamic_client(&clock, client_id, "unused")
            };
            tx.oauth_clients()
                .add_dynamic(&client)
                .await
                .expect("clients without digest never clash");
        }
    }
);

backend_test!(
    async fn the_configuration_cannot_take_over_a_dynamically_registered_client_id(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.oauth_clients()
            .add_dynamic(&dynamic_client(&clock, "taken", "digest-1"))
            .await
            .expect("the dynamic client is stored");

        let upserted = tx
            .oauth_clients()
            .upsert_static(&static_client(&clock, "taken"))
            .await;

        assert!(
            matches!(upserted, Err(StorageError::Conflict(_))),
            "{upserted:?}"
        );
    }
);
