//! Addresses and clients listed with the Admin API's filters.

use portcullis_model::OAuthClient;
use portcullis_storage::{OAuthClientFilter, Pagination, UserEmailFilter};

use crate::{
    fixtures::{add_client, add_session, add_user, start},
    support::{commit, repo},
};

backend_test!(
    async fn addresses_are_listed_by_user_and_by_address_in_any_case(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let a = tx
            .user_emails()
            .add(&alice, "Alice@Example.com", start())
            .await
            .expect("added");
        // A second later: rows are listed in the order they were added.
        let b = tx
            .user_emails()
            .add(
                &bob,
                "bob@example.com",
                start() + chrono::TimeDelta::seconds(1),
            )
            .await
            .expect("added");
        commit(tx).await;
        let mut tx = repo(&db).await;
        for (filter, expected) in [
            (
                UserEmailFilter {
                    user: Some(bob.id),
                    ..Default::default()
                },
                vec![b.id],
            ),
            (
                UserEmailFilter {
                    email: Some("alice@EXAMPLE.com".to_owned()),
                    ..Default::default()
                },
                vec![a.id],
            ),
            (UserEmailFilter::default(), vec![a.id, b.id]),
        ] {
            let page = tx
                .user_emails()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            let ids: Vec<_> = page.edges.iter().map(|e| e.id).collect();
            assert_eq!(ids, expected, "{filter:?}");
            assert_eq!(
                tx.user_emails().count(&filter).await.expect("counted"),
                expected.len()
            );
        }
        assert_eq!(tx.user_emails().find(a.id).await.expect("read"), Some(a));
    }
);

backend_test!(
    async fn clients_are_listed_by_kind_name_grant_type_and_sessions(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let static_client = add_client(&mut tx, "static").await;
        let dynamic = tx
            .oauth_clients()
            .add_dynamic(&OAuthClient {
                id: ulid::Ulid::new(),
                client_id: "dynamic".to_owned(),
                client_name: Some("Element".to_owned()),
                client_auth_method: "none".parse().expect("valid"),
                redirect_uris: vec!["https://app.example/cb".parse().expect("valid")],
                grant_types: vec![
                    "urn:ietf:params:oauth:grant-type:device_code"
                        .parse()
                        .expect("valid"),
                ],
                created_at: start(),
                ..OAuthClient::default()
            })
            .await
            .expect("added");
        let browser = tx
            .browser_sessions()
            .add(&user, None, start())
            .await
            .expect("signed in");
        add_session(&mut tx, &static_client, Some(&browser)).await;
        commit(tx).await;

        let mut tx = repo(&db).await;
        let cases = [
            (
                OAuthClientFilter {
                    is_static: Some(false),
                    ..Default::default()
                },
                vec![dynamic.id],
            ),
            (
                OAuthClientFilter {
                    client_name: Some("Element".to_owned()),
                    ..Default::default()
                },
                vec![dynamic.id],
            ),
            (
                OAuthClientFilter {
                    grant_type: Some("authorization_code".parse().expect("valid")),
                    ..Default::default()
                },
                vec![static_client.id],
            ),
            (
                OAuthClientFilter {
                    has_active_sessions: Some(true),
                    ..Default::default()
                },
                vec![static_client.id],
            ),
            (
                OAuthClientFilter {
                    has_active_sessions: Some(false),
                    ..Default::default()
                },
                vec![dynamic.id],
            ),
        ];
        for (filter, expected) in cases {
            let page = tx
                .oauth_clients()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            let ids: Vec<_> = page.edges.iter().map(|c| c.id).collect();
            assert_eq!(ids, expected, "{filter:?}");
            assert_eq!(
                tx.oauth_clients().count(&filter).await.expect("counted"),
                expected.len()
            );
        }
    }
);
