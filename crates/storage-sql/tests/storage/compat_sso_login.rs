//! The single sign-on logins of the Matrix login API: fulfilled once, exchanged once.

use chrono::TimeDelta;
use portcullis_model::{CompatSsoLoginState, Ulid, token::hash_token};
use portcullis_storage::StorageError;

use crate::{
    compat_session::add_compat_session,
    fixtures::{World, start, world},
    support::{ROUNDS, commit, race, repo, table_as_text},
};

const LOGIN_TOKEN: &str = "mcl_Xq3vN8pL2mK7rT5wY9zA1bC4dE6fG0_1a2B3c";
const REDIRECT_URI: &str = "https://app.example/sso?state=abc";

fn redirect_uri() -> url::Url {
    REDIRECT_URI.parse().expect("a URL")
}

/// A login with token `login_token`, fulfilled by the world's browser session, committed.
async fn fulfilled_login(
    db: &portcullis_storage_sql::Database,
    world: &World,
    login_token: &str,
) -> Ulid {
    let mut tx = repo(db).await;
    let login = tx
        .compat_sso_logins()
        .add(login_token, &redirect_uri(), start())
        .await
        .expect("the login is stored");
    tx.compat_sso_logins()
        .fulfill(login.id, world.browser_session.id, login_token, start())
        .await
        .expect("ok")
        .expect("the login is pending");
    commit(tx).await;
    login.id
}

backend_test!(
    async fn an_sso_login_is_found_by_its_token_but_only_its_hash_is_stored(db: Database) {
        let mut tx = repo(&db).await;
        let login = tx
            .compat_sso_logins()
            .add(LOGIN_TOKEN, &redirect_uri(), start())
            .await
            .expect("the login is stored");
        commit(tx).await;

        let rows = table_as_text(&db, "compat_sso_logins").await;
        let mut tx = repo(&db).await;
        let by_token = tx
            .compat_sso_logins()
            .find_by_token(LOGIN_TOKEN)
            .await
            .expect("lookup works");
        let by_id = tx
            .compat_sso_logins()
            .find(login.id)
            .await
            .expect("lookup works");
        let unknown = tx
            .compat_sso_logins()
            .find_by_token("mcl_unknown")
            .await
            .expect("lookup works");

        assert_eq!(rows.len(), 1);
        assert!(
            !rows[0].contains(LOGIN_TOKEN),
            "the clear token is stored: {}",
            rows[0]
        );
        assert!(rows[0].contains(&hash_token(LOGIN_TOKEN)), "{}", rows[0]);
        assert_eq!(login.redirect_uri.as_str(), REDIRECT_URI);
        assert_eq!(login.created_at, start());
        assert_eq!(login.state, CompatSsoLoginState::Pending);
        assert_eq!(by_token.as_ref(), Some(&login));
        assert_eq!(by_id, Some(login));
        assert_eq!(unknown, None);
    }
);

backend_test!(
    async fn the_same_login_token_cannot_be_issued_twice(db: Database) {
        let mut tx = repo(&db).await;
        tx.compat_sso_logins()
            .add(LOGIN_TOKEN, &redirect_uri(), start())
            .await
            .expect("stored");

        let again = tx
            .compat_sso_logins()
            .add(
                LOGIN_TOKEN,
                &"https://other.example/".parse().expect("a URL"),
                start(),
            )
            .await;

        assert!(matches!(again, Err(StorageError::Conflict(_))), "{again:?}");
    }
);

backend_test!(
    async fn an_sso_login_is_fulfilled_then_exchanged(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let login = tx
            .compat_sso_logins()
            .add(LOGIN_TOKEN, &redirect_uri(), start())
            .await
            .expect("stored");
        let fulfilled_at = start() + TimeDelta::seconds(30);
        let exchanged_at = start() + TimeDelta::seconds(35);

        let fulfilled = tx
            .compat_sso_logins()
            .fulfill(
                login.id,
                world.browser_session.id,
                LOGIN_TOKEN,
                fulfilled_at,
            )
            .await
            .expect("ok")
            .expect("the login is pending");
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;
        let exchanged = tx
            .compat_sso_logins()
            .exchange(login.id, session.id, exchanged_at)
            .await
            .expect("ok")
            .expect("the login is fulfilled");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .compat_sso_logins()
            .find_by_token(LOGIN_TOKEN)
            .await
            .expect("lookup works");
        assert_eq!(
            fulfilled.state,
            CompatSsoLoginState::Fulfilled {
                fulfilled_at,
                user_session_id: world.browser_session.id,
            }
        );
        assert_eq!(
            exchanged.state,
            CompatSsoLoginState::Exchanged {
                fulfilled_at,
                exchanged_at,
                user_session_id: world.browser_session.id,
                session_id: session.id,
            }
        );
        assert_eq!(found, Some(exchanged));
    }
);

backend_test!(
    async fn an_sso_login_is_fulfilled_once(db: Database) {
        let world = world(&db).await;
        let login_id = fulfilled_login(&db, &world, LOGIN_TOKEN).await;
        let mut tx = repo(&db).await;
        let other = crate::fixtures::add_browser_session(&mut tx, &world.user).await;

        let again = tx
            .compat_sso_logins()
            .fulfill(
                login_id,
                other.id,
                "mcl_another_token",
                start() + TimeDelta::minutes(1),
            )
            .await
            .expect("ok");
        let kept = tx
            .compat_sso_logins()
            .find(login_id)
            .await
            .expect("lookup works")
            .expect("the login exists");

        assert_eq!(again, None);
        assert_eq!(kept.state.user_session_id(), Some(world.browser_session.id));
    }
);

backend_test!(
    async fn a_pending_sso_login_cannot_be_exchanged(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let login = tx
            .compat_sso_logins()
            .add(LOGIN_TOKEN, &redirect_uri(), start())
            .await
            .expect("stored");
        let session = add_compat_session(&mut tx, &world.user, "DEVICE").await;

        let exchanged = tx
            .compat_sso_logins()
            .exchange(login.id, session.id, start())
            .await
            .expect("ok");
        let unknown = tx
            .compat_sso_logins()
            .exchange(Ulid::new(), session.id, start())
            .await
            .expect("ok");

        assert_eq!(exchanged, None);
        assert_eq!(unknown, None);
    }
);

backend_test!(
    async fn an_exchanged_sso_login_cannot_be_exchanged_or_fulfilled_again(db: Database) {
        let world = world(&db).await;
        let login_id = fulfilled_login(&db, &world, LOGIN_TOKEN).await;
        let mut tx = repo(&db).await;
        let first = add_compat_session(&mut tx, &world.user, "FIRST").await;
        let second = add_compat_session(&mut tx, &world.user, "SECOND").await;
        tx.compat_sso_logins()
            .exchange(login_id, first.id, start())
            .await
            .expect("ok")
            .expect("the first exchange works");

        let again = tx
            .compat_sso_logins()
            .exchange(login_id, second.id, start() + TimeDelta::seconds(1))
            .await
            .expect("ok");
        let refulfilled = tx
            .compat_sso_logins()
            .fulfill(
                login_id,
                world.browser_session.id,
                "mcl_another_token",
                start(),
            )
            .await
            .expect("ok");
        let kept = tx
            .compat_sso_logins()
            .find(login_id)
            .await
            .expect("lookup works")
            .expect("the login exists");

        assert_eq!(again, None);
        assert_eq!(refulfilled, None);
        assert_eq!(kept.state.session_id(), Some(first.id));
    }
);

backend_test!(
    async fn twenty_concurrent_exchanges_of_one_login_token_have_one_winner(db: Database) {
        let world = world(&db).await;
        for round in 1..=ROUNDS {
            let login_id = fulfilled_login(&db, &world, &format!("{LOGIN_TOKEN}-{round}")).await;

            let user = world.user.clone();
            let winners = race(&db, 20, move |db, index| {
                let user = user.clone();
                async move {
                    // Each contender starts its session, then tries to exchange: only the
                    // winner's session may survive.
                    let mut tx = repo(&db).await;
                    let session =
                        add_compat_session(&mut tx, &user, &format!("R{round}D{index}")).await;
                    let won = tx
                        .compat_sso_logins()
                        .exchange(login_id, session.id, start())
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
            let login = tx
                .compat_sso_logins()
                .find(login_id)
                .await
                .expect("lookup works")
                .expect("the login exists");
            let session_id = login
                .state
                .session_id()
                .unwrap_or_else(|| panic!("round {round}: the login is {:?}", login.state));
            assert!(
                tx.compat_sessions()
                    .find(session_id)
                    .await
                    .expect("lookup works")
                    .is_some(),
                "round {round}: the winner's session exists"
            );
        }
    }
);

backend_test!(
    async fn fulfilling_a_login_gives_it_the_token_handed_out_and_retires_the_first(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let login = tx
            .compat_sso_logins()
            .add("mcl_never_shown", &redirect_uri(), start())
            .await
            .expect("stored");
        tx.compat_sso_logins()
            .fulfill(login.id, world.browser_session.id, LOGIN_TOKEN, start())
            .await
            .expect("ok")
            .expect("the login is pending");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let by_first = tx
            .compat_sso_logins()
            .find_by_token("mcl_never_shown")
            .await
            .expect("lookup works");
        let by_handed_out = tx
            .compat_sso_logins()
            .find_by_token(LOGIN_TOKEN)
            .await
            .expect("lookup works");
        commit(tx).await;

        assert_eq!(by_first, None);
        assert_eq!(by_handed_out.map(|found| found.id), Some(login.id));
    }
);
