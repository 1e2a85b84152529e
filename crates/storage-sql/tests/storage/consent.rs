//! The consents users remember for clients.

use crate::{
    fixtures::{add_client, add_user, start, world},
    support::repo,
};

fn tokens(tokens: &[&str]) -> Vec<String> {
    tokens.iter().map(|token| (*token).to_owned()).collect()
}

backend_test!(
    async fn nothing_is_granted_before_the_user_consents(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;

        let granted = tx
            .oauth_consents()
            .granted_scope(&world.user, &world.client)
            .await
            .expect("ok");

        assert!(granted.is_empty());
    }
);

backend_test!(
    async fn a_new_consent_adds_to_what_was_granted_before(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        tx.oauth_consents()
            .grant(
                &world.user,
                &world.client,
                &tokens(&["openid", "urn:matrix:client:api:*"]),
                start(),
            )
            .await
            .expect("granted");

        let merged = tx
            .oauth_consents()
            .grant(
                &world.user,
                &world.client,
                &tokens(&["urn:matrix:client:device:ABCDEFGHIJ", "openid", "openid"]),
                start(),
            )
            .await
            .expect("granted");
        let read = tx
            .oauth_consents()
            .granted_scope(&world.user, &world.client)
            .await
            .expect("ok");

        let expected = tokens(&[
            "openid",
            "urn:matrix:client:api:*",
            "urn:matrix:client:device:ABCDEFGHIJ",
        ]);
        assert_eq!(merged, expected);
        assert_eq!(read, expected);
    }
);

backend_test!(
    async fn a_consent_belongs_to_one_user_and_one_client(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let bob = add_user(&mut tx, "bob").await;
        let other_client = add_client(&mut tx, "other").await;
        tx.oauth_consents()
            .grant(&world.user, &world.client, &tokens(&["openid"]), start())
            .await
            .expect("granted");

        let bobs = tx
            .oauth_consents()
            .granted_scope(&bob, &world.client)
            .await
            .expect("ok");
        let other_clients = tx
            .oauth_consents()
            .granted_scope(&world.user, &other_client)
            .await
            .expect("ok");

        assert!(bobs.is_empty());
        assert!(other_clients.is_empty());
    }
);

backend_test!(
    async fn a_revoked_consent_is_forgotten(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        tx.oauth_consents()
            .grant(
                &world.user,
                &world.client,
                &tokens(&["openid", "email"]),
                start(),
            )
            .await
            .expect("granted");

        let revoked = tx
            .oauth_consents()
            .revoke(&world.user, &world.client)
            .await
            .expect("ok");
        let again = tx
            .oauth_consents()
            .revoke(&world.user, &world.client)
            .await
            .expect("ok");

        assert!(revoked);
        assert!(!again);
        assert!(
            tx.oauth_consents()
                .granted_scope(&world.user, &world.client)
                .await
                .expect("ok")
                .is_empty()
        );
    }
);
