//! Versions of the dynamic policy data: the newest is the one in effect, and a version stays a
//! week after a newer one replaced it.

use chrono::TimeDelta;
use serde_json::json;

use crate::{
    fixtures::start,
    support::{commit, repo},
};

backend_test!(
    async fn the_newest_is_in_effect_and_replaced_ones_go_after_a_week(db: Database) {
        let mut tx = repo(&db).await;
        assert_eq!(tx.policy_data().latest().await.expect("read"), None);
        let first = tx
            .policy_data()
            .add(&json!({"admin_users": ["alice"]}), start())
            .await
            .expect("stored");
        let second = tx
            .policy_data()
            .add(
                &json!({"admin_users": ["bob"]}),
                start() + TimeDelta::days(1),
            )
            .await
            .expect("stored");
        let third = tx
            .policy_data()
            .add(&json!({"admin_users": []}), start() + TimeDelta::days(10))
            .await
            .expect("stored");
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert_eq!(
            tx.policy_data().latest().await.expect("read"),
            Some(third.clone())
        );
        assert_eq!(
            tx.policy_data().find(first.id).await.expect("read"),
            Some(first.clone())
        );
        // Eight days in: the first was replaced seven days ago, the second only just.
        let pruned = tx
            .policy_data()
            .delete_replaced_before(start() + TimeDelta::days(8))
            .await
            .expect("pruned");
        assert_eq!(pruned, 1);
        assert_eq!(tx.policy_data().find(first.id).await.expect("read"), None);
        assert_eq!(
            tx.policy_data().find(second.id).await.expect("read"),
            Some(second)
        );
        // Long after: everything but the latest goes.
        let pruned = tx
            .policy_data()
            .delete_replaced_before(start() + TimeDelta::days(100))
            .await
            .expect("pruned");
        assert_eq!(pruned, 1);
        assert_eq!(tx.policy_data().latest().await.expect("read"), Some(third));
        commit(tx).await;
    }
);
