//! The links between upstream accounts and users.

use chrono::TimeDelta;
use portcullis_model::{UpstreamLink, UpstreamProvider};
use portcullis_storage::{BoxRepository, Pagination, StorageError, UpstreamLinkFilter};
use serde_json::json;

use crate::{
    fixtures::{add_user, delete_row, start},
    support::{commit, repo},
};

pub async fn add_provider(tx: &mut BoxRepository, id: &str) {
    tx.upstream_providers()
        .upsert(&UpstreamProvider {
            id: id.to_owned(),
            issuer: Some(format!("https://{id}.example")),
            human_name: None,
            brand_name: None,
            encrypted_client_secret: None,
            config: json!({}),
            created_at: start(),
            disabled_at: None,
        })
        .await
        .expect("the provider is stored");
}

async fn add_link(
    tx: &mut BoxRepository,
    provider: &str,
    subject: &str,
    minute: i64,
) -> UpstreamLink {
    tx.upstream_links()
        .add(
            provider,
            subject,
            Some(&format!("{subject}@{provider}")),
            start() + TimeDelta::minutes(minute),
        )
        .await
        .expect("the link is stored")
}

backend_test!(
    async fn a_link_starts_without_a_user_and_is_found_by_its_subject(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let link = add_link(&mut tx, "pocketid", "sub-1", 0).await;
        commit(tx).await;

        assert_eq!(link.provider_id, "pocketid");
        assert_eq!(link.subject, "sub-1");
        assert_eq!(link.user_id, None);
        assert_eq!(link.human_account_name.as_deref(), Some("sub-1@pocketid"));
        assert_eq!(link.created_at, start());
        let mut tx = repo(&db).await;
        let links = tx.upstream_links();
        assert_eq!(
            links.find(link.id).await.expect("lookup"),
            Some(link.clone())
        );
        assert_eq!(
            links
                .find_by_subject("pocketid", "sub-1")
                .await
                .expect("lookup"),
            Some(link)
        );
        assert_eq!(
            links
                .find_by_subject("pocketid", "sub-2")
                .await
                .expect("lookup"),
            None
        );
        assert_eq!(
            links
                .find_by_subject("other", "sub-1")
                .await
                .expect("lookup"),
            None
        );
    }
);

backend_test!(
    async fn a_provider_has_one_link_per_subject(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        add_provider(&mut tx, "keycloak").await;
        add_link(&mut tx, "pocketid", "sub-1", 0).await;
        // The same subject at another provider is another account.
        add_link(&mut tx, "keycloak", "sub-1", 1).await;
        commit(tx).await;

        let mut tx = repo(&db).await;
        let again = tx
            .upstream_links()
            .add("pocketid", "sub-1", None, start())
            .await;
        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn associating_ties_the_link_to_the_user(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let alice = add_user(&mut tx, "alice").await;
        let link = add_link(&mut tx, "pocketid", "sub-1", 0).await;
        let linked = tx
            .upstream_links()
            .associate(link.clone(), &alice)
            .await
            .expect("associated");
        commit(tx).await;

        assert_eq!(
            linked,
            UpstreamLink {
                user_id: Some(alice.id),
                ..link.clone()
            }
        );
        let mut tx = repo(&db).await;
        assert_eq!(
            tx.upstream_links().find(link.id).await.expect("lookup"),
            Some(linked)
        );
    }
);

backend_test!(
    async fn claiming_links_an_account_of_nobody_once(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        let link = add_link(&mut tx, "pocketid", "sub-1", 0).await;
        let claimed = tx
            .upstream_links()
            .claim(link.id, &alice)
            .await
            .expect("claimed");
        assert_eq!(
            claimed,
            Some(UpstreamLink {
                user_id: Some(alice.id),
                ..link.clone()
            })
        );
        let again = tx
            .upstream_links()
            .claim(link.id, &bob)
            .await
            .expect("second claim");
        assert_eq!(again, None, "the account is alice's already");
        let unknown = tx
            .upstream_links()
            .claim(ulid::Ulid::new(), &bob)
            .await
            .expect("unknown claim");
        assert_eq!(unknown, None);
        commit(tx).await;

        let mut tx = repo(&db).await;
        let stored = tx.upstream_links().find(link.id).await.expect("lookup");
        assert_eq!(stored.and_then(|link| link.user_id), Some(alice.id));
    }
);

backend_test!(
    async fn lists_filter_by_user_provider_subject_and_name_and_page_both_ways(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        add_provider(&mut tx, "keycloak").await;
        let alice = add_user(&mut tx, "alice").await;
        let mut all = Vec::new();
        for (minute, provider, subject) in [
            (0, "pocketid", "a"),
            (1, "keycloak", "a"),
            (2, "pocketid", "b"),
            (3, "keycloak", "c"),
        ] {
            let link = add_link(&mut tx, provider, subject, minute).await;
            let link = if subject == "a" {
                tx.upstream_links()
                    .associate(link, &alice)
                    .await
                    .expect("associated")
            } else {
                link
            };
            all.push(link);
        }
        commit(tx).await;

        let mut tx = repo(&db).await;
        let links = tx.upstream_links();
        let ids = |page: portcullis_storage::Page<UpstreamLink>| {
            page.edges
                .into_iter()
                .map(|link| link.id)
                .collect::<Vec<_>>()
        };
        let cases = [
            (UpstreamLinkFilter::default(), vec![0, 1, 2, 3]),
            (
                UpstreamLinkFilter {
                    user: Some(alice.id),
                    ..Default::default()
                },
                vec![0, 1],
            ),
            (
                UpstreamLinkFilter {
                    providers: Some(vec!["keycloak".to_owned()]),
                    ..Default::default()
                },
                vec![1, 3],
            ),
            (
                UpstreamLinkFilter {
                    providers: Some(vec![]),
                    ..Default::default()
                },
                vec![],
            ),
            (
                UpstreamLinkFilter {
                    subject: Some("a".to_owned()),
                    ..Default::default()
                },
                vec![0, 1],
            ),
            (
                UpstreamLinkFilter {
                    human_account_name: Some("b@pocketid".to_owned()),
                    ..Default::default()
                },
                vec![2],
            ),
            (
                UpstreamLinkFilter {
                    user: Some(alice.id),
                    providers: Some(vec!["pocketid".to_owned()]),
                    ..Default::default()
                },
                vec![0],
            ),
        ];
        for (filter, expected) in cases {
            let expected: Vec<_> = expected.into_iter().map(|index| all[index].id).collect();
            let page = links
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("listed");
            assert_eq!(ids(page), expected, "{filter:?}");
            assert_eq!(
                links.count(&filter).await.expect("counted"),
                expected.len(),
                "{filter:?}"
            );
        }

        let filter = UpstreamLinkFilter::default();
        let first = links
            .list_page(&filter, Pagination::first(3))
            .await
            .expect("listed");
        assert!(first.has_next_page);
        let next = links
            .list_page(&filter, Pagination::first(3).after(all[2].id))
            .await
            .expect("listed");
        assert_eq!(ids(next), vec![all[3].id]);
        let last = links
            .list_page(&filter, Pagination::last(2))
            .await
            .expect("listed");
        assert!(last.has_previous_page);
        assert_eq!(ids(last), vec![all[2].id, all[3].id]);
    }
);

backend_test!(
    async fn removing_a_link_and_what_deleting_its_provider_or_user_takes_along(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        add_provider(&mut tx, "keycloak").await;
        let alice = add_user(&mut tx, "alice").await;
        let removed = add_link(&mut tx, "pocketid", "a", 0).await;
        let with_provider = add_link(&mut tx, "keycloak", "b", 1).await;
        let with_user = add_link(&mut tx, "pocketid", "c", 2).await;
        tx.upstream_links()
            .associate(with_user.clone(), &alice)
            .await
            .expect("associated");
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert!(
            tx.upstream_links()
                .remove(removed.id)
                .await
                .expect("removed")
        );
        assert!(
            !tx.upstream_links()
                .remove(removed.id)
                .await
                .expect("nothing to remove")
        );
        assert!(
            tx.upstream_providers()
                .delete("keycloak")
                .await
                .expect("deleted")
        );
        commit(tx).await;
        delete_row(&db, "users", "user_id", alice.id).await;

        let mut tx = repo(&db).await;
        for link in [removed, with_provider, with_user] {
            assert_eq!(
                tx.upstream_links().find(link.id).await.expect("lookup"),
                None
            );
        }
    }
);
