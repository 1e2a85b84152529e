//! Lists of users, page by page and filtered, as the Admin API reads them.

use chrono::TimeDelta;
use portcullis_model::User;
use portcullis_storage::{Pagination, UserFilter, UserState};

use crate::{
    fixtures::{add_client, add_session, start},
    support::{commit, repo},
};

/// Five users one second apart: `u0` … `u4`; `u1` locked, `u2` deactivated, `u3` admin with
/// an OAuth 2.0 session, `u4` with two standing compatibility sessions, `u0` with a finished
/// one.
async fn five_users(db: &portcullis_storage_sql::Database) -> Vec<User> {
    let mut tx = repo(db).await;
    let mut users = Vec::new();
    for i in 0..5 {
        let at = start() + TimeDelta::seconds(i);
        users.push(tx.users().add(&format!("u{i}"), at).await.expect("added"));
    }
    users[1] = tx
        .users()
        .lock(users[1].clone(), start())
        .await
        .expect("locked");
    users[2] = tx
        .users()
        .deactivate(users[2].clone(), start())
        .await
        .expect("deactivated");
    users[3] = tx
        .users()
        .set_can_request_admin(users[3].clone(), true)
        .await
        .expect("promoted");
    let client = add_client(&mut tx, "listing-client").await;
    let browser = tx
        .browser_sessions()
        .add(&users[3], None, start())
        .await
        .expect("signed in");
    let session = add_session(&mut tx, &client, Some(&browser)).await;
    assert_eq!(session.user_id, Some(users[3].id));
    crate::compat_session::add_compat_session(&mut tx, &users[4], "LISTED").await;
    crate::compat_session::add_compat_session(&mut tx, &users[4], "LISTED-TOO").await;
    let finished = crate::compat_session::add_compat_session(&mut tx, &users[0], "GONE").await;
    tx.compat_sessions()
        .finish(finished.id, start())
        .await
        .expect("finished");
    commit(tx).await;
    users
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|user| user.username.as_str()).collect()
}

backend_test!(
    async fn users_are_paged_forward_and_backward_by_cursor(db: Database) {
        let users = five_users(&db).await;
        let mut tx = repo(&db).await;
        let all = UserFilter::default();

        let page = tx
            .users()
            .list_page(&all, Pagination::first(2))
            .await
            .expect("read");
        assert_eq!(names(&page.edges), ["u0", "u1"]);
        assert!(page.has_next_page && !page.has_previous_page);

        let next = Pagination::first(2).after(users[1].id);
        let page = tx.users().list_page(&all, next).await.expect("read");
        assert_eq!(names(&page.edges), ["u2", "u3"]);
        let next = Pagination::first(2).after(users[3].id);
        let page = tx.users().list_page(&all, next).await.expect("read");
        assert_eq!(names(&page.edges), ["u4"]);
        assert!(!page.has_next_page);

        let page = tx
            .users()
            .list_page(&all, Pagination::last(2))
            .await
            .expect("read");
        assert_eq!(names(&page.edges), ["u3", "u4"]);
        assert!(page.has_previous_page && !page.has_next_page);
        let previous = Pagination::last(2).before(users[3].id);
        let page = tx.users().list_page(&all, previous).await.expect("read");
        assert_eq!(names(&page.edges), ["u1", "u2"]);
        let previous = Pagination::last(2).before(users[1].id);
        let page = tx.users().list_page(&all, previous).await.expect("read");
        assert_eq!(names(&page.edges), ["u0"]);
        assert!(!page.has_previous_page);

        // Both cursors: the rows strictly between.
        let between = Pagination::first(10).after(users[0].id).before(users[4].id);
        let page = tx.users().list_page(&all, between).await.expect("read");
        assert_eq!(names(&page.edges), ["u1", "u2", "u3"]);
        assert_eq!(tx.users().count(&all).await.expect("counted"), 5);
    }
);

backend_test!(
    async fn every_user_filter_selects_what_it_names(db: Database) {
        let users = five_users(&db).await;
        let mut tx = repo(&db).await;
        let client_id = tx
            .oauth_sessions()
            .list_active_for_user(&users[3])
            .await
            .expect("read")
            .first()
            .expect("u3 has a session")
            .client_id;
        let cases: Vec<(UserFilter, Vec<&str>)> = vec![
            (
                UserFilter {
                    can_request_admin: Some(true),
                    ..UserFilter::default()
                },
                vec!["u3"],
            ),
            (
                UserFilter {
                    can_request_admin: Some(false),
                    ..UserFilter::default()
                },
                vec!["u0", "u1", "u2", "u4"],
            ),
            (
                UserFilter {
                    legacy_guest: Some(true),
                    ..UserFilter::default()
                },
                vec![],
            ),
            (
                UserFilter {
                    legacy_guest: Some(false),
                    ..UserFilter::default()
                },
                vec!["u0", "u1", "u2", "u3", "u4"],
            ),
            (
                UserFilter {
                    search: Some("U4".to_owned()),
                    ..UserFilter::default()
                },
                vec!["u4"],
            ),
            (
                UserFilter {
                    search: Some("%".to_owned()),
                    ..UserFilter::default()
                },
                vec![],
            ),
            (
                UserFilter {
                    state: Some(UserState::Active),
                    ..UserFilter::default()
                },
                vec!["u0", "u3", "u4"],
            ),
            (
                UserFilter {
                    state: Some(UserState::Locked),
                    ..UserFilter::default()
                },
                vec!["u1"],
            ),
            (
                UserFilter {
                    state: Some(UserState::Deactivated),
                    ..UserFilter::default()
                },
                vec!["u2"],
            ),
            (
                UserFilter {
                    active_oauth2_clients: vec![client_id, ulid::Ulid::nil()],
                    ..UserFilter::default()
                },
                vec!["u3"],
            ),
            (
                UserFilter {
                    has_active_oauth2_session: Some(true),
                    ..UserFilter::default()
                },
                vec!["u3"],
            ),
            (
                UserFilter {
                    has_active_compat_session: Some(true),
                    ..UserFilter::default()
                },
                vec!["u4"],
            ),
            (
                UserFilter {
                    has_active_compat_session: Some(false),
                    ..UserFilter::default()
                },
                vec!["u0", "u1", "u2", "u3"],
            ),
            (
                UserFilter {
                    has_active_oauth2_session: Some(false),
                    ..UserFilter::default()
                },
                vec!["u0", "u1", "u2", "u4"],
            ),
            (
                UserFilter {
                    has_active_compat_session: Some(true),
                    has_active_oauth2_session: Some(false),
                    ..UserFilter::default()
                },
                vec!["u4"],
            ),
            (
                UserFilter {
                    has_active_compat_session: Some(false),
                    state: Some(UserState::Active),
                    ..UserFilter::default()
                },
                vec!["u0", "u3"],
            ),
            (
                // Active users are counted as all less the inactive ones: the search's
                // parameter is read by both counts.
                UserFilter {
                    search: Some("U".to_owned()),
                    state: Some(UserState::Active),
                    ..UserFilter::default()
                },
                vec!["u0", "u3", "u4"],
            ),
        ];
        for (filter, expected) in cases {
            let page = tx
                .users()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            assert_eq!(names(&page.edges), expected, "{filter:?}");
            let count = tx.users().count(&filter).await.expect("counted");
            assert_eq!(count, expected.len(), "{filter:?}");
        }
    }
);

backend_test!(
    async fn standing_sessions_are_followed(db: Database) {
        let mut tx = repo(&db).await;
        let alice = tx.users().add("alice", start()).await.expect("added");
        let bob = tx
            .users()
            .add("bob", start() + TimeDelta::seconds(1))
            .await
            .expect("added");
        let client = add_client(&mut tx, "standing-client").await;
        let first = crate::compat_session::add_compat_session(&mut tx, &alice, "ONE").await;
        let second = crate::compat_session::add_compat_session(&mut tx, &alice, "TWO").await;
        // A session without a user (client credentials) stands for nobody.
        add_session(&mut tx, &client, None).await;
        let browser = tx
            .browser_sessions()
            .add(&bob, None, start())
            .await
            .expect("signed in");
        let bobs = add_session(&mut tx, &client, Some(&browser)).await;
        commit(tx).await;

        let compat = UserFilter {
            has_active_compat_session: Some(true),
            ..UserFilter::default()
        };
        let oauth = UserFilter {
            has_active_oauth2_session: Some(true),
            ..UserFilter::default()
        };
        let without_compat = UserFilter {
            has_active_compat_session: Some(false),
            ..UserFilter::default()
        };
        let mut tx = repo(&db).await;
        for (filter, expected) in [
            (&compat, vec!["alice"]),
            (&oauth, vec!["bob"]),
            (&without_compat, vec!["bob"]),
        ] {
            let page = tx
                .users()
                .list_page(filter, Pagination::first(10))
                .await
                .expect("read");
            assert_eq!(names(&page.edges), expected, "{filter:?}");
            assert_eq!(
                tx.users().count(filter).await.expect("counted"),
                expected.len()
            );
        }

        // Alice keeps standing while one of her two sessions does; finishing one twice counts
        // once.
        let later = start() + TimeDelta::minutes(1);
        for _ in 0..2 {
            tx.compat_sessions()
                .finish(first.id, later)
                .await
                .expect("finished");
        }
        assert_eq!(tx.users().count(&compat).await.expect("counted"), 1);
        tx.compat_sessions()
            .finish(second.id, later)
            .await
            .expect("finished");
        tx.oauth_sessions()
            .finish(bobs.id, later)
            .await
            .expect("finished");
        commit(tx).await;

        let mut tx = repo(&db).await;
        assert_eq!(tx.users().count(&compat).await.expect("counted"), 0);
        assert_eq!(tx.users().count(&oauth).await.expect("counted"), 0);
        let page = tx
            .users()
            .list_page(&without_compat, Pagination::first(10))
            .await
            .expect("read");
        assert_eq!(names(&page.edges), ["alice", "bob"]);
        // A session started again stands again.
        crate::compat_session::add_compat_session(&mut tx, &alice, "THREE").await;
        assert_eq!(tx.users().count(&compat).await.expect("counted"), 1);
    }
);

backend_test!(
    async fn legacy_guests_are_marked_and_filtered(db: Database) {
        let mut tx = repo(&db).await;
        let guest = tx.users().add("guest", start()).await.expect("added");
        tx.users()
            .add("member", start() + TimeDelta::seconds(1))
            .await
            .expect("added");
        assert!(!guest.legacy_guest);
        let guest = tx.users().mark_legacy_guest(guest).await.expect("marked");
        assert!(guest.legacy_guest);
        commit(tx).await;

        let mut tx = repo(&db).await;
        let found = tx
            .users()
            .find_by_username("guest")
            .await
            .expect("read")
            .expect("found");
        assert!(found.legacy_guest);
        for (guests, expected) in [(true, ["guest"]), (false, ["member"])] {
            let filter = UserFilter {
                legacy_guest: Some(guests),
                ..UserFilter::default()
            };
            let page = tx
                .users()
                .list_page(&filter, Pagination::first(10))
                .await
                .expect("read");
            assert_eq!(names(&page.edges), expected);
            assert_eq!(tx.users().count(&filter).await.expect("counted"), 1);
        }
    }
);

backend_test!(
    async fn a_search_whose_matches_are_far_apart_pages_through_all_of_them(db: Database) {
        // 150 matches first, 1,250 other users, then 5 matches: more than a thousand users
        // (the stretch PostgreSQL reads in id order) between the two groups of matches.
        let mut tx = repo(&db).await;
        let mut names = Vec::new();
        for i in 0..1_405 {
            let name = if !(150..1_400).contains(&i) {
                format!("match-{i:04}")
            } else {
                format!("other-{i:04}")
            };
            let at = start() + TimeDelta::milliseconds(i);
            tx.users().add(&name, at).await.expect("added");
            names.push(name);
        }
        commit(tx).await;
        let expected: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|name| name.starts_with("match"))
            .collect();
        let search = UserFilter {
            search: Some("match".to_owned()),
            ..UserFilter::default()
        };

        let mut tx = repo(&db).await;
        // Forward, a hundred at a time.
        let mut seen = Vec::new();
        let mut pagination = Pagination::first(100);
        loop {
            let page = tx
                .users()
                .list_page(&search, pagination)
                .await
                .expect("listed");
            seen.extend(page.edges.iter().map(|user| user.username.clone()));
            let Some(last) = page.edges.last() else { break };
            if !page.has_next_page {
                break;
            }
            pagination = Pagination::first(100).after(last.id);
        }
        assert_eq!(seen, expected);

        // Backward from the end: the five late matches, then the early ones.
        let page = tx
            .users()
            .list_page(&search, Pagination::last(100))
            .await
            .expect("listed");
        let names: Vec<&str> = page.edges.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, expected[expected.len() - 100..]);
        assert!(page.has_previous_page);
        let first = page.edges.first().expect("a page").id;
        let page = tx
            .users()
            .list_page(&search, Pagination::last(100).before(first))
            .await
            .expect("listed");
        let names: Vec<&str> = page.edges.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, expected[..expected.len() - 100]);
        assert!(!page.has_previous_page);
        assert_eq!(
            tx.users().count(&search).await.expect("counted"),
            expected.len()
        );
    }
);
