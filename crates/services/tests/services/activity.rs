//! Activity gathered in memory reaches the sessions in one flush.

use chrono::TimeDelta;
use portcullis_services::activity::ActivityTracker;
use portcullis_storage::SessionRef;

use crate::common::{add_client, add_compat_session, add_oauth_session, add_user, start, world};

#[tokio::test]
async fn a_flush_writes_the_latest_use_of_each_session_once() {
    let world = world().await;
    let mut tx = world.tx().await;
    let user = add_user(&mut tx, "alice").await;
    let client = add_client(&mut tx).await;
    let oauth = add_oauth_session(&mut tx, &client, &user, "PHONEPHONE").await;
    let compat = add_compat_session(&mut tx, &user, "BOT").await;
    let browser = tx
        .browser_sessions()
        .add(&user, None, start())
        .await
        .expect("storage works");
    tx.commit().await.expect("storage works");

    let tracker = ActivityTracker::new();
    let ip = "203.0.113.5".parse().expect("valid");
    // A thousand introspections of one token, a refresh from a known address, a page view.
    for second in 0..1000 {
        tracker.record(
            SessionRef::OAuth(oauth.id),
            start() + TimeDelta::seconds(second),
            None,
        );
    }
    tracker.record(
        SessionRef::OAuth(oauth.id),
        start() + TimeDelta::seconds(10),
        Some(ip),
    );
    tracker.record(
        SessionRef::Compat(compat.id),
        start() + TimeDelta::minutes(1),
        None,
    );
    tracker.record(
        SessionRef::Browser(browser.id),
        start() + TimeDelta::minutes(2),
        Some(ip),
    );
    assert_eq!(tracker.pending(), 3);

    assert_eq!(
        tracker.flush(&world.database).await.expect("storage works"),
        3
    );
    assert_eq!(tracker.pending(), 0);
    assert_eq!(
        tracker.flush(&world.database).await.expect("storage works"),
        0,
        "nothing new"
    );

    let mut tx = world.tx().await;
    let oauth = tx
        .oauth_sessions()
        .find(oauth.id)
        .await
        .expect("storage works")
        .expect("present");
    assert_eq!(
        oauth.last_active_at,
        Some(start() + TimeDelta::seconds(999))
    );
    assert_eq!(oauth.last_active_ip, Some(ip));
    let compat = tx
        .compat_sessions()
        .find(compat.id)
        .await
        .expect("storage works")
        .expect("present");
    assert_eq!(compat.last_active_at, Some(start() + TimeDelta::minutes(1)));
    assert_eq!(compat.last_active_ip, None);
    let browser = tx
        .browser_sessions()
        .find(browser.id)
        .await
        .expect("storage works")
        .expect("present");
    assert_eq!(browser.last_active_ip, Some(ip));
}
