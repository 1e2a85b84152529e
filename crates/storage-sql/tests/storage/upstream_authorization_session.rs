//! Sign-in attempts through upstream providers: pending, completed once, consumed once.

use chrono::TimeDelta;
use portcullis_model::UpstreamAnswer;
use portcullis_storage::{NewUpstreamAuthorizationSession, StorageError};
use serde_json::json;

use crate::{
    fixtures::{add_browser_session, add_user, start},
    support::{commit, repo},
    upstream_link::add_provider,
};

fn attempt(state: &str) -> NewUpstreamAuthorizationSession {
    NewUpstreamAuthorizationSession {
        provider_id: "pocketid".to_owned(),
        state: state.to_owned(),
        nonce: Some("nonce-1".to_owned()),
        code_verifier: Some("verifier-1".to_owned()),
        post_auth_action: Some(json!({"kind": "continue_authorization_grant", "id": "x"})),
    }
}

backend_test!(
    async fn an_attempt_is_found_by_its_provider_and_state(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let sessions = tx.upstream_authorization_sessions();
        let added = sessions
            .add(&attempt("state-1"), start())
            .await
            .expect("stored");
        assert_eq!(added.state, "state-1");
        assert_eq!(added.nonce.as_deref(), Some("nonce-1"));
        assert_eq!(added.code_verifier.as_deref(), Some("verifier-1"));
        assert_eq!(added.created_at, start());
        assert_eq!(
            (added.completed_at, added.consumed_at, added.link_id),
            (None, None, None)
        );
        commit(tx).await;

        let mut tx = repo(&db).await;
        let again = tx
            .upstream_authorization_sessions()
            .add(&attempt("state-1"), start())
            .await;
        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
        drop(tx);

        let mut tx = repo(&db).await;
        let sessions = tx.upstream_authorization_sessions();
        assert_eq!(
            sessions.find(added.id).await.expect("read"),
            Some(added.clone())
        );
        assert_eq!(
            sessions
                .find_by_state("pocketid", "state-1")
                .await
                .expect("read"),
            Some(added)
        );
        assert_eq!(
            sessions
                .find_by_state("other", "state-1")
                .await
                .expect("read"),
            None
        );
        assert_eq!(
            sessions
                .find_by_state("pocketid", "state-2")
                .await
                .expect("read"),
            None
        );
    }
);

backend_test!(
    async fn an_answer_completes_an_attempt_once_and_a_sign_in_consumes_it_once(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let alice = add_user(&mut tx, "alice").await;
        let browser = add_browser_session(&mut tx, &alice).await;
        let link = tx
            .upstream_links()
            .add("pocketid", "alice-sub", None, start())
            .await
            .expect("linked");
        let added = tx
            .upstream_authorization_sessions()
            .add(&attempt("state-1"), start())
            .await
            .expect("stored");
        commit(tx).await;

        let answer = UpstreamAnswer {
            link_id: link.id,
            id_token: Some("header.claims.signature".to_owned()),
            id_token_claims: Some(json!({"sub": "alice-sub", "sid": "s1"})),
            userinfo_claims: Some(json!({"email": "alice@example.com"})),
            extra_callback_parameters: None,
        };
        let later = start() + TimeDelta::seconds(5);
        let mut tx = repo(&db).await;
        let sessions = tx.upstream_authorization_sessions();
        // Not completed yet: it cannot sign anyone in.
        assert_eq!(
            sessions
                .consume(added.id, browser.id, later)
                .await
                .expect("tried"),
            None
        );
        let completed = sessions
            .complete(added.id, &answer, later)
            .await
            .expect("tried")
            .expect("completed");
        assert_eq!(completed.link_id, Some(link.id));
        assert_eq!(completed.id_token_claims, answer.id_token_claims);
        assert_eq!(completed.userinfo_claims, answer.userinfo_claims);
        assert_eq!(completed.completed_at, Some(later));
        // A replayed answer finds nothing to complete.
        assert_eq!(
            sessions
                .complete(added.id, &answer, later)
                .await
                .expect("tried"),
            None
        );
        let consumed = sessions
            .consume(added.id, browser.id, later)
            .await
            .expect("tried")
            .expect("consumed");
        assert_eq!(consumed.user_session_id, Some(browser.id));
        assert_eq!(consumed.consumed_at, Some(later));
        assert_eq!(
            sessions
                .consume(added.id, browser.id, later)
                .await
                .expect("tried"),
            None
        );
        commit(tx).await;

        let mut tx = repo(&db).await;
        let stored = tx
            .upstream_authorization_sessions()
            .find(added.id)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(stored, consumed);
    }
);

backend_test!(
    async fn attempts_that_signed_nobody_in_are_deleted_and_used_ones_kept(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        let alice = add_user(&mut tx, "alice").await;
        let browser = add_browser_session(&mut tx, &alice).await;
        let link = tx
            .upstream_links()
            .add("pocketid", "alice-sub", None, start())
            .await
            .expect("linked");
        let sessions = tx.upstream_authorization_sessions();
        let abandoned = sessions
            .add(&attempt("abandoned"), start())
            .await
            .expect("stored");
        let used = sessions
            .add(&attempt("used"), start())
            .await
            .expect("stored");
        let answer = UpstreamAnswer {
            link_id: link.id,
            id_token: None,
            id_token_claims: None,
            userinfo_claims: None,
            extra_callback_parameters: None,
        };
        sessions
            .complete(used.id, &answer, start())
            .await
            .expect("completed");
        sessions
            .consume(used.id, browser.id, start())
            .await
            .expect("consumed");
        let later = sessions
            .add(&attempt("later"), start() + TimeDelta::days(1))
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let sessions = tx.upstream_authorization_sessions();
        let cut = start() + TimeDelta::hours(1);
        assert_eq!(
            sessions.delete_unused_before(cut).await.expect("deleted"),
            1
        );
        assert_eq!(sessions.find(abandoned.id).await.expect("read"), None);
        assert!(sessions.find(used.id).await.expect("read").is_some());
        assert!(sessions.find(later.id).await.expect("read").is_some());
    }
);

backend_test!(
    async fn a_logout_finds_the_open_sessions_signed_in_by_a_sub_and_sid(db: Database) {
        let mut tx = repo(&db).await;
        add_provider(&mut tx, "pocketid").await;
        add_provider(&mut tx, "other").await;
        let alice = add_user(&mut tx, "alice").await;
        let link = tx
            .upstream_links()
            .add("pocketid", "alice-sub", None, start())
            .await
            .expect("linked");
        // Three sign-ins: sid s1, sid s2 (its session then ends), and one at another provider.
        let mut browsers = Vec::new();
        for (n, (provider, sid)) in [("pocketid", "s1"), ("pocketid", "s2"), ("other", "s1")]
            .into_iter()
            .enumerate()
        {
            let browser = add_browser_session(&mut tx, &alice).await;
            let mut new = attempt(&format!("state-{n}"));
            new.provider_id = provider.to_owned();
            let added = tx
                .upstream_authorization_sessions()
                .add(&new, start())
                .await
                .expect("stored");
            let answer = UpstreamAnswer {
                link_id: link.id,
                id_token: None,
                id_token_claims: Some(json!({"sub": "alice-sub", "sid": sid})),
                userinfo_claims: None,
                extra_callback_parameters: None,
            };
            let sessions = tx.upstream_authorization_sessions();
            sessions
                .complete(added.id, &answer, start())
                .await
                .expect("tried")
                .expect("completed");
            sessions
                .consume(added.id, browser.id, start())
                .await
                .expect("tried")
                .expect("consumed");
            browsers.push(browser);
        }
        tx.browser_sessions()
            .finish(browsers[1].id, start())
            .await
            .expect("finished");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let sessions = tx.upstream_authorization_sessions();
        let found = |ids: Vec<ulid::Ulid>| {
            let mut ids = ids;
            ids.sort();
            ids
        };
        assert_eq!(
            found(
                sessions
                    .open_sessions_signed_in_by("pocketid", Some("alice-sub"), None)
                    .await
                    .expect("read")
            ),
            vec![browsers[0].id],
            "the ended session is not listed, nor the other provider's"
        );
        assert_eq!(
            sessions
                .open_sessions_signed_in_by("pocketid", None, Some("s1"))
                .await
                .expect("read"),
            vec![browsers[0].id]
        );
        assert_eq!(
            sessions
                .open_sessions_signed_in_by("pocketid", Some("alice-sub"), Some("s2"))
                .await
                .expect("read"),
            Vec::<ulid::Ulid>::new()
        );
        assert_eq!(
            sessions
                .open_sessions_signed_in_by("pocketid", Some("bob-sub"), Some("s1"))
                .await
                .expect("read"),
            Vec::<ulid::Ulid>::new()
        );
        assert_eq!(
            sessions
                .open_sessions_signed_in_by("pocketid", None, None)
                .await
                .expect("read"),
            Vec::<ulid::Ulid>::new()
        );
    }
);
