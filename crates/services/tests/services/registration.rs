//! Registering: the account of a form without an address at once, or, with one, after its code.

use portcullis_model::Localpart;
use portcullis_services::{
    account::HashedPassword,
    email_codes::{self, Refused},
    registration::{self, Checked, Circumstances, Conflict, Finished},
};

use crate::common::{add_user, start, world};

fn checked(username: &str, email: Option<&str>) -> Checked {
    Checked {
        localpart: Localpart::parse(username, "example.com").expect("a valid username"),
        display_name: Some("Alice".to_owned()),
        token: None,
        email: email.map(str::to_owned),
    }
}

fn circumstances() -> Circumstances<'static> {
    Circumstances {
        terms_uri: Some("https://example.com/tos"),
        user_agent: Some("Firefox"),
        now: start(),
        second_factor_first: false,
    }
}

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

#[tokio::test]
async fn a_form_without_an_address_makes_a_signed_in_account_with_the_terms_accepted() {
    let world = world().await;
    let mut tx = world.tx().await;
    let hashed = HashedPassword {
        version: 1,
        hash: HASH.to_owned(),
    };
    let (user, browser_session) =
        registration::register(&mut *tx, &checked("alice", None), hashed, circumstances())
            .await
            .expect("storage works")
            .expect("created");
    tx.commit().await.expect("storage works");

    assert_eq!(user.username, "alice");
    let browser_session = browser_session.expect("signed in: no second factor required");
    assert_eq!(browser_session.user_id, user.id);
    let mut tx = world.tx().await;
    let terms = tx
        .user_terms()
        .list_for_user(&user)
        .await
        .expect("storage works");
    assert_eq!(terms, [("https://example.com/tos".to_owned(), start())]);

    // A second form for the same name, checked before the first was made, makes nothing.
    let hashed = HashedPassword {
        version: 1,
        hash: HASH.to_owned(),
    };
    let again = registration::register(&mut *tx, &checked("alice", None), hashed, circumstances())
        .await
        .expect("storage works");
    assert_eq!(again.err(), Some(Conflict::UsernameTaken));
}

#[tokio::test]
async fn a_registration_waits_for_its_code_counts_wrong_ones_and_ends_once() {
    let world = world().await;
    let mut tx = world.tx().await;
    let mut rng = rand::rngs::OsRng;
    let (authentication, code) =
        email_codes::issue(&mut *tx, "alice@example.com", None, &mut rng, start())
            .await
            .expect("storage works");
    let pending = registration::start(
        &mut *tx,
        &checked("alice", Some("alice@example.com")),
        "alice@example.com",
        (1, HASH),
        authentication.id,
        Some("next=here"),
        start(),
    )
    .await
    .expect("storage works")
    .expect("no token to check");
    tx.commit().await.expect("storage works");

    let mut tx = world.tx().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = registration::finish(&mut *tx, &pending, wrong, circumstances())
        .await
        .expect("storage works");
    assert!(matches!(refused, Finished::Refused(Refused::Wrong)));
    tx.commit().await.expect("storage works");

    let mut tx = world.tx().await;
    let created = registration::finish(&mut *tx, &pending, &code, circumstances())
        .await
        .expect("storage works");
    let Finished::Created(user, _) = created else {
        panic!("the right code makes the account, not {created:?}");
    };
    tx.commit().await.expect("storage works");
    let mut tx = world.tx().await;
    let emails = tx
        .user_emails()
        .list_for_user(&user)
        .await
        .expect("storage works");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].email, "alice@example.com");

    // The same code again: the authentication is complete, nothing more is made.
    let again = registration::finish(&mut *tx, &pending, &code, circumstances())
        .await
        .expect("storage works");
    assert!(matches!(again, Finished::Refused(Refused::Expired)));
}

#[tokio::test]
async fn an_address_taken_while_the_code_travelled_makes_no_account() {
    let world = world().await;
    let mut tx = world.tx().await;
    let bob = add_user(&mut tx, "bob").await;
    let mut rng = rand::rngs::OsRng;
    let (authentication, code) =
        email_codes::issue(&mut *tx, "shared@example.com", None, &mut rng, start())
            .await
            .expect("storage works");
    let pending = registration::start(
        &mut *tx,
        &checked("alice", Some("shared@example.com")),
        "shared@example.com",
        (1, HASH),
        authentication.id,
        None,
        start(),
    )
    .await
    .expect("storage works")
    .expect("no token to check");
    tx.user_emails()
        .add(&bob, "shared@example.com", start())
        .await
        .expect("storage works");
    tx.commit().await.expect("storage works");

    let mut tx = world.tx().await;
    let finished = registration::finish(&mut *tx, &pending, &code, circumstances())
        .await
        .expect("storage works");
    assert!(matches!(finished, Finished::Conflict(Conflict::EmailTaken)));
}
