//! The password recovery tickets.

use chrono::TimeDelta;

use crate::{
    fixtures::{add_user, start},
    support::{commit, race, repo, table_as_text},
};

const TICKET: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";

fn ttl() -> TimeDelta {
    TimeDelta::minutes(10)
}

backend_test!(
    async fn a_ticket_is_used_once_and_stored_hashed(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let ticket = tx
            .user_recovery_tickets()
            .add(&alice, "alice@example.org", TICKET, start(), ttl())
            .await
            .expect("added");
        assert_eq!(ticket.user_id, alice.id);
        assert_eq!(ticket.expires_at, start() + ttl());
        assert!(ticket.is_usable(start()));

        let found = tx
            .user_recovery_tickets()
            .find_by_ticket(TICKET)
            .await
            .expect("ok");
        assert_eq!(found, Some(ticket.clone()));
        let unknown = tx
            .user_recovery_tickets()
            .find_by_ticket("another")
            .await
            .expect("ok");
        assert_eq!(unknown, None);

        let used = tx
            .user_recovery_tickets()
            .consume(TICKET, start())
            .await
            .expect("ok")
            .expect("an unused ticket is used");
        assert_eq!(used.consumed_at, Some(start()));
        assert!(!used.is_usable(start()));
        let again = tx
            .user_recovery_tickets()
            .consume(TICKET, start())
            .await
            .expect("ok");
        assert_eq!(again, None, "a ticket is used once");
        commit(tx).await;

        let rows = table_as_text(&db, "user_recovery_tickets").await;
        assert!(rows.iter().all(|row| !row.contains(TICKET)), "{rows:?}");
    }
);

backend_test!(
    async fn an_expired_ticket_is_refused(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        tx.user_recovery_tickets()
            .add(&alice, "alice@example.org", TICKET, start(), ttl())
            .await
            .expect("added");

        let late = tx
            .user_recovery_tickets()
            .consume(TICKET, start() + ttl())
            .await
            .expect("ok");
        assert_eq!(late, None);
        let in_time = tx
            .user_recovery_tickets()
            .consume(TICKET, start() + ttl() - TimeDelta::seconds(1))
            .await
            .expect("ok");
        assert!(in_time.is_some());
        commit(tx).await;
    }
);

backend_test!(
    async fn concurrent_uses_of_a_ticket_have_one_winner(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        tx.user_recovery_tickets()
            .add(&alice, "alice@example.org", TICKET, start(), ttl())
            .await
            .expect("added");
        commit(tx).await;
        let winners = race(&db, 4, move |db, _| async move {
            let mut tx = repo(&db).await;
            let won = tx
                .user_recovery_tickets()
                .consume(TICKET, start())
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
    async fn tickets_expired_before_a_time_are_deleted_used_or_not(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let tickets = tx.user_recovery_tickets();
        tickets
            .add(&alice, "alice@example.org", "used", start(), ttl())
            .await
            .expect("added");
        tickets.consume("used", start()).await.expect("ok");
        tickets
            .add(&alice, "alice@example.org", "unused", start(), ttl())
            .await
            .expect("added");
        let later = start() + TimeDelta::hours(1);
        tickets
            .add(&alice, "alice@example.org", "later", later, ttl())
            .await
            .expect("added");

        // Expiring exactly at the limit is not "before" it.
        let at_expiry = tickets
            .delete_expired_before(start() + ttl())
            .await
            .expect("ok");
        assert_eq!(at_expiry, 0);
        let deleted = tickets.delete_expired_before(later).await.expect("ok");
        assert_eq!(deleted, 2);

        assert!(tickets.find_by_ticket("used").await.expect("ok").is_none());
        assert!(
            tickets
                .find_by_ticket("unused")
                .await
                .expect("ok")
                .is_none()
        );
        assert!(tickets.find_by_ticket("later").await.expect("ok").is_some());
        commit(tx).await;
    }
);
