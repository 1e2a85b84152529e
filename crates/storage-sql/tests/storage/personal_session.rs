//! Personal sessions and their tokens.

use chrono::TimeDelta;
use portcullis_model::PersonalSessionOwner;
use portcullis_storage::{NewPersonalSession, Pagination, PersonalSessionFilter};

use crate::{
    fixtures::{add_client, add_user, start},
    support::{commit, repo, table_as_text},
};

fn new_session(
    owner: PersonalSessionOwner,
    actor: ulid::Ulid,
    name: &str,
    scope: &str,
) -> NewPersonalSession {
    NewPersonalSession {
        owner,
        actor_user_id: actor,
        human_name: name.to_owned(),
        scope: scope.parse().expect("a scope"),
    }
}

backend_test!(
    async fn a_token_is_accepted_until_replaced_expired_or_revoked(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let session = tx
            .personal_sessions()
            .add(
                &new_session(
                    PersonalSessionOwner::User(alice.id),
                    alice.id,
                    "my bot",
                    "urn:matrix:client:api:*",
                ),
                start(),
            )
            .await
            .expect("added");
        assert!(session.is_active());
        assert_eq!(session.expires_at, None);
        let expiry = start() + TimeDelta::days(1);
        let token = tx
            .personal_sessions()
            .add_token(&session, "mpt_first", Some(expiry), start())
            .await
            .expect("token");
        assert!(token.is_valid(start()));
        let found = tx
            .personal_sessions()
            .find(session.id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.expires_at, Some(expiry), "the live token's expiry");

        let active = tx
            .personal_sessions()
            .find_active_by_token("mpt_first", start())
            .await
            .expect("read")
            .expect("active");
        assert_eq!(active.session.id, session.id);
        assert_eq!(active.actor.username, "alice");
        assert_eq!(active.owner_user.map(|u| u.id), Some(alice.id));
        // Expired.
        let later = tx
            .personal_sessions()
            .find_active_by_token("mpt_first", expiry + TimeDelta::seconds(1))
            .await
            .expect("read");
        assert!(later.is_none());

        // Regenerating revokes the first token.
        tx.personal_sessions()
            .add_token(&session, "mpt_second", None, start())
            .await
            .expect("token");
        for (token, accepted) in [("mpt_first", false), ("mpt_second", true)] {
            let found = tx
                .personal_sessions()
                .find_active_by_token(token, start())
                .await
                .expect("read");
            assert_eq!(found.is_some(), accepted, "{token}");
        }
        let found = tx
            .personal_sessions()
            .find(session.id)
            .await
            .expect("read")
            .expect("found");
        assert_eq!(found.expires_at, None);

        // Revoking the session ends its token, and keeps the first instant.
        let revoked = tx
            .personal_sessions()
            .revoke(session.id, start() + TimeDelta::minutes(1))
            .await
            .expect("revoked")
            .expect("found");
        assert_eq!(revoked.revoked_at, Some(start() + TimeDelta::minutes(1)));
        let again = tx
            .personal_sessions()
            .revoke(session.id, start() + TimeDelta::minutes(2))
            .await
            .expect("revoked")
            .expect("found");
        assert_eq!(again.revoked_at, revoked.revoked_at);
        let found = tx
            .personal_sessions()
            .find_active_by_token("mpt_second", start())
            .await
            .expect("read");
        assert!(found.is_none());
        commit(tx).await;
        let stored = table_as_text(&db, "personal_access_tokens").await.join(" ");
        assert!(!stored.contains("mpt_second"), "only hashes are stored");
    }
);

backend_test!(
    async fn personal_sessions_are_listed_with_every_filter(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bot = add_user(&mut tx, "bot").await;
        let client = add_client(&mut tx, "tool").await;
        let mut ids = Vec::new();
        let specs = [
            (
                PersonalSessionOwner::User(alice.id),
                alice.id,
                "urn:matrix:client:api:*",
                Some(1),
            ),
            (
                PersonalSessionOwner::User(alice.id),
                bot.id,
                "urn:mas:admin",
                None,
            ),
            (
                PersonalSessionOwner::Client(client.id),
                bot.id,
                "urn:matrix:client:api:* urn:mas:admin",
                Some(3),
            ),
        ];
        for (i, (owner, actor, scope, days)) in specs.into_iter().enumerate() {
            let at = start() + TimeDelta::seconds(i64::try_from(i).expect("small"));
            let session = tx
                .personal_sessions()
                .add(&new_session(owner, actor, &format!("s{i}"), scope), at)
                .await
                .expect("added");
            tx.personal_sessions()
                .add_token(
                    &session,
                    &format!("mpt_{i}"),
                    days.map(|d| start() + TimeDelta::days(d)),
                    at,
                )
                .await
                .expect("token");
            ids.push(session.id);
        }
        tx.personal_sessions()
            .revoke(ids[0], start())
            .await
            .expect("revoked");

        let cases = [
            (
                PersonalSessionFilter {
                    owner_user: Some(alice.id),
                    ..Default::default()
                },
                vec![0, 1],
            ),
            (
                PersonalSessionFilter {
                    owner_client: Some(client.id),
                    ..Default::default()
                },
                vec![2],
            ),
            (
                PersonalSessionFilter {
                    actor_user: Some(bot.id),
                    ..Default::default()
                },
                vec![1, 2],
            ),
            (
                PersonalSessionFilter {
                    scope: Some("urn:mas:admin".parse().expect("scope")),
                    ..Default::default()
                },
                vec![1, 2],
            ),
            (
                PersonalSessionFilter {
                    active: Some(false),
                    ..Default::default()
                },
                vec![0],
            ),
            (
                PersonalSessionFilter {
                    expires: Some(false),
                    ..Default::default()
                },
                // The revoked session has no live token any more.
                vec![0, 1],
            ),
            (
                PersonalSessionFilter {
                    expires_before: Some(start() + TimeDelta::days(2)),
                    ..Default::default()
                },
                vec![],
            ),
            (
                PersonalSessionFilter {
                    expires_after: Some(start() + TimeDelta::days(2)),
                    ..Default::default()
                },
                vec![2],
            ),
        ];
        for (filter, expected) in cases {
            let page = tx
                .personal_sessions()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            let got: Vec<_> = page.edges.iter().map(|s| s.id).collect();
            let want: Vec<_> = expected.iter().map(|i| ids[*i]).collect();
            assert_eq!(got, want, "{filter:?}");
            let count = tx
                .personal_sessions()
                .count(&filter)
                .await
                .expect("counted");
            assert_eq!(count, want.len(), "{filter:?}");
        }
        commit(tx).await;
    }
);
