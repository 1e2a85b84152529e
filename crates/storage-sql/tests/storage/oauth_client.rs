//! The OAuth 2.0 clients, as `config sync` uses them.

use chrono::TimeDelta;
use portcullis_model::{Clock, MockClock, OAuthClient, Ulid};
use serde_json::json;

use crate::support::{commit, repo};

fn static_client(clock: &MockClock, client_id: &str) -> OAuthClient {
    OAuthClient {
        id: Ulid::from_datetime(clock.now().into()),
        client_id: client_id.to_owned(),
        is_static: true,
        client_auth_method: "client_secret_basic".to_owned(),
        encrypted_client_secret: Some("opaque-ciphertext".to_owned()),
        redirect_uris: vec![
            "https://app.example/callback".to_owned(),
            "https://app.example/other".to_owned(),
        ],
        client_name: Some("App".to_owned()),
        client_uri: Some("https://app.example/".to_owned()),
        jwks: Some(json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": "abc" }] })),
        jwks_uri: None,
        grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
        created_at: clock.now(),
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
            redirect_uris: vec!["https://new.example/callback".to_owned()],
            encrypted_client_secret: None,
            client_auth_method: "none".to_owned(),
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
        assert_eq!(updated.client_auth_method, "none");
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
