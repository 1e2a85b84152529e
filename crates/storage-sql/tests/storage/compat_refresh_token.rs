//! The compatibility refresh tokens: single use, and revocation.

use chrono::TimeDelta;
use portcullis_model::{CompatAccessToken, CompatRefreshToken, CompatSession, token::hash_token};
use portcullis_storage::{BoxRepository, StorageError};

use crate::{
    compat_session::add_compat_session,
    fixtures::{start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const TOKEN: &str = "mcr_Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0_1a2B3c";

/// An access token `mct_<suffix>` and the refresh token `mcr_<suffix>` issued with it.
async fn issue_pair(
    tx: &mut BoxRepository,
    session: &CompatSession,
    suffix: &str,
) -> (CompatAccessToken, CompatRefreshToken) {
    let access = tx
        .compat_access_tokens()
        .add(session, &format!("mct_{suffix}"), None, start())
        .await
        .expect("stored");
    let refresh = tx
        .compat_refresh_tokens()
        .add(session, &format!("mcr_{suffix}"), &access, start())
        .await
        .expect("stored");
    (access, refresh)
}

backend_test!(
    async fn a_compat_refresh_token_is_found_by_value_but_stored_as_hash(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let access = tx
            .compat_access_tokens()
            .add(&session, "mct_access", None, start())
            .await
            .expect("stored");
        let token = tx
            .compat_refresh_tokens()
            .add(&session, TOKEN, &access, start())
            .await
            .expect("stored");
        commit(tx).await;

        let rows = table_as_text(&db, "compat_refresh_tokens").await;
        let mut tx = repo(&db).await;
        let by_token = tx
            .compat_refresh_tokens()
            .find_by_token(TOKEN)
            .await
            .expect("lookup works");
        let by_id = tx
            .compat_refresh_tokens()
            .find(token.id)
            .await
            .expect("lookup works");
        let unknown = tx
            .compat_refresh_tokens()
            .find_by_token("mcr_unknown")
            .await
            .expect("lookup works");

        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains(TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert!(rows[0].contains(&hash_token(TOKEN)), "{}", rows[0]);
        assert!(token.is_valid());
        assert_eq!(token.session_id, session.id);
        assert_eq!(token.access_token_id, access.id);
        assert_eq!(token.created_at, start());
        assert_eq!(by_token.as_ref(), Some(&token));
        assert_eq!(by_id, Some(token));
        assert_eq!(unknown, None);
    }
);

backend_test!(
    async fn the_same_compat_refresh_token_cannot_be_issued_twice(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let (access, _) = issue_pair(&mut tx, &session, "1").await;

        let again = tx
            .compat_refresh_tokens()
            .add(&session, "mcr_1", &access, start())
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn a_valid_compat_refresh_token_is_consumed_once(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let (_, token) = issue_pair(&mut tx, &session, "1").await;
        let refreshed_at = start() + TimeDelta::minutes(5);

        let consumed = tx
            .compat_refresh_tokens()
            .consume(token.id, refreshed_at)
            .await
            .expect("ok");
        let replay = tx
            .compat_refresh_tokens()
            .consume(token.id, refreshed_at + TimeDelta::minutes(1))
            .await
            .expect("ok");
        let found = tx
            .compat_refresh_tokens()
            .find_by_token("mcr_1")
            .await
            .expect("lookup works");

        let consumed = consumed.expect("the token was valid");
        assert_eq!(consumed.id, token.id);
        assert_eq!(consumed.consumed_at, Some(refreshed_at));
        assert!(!consumed.is_valid());
        assert_eq!(replay, None);
        assert_eq!(found, Some(consumed));
    }
);

backend_test!(
    async fn a_revoked_compat_refresh_token_cannot_be_consumed(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let (_, token) = issue_pair(&mut tx, &session, "1").await;

        let revoked = tx
            .compat_refresh_tokens()
            .revoke(token.id, start())
            .await
            .expect("ok");
        let again = tx
            .compat_refresh_tokens()
            .revoke(token.id, start() + TimeDelta::hours(1))
            .await
            .expect("ok");
        let consumed = tx
            .compat_refresh_tokens()
            .consume(token.id, start())
            .await
            .expect("ok");

        let revoked = revoked.expect("the token exists");
        assert_eq!(revoked.revoked_at, Some(start()));
        assert!(!revoked.is_valid());
        assert_eq!(again.expect("the token exists").revoked_at, Some(start()));
        assert_eq!(consumed, None);
    }
);

backend_test!(
    async fn an_unknown_compat_refresh_token_is_refused(db: Database) {
        let mut tx = repo(&db).await;
        let unknown = portcullis_model::Ulid::new();

        let consumed = tx
            .compat_refresh_tokens()
            .consume(unknown, start())
            .await
            .expect("ok");
        let revoked = tx
            .compat_refresh_tokens()
            .revoke(unknown, start())
            .await
            .expect("ok");

        assert_eq!(consumed, None);
        assert_eq!(revoked, None);
    }
);

backend_test!(
    async fn twenty_concurrent_compat_refreshes_with_one_token_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let mut tx = repo(&db).await;
            let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
            let (_, token) = issue_pair(&mut tx, &session, &round.to_string()).await;
            commit(tx).await;

            let (raced, raced_session) = (token.id, session.clone());
            let winners = race(&db, 20, move |db, index| {
                let session = raced_session.clone();
                async move {
                    // Each contender issues its successors, then tries to consume: only the
                    // winner's successors may survive.
                    let mut tx = repo(&db).await;
                    issue_pair(&mut tx, &session, &format!("{round}-next-{index}")).await;
                    let won = tx
                        .compat_refresh_tokens()
                        .consume(raced, start())
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
                .compat_refresh_tokens()
                .find(token.id)
                .await
                .expect("lookup works")
                .expect("the token exists");
            assert_eq!(consumed.consumed_at, Some(start()), "round {round}");
            let mut survivors = 0;
            for index in 0..20 {
                let successor = tx
                    .compat_refresh_tokens()
                    .find_by_token(&format!("mcr_{round}-next-{index}"))
                    .await
                    .expect("lookup works");
                survivors += usize::from(successor.is_some());
            }
            assert_eq!(
                survivors, 1,
                "round {round}: only the winner's successor exists"
            );
        }
    }
);
