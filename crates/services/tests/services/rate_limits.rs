//! The rate limits shared through the database: two processes allow exactly what one would.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use chrono::TimeDelta;
use portcullis_config::sections::rate_limiting::{LoginRateLimits, RateLimiterConfig};
use portcullis_model::MockClock;
use portcullis_services::rate_limit::Limiters;
use portcullis_storage_sql::Database;

/// Three password attempts per address, then one a minute.
fn limits() -> LoginRateLimits {
    let bucket = RateLimiterConfig {
        burst: NonZeroU32::new(3).expect("not zero"),
        per_second: 1.0 / 60.0,
    };
    LoginRateLimits {
        per_ip: bucket,
        per_account: RateLimiterConfig {
            burst: NonZeroU32::new(1000).expect("not zero"),
            ..bucket
        },
    }
}

/// The limiters of one process sharing `database`.
fn process(database: &Database, clock: &MockClock) -> Limiters {
    Limiters::new(&limits(), &limits().per_ip)
        .shared(Arc::new(database.clone()), Arc::new(clock.clone()))
}

async fn two_processes_allow_what_one_would(database: Database) {
    let clock = MockClock::default();
    let (a, b) = (process(&database, &clock), process(&database, &clock));
    let ip = Some(IpAddr::from([192, 0, 2, 1]));
    assert!(a.password_attempt(ip, None).await.is_ok());
    assert!(b.password_attempt(ip, None).await.is_ok());
    assert!(a.password_attempt(ip, None).await.is_ok());
    let wait = b
        .password_attempt(ip, None)
        .await
        .expect_err("the fourth attempt, through either process, is over the limit");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert!(a.password_attempt(ip, None).await.is_err());
    assert!(
        b.password_attempt(Some(IpAddr::from([192, 0, 2, 2])), None)
            .await
            .is_ok(),
        "other addresses are not affected"
    );

    // One attempt comes back a minute later, for both.
    clock.advance(TimeDelta::minutes(1));
    assert!(b.password_attempt(ip, None).await.is_ok());
    assert!(a.password_attempt(ip, None).await.is_err());

    // Ten attempts at once, five through each process: three get through.
    let racing = Some(IpAddr::from([198, 51, 100, 7]));
    let attempts: Vec<_> = (0..10)
        .map(|index| {
            let limiters = if index % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { limiters.password_attempt(racing, None).await.is_ok() })
        })
        .collect();
    let mut allowed = 0;
    for attempt in attempts {
        allowed += usize::from(attempt.await.expect("an attempt ends"));
    }
    assert_eq!(allowed, 3);

    // Buckets full again are deleted (the address that tried once, a minute ago); the others
    // stay until they are full too.
    assert_eq!(a.prune_shared().await.expect("pruned"), 1);
    assert_eq!(a.prune_shared().await.expect("pruned"), 0);
    clock.advance(TimeDelta::hours(1));
    assert_eq!(a.prune_shared().await.expect("pruned"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_allow_what_one_would_on_sqlite() {
    portcullis_storage_sql::testing::run_on_sqlite(true, two_processes_allow_what_one_would).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_allow_what_one_would_on_postgres() {
    portcullis_storage_sql::testing::run_on_postgres(true, two_processes_allow_what_one_would)
        .await;
}

/// Sixty attempts at once on one account, which allows a thousand: none is refused for the
/// contention (they take turns on the bucket) rather than for the limit.
async fn a_storm_on_one_account_within_its_limit_is_let_through(database: Database) {
    let clock = MockClock::default();
    let (a, b) = (process(&database, &clock), process(&database, &clock));
    let account = Some(portcullis_model::Ulid::new());
    let attempts: Vec<_> = (0..60)
        .map(|index| {
            let limiters = if index % 2 == 0 { a.clone() } else { b.clone() };
            // Each from its own address: only the account's bucket is fought over.
            let ip = Some(IpAddr::from([
                203,
                0,
                113,
                u8::try_from(index).unwrap_or(0),
            ]));
            tokio::spawn(async move { limiters.password_attempt(ip, account).await.is_ok() })
        })
        .collect();
    let mut allowed = 0;
    for attempt in attempts {
        allowed += usize::from(attempt.await.expect("an attempt ends"));
    }
    assert_eq!(allowed, 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_on_one_account_within_its_limit_is_let_through_on_postgres() {
    portcullis_storage_sql::testing::run_on_postgres(
        true,
        a_storm_on_one_account_within_its_limit_is_let_through,
    )
    .await;
}
