//! The recurring clean-up jobs, over a real SQLite database.

use std::sync::Arc;

use chrono::TimeDelta;
use portcullis_jobs::{
    JobContext,
    cleanup::{self, EMAIL_AUTHENTICATIONS, LOGIN_TOKENS, RECOVERY_TICKETS, UPSTREAM_SESSIONS},
};
use portcullis_model::Clock as _;

use crate::common::{World, world};

fn context(world: &World) -> JobContext {
    JobContext {
        repositories: Arc::new(world.database.clone()),
        homeserver: world.homeserver.clone(),
        clock: Arc::new(world.clock.clone()),
        mailer: world.mailer.clone(),
    }
}

/// Runs the clean-up job of `kind` once.
async fn clean(world: &World, kind: &str) -> u64 {
    cleanup::clean(&context(world), kind)
        .await
        .expect("the clean-up runs")
}

/// Adds, for alice, a recovery ticket and an email code created `days_ago` days ago, each
/// valid 10 minutes.
async fn add_both(world: &World, alice: &portcullis_model::User, days_ago: i64, secret: &str) {
    let created = world.clock.now() - TimeDelta::days(days_ago);
    let ttl = TimeDelta::minutes(10);
    let mut repo = world.database.transaction().await.expect("transaction");
    repo.user_recovery_tickets()
        .add(alice, "alice@example.org", secret, created, ttl)
        .await
        .expect("ticket added");
    repo.user_email_authentications()
        .add("alice@example.org", secret, Some(alice.id), created, ttl)
        .await
        .expect("code added");
    repo.compat_login_tokens()
        .add(alice, secret, None, created + ttl, created)
        .await
        .expect("login token added");
    repo.commit().await.expect("commit");
}

#[tokio::test]
async fn rows_expired_more_than_a_week_ago_are_deleted_and_the_others_kept() {
    let world = world().await;
    let mut repo = world.database.transaction().await.expect("transaction");
    let alice = repo
        .users()
        .add("alice", world.clock.now())
        .await
        .expect("user added");
    repo.commit().await.expect("commit");
    add_both(&world, &alice, 8, "old-secret").await;
    add_both(&world, &alice, 6, "recent-secret").await;
    add_both(&world, &alice, 0, "current-secret").await;

    assert_eq!(clean(&world, RECOVERY_TICKETS).await, 1);
    assert_eq!(clean(&world, EMAIL_AUTHENTICATIONS).await, 1);
    assert_eq!(clean(&world, LOGIN_TOKENS).await, 1);
    assert_eq!(clean(&world, UPSTREAM_SESSIONS).await, 0);
    let mut repo = world.database.transaction().await.expect("transaction");
    let tickets = repo.user_recovery_tickets();
    assert!(
        tickets
            .find_by_ticket("old-secret")
            .await
            .expect("ok")
            .is_none()
    );
    assert!(
        tickets
            .find_by_ticket("recent-secret")
            .await
            .expect("ok")
            .is_some()
    );
    assert!(
        tickets
            .find_by_ticket("current-secret")
            .await
            .expect("ok")
            .is_some()
    );
    repo.rollback().await.expect("rollback");

    for (kind, _) in cleanup::SCHEDULES {
        assert_eq!(
            clean(&world, kind).await,
            0,
            "{kind}: a second run finds nothing more"
        );
    }
}

#[tokio::test]
async fn upstream_sign_ins_that_signed_nobody_in_are_deleted_after_a_week() {
    let world = world().await;
    let mut repo = world.database.transaction().await.expect("transaction");
    repo.upstream_providers()
        .upsert(&portcullis_model::UpstreamProvider {
            id: "pocketid".to_owned(),
            issuer: None,
            human_name: None,
            brand_name: None,
            encrypted_client_secret: None,
            config: serde_json::json!({}),
            created_at: world.clock.now(),
            disabled_at: None,
        })
        .await
        .expect("provider");
    let alice = repo
        .users()
        .add("alice", world.clock.now())
        .await
        .expect("user");
    let browser = repo
        .browser_sessions()
        .add(&alice, None, world.clock.now())
        .await
        .expect("browser session");
    let link = repo
        .upstream_links()
        .add("pocketid", "alice-sub", None, world.clock.now())
        .await
        .expect("link");
    let mut attempts = Vec::new();
    for (state, days_ago) in [("abandoned", 8), ("recent", 6), ("used", 8)] {
        let attempt = repo
            .upstream_authorization_sessions()
            .add(
                &portcullis_storage::NewUpstreamAuthorizationSession {
                    provider_id: "pocketid".to_owned(),
                    state: state.to_owned(),
                    nonce: None,
                    code_verifier: None,
                    post_auth_action: None,
                },
                world.clock.now() - TimeDelta::days(days_ago),
            )
            .await
            .expect("attempt");
        attempts.push(attempt);
    }
    let answer = portcullis_model::UpstreamAnswer {
        link_id: link.id,
        id_token: None,
        id_token_claims: None,
        userinfo_claims: None,
        extra_callback_parameters: None,
    };
    let sessions = repo.upstream_authorization_sessions();
    sessions
        .complete(attempts[2].id, &answer, world.clock.now())
        .await
        .expect("completed");
    sessions
        .consume(attempts[2].id, browser.id, world.clock.now())
        .await
        .expect("consumed");
    repo.commit().await.expect("commit");

    assert_eq!(clean(&world, UPSTREAM_SESSIONS).await, 1);
    let mut repo = world.database.transaction().await.expect("transaction");
    let sessions = repo.upstream_authorization_sessions();
    let kept = |found: Option<portcullis_model::UpstreamAuthorizationSession>| found.is_some();
    assert!(
        !kept(sessions.find(attempts[0].id).await.expect("read")),
        "abandoned, deleted"
    );
    assert!(
        kept(sessions.find(attempts[1].id).await.expect("read")),
        "recent, kept"
    );
    assert!(
        kept(sessions.find(attempts[2].id).await.expect("read")),
        "it signed alice in"
    );
}

#[tokio::test]
async fn finished_jobs_and_stopped_workers_are_deleted_after_thirty_days() {
    let world = world().await;
    let now = world.clock.now();
    let mut repo = world.database.transaction().await.expect("transaction");
    let old = now - TimeDelta::days(31);
    for (worker, at) in [("old", old), ("recent", now - TimeDelta::days(29))] {
        repo.queue_workers()
            .register(worker, at)
            .await
            .expect("registered");
        repo.queue_workers()
            .stop(worker, at)
            .await
            .expect("stopped");
        let job = repo
            .jobs()
            .schedule("send-email", serde_json::json!({}), at, at)
            .await
            .expect("queued");
        repo.jobs()
            .claim(worker, at, std::time::Duration::from_secs(60))
            .await
            .expect("claimed");
        repo.jobs().complete(job.id, at).await.expect("completed");
    }
    repo.jobs()
        .schedule("send-email", serde_json::json!({}), old, old)
        .await
        .expect("a job still waiting");
    repo.commit().await.expect("commit");

    // The old completed job and the old stopped worker; the waiting job stays, however old.
    assert_eq!(clean(&world, cleanup::QUEUE_JOBS).await, 2);
    let mut repo = world.database.transaction().await.expect("transaction");
    assert_eq!(
        repo.jobs()
            .count_by_status(portcullis_model::JobStatus::Available)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        repo.jobs()
            .count_by_status(portcullis_model::JobStatus::Completed)
            .await
            .expect("count"),
        1
    );
    repo.rollback().await.expect("rollback");
}

#[tokio::test]
async fn a_kind_that_is_no_clean_up_job_is_an_error() {
    let world = world().await;
    let error = cleanup::clean(&context(&world), "cleanup-everything")
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("cleanup-everything"), "{error}");
}
