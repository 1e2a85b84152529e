//! How long one decision takes: every entry point of the built-in policy, evaluated many times
//! with a realistic `policy.data`, reporting the median and the 99th percentile. Run by
//! `bench/policy.sh` (a release build); the numbers are in `docs/performance.md`.

use std::time::{Duration, Instant};

use portcullis_policy::{
    AuthorizationGrantInput, ClientInput, CompatLogin, CompatLoginInput, EmailInput, GrantType,
    PolicyLoader, RegisterInput, RegistrationMethod, Requester, SessionCounts, UserInput,
};
use serde_json::json;

const ROUNDS: usize = 20_000;

fn measure(name: &str, mut decide: impl FnMut() -> bool) {
    // Warm up, and check the decision is the expected one.
    assert!(decide(), "{name}: unexpected verdict");
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(decide());
            start.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    println!(
        "{name:<22} p50 {:>7.1} µs   p99 {:>7.1} µs   max {:>8.1} µs",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        at(1.0).as_secs_f64() * 1e6,
    );
}

fn main() {
    let mut base = serde_json::Map::new();
    base.insert("server_name".into(), json!("example.com"));
    base.insert(
        "session_limit".into(),
        json!({"soft_limit": 5, "hard_limit": 10}),
    );
    let data = json!({
        "admin_users": ["alice", "root"],
        "admin_clients": ["01JADMINCLIENT0000000000000"],
        "registration": {"banned_usernames": {
            "literals": ["admin", "root", "support"],
            "substrings": ["matrix", "element"],
            "regexes": ["^support-[0-9]+$", "^[0-9]{7,}$"],
            "prefixes": ["sys-"],
            "suffixes": ["-staff"],
        }},
        "banned_domains": ["*.spam.example", "mailinator.com"],
        "emails": {"banned_addresses": {"literals": ["ceo@example.com"]}},
        "requester": {
            "banned_ips": ["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"],
            "banned_user_agents": {"substrings": ["BadBot/"]},
        },
    });
    let policy = PolicyLoader::builtin(base, data)
        .and_then(|loader| loader.instantiate(None))
        .expect("the built-in policy loads");
    let requester = Requester {
        ip_address: Some("203.0.113.9".to_owned()),
        user_agent: Some("Element X/25.1 (Android)".to_owned()),
    };
    let user = || UserInput {
        id: "01JUSER000000000000000000".to_owned(),
        username: "bob",
        can_request_admin: false,
    };

    measure("register", || {
        policy
            .evaluate_register(&RegisterInput {
                registration_method: RegistrationMethod::Password,
                username: "bob",
                email: Some("bob@example.org"),
                requester: &requester,
            })
            .is_ok_and(|verdict| verdict.is_allowed())
    });
    measure("email", || {
        policy
            .evaluate_email(&EmailInput {
                email: "bob@example.org",
                requester: &requester,
            })
            .is_ok_and(|verdict| verdict.is_allowed())
    });
    measure("authorization_grant", || {
        policy
            .evaluate_authorization_grant(&AuthorizationGrantInput {
                user: Some(user()),
                session_counts: Some(SessionCounts::new(2, 1, 0)),
                client: ClientInput {
                    id: "01JCLIENT00000000000000000",
                    client_id: "01JCLIENT00000000000000000",
                },
                scope: "openid urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGHIJ"
                    .to_owned(),
                grant_type: GrantType::AuthorizationCode,
                requester: &requester,
            })
            .is_ok_and(|verdict| verdict.is_allowed())
    });
    measure("compat_login", || {
        policy
            .evaluate_compat_login(&CompatLoginInput {
                user: user(),
                session_counts: SessionCounts::new(2, 1, 0),
                session_replaced: false,
                login: CompatLogin::Password,
                is_interactive: false,
                requester: &requester,
            })
            .is_ok_and(|verdict| verdict.is_allowed())
    });
}
