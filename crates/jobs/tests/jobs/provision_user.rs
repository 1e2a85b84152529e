//! `provision-user` against an in-memory homeserver, over a real SQLite database.

use crate::common::{World, world};
use chrono::TimeDelta;
use portcullis_model::{Clock as _, JobStatus, User};
use portcullis_services::jobs::provision_user::ProvisionUser;

impl World {
    /// Creates `username` with `emails` and queues its provisioning, as registration does.
    async fn register(&self, username: &str, emails: &[&str], display_name: Option<&str>) -> User {
        let now = self.clock.now();
        let mut repo = self
            .database
            .transaction()
            .await
            .expect("the test set-up works");
        let user = repo
            .users()
            .add(username, now)
            .await
            .expect("the test set-up works");
        for email in emails {
            repo.user_emails()
                .add(&user, email, now)
                .await
                .expect("the test set-up works");
        }
        ProvisionUser::new(user.id)
            .with_display_name(display_name.map(str::to_owned))
            .schedule(&mut *repo, now)
            .await
            .expect("the test set-up works");
        repo.commit().await.expect("the test set-up works");
        user
    }
}

#[tokio::test]
async fn the_user_appears_on_the_homeserver_with_profile_and_addresses() {
    let world = world().await;
    world
        .register("alice", &["alice@example.com"], Some("Alice Liddell"))
        .await;

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);

    let alice = world.homeserver.user("alice").expect("provisioned");
    assert_eq!(alice.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(alice.emails, vec!["alice@example.com".to_owned()]);
    assert!(!alice.locked);
}

#[tokio::test]
async fn a_homeserver_that_is_down_gets_the_user_once_it_is_back() {
    let world = world().await;
    world.register("bob", &[], None).await;
    world.homeserver.set_down(true);

    assert_eq!(world.run_due().await, vec![JobStatus::Available]);
    assert!(world.homeserver.user("bob").is_none());

    world.homeserver.set_down(false);
    // Nothing is due before the back-off has passed.
    assert_eq!(world.run_due().await, vec![]);
    world.clock.advance(TimeDelta::hours(1));
    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
    assert!(world.homeserver.user("bob").is_some());
}

#[tokio::test]
async fn a_locked_user_is_provisioned_locked() {
    let world = world().await;
    let carol = world.register("carol", &[], None).await;
    let mut repo = world
        .database
        .transaction()
        .await
        .expect("the test set-up works");
    repo.users()
        .lock(carol, world.clock.now())
        .await
        .expect("the test set-up works");
    repo.commit().await.expect("the test set-up works");

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
    assert!(world.homeserver.user("carol").expect("provisioned").locked);
}

#[tokio::test]
async fn a_job_for_a_user_deleted_since_completes_without_a_call() {
    let world = world().await;
    let mut repo = world
        .database
        .transaction()
        .await
        .expect("the test set-up works");
    ProvisionUser::new(ulid::Ulid::new())
        .schedule(&mut *repo, world.clock.now())
        .await
        .expect("the test set-up works");
    repo.commit().await.expect("the test set-up works");
    world.homeserver.set_down(true);

    assert_eq!(world.run_due().await, vec![JobStatus::Completed]);
}
