//! The login tokens operators issue for bots: found by their token, redeemed once before they
//! expire, by one of many racing logins, and only their hash stored.

use chrono::TimeDelta;

use crate::{
    compat_session::add_compat_session,
    fixtures::{start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const TOKEN: &str = "mlt_a_login_token_for_a_bot";

backend_test!(
    async fn a_token_is_found_redeemed_once_and_stored_as_its_hash(db: Database) {
        let world = world(&db).await;
        let expires = start() + TimeDelta::minutes(10);
        let mut tx = repo(&db).await;
        let token = tx
            .compat_login_tokens()
            .add(&world.user, TOKEN, Some("BOTDEVICE"), expires, start())
            .await
            .expect("stored");
        assert_eq!(token.user_id, world.user.id);
        assert_eq!(token.device_id.as_deref(), Some("BOTDEVICE"));
        assert_eq!((token.created_at, token.expires_at), (start(), expires));
        assert!(token.is_usable(start()));
        assert!(!token.is_usable(expires));
        let session = add_compat_session(&mut tx, &world.user, "BOTDEVICE").await;
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert_eq!(
            tx.compat_login_tokens().find(token.id).await.expect("read"),
            Some(token.clone())
        );
        assert_eq!(
            tx.compat_login_tokens()
                .find_by_token(TOKEN)
                .await
                .expect("read"),
            Some(token.clone())
        );
        assert_eq!(
            tx.compat_login_tokens()
                .find_by_token("another")
                .await
                .expect("read"),
            None
        );
        let later = start() + TimeDelta::minutes(1);
        let consumed = tx
            .compat_login_tokens()
            .consume(token.id, session.id, later)
            .await
            .expect("tried")
            .expect("redeemed");
        assert_eq!(consumed.consumed_at, Some(later));
        assert_eq!(consumed.compat_session_id, Some(session.id));
        assert_eq!(
            tx.compat_login_tokens()
                .consume(token.id, session.id, later)
                .await
                .expect("tried"),
            None,
            "once"
        );
        commit(tx).await;
        let stored = table_as_text(&db, "compat_login_tokens").await;
        assert!(
            stored.iter().all(|value| !value.contains(TOKEN)),
            "{stored:?}"
        );
    }
);

backend_test!(
    async fn an_expired_token_is_not_redeemed_and_is_cleaned_up(db: Database) {
        let world = world(&db).await;
        let expires = start() + TimeDelta::minutes(10);
        let mut tx = repo(&db).await;
        let token = tx
            .compat_login_tokens()
            .add(&world.user, TOKEN, None, expires, start())
            .await
            .expect("stored");
        let session = add_compat_session(&mut tx, &world.user, "LATE").await;
        assert_eq!(
            tx.compat_login_tokens()
                .consume(token.id, session.id, expires)
                .await
                .expect("tried"),
            None
        );
        assert_eq!(
            tx.compat_login_tokens()
                .delete_expired_before(expires)
                .await
                .expect("deleted"),
            0,
            "not expired before its instant"
        );
        assert_eq!(
            tx.compat_login_tokens()
                .delete_expired_before(expires + TimeDelta::seconds(1))
                .await
                .expect("deleted"),
            1
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn twenty_concurrent_redemptions_of_one_login_token_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let mut tx = repo(&db).await;
            let token = tx
                .compat_login_tokens()
                .add(
                    &world.user,
                    &format!("{TOKEN}-{round}"),
                    None,
                    start() + TimeDelta::minutes(10),
                    start(),
                )
                .await
                .expect("stored");
            commit(tx).await;

            let user = world.user.clone();
            let winners = race(&db, 20, move |db, index| {
                let user = user.clone();
                async move {
                    let mut tx = repo(&db).await;
                    let session =
                        add_compat_session(&mut tx, &user, &format!("T{round}D{index}")).await;
                    let won = tx
                        .compat_login_tokens()
                        .consume(token.id, session.id, start())
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
        }
    }
);
