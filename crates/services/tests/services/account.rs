//! Account changes, and the homeserver jobs that go with them.

use portcullis_model::Job;
use portcullis_services::{
    account::{self, AddedEmail, CreateAccountError, HashedPassword, NewAccount, TokenUse},
    jobs::{deactivate_user, provision_user, reactivate_user},
};

use crate::common::{add_user, start, world};

/// The kinds of `jobs`, sorted (jobs queued at the same instant come in any order).
fn kinds(jobs: &[Job]) -> Vec<&str> {
    let mut kinds: Vec<&str> = jobs.iter().map(|job| job.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds
}

fn password() -> HashedPassword {
    HashedPassword {
        version: 1,
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
    }
}

#[tokio::test]
async fn a_new_account_gets_everything_at_once_and_is_provisioned() {
    let world = world().await;
    let mut tx = world.tx().await;
    tx.registration_tokens()
        .add("invite", Some(1), None, start())
        .await
        .expect("storage works");
    let emails = ["alice@example.com".to_owned()];
    let user = account::create_user(
        &mut *tx,
        &NewAccount {
            username: "alice",
            password: Some(password()),
            emails: &emails,
            display_name: Some("Alice".to_owned()),
            can_request_admin: true,
            registration_token: Some(TokenUse::Value("invite")),
        },
        start(),
    )
    .await
    .expect("created");
    tx.commit().await.expect("storage works");
    assert!(user.can_request_admin);

    let mut tx = world.tx().await;
    assert!(
        tx.user_passwords()
            .active(&user)
            .await
            .expect("storage works")
            .is_some()
    );
    assert_eq!(
        tx.user_emails()
            .list_for_user(&user)
            .await
            .expect("storage works")
            .len(),
        1
    );
    // The token is used up: a second account cannot spend it.
    let again = account::create_user(
        &mut *tx,
        &NewAccount {
            username: "bob",
            registration_token: Some(TokenUse::Value("invite")),
            ..NewAccount::default()
        },
        start(),
    )
    .await;
    assert!(
        matches!(again, Err(CreateAccountError::TokenNotValid)),
        "{again:?}"
    );
    tx.rollback().await.expect("storage works");

    let jobs = world.take_jobs().await;
    assert_eq!(kinds(&jobs), [provision_user::KIND]);
    assert_eq!(jobs[0].payload["set_display_name"], "Alice");
}

#[tokio::test]
async fn a_taken_name_or_address_creates_nothing() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    account::add_email(&mut *tx, &alice, "alice@example.com", start())
        .await
        .expect("storage works");
    tx.commit().await.expect("storage works");
    world.take_jobs().await;

    let mut tx = world.tx().await;
    let taken = account::create_user(
        &mut *tx,
        &NewAccount {
            username: "alice",
            ..NewAccount::default()
        },
        start(),
    )
    .await;
    assert!(matches!(taken, Err(CreateAccountError::UsernameTaken)));
    tx.rollback().await.expect("storage works");

    let mut tx = world.tx().await;
    let emails = ["alice@example.com".to_owned()];
    let in_use = account::create_user(
        &mut *tx,
        &NewAccount {
            username: "mallory",
            emails: &emails,
            ..NewAccount::default()
        },
        start(),
    )
    .await;
    assert!(
        matches!(&in_use, Err(CreateAccountError::EmailTaken(email)) if email == "alice@example.com"),
        "{in_use:?}"
    );
    tx.rollback().await.expect("storage works");
    assert!(world.take_jobs().await.is_empty());
}

#[tokio::test]
async fn lock_unlock_deactivate_and_reactivate_queue_what_the_homeserver_needs() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let user = account::lock_user(&mut *tx, user, start())
        .await
        .expect("storage works");
    assert!(user.locked_at.is_some());
    let user = account::unlock_user(&mut *tx, user, start())
        .await
        .expect("storage works");
    assert!(user.locked_at.is_none());
    // Unlocking a user who is not locked queues nothing.
    let user = account::unlock_user(&mut *tx, user, start())
        .await
        .expect("storage works");
    assert!(
        !account::reactivate_user(&mut *tx, &user, start())
            .await
            .expect("storage works")
    );
    let user = account::deactivate_user(&mut *tx, user, true, start())
        .await
        .expect("storage works");
    assert!(user.deactivated_at.is_some());
    // Deactivating again queues nothing more.
    let user = account::deactivate_user(&mut *tx, user, true, start())
        .await
        .expect("storage works");
    assert!(
        account::reactivate_user(&mut *tx, &user, start())
            .await
            .expect("storage works")
    );
    tx.commit().await.expect("storage works");

    let jobs = world.take_jobs().await;
    assert_eq!(
        kinds(&jobs),
        [
            deactivate_user::KIND,
            provision_user::KIND,
            provision_user::KIND,
            reactivate_user::KIND
        ]
    );
    let deactivation = jobs
        .iter()
        .find(|job| job.kind == deactivate_user::KIND)
        .expect("present");
    assert_eq!(deactivation.payload["hs_erase"], true);
}

#[tokio::test]
async fn addresses_are_added_once_removed_by_their_owner_only_and_pushed_to_the_homeserver() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    let bob = add_user(&mut tx, "bob").await;
    let AddedEmail::Added(email) = account::add_email(&mut *tx, &alice, "a@example.com", start())
        .await
        .expect("storage works")
    else {
        panic!("added");
    };
    assert!(matches!(
        account::add_email(&mut *tx, &alice, "a@example.com", start())
            .await
            .expect("storage works"),
        AddedEmail::AlreadyTheirs(_)
    ));
    assert_eq!(
        account::add_email(&mut *tx, &bob, "a@example.com", start())
            .await
            .expect("storage works"),
        AddedEmail::InUse { user_id: alice.id }
    );
    assert!(
        !account::remove_email(&mut *tx, &bob, email.id, start())
            .await
            .expect("storage works"),
        "bob cannot remove alice's address"
    );
    assert!(
        account::remove_email(&mut *tx, &alice, email.id, start())
            .await
            .expect("storage works")
    );
    assert!(
        !account::remove_email(&mut *tx, &alice, email.id, start())
            .await
            .expect("storage works")
    );
    tx.commit().await.expect("storage works");
    assert_eq!(
        kinds(&world.take_jobs().await),
        [provision_user::KIND, provision_user::KIND],
        "one push for the addition, one for the removal"
    );
}
