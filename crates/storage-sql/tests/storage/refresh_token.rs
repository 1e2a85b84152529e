//! The refresh tokens: rotation, and revocation of a session's whole family of tokens.

use chrono::TimeDelta;
use portcullis_model::{OAuthSession, RefreshTokenState, token::hash_token};

use crate::{
    fixtures::{add_session, start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const TOKEN: &str = "mar_Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0_1a2B3c";

backend_test!(
    async fn a_refresh_token_is_found_by_value_but_stored_as_hash(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let access = tx
            .oauth_access_tokens()
            .add(&session, "mat_access", None, start())
            .await
            .expect("stored");
        let token = tx
            .oauth_refresh_tokens()
            .add(&session, TOKEN, Some(&access), start())
            .await
            .expect("stored");
        commit(tx).await;

        let rows = table_as_text(&db, "oauth2_refresh_tokens").await;
        let mut tx = repo(&db).await;
        let found = tx
            .oauth_refresh_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");

        assert!(
            !rows[0].contains(TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert_eq!(token.token_hash, hash_token(TOKEN));
        assert_eq!(token.state, RefreshTokenState::Valid);
        assert_eq!(token.session_id, session.id);
        assert_eq!(token.access_token_id, Some(access.id));
        assert_eq!(found, Some(token));
    }
);

backend_test!(
    async fn a_valid_refresh_token_is_consumed_once_and_points_at_its_successor(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let old = tx
            .oauth_refresh_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        let refreshed_at = start() + TimeDelta::minutes(5);
        let next = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_next", None, refreshed_at)
            .await
            .expect("stored");

        let consumed = tx
            .oauth_refresh_tokens()
            .consume(TOKEN, next.id, refreshed_at)
            .await
            .expect("ok");
        let replay = tx
            .oauth_refresh_tokens()
            .consume(TOKEN, next.id, refreshed_at)
            .await
            .expect("ok");

        let consumed = consumed.expect("the token was valid");
        assert_eq!(consumed.id, old.id);
        assert_eq!(
            consumed.state,
            RefreshTokenState::Consumed {
                consumed_at: refreshed_at,
                next_refresh_token_id: Some(next.id),
            }
        );
        assert_eq!(replay, None);
    }
);

backend_test!(
    async fn a_revoked_refresh_token_cannot_be_consumed(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let token = tx
            .oauth_refresh_tokens()
            .add(&session, TOKEN, None, start())
            .await
            .expect("stored");
        let next = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_next", None, start())
            .await
            .expect("stored");

        let revoked = tx
            .oauth_refresh_tokens()
            .revoke(token.id, start())
            .await
            .expect("ok");
        let again = tx
            .oauth_refresh_tokens()
            .revoke(token.id, start() + TimeDelta::hours(1))
            .await
            .expect("ok");
        let consumed = tx
            .oauth_refresh_tokens()
            .consume(TOKEN, next.id, start())
            .await
            .expect("ok");

        let revoked_state = RefreshTokenState::Revoked {
            revoked_at: start(),
        };
        assert_eq!(revoked.expect("the token exists").state, revoked_state);
        assert_eq!(again.expect("the token exists").state, revoked_state);
        assert_eq!(consumed, None);
    }
);

backend_test!(
    async fn an_unknown_refresh_token_is_refused(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, None).await;
        let next = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_next", None, start())
            .await
            .expect("stored");

        let consumed = tx
            .oauth_refresh_tokens()
            .consume("mar_unknown", next.id, start())
            .await
            .expect("ok");

        assert_eq!(consumed, None);
    }
);

async fn issue_pair(
    tx: &mut portcullis_storage::BoxRepository,
    session: &OAuthSession,
    suffix: &str,
) -> (
    portcullis_model::AccessToken,
    portcullis_model::RefreshToken,
) {
    let access = tx
        .oauth_access_tokens()
        .add(session, &format!("mat_{suffix}"), None, start())
        .await
        .expect("stored");
    let refresh = tx
        .oauth_refresh_tokens()
        .add(session, &format!("mar_{suffix}"), Some(&access), start())
        .await
        .expect("stored");
    (access, refresh)
}

backend_test!(
    async fn revoking_a_sessions_tokens_revokes_all_of_them_and_no_others(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let other = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let (_, first) = issue_pair(&mut tx, &session, "1").await;
        let (second_access, second) = issue_pair(&mut tx, &session, "2").await;
        tx.oauth_refresh_tokens()
            .consume("mar_1", second.id, start())
            .await
            .expect("ok")
            .expect("the first token was valid");
        let (other_access, other_refresh) = issue_pair(&mut tx, &other, "other").await;
        let revoked_at = start() + TimeDelta::minutes(10);

        let revoked = tx
            .oauth_refresh_tokens()
            .revoke_all_for_session(&session, revoked_at)
            .await
            .expect("revoked");

        // Two refresh tokens (one consumed, one valid) and two access tokens.
        assert_eq!(revoked, 4);
        for id in [first.id, second.id] {
            let token = tx
                .oauth_refresh_tokens()
                .find(id)
                .await
                .expect("lookup works")
                .expect("the token exists");
            assert_eq!(token.state, RefreshTokenState::Revoked { revoked_at });
        }
        let access = tx
            .oauth_access_tokens()
            .find(second_access.id)
            .await
            .expect("lookup works")
            .expect("the token exists");
        assert_eq!(access.revoked_at, Some(revoked_at));
        let untouched_access = tx
            .oauth_access_tokens()
            .find(other_access.id)
            .await
            .expect("lookup works");
        let untouched_refresh = tx
            .oauth_refresh_tokens()
            .find(other_refresh.id)
            .await
            .expect("lookup works");
        assert_eq!(untouched_access, Some(other_access));
        assert_eq!(untouched_refresh, Some(other_refresh));
    }
);

backend_test!(
    async fn twenty_concurrent_refreshes_with_one_token_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let token = format!("{TOKEN}-{round}");
            let mut tx = repo(&db).await;
            let session = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
            tx.oauth_refresh_tokens()
                .add(&session, &token, None, start())
                .await
                .expect("stored");
            commit(tx).await;

            let (raced, raced_session) = (token.clone(), session.clone());
            let winners = race(&db, 20, move |db, index| {
                let (token, session) = (raced.clone(), raced_session.clone());
                async move {
                    // Each contender issues its successor, then tries to consume: only the
                    // winner's successor may survive.
                    let mut tx = repo(&db).await;
                    let next = tx
                        .oauth_refresh_tokens()
                        .add(&session, &format!("{token}-next-{index}"), None, start())
                        .await
                        .expect("stored");
                    let won = tx
                        .oauth_refresh_tokens()
                        .consume(&token, next.id, start())
                        .await
                        .expect("ok");
                    if won.is_some() {
                        commit(tx).await;
                        true
                    } else {
                        tx.rollback().await.expect("the transaction rolls back");
                        false
                    }
                }
            })
            .await;

            assert_eq!(winners, 1, "round {round}");
            let mut tx = repo(&db).await;
            let consumed = tx
                .oauth_refresh_tokens()
                .find_by_token(&token)
                .await
                .expect("lookup works")
                .expect("the token exists");
            let RefreshTokenState::Consumed {
                next_refresh_token_id: Some(next),
                ..
            } = consumed.state
            else {
                panic!("round {round}: the token is {:?}", consumed.state);
            };
            assert!(
                tx.oauth_refresh_tokens()
                    .find(next)
                    .await
                    .expect("lookup works")
                    .is_some(),
                "round {round}: the winner's successor exists"
            );
        }
    }
);
