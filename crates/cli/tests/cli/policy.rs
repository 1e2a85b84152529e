//! Policies end to end, with the real server: an operator's own Rego changes the decisions, and
//! dynamic data pushed through the Admin API to one server process changes them on another
//! process sharing the PostgreSQL database.

use std::time::{Duration, Instant};

use crate::common::{Server, free_port, mas_cli, run, write_config};

const CLIENT_ID: &str = "01J5Z6K3QY8V0W9X2ABCDEFGH0";
const CLIENT_SECRET: &str = "a-client-secret";

fn client_yaml() -> String {
    format!(
        "clients:\n  - client_id: {CLIENT_ID}\n    client_auth_method: client_secret_post\n    client_secret: {CLIENT_SECRET}\n"
    )
}

/// The client credentials grant for `scope`: the token, or the OAuth error.
async fn client_credentials(server: &Server, scope: &str) -> Result<String, String> {
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", server.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("the token endpoint answers")
        .json()
        .await
        .expect("JSON");
    match answer["access_token"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => Err(format!(
            "{} {}",
            answer["error"], answer["error_description"]
        )),
    }
}

/// Registers `username` through the password form, as a browser would: the status of the answer
/// and the page.
async fn register(server: &Server, username: &str) -> (reqwest::StatusCode, String) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let form = client
        .get(format!("{}/register/password", server.base))
        .send()
        .await
        .expect("the register page answers");
    let cookies = form
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let page = form.text().await.expect("a page");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form has a csrf field")
        .to_owned();
    let password = "correct horse battery staple";
    let answer = client
        .post(format!("{}/register/password", server.base))
        .header(reqwest::header::COOKIE, cookies)
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
            ("password_confirm", password),
        ])
        .send()
        .await
        .expect("the register form answers");
    let status = answer.status();
    (status, answer.text().await.unwrap_or_default())
}

const OPEN_REGISTRATION: &str = "account:\n  password_registration_enabled: true\n  password_registration_email_required: false\n";

#[tokio::test]
async fn an_operators_own_rego_bans_usernames_and_limits_a_clients_scopes() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let rules = dir.path().join("policy");
    std::fs::create_dir(&rules).expect("a policy folder");
    std::fs::write(
        rules.join("usernames.rego"),
        "package register\n\nimport rego.v1\n\n\
         violation contains {\"field\": \"username\", \"msg\": \"phone numbers are not usernames\"} if {\n\
         \tregex.match(`^tel-[0-9]+$`, input.username)\n}\n",
    )
    .expect("written");
    std::fs::write(
        rules.join("scopes.rego"),
        format!(
            "package authorization_grant\n\nimport rego.v1\n\n\
             violation contains {{\"msg\": sprintf(\"scope '%s' is not for this client\", [scope])}} if {{\n\
             \tinput.client.id == \"{CLIENT_ID}\"\n\
             \tsome scope in split(input.scope, \" \")\n\
             \tscope != \"openid\"\n}}\n"
        ),
    )
    .expect("written");
    // A test file is not loaded: it would refuse everything.
    std::fs::write(
        rules.join("usernames_test.rego"),
        "package register\n\nimport rego.v1\n\nviolation contains {\"msg\": \"a test\"} if true\n",
    )
    .expect("written");
    let port = free_port();
    let extra = format!(
        "{}{OPEN_REGISTRATION}policy:\n  rego_directory: \"{}\"\n",
        client_yaml(),
        rules.display()
    );
    write_config(
        dir.path(),
        port,
        &["human", "oauth", "discovery", "health"],
        &extra,
    );
    let checked = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(checked.status.success(), "{checked:?}");
    let server = Server::start(dir.path(), port, &["server"]).await;

    let (status, page) = register(&server, "tel-5551234").await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("Phone numbers are not usernames."), "{page}");
    // Past the policy, the next check asks the homeserver, which this test does not run.
    let (status, page) = register(&server, "telly").await;
    assert!(!page.contains("Phone numbers"), "{page}");
    assert!(
        page.contains("homeserver could not be reached"),
        "{status} {page}"
    );
    // The built-in rules still hold.
    let (status, _) = register(&server, "Telly").await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY);

    assert!(client_credentials(&server, "openid").await.is_ok());
    let refused = client_credentials(&server, "openid urn:mas:graphql:*")
        .await
        .expect_err("limited to openid");
    assert!(refused.contains("invalid_scope"), "{refused}");
    assert!(refused.contains("is not for this client"), "{refused}");
    let (status, _) = server.stop();
    assert!(status.success());
}

#[tokio::test]
async fn a_rego_syntax_error_is_reported_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let rules = dir.path().join("policy");
    std::fs::create_dir(&rules).expect("a policy folder");
    std::fs::write(
        rules.join("broken.rego"),
        "package register\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if {\n\tinput.username ==\n}\n",
    )
    .expect("written");
    let port = free_port();
    let extra = format!("policy:\n  rego_directory: \"{}\"\n", rules.display());
    write_config(dir.path(), port, &["health"], &extra);
    let checked = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(!checked.status.success());
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    assert!(output.contains("policy.rego_directory"), "{output}");
    assert!(output.contains("broken.rego:7"), "{output}");
}

#[tokio::test]
async fn dynamic_data_pushed_to_one_server_reaches_the_other_within_a_minute() {
    let Some((uri, name)) = portcullis_storage_sql::testing::create_postgres_database().await
    else {
        return;
    };
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a temp dir"),
        tempfile::tempdir().expect("a temp dir"),
    );
    let (port_a, port_b) = (free_port(), free_port());
    let extra = format!(
        "database:\n  uri: \"{uri}\"\n{}policy:\n  data:\n    admin_clients: [\"{CLIENT_ID}\"]\n",
        client_yaml()
    );
    let resources = ["oauth", "adminapi", "discovery", "health"];
    write_config(dir_a.path(), port_a, &resources, &extra);
    write_config(dir_b.path(), port_b, &resources, &extra);
    run(mas_cli(dir_a.path()).args(["database", "migrate"]));
    let server_a = Server::start(dir_a.path(), port_a, &["server"]).await;
    let server_b = Server::start(dir_b.path(), port_b, &["server", "--no-migrate"]).await;

    // Both let the client have the admin scope, as the configuration says.
    let admin = client_credentials(&server_a, "urn:mas:admin")
        .await
        .expect("an admin client");
    assert!(client_credentials(&server_b, "urn:mas:admin").await.is_ok());

    let http = reqwest::Client::new();
    // Data the policy cannot use is refused, and nothing changes.
    let refused = http
        .post(format!("{}/api/admin/v1/policy-data", server_a.base))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"data": {"registration": {"banned_usernames": {"regexes": 3}}}}))
        .send()
        .await
        .expect("the Admin API answers");
    assert_eq!(refused.status(), reqwest::StatusCode::BAD_REQUEST);

    let pushed = http
        .post(format!("{}/api/admin/v1/policy-data", server_a.base))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"data": {"admin_clients": []}}))
        .send()
        .await
        .expect("the Admin API answers");
    assert_eq!(pushed.status(), reqwest::StatusCode::CREATED);

    // The server that stored it uses it at once.
    assert!(
        client_credentials(&server_a, "urn:mas:admin")
            .await
            .is_err()
    );
    // The other within a minute.
    let started = Instant::now();
    loop {
        match client_credentials(&server_b, "urn:mas:admin").await {
            Err(error) => {
                assert!(error.contains("invalid_scope"), "{error}");
                break;
            }
            Ok(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "the second server still uses the old data after a minute"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    drop(server_a);
    drop(server_b);
    portcullis_storage_sql::testing::drop_postgres_database(&name).await;
}
