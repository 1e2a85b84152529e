//! The email verification codes and the registrations waiting for one.

use chrono::TimeDelta;
use portcullis_storage::NewUserRegistration;

use crate::{
    fixtures::{add_user, start},
    support::{commit, race, repo, table_as_text},
};

const CODE: &str = "123456";

fn ttl() -> TimeDelta {
    TimeDelta::minutes(5)
}

backend_test!(
    async fn a_code_completes_once_and_only_when_right(db: Database) {
        let mut tx = repo(&db).await;
        let auth = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, None, start(), ttl())
            .await
            .expect("added");
        assert_eq!(auth.expires_at, start() + ttl());
        assert_eq!(auth.attempts, 0);
        assert!(auth.is_pending(start(), 5));

        let wrong = tx
            .user_email_authentications()
            .complete(auth.id, "654321", 5, start())
            .await
            .expect("ok");
        assert_eq!(wrong, None);
        let right = tx
            .user_email_authentications()
            .complete(auth.id, CODE, 5, start())
            .await
            .expect("ok")
            .expect("the right code completes");
        assert_eq!(right.completed_at, Some(start()));
        let again = tx
            .user_email_authentications()
            .complete(auth.id, CODE, 5, start())
            .await
            .expect("ok");
        assert_eq!(again, None, "a code is accepted once");
        let found = tx
            .user_email_authentications()
            .find(auth.id)
            .await
            .expect("ok")
            .expect("found");
        assert_eq!(found, right);
        commit(tx).await;

        let rows = table_as_text(&db, "user_email_authentications").await;
        assert!(rows.iter().all(|row| !row.contains(CODE)), "{rows:?}");
    }
);

backend_test!(
    async fn an_expired_code_or_too_many_attempts_are_refused(db: Database) {
        let mut tx = repo(&db).await;
        let auth = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, None, start(), ttl())
            .await
            .expect("added");
        let late = tx
            .user_email_authentications()
            .complete(auth.id, CODE, 5, start() + ttl())
            .await
            .expect("ok");
        assert_eq!(late, None);

        for expected in 1..=3 {
            let attempts = tx
                .user_email_authentications()
                .record_attempt(auth.id, start())
                .await
                .expect("ok");
            assert_eq!(attempts, Some(expected));
        }
        let over = tx
            .user_email_authentications()
            .complete(auth.id, CODE, 2, start())
            .await
            .expect("ok");
        assert_eq!(over, None);
        let within = tx
            .user_email_authentications()
            .complete(auth.id, CODE, 3, start())
            .await
            .expect("ok");
        assert!(within.is_some());
        let unknown = tx
            .user_email_authentications()
            .record_attempt(ulid::Ulid::new(), start())
            .await
            .expect("ok");
        assert_eq!(unknown, None);
    }
);

backend_test!(
    async fn a_code_for_an_account_remembers_its_user(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let auth = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, Some(user.id), start(), ttl())
            .await
            .expect("added");
        assert_eq!(auth.user_id, Some(user.id));
        commit(tx).await;
    }
);

backend_test!(
    async fn racing_submissions_of_the_right_code_complete_once(db: Database) {
        let mut tx = repo(&db).await;
        let auth = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, None, start(), ttl())
            .await
            .expect("added");
        commit(tx).await;
        let winners = race(&db, 4, move |db, _| async move {
            let mut tx = repo(&db).await;
            let won = tx
                .user_email_authentications()
                .complete(auth.id, CODE, 5, start())
                .await
                .expect("ok")
                .is_some();
            commit(tx).await;
            won
        })
        .await;
        assert_eq!(winners, 1);
    }
);

backend_test!(
    async fn a_registration_is_stored_and_completed_once(db: Database) {
        let mut tx = repo(&db).await;
        let auth = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, None, start(), ttl())
            .await
            .expect("added");
        let token = tx
            .registration_tokens()
            .add("reg-token", Some(1), None, start())
            .await
            .expect("token");
        let registration = tx
            .user_registrations()
            .add(
                NewUserRegistration {
                    username: "alice",
                    hashed_password: "$argon2id$hash",
                    password_version: 2,
                    display_name: Some("Alice"),
                    email: "alice@example.org",
                    registration_token_id: Some(token.id),
                    continuation: Some("kind=continue_authorization_grant&id=x"),
                    email_authentication_id: auth.id,
                },
                start(),
            )
            .await
            .expect("added");
        assert_eq!(registration.username, "alice");
        assert_eq!(registration.password_version, 2);
        assert_eq!(registration.registration_token_id, Some(token.id));
        assert!(!format!("{registration:?}").contains("argon2"));
        let found = tx
            .user_registrations()
            .find(registration.id)
            .await
            .expect("ok")
            .expect("found");
        assert_eq!(found, registration);

        let resent = tx
            .user_email_authentications()
            .add("alice@example.org", "999999", None, start(), ttl())
            .await
            .expect("added");
        let moved = tx
            .user_registrations()
            .set_email_authentication(registration.id, resent.id)
            .await
            .expect("ok")
            .expect("pending");
        assert_eq!(moved.email_authentication_id, resent.id);

        let used = tx
            .registration_tokens()
            .consume_by_id(token.id, start())
            .await
            .expect("ok");
        assert_eq!(used.expect("usable").times_used, 1);
        let used_up = tx
            .registration_tokens()
            .consume_by_id(token.id, start())
            .await
            .expect("ok");
        assert_eq!(used_up, None);

        let done = tx
            .user_registrations()
            .complete(registration.id, start())
            .await
            .expect("ok")
            .expect("completes");
        assert_eq!(done.completed_at, Some(start()));
        let twice = tx
            .user_registrations()
            .complete(registration.id, start())
            .await
            .expect("ok");
        assert_eq!(twice, None);
        commit(tx).await;
    }
);

backend_test!(
    async fn expired_codes_go_with_the_registrations_waiting_on_them(db: Database) {
        let mut tx = repo(&db).await;
        let old = tx
            .user_email_authentications()
            .add("alice@example.org", CODE, None, start(), ttl())
            .await
            .expect("added");
        let registration = tx
            .user_registrations()
            .add(
                NewUserRegistration {
                    username: "alice",
                    hashed_password: "$argon2id$hash",
                    password_version: 2,
                    display_name: None,
                    email: "alice@example.org",
                    registration_token_id: None,
                    continuation: None,
                    email_authentication_id: old.id,
                },
                start(),
            )
            .await
            .expect("registration added");
        let later = start() + TimeDelta::hours(1);
        let recent = tx
            .user_email_authentications()
            .add("bob@example.org", CODE, None, later, ttl())
            .await
            .expect("added");

        let deleted = tx
            .user_email_authentications()
            .delete_expired_before(later)
            .await
            .expect("ok");

        assert_eq!(deleted, 1);
        let codes = tx.user_email_authentications();
        assert!(codes.find(old.id).await.expect("ok").is_none());
        assert!(codes.find(recent.id).await.expect("ok").is_some());
        let waiting = tx
            .user_registrations()
            .find(registration.id)
            .await
            .expect("ok");
        assert!(waiting.is_none(), "the registration went with its code");
        commit(tx).await;
    }
);
