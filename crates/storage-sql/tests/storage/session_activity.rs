//! Last activity of sessions, recorded in batches.

use std::net::IpAddr;

use chrono::TimeDelta;
use portcullis_storage::{NewCompatSession, SessionActivity, SessionRef};

use crate::{
    fixtures::{add_session, start, world},
    support::{commit, repo},
};

backend_test!(
    async fn a_batch_sets_time_and_address_of_every_kind_of_session(db: Database) {
        let world = world(&db).await;
        let mut tx = repo(&db).await;
        let oauth = add_session(&mut tx, &world.client, Some(&world.browser_session)).await;
        let compat = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: world.user.id,
                    device_id: "BOTDEVICE1".to_owned(),
                    human_name: None,
                    user_session_id: None,
                    is_synapse_admin: false,
                    user_agent: None,
                },
                start(),
            )
            .await
            .expect("the session starts");
        commit(tx).await;

        let at = start() + TimeDelta::minutes(5);
        let ip: IpAddr = "2001:db8::7".parse().expect("valid");
        let batch = [
            SessionActivity {
                session: SessionRef::Browser(world.browser_session.id),
                at,
                ip: Some(ip),
            },
            SessionActivity {
                session: SessionRef::OAuth(oauth.id),
                at,
                ip: None,
            },
            SessionActivity {
                session: SessionRef::Compat(compat.id),
                at,
                ip: Some("192.0.2.9".parse().expect("valid")),
            },
            SessionActivity {
                session: SessionRef::Compat(ulid::Ulid::new()),
                at,
                ip: None,
            },
        ];
        let mut tx = repo(&db).await;
        let updated = tx
            .session_activity()
            .record(&batch)
            .await
            .expect("recorded");
        commit(tx).await;
        assert_eq!(updated, 3, "the unknown session is skipped");

        let mut tx = repo(&db).await;
        let browser = tx
            .browser_sessions()
            .find(world.browser_session.id)
            .await
            .expect("storage works")
            .expect("present");
        assert_eq!(browser.last_active_at, Some(at));
        assert_eq!(browser.last_active_ip, Some(ip));
        let oauth = tx
            .oauth_sessions()
            .find(oauth.id)
            .await
            .expect("storage works")
            .expect("present");
        assert_eq!(oauth.last_active_at, Some(at));
        assert_eq!(oauth.last_active_ip, None);
        let compat = tx
            .compat_sessions()
            .find(compat.id)
            .await
            .expect("storage works")
            .expect("present");
        assert_eq!(
            compat.last_active_ip,
            Some("192.0.2.9".parse().expect("valid"))
        );
    }
);

backend_test!(
    async fn a_later_instant_wins_and_an_unknown_address_keeps_the_last_one(db: Database) {
        let world = world(&db).await;
        let session = SessionRef::Browser(world.browser_session.id);
        let ip: IpAddr = "198.51.100.4".parse().expect("valid");
        let later = start() + TimeDelta::minutes(10);
        let record = |at, ip| SessionActivity { session, at, ip };

        let mut tx = repo(&db).await;
        tx.session_activity()
            .record(&[record(later, Some(ip))])
            .await
            .expect("storage works");
        // An older batch arriving late changes nothing.
        let stale = tx
            .session_activity()
            .record(&[record(
                start() + TimeDelta::minutes(1),
                Some("192.0.2.1".parse().expect("valid")),
            )])
            .await
            .expect("storage works");
        assert_eq!(stale, 0);
        // A newer one without an address moves the time and keeps the address.
        let newest = later + TimeDelta::minutes(1);
        tx.session_activity()
            .record(&[record(newest, None)])
            .await
            .expect("storage works");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let browser = tx
            .browser_sessions()
            .find(world.browser_session.id)
            .await
            .expect("storage works")
            .expect("present");
        assert_eq!(browser.last_active_at, Some(newest));
        assert_eq!(browser.last_active_ip, Some(ip));
    }
);
