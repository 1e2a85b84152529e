//! The terms of service users accepted.

use chrono::TimeDelta;

use crate::{
    fixtures::{add_user, start},
    support::{commit, repo},
};

const TERMS: &str = "https://example.com/terms-2026";

backend_test!(
    async fn accepted_terms_are_listed_and_accepting_again_keeps_the_first_instant(db: Database) {
        let mut tx = repo(&db).await;
        let alice = add_user(&mut tx, "alice").await;
        let bob = add_user(&mut tx, "bob").await;
        tx.user_terms()
            .accept(&alice, TERMS, start())
            .await
            .expect("accepted");
        tx.user_terms()
            .accept(&alice, TERMS, start() + TimeDelta::days(1))
            .await
            .expect("accepting again works");
        tx.user_terms()
            .accept(
                &alice,
                "https://example.com/terms-2027",
                start() + TimeDelta::days(2),
            )
            .await
            .expect("accepted");
        commit(tx).await;

        let mut tx = repo(&db).await;
        let alices = tx.user_terms().list_for_user(&alice).await.expect("listed");
        let bobs = tx.user_terms().list_for_user(&bob).await.expect("listed");
        commit(tx).await;

        assert_eq!(
            alices,
            vec![
                (TERMS.to_owned(), start()),
                (
                    "https://example.com/terms-2027".to_owned(),
                    start() + TimeDelta::days(2)
                ),
            ]
        );
        assert!(bobs.is_empty());
    }
);
