//! The upstream providers, as `config sync` uses them.

use chrono::TimeDelta;
use portcullis_model::{Clock, MockClock, UpstreamProvider};
use serde_json::json;

use crate::support::{commit, repo};

fn provider(clock: &MockClock, human_name: &str) -> UpstreamProvider {
    UpstreamProvider {
        id: "pocketid".to_owned(),
        issuer: Some("https://id.example".to_owned()),
        human_name: Some(human_name.to_owned()),
        brand_name: None,
        encrypted_client_secret: Some("opaque-ciphertext".to_owned()),
        config: json!({ "client_id": "portcullis", "scope": "openid profile" }),
        created_at: clock.now(),
        disabled_at: None,
    }
}

backend_test!(
    async fn a_provider_is_stored_as_given(db: Database) {
        let clock = MockClock::default();
        let given = provider(&clock, "Pocket ID");

        let mut tx = repo(&db).await;
        let stored = tx
            .upstream_providers()
            .upsert(&given)
            .await
            .expect("the provider is stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert_eq!(stored, given);
        assert_eq!(
            tx.upstream_providers()
                .find("pocketid")
                .await
                .expect("lookup"),
            Some(given)
        );
    }
);

backend_test!(
    async fn upserting_a_provider_again_replaces_its_settings_but_not_its_creation(db: Database) {
        let clock = MockClock::default();
        let original = provider(&clock, "Pocket ID");
        let mut tx = repo(&db).await;
        tx.upstream_providers()
            .upsert(&original)
            .await
            .expect("the provider is stored");
        clock.advance(TimeDelta::days(1));

        let changed = UpstreamProvider {
            config: json!({ "client_id": "other" }),
            ..provider(&clock, "Company login")
        };
        let updated = tx
            .upstream_providers()
            .upsert(&changed)
            .await
            .expect("the provider is updated");

        assert_eq!(updated.created_at, original.created_at);
        assert_eq!(updated.human_name.as_deref(), Some("Company login"));
        assert_eq!(updated.config, json!({ "client_id": "other" }));
        assert_eq!(
            tx.upstream_providers().list().await.expect("listed"),
            [updated]
        );
    }
);

backend_test!(
    async fn a_disabled_provider_keeps_its_first_disabling_time(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.upstream_providers()
            .upsert(&provider(&clock, "Pocket ID"))
            .await
            .expect("stored");
        let disabled_at = clock.now() + TimeDelta::hours(1);

        let disabled = tx
            .upstream_providers()
            .disable("pocketid", disabled_at)
            .await
            .expect("ok");
        let again = tx
            .upstream_providers()
            .disable("pocketid", disabled_at + TimeDelta::hours(1))
            .await
            .expect("disabling again works");

        let disabled = disabled.expect("the provider exists");
        assert_eq!(disabled.disabled_at, Some(disabled_at));
        assert!(!disabled.is_enabled());
        assert_eq!(
            again.expect("the provider exists").disabled_at,
            Some(disabled_at)
        );
    }
);

backend_test!(
    async fn a_provider_back_in_the_configuration_is_enabled_again(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.upstream_providers()
            .upsert(&provider(&clock, "Pocket ID"))
            .await
            .expect("stored");
        tx.upstream_providers()
            .disable("pocketid", clock.now())
            .await
            .expect("disabled");

        let upserted = tx
            .upstream_providers()
            .upsert(&provider(&clock, "Pocket ID"))
            .await
            .expect("stored again");

        assert!(upserted.is_enabled());
    }
);

backend_test!(
    async fn disabling_an_unknown_provider_finds_nothing(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;

        let disabled = tx
            .upstream_providers()
            .disable("nope", clock.now())
            .await
            .expect("ok");

        assert_eq!(disabled, None);
    }
);

backend_test!(
    async fn a_pruned_provider_is_gone(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.upstream_providers()
            .upsert(&provider(&clock, "Pocket ID"))
            .await
            .expect("stored");

        let deleted = tx
            .upstream_providers()
            .delete("pocketid")
            .await
            .expect("deleted");

        assert!(deleted);
        assert_eq!(
            tx.upstream_providers()
                .find("pocketid")
                .await
                .expect("lookup works"),
            None
        );
        assert!(
            !tx.upstream_providers()
                .delete("pocketid")
                .await
                .expect("deleting again works")
        );
    }
);
