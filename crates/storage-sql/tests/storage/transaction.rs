//! Units of work running side by side.

use portcullis_model::{Clock, MockClock};
use portcullis_storage::{BoxRepository, StorageError};

use crate::support::{commit, race, repo};

backend_test!(
    async fn concurrent_units_of_work_that_read_then_write_all_succeed(db: Database) {
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        tx.users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;

        // On SQLite, a transaction that starts reading and then writes cannot take the write
        // lock if another wrote since its read began; units of work must queue from the start.
        let succeeded = race(&db, 20, |db, index| async move {
            let mut tx = repo(&db).await;
            let user = tx
                .users()
                .find_by_username("alice")
                .await
                .expect("lookup works");
            let user = user.expect("the user exists");
            tx.users()
                .set_can_request_admin(user, index % 2 == 0)
                .await
                .expect("the update succeeds");
            commit(tx).await;
            true
        })
        .await;

        assert_eq!(succeeded, 20);
    }
);

backend_test!(
    async fn a_reader_is_not_held_up_by_an_open_writer(db: Database) {
        let clock = portcullis_model::MockClock::default();
        let mut writer = repo(&db).await;
        writer
            .users()
            .add("pending", portcullis_model::Clock::now(&clock))
            .await
            .expect("the user is added");

        // On SQLite a second BEGIN IMMEDIATE would wait for the writer; a reader must not.
        let mut reader = db
            .read_transaction()
            .await
            .expect("a read transaction starts at once");
        let seen = reader
            .users()
            .find_by_username("pending")
            .await
            .expect("the read works");
        assert_eq!(seen, None, "uncommitted work is not visible");
        reader.rollback().await.expect("rollback");
        writer.rollback().await.expect("rollback");
    }
);

backend_test!(
    async fn a_read_transaction_cannot_write(db: Database) {
        let clock = portcullis_model::MockClock::default();
        let mut reader = db
            .read_transaction()
            .await
            .expect("a read transaction starts");
        let written = reader
            .users()
            .add("sneaky", portcullis_model::Clock::now(&clock))
            .await;
        // PostgreSQL refuses writes in a READ ONLY transaction; SQLite lets a deferred one
        // write when no one else does, so only PostgreSQL is checked strictly here.
        if db.backend_name() == "PostgreSQL" {
            assert!(
                written.is_err(),
                "a read-only transaction refused the write"
            );
        }
        let _ = reader.rollback().await;
    }
);

backend_test!(
    async fn a_reader_sees_what_was_committed_and_nothing_pending(db: Database) {
        let clock = portcullis_model::MockClock::default();
        let mut tx = repo(&db).await;
        tx.users()
            .add("committed", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;
        let mut writer = repo(&db).await;
        writer
            .users()
            .add("pending", clock.now())
            .await
            .expect("the user is added");

        let mut reader = db.reader().await.expect("a reader starts at once");
        let committed = reader
            .users()
            .find_by_username("committed")
            .await
            .expect("the read works");
        let pending = reader
            .users()
            .find_by_username("pending")
            .await
            .expect("the read works");
        reader.rollback().await.expect("a reader ends");
        writer.rollback().await.expect("rollback");

        assert_eq!(
            committed.map(|user| user.username).as_deref(),
            Some("committed")
        );
        assert_eq!(pending, None, "uncommitted work is not visible");
    }
);

/// Polls `unit` once: `Some` with its output if it finished, `None` if it is still waiting.
async fn poll_once<F: Future + Unpin>(unit: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| match std::pin::Pin::new(&mut *unit).poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

backend_test!(
    async fn a_unit_of_work_abandoned_while_it_starts_leaves_no_transaction_behind(db: Database) {
        // A request whose client goes away is dropped wherever it waits, also halfway through
        // `BEGIN`. The connection must not go back to the pool inside that transaction: every
        // later unit of work on it would fail ("begin_with at non-zero transaction depth").
        for attempt in 0..200_u64 {
            type Starting<'a> = std::pin::Pin<
                Box<dyn Future<Output = Result<BoxRepository, StorageError>> + Send + 'a>,
            >;
            let mut unit: Starting<'_> = if attempt % 2 == 0 {
                Box::pin(db.transaction())
            } else {
                Box::pin(db.read_transaction())
            };
            // Give the connection's worker a little more time at each attempt, so that the
            // drops land at every step of the start.
            for _ in 0..=attempt % 4 {
                if poll_once(&mut unit).await.is_some() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_micros(attempt % 50 * 10));
            }
            drop(unit);
        }

        // Every connection of the pool starts a unit of work again: as many readers as the pool
        // has connections, held at once so that each connection is tried (SQLite lets only one
        // writer in at a time), then writers one after the other.
        let mut held = Vec::new();
        for _ in 0..20 {
            let started = db.read_transaction().await;
            held.push(started.expect("a unit of work starts on every pooled connection"));
        }
        for unit in held {
            unit.rollback().await.expect("rollback");
        }
        for _ in 0..20 {
            let unit = db.transaction().await.expect("a writer starts");
            unit.rollback().await.expect("rollback");
        }
    }
);

backend_test!(
    async fn readers_beyond_their_slots_wait_for_one_to_end(db: Database) {
        let slots = db.reader_slots();
        assert!(
            (1..=20).contains(&slots),
            "never more than the pool's 20 connections"
        );
        let mut held = Vec::new();
        for _ in 0..slots {
            held.push(
                db.reader()
                    .await
                    .expect("a reader starts while there are slots"),
            );
        }

        let mut next = Box::pin(db.reader());
        for _ in 0..10 {
            assert!(poll_once(&mut next).await.is_none(), "every slot is taken");
            tokio::task::yield_now().await;
        }
        // Other units of work do not need a reader's slot.
        let writer = db.transaction().await.expect("a writer starts");
        writer.rollback().await.expect("rollback");

        held.pop()
            .expect("at least one slot")
            .rollback()
            .await
            .expect("rollback");
        let mut unit = next
            .await
            .expect("the waiting reader starts once a slot is free");
        assert_eq!(
            unit.users()
                .find_by_username("nobody")
                .await
                .expect("the read works"),
            None
        );
        unit.rollback().await.expect("rollback");
    }
);

backend_test!(
    async fn commits_are_counted_by_every_clone_and_nothing_else_is(db: Database) {
        use portcullis_storage::RepositoryFactory as _;
        let clock = MockClock::default();
        let clone = db.clone();
        let before = db.committed_changes();

        let mut tx = repo(&db).await;
        tx.users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        tx.rollback().await.expect("rolled back");
        let reader = db.reader().await.expect("a reader");
        reader.rollback().await.expect("ended");
        assert_eq!(db.committed_changes(), before, "nothing was committed");

        let mut tx = repo(&clone).await;
        tx.users()
            .add("bob", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;

        assert_eq!(db.committed_changes(), before + 1);
        assert_eq!(clone.committed_changes(), before + 1);
    }
);

backend_test!(
    async fn a_sign_in_adding_a_session_and_tokens_changes_nothing_existing(db: Database) {
        use portcullis_storage::{NewCompatSession, RepositoryFactory as _};
        let clock = MockClock::default();
        let mut tx = repo(&db).await;
        let user = tx
            .users()
            .add("alice", clock.now())
            .await
            .expect("the user is added");
        commit(tx).await;
        let before = db.committed_changes();

        // What a password sign-in on the Matrix login API writes.
        let mut tx = repo(&db).await;
        let found = tx
            .compat_sessions()
            .list_active_for_device(user.id, "DEVICE")
            .await
            .expect("listed");
        assert!(found.is_empty());
        tx.oauth_sessions()
            .list_active_for_user(&user)
            .await
            .expect("listed");
        let session = tx
            .compat_sessions()
            .add(
                &NewCompatSession {
                    user_id: user.id,
                    device_id: "DEVICE".to_owned(),
                    human_name: None,
                    user_session_id: None,
                    is_synapse_admin: false,
                    user_agent: None,
                },
                clock.now(),
            )
            .await
            .expect("the session is added");
        let access = tx
            .compat_access_tokens()
            .add(&session, "mct_access", None, clock.now())
            .await
            .expect("the access token is added");
        tx.compat_refresh_tokens()
            .add(&session, "mcr_refresh", &access, clock.now())
            .await
            .expect("the refresh token is added");
        commit(tx).await;
        assert_eq!(db.committed_changes(), before);

        // Ending it changes what exists.
        let mut tx = repo(&db).await;
        tx.compat_sessions()
            .finish(session.id, clock.now())
            .await
            .expect("finished");
        commit(tx).await;
        assert_eq!(db.committed_changes(), before + 1);
    }
);

backend_test!(
    async fn a_named_lock_is_held_by_one_unit_of_work(db: Database) {
        let mut first = repo(&db).await;
        assert!(first.try_lock("syn2mas").await.expect("asked"));
        // On SQLite a second writer would wait for the first to end: the lock is the database's.
        if db.backend() == portcullis_storage_sql::Backend::Postgres {
            let mut second = repo(&db).await;
            assert!(!second.try_lock("syn2mas").await.expect("asked"));
            assert!(second.try_lock("another job").await.expect("asked"));
            second.rollback().await.expect("rolled back");
        }
        first.rollback().await.expect("rolled back");
        let mut third = repo(&db).await;
        assert!(third.try_lock("syn2mas").await.expect("asked"));
        third.rollback().await.expect("rolled back");
    }
);
