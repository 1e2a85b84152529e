//! The embedded migrations.

backend_test!(unmigrated async fn migrations_go_from_all_pending_to_all_applied(db: Database) {
    let before = db.migration_status().await.expect("an empty database has a status");
    assert!(before.applied.is_empty());
    assert!(!before.pending.is_empty());

    db.migrate().await.expect("the migrations apply");

    let after = db.migration_status().await.expect("the status can be read");
    assert!(after.is_up_to_date());
    assert_eq!(after.applied, before.pending);
});

backend_test!(
    async fn migrating_an_up_to_date_database_changes_nothing(db: Database) {
        let before = db.migration_status().await.expect("the status can be read");

        db.migrate().await.expect("migrating again succeeds");

        assert_eq!(
            db.migration_status().await.expect("the status can be read"),
            before
        );
    }
);

backend_test!(
    async fn a_reachable_database_answers_the_ping(db: Database) {
        db.ping().await.expect("the database answers");
    }
);
