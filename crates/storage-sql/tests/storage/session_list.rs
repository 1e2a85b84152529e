//! Browser, OAuth 2.0 and compatibility sessions listed with the Admin API's filters.

use chrono::TimeDelta;
use portcullis_storage::{CompatSessionFilter, OAuthSessionFilter, Pagination, SessionFilter};

use crate::{
    fixtures::{add_client, add_session, add_user, start},
    support::{commit, repo},
};

backend_test!(
    async fn sessions_of_every_kind_are_listed_with_their_filters(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let client = add_client(&mut tx, "app").await;
        let early = tx
            .browser_sessions()
            .add(&alice, None, start())
            .await
            .expect("added");
        let late = tx
            .browser_sessions()
            .add(&bob, None, start() + TimeDelta::hours(1))
            .await
            .expect("added");
        tx.browser_sessions()
            .finish(early.id, start() + TimeDelta::hours(2))
            .await
            .expect("finished");
        let oauth = add_session(&mut tx, &client, Some(&late)).await;
        let compat =
            crate::compat_session::add_compat_session(&mut tx, &alice, "LISTEDDEVICE").await;
        commit(tx).await;

        let mut tx = repo(&db).await;
        let first = Pagination::first(10);
        let ids = |page: portcullis_storage::Page<ulid::Ulid>| page.edges;
        let cases = [
            (
                SessionFilter {
                    user: Some(alice.id),
                    ..Default::default()
                },
                vec![early.id],
            ),
            (
                SessionFilter {
                    active: Some(true),
                    ..Default::default()
                },
                vec![late.id],
            ),
            (
                SessionFilter {
                    created_after: Some(start() + TimeDelta::minutes(30)),
                    ..Default::default()
                },
                vec![late.id],
            ),
            (
                SessionFilter {
                    created_before: Some(start() + TimeDelta::minutes(30)),
                    ..Default::default()
                },
                vec![early.id],
            ),
        ];
        for (filter, expected) in cases {
            let page = tx
                .browser_sessions()
                .list_page(&filter, first)
                .await
                .expect("read");
            assert_eq!(ids(page.map(|s| s.id)), expected, "{filter:?}");
            assert_eq!(
                tx.browser_sessions().count(&filter).await.expect("counted"),
                expected.len()
            );
        }

        let by_browser = OAuthSessionFilter {
            user_session: Some(late.id),
            ..Default::default()
        };
        let page = tx
            .oauth_sessions()
            .list_page(&by_browser, first)
            .await
            .expect("read");
        assert_eq!(ids(page.map(|s| s.id)), [oauth.id]);
        for (filter, expected) in [
            (
                OAuthSessionFilter {
                    client: Some(client.id),
                    static_client: Some(true),
                    scope: Some("openid".parse().expect("scope")),
                    ..Default::default()
                },
                1,
            ),
            (
                OAuthSessionFilter {
                    static_client: Some(false),
                    ..Default::default()
                },
                0,
            ),
            (
                OAuthSessionFilter {
                    scope: Some("urn:mas:admin".parse().expect("scope")),
                    ..Default::default()
                },
                0,
            ),
        ] {
            assert_eq!(
                tx.oauth_sessions().count(&filter).await.expect("counted"),
                expected,
                "{filter:?}"
            );
        }

        let filter = CompatSessionFilter {
            session: SessionFilter {
                user: Some(alice.id),
                active: Some(true),
                ..Default::default()
            },
            user_session: None,
        };
        let page = tx
            .compat_sessions()
            .list_page(&filter, first)
            .await
            .expect("read");
        assert_eq!(ids(page.map(|s| s.id)), [compat.id]);
        let none = CompatSessionFilter {
            user_session: Some(late.id),
            ..Default::default()
        };
        assert_eq!(tx.compat_sessions().count(&none).await.expect("counted"), 0);
    }
);
