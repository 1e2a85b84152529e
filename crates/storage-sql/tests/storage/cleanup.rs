//! The deletions of the retention rules.

use chrono::TimeDelta;
use portcullis_storage::{NewCompatSession, SessionActivity, SessionRef};

use crate::{
    fixtures::{add_browser_session, add_client, add_session, add_user, start},
    support::{commit, repo},
};

backend_test!(
    async fn spent_tokens_go_after_an_hour_and_live_ones_stay(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let browser = add_browser_session(&mut tx, &user).await;
        let client = add_client(&mut tx, "app").await;
        let session = add_session(&mut tx, &client, Some(&browser)).await;
        let expires = Some(start() + TimeDelta::minutes(5));
        let revoked = tx
            .oauth_access_tokens()
            .add(&session, "mat_revoked", expires, start())
            .await
            .expect("token");
        let live = tx
            .oauth_access_tokens()
            .add(&session, "mat_live", expires, start())
            .await
            .expect("token");
        tx.oauth_access_tokens()
            .revoke(revoked.id, start())
            .await
            .expect("revoked");
        let old = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_old", Some(&live), start())
            .await
            .expect("token");
        let new = tx
            .oauth_refresh_tokens()
            .add(&session, "mar_new", Some(&live), start())
            .await
            .expect("token");
        tx.oauth_refresh_tokens()
            .consume("mar_old", new.id, start())
            .await
            .expect("consumed");
        let cleanup = tx.cleanup();
        let soon = start() + TimeDelta::minutes(30) - TimeDelta::hours(1);
        assert_eq!(cleanup.revoked_access_tokens(soon).await.expect("ok"), 0);
        assert_eq!(cleanup.consumed_refresh_tokens(soon).await.expect("ok"), 0);
        let later = start() + TimeDelta::hours(2) - TimeDelta::hours(1);
        assert_eq!(cleanup.revoked_access_tokens(later).await.expect("ok"), 1);
        assert_eq!(cleanup.consumed_refresh_tokens(later).await.expect("ok"), 1);
        assert_eq!(cleanup.revoked_refresh_tokens(later).await.expect("ok"), 0);
        // Expired 30 days before: the live token too, then.
        let month = start() + TimeDelta::days(31) - TimeDelta::days(30);
        assert_eq!(cleanup.expired_access_tokens(month).await.expect("ok"), 1);
        assert!(
            tx.oauth_refresh_tokens()
                .find(old.id)
                .await
                .expect("ok")
                .is_none()
        );
        assert!(
            tx.oauth_refresh_tokens()
                .find(new.id)
                .await
                .expect("ok")
                .is_some()
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn finished_sessions_go_after_a_month_unless_a_kept_session_came_from_them(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let parent = add_browser_session(&mut tx, &user).await;
        let alone = add_browser_session(&mut tx, &user).await;
        let child = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: user.id,
                    device_id: "DEVICE".to_owned(),
                    human_name: None,
                    user_session_id: Some(parent.id),
                    is_synapse_admin: false,
                    user_agent: None,
                },
                start(),
            )
            .await
            .expect("session");
        for id in [parent.id, alone.id] {
            tx.browser_sessions()
                .finish(id, start())
                .await
                .expect("finished");
        }
        let month_later = start() + TimeDelta::days(31) - TimeDelta::days(30);
        let cleanup = tx.cleanup();
        assert_eq!(
            cleanup
                .finished_browser_sessions(month_later)
                .await
                .expect("ok"),
            1
        );
        assert_eq!(
            cleanup
                .finished_compat_sessions(month_later)
                .await
                .expect("ok"),
            0
        );
        assert!(
            tx.browser_sessions()
                .find(parent.id)
                .await
                .expect("ok")
                .is_some()
        );
        assert!(
            tx.browser_sessions()
                .find(alone.id)
                .await
                .expect("ok")
                .is_none()
        );

        // Once the child is finished and gone, the parent goes too.
        tx.compat_sessions()
            .finish(child.id, start())
            .await
            .expect("finished");
        let cleanup = tx.cleanup();
        assert_eq!(
            cleanup
                .finished_compat_sessions(month_later)
                .await
                .expect("ok"),
            1
        );
        assert_eq!(
            cleanup
                .finished_browser_sessions(month_later)
                .await
                .expect("ok"),
            1
        );
        commit(tx).await;
    }
);

backend_test!(
    async fn the_address_of_a_session_unused_for_a_month_is_forgotten(db: Database) {
        let mut tx = repo(&db).await;
        let user = add_user(&mut tx, "alice").await;
        let idle = add_browser_session(&mut tx, &user).await;
        let used = add_browser_session(&mut tx, &user).await;
        let seen = |session, days| SessionActivity {
            session: SessionRef::Browser(session),
            at: start() + TimeDelta::days(days),
            ip: Some([192, 0, 2, 1].into()),
        };
        tx.session_activity()
            .record(&[seen(idle.id, 0), seen(used.id, 20)])
            .await
            .expect("recorded");
        let month_later = start() + TimeDelta::days(31) - TimeDelta::days(30);
        assert_eq!(
            tx.cleanup()
                .inactive_session_addresses(month_later)
                .await
                .expect("ok"),
            1
        );
        let idle = tx
            .browser_sessions()
            .find(idle.id)
            .await
            .expect("ok")
            .expect("kept");
        let used = tx
            .browser_sessions()
            .find(used.id)
            .await
            .expect("ok")
            .expect("kept");
        assert_eq!(idle.last_active_ip, None);
        assert!(used.last_active_ip.is_some());
        assert!(
            idle.last_active_at.is_some(),
            "only the address is forgotten"
        );
        commit(tx).await;
    }
);
