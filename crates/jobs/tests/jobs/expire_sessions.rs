//! `expire-inactive-sessions`: sessions unused for longer than the time to live end, and the
//! homeserver loses their devices.

use std::sync::Arc;

use chrono::TimeDelta;
use portcullis_homeserver::{HomeserverConnection as _, ProvisionRequest};
use portcullis_jobs::{JobContext, expire_sessions};
use portcullis_model::{Clock as _, JobStatus};
use portcullis_services::sessions::InactivityExpiry;
use portcullis_storage::{NewCompatSession, SessionActivity, SessionRef};
use portcullis_worker::Worker;

use crate::common::{World, world};

/// A worker that only expires sessions, as configured by `expiry`.
fn expiring_worker(world: &World, expiry: InactivityExpiry) -> Worker {
    let context = JobContext {
        repositories: Arc::new(world.database.clone()),
        homeserver: world.homeserver.clone(),
        clock: Arc::new(world.clock.clone()),
        mailer: world.mailer.clone(),
    };
    expire_sessions::register(
        Worker::new(
            Arc::new(world.database.clone()),
            Arc::new(world.clock.clone()),
        ),
        &context,
        expiry,
    )
}

fn new_session(user: &portcullis_model::User, device: &str) -> NewCompatSession {
    NewCompatSession {
        user_id: user.id,
        device_id: device.to_owned(),
        human_name: None,
        user_session_id: None,
        is_synapse_admin: false,
        user_agent: None,
    }
}

#[tokio::test]
async fn sessions_unused_past_the_time_to_live_end_and_lose_their_devices() {
    let world = world().await;
    let hour = TimeDelta::hours(1);
    let started = world.clock.now();
    let mut repo = world.database.transaction().await.expect("transaction");
    let alice = repo.users().add("alice", started).await.expect("user");
    let idle = repo
        .compat_sessions()
        .add(&new_session(&alice, "IDLE"), started)
        .await
        .expect("session");
    let used = repo
        .compat_sessions()
        .add(&new_session(&alice, "USED"), started)
        .await
        .expect("session");
    let browser = repo
        .browser_sessions()
        .add(&alice, None, started)
        .await
        .expect("browser session");
    repo.commit().await.expect("commit");
    let homeserver = &world.homeserver;
    homeserver
        .provision_user(&ProvisionRequest::new("alice"))
        .await
        .expect("provisioned");
    for device in ["IDLE", "USED"] {
        homeserver
            .upsert_device("alice", device, None)
            .await
            .expect("device");
    }

    // Two hours on, one compatibility session was used half an hour ago.
    world.clock.advance(TimeDelta::hours(2));
    let mut repo = world.database.transaction().await.expect("transaction");
    repo.session_activity()
        .record(&[SessionActivity {
            session: SessionRef::Compat(used.id),
            at: world.clock.now() - TimeDelta::minutes(30),
            ip: None,
        }])
        .await
        .expect("activity");
    repo.commit().await.expect("commit");

    let expiry = InactivityExpiry {
        ttl: hour,
        compat: true,
        oauth: true,
        browser: false,
    };
    // The leader queues the job on its schedule; a worker runs it.
    let worker = expiring_worker(&world, expiry);
    assert_eq!(
        worker.upkeep().await.expect("upkeep").queued,
        [expire_sessions::KIND]
    );
    let ran = worker.run_once().await.expect("queue").expect("the job");
    assert_eq!(ran.status, JobStatus::Completed);

    let mut repo = world.database.transaction().await.expect("transaction");
    let find = |session: &portcullis_model::CompatSession| session.id;
    let idle = repo
        .compat_sessions()
        .find(find(&idle))
        .await
        .expect("read")
        .expect("kept");
    let used = repo
        .compat_sessions()
        .find(find(&used))
        .await
        .expect("read")
        .expect("kept");
    let browser = repo
        .browser_sessions()
        .find(browser.id)
        .await
        .expect("read")
        .expect("kept");
    repo.rollback().await.expect("rollback");
    assert!(!idle.is_active(), "unused for two hours: ended");
    assert!(used.is_active(), "used within the hour: kept");
    assert!(
        browser.is_active(),
        "browser sessions are not covered by this expiry"
    );

    // The homeserver is told to delete the ended session's device, and only that one.
    let statuses = world.run_due().await;
    assert!(
        statuses
            .iter()
            .all(|status| *status == JobStatus::Completed),
        "{statuses:?}"
    );
    assert_eq!(
        world
            .homeserver
            .devices("alice")
            .into_iter()
            .collect::<Vec<_>>(),
        ["USED"]
    );
}
