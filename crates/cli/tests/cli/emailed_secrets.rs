//! What is sent by email is used once, even at two server processes sharing one PostgreSQL
//! database at once: the code that verifies an address, the link of a password recovery. Each
//! round, one process wins and the other is refused, in 100 rounds out of 100. (Registration
//! tokens, which need the homeserver, race in `synapse.rs`.)

use std::path::Path;

use crate::{
    common::{Server, mas_cli},
    synapse::{CookieJar, PASSWORD, csrf_field, get_page, post_page},
    two_servers::two_deployments,
};

const ROUNDS: u32 = 100;

/// Two servers of the people's pages on a fresh PostgreSQL database, the limits meant for
/// people lifted (every request comes from one address), emails written as files into a
/// mailbox, with `alice` registered (password [`PASSWORD`], and `register`'s arguments).
struct People {
    servers: [Server; 2],
    mailbox: tempfile::TempDir,
    _dirs: [tempfile::TempDir; 2],
    uri: String,
    database: String,
}

impl People {
    /// `account` is the `account` section's entries; `None` without PostgreSQL.
    async fn start(account: &str, register: &[&str]) -> Option<Self> {
        let (uri, database) = portcullis_storage_sql::testing::create_postgres_database().await?;
        let mailbox = tempfile::tempdir().expect("a temp dir");
        let sendmail = mailbox.path().join("sendmail");
        std::fs::write(
            &sendmail,
            format!(
                "#!/bin/sh\ncat > \"{}/$(date +%s%N)-$$.eml\"\n",
                mailbox.path().display()
            ),
        )
        .expect("written");
        run_chmod(&sendmail);
        let lifted = "{burst: 100000, per_second: 100000}";
        let (dirs, ports) = two_deployments(&uri, |yaml| {
            yaml.replace(
                "        - name: oauth\n",
                "        - name: oauth\n        - name: human\n",
            ) + &format!(
                "account:\n{account}\
                 email:\n  transport: sendmail\n  command: \"{}\"\n  from: '\"Auth\" <auth@example.com>'\n  reply_to: '\"Auth\" <auth@example.com>'\n\
                 rate_limiting:\n  registration: {lifted}\n  login: {{per_ip: {lifted}, per_account: {lifted}}}\n  \
                 account_recovery: {{per_ip: {lifted}, per_address: {lifted}}}\n  \
                 email_authentication: {{per_ip: {lifted}, per_address: {lifted}, emails_per_session: {lifted}, attempt_per_session: {lifted}}}\n",
                sendmail.display()
            )
        });
        let start = |dir: &Path, port: u16, args: &[&str]| {
            let mut command = mas_cli(dir);
            // Warnings only: the pipes of a chatty server would fill up over 100 rounds.
            command.env("RUST_LOG", "warn").args(args);
            Server::start_command(command, port)
        };
        let servers = [
            start(dirs[0].path(), ports[0], &["server"]).await,
            start(dirs[1].path(), ports[1], &["server", "--no-migrate"]).await,
        ];
        let registered = crate::common::run(
            mas_cli(dirs[0].path())
                .args(["manage", "register-user", "alice", "-p", PASSWORD, "--yes"])
                .args(register),
        );
        assert!(registered.status.success());
        Some(Self {
            servers,
            mailbox,
            _dirs: dirs,
            uri,
            database,
        })
    }

    /// Stops the servers and drops the database.
    async fn finish(self) {
        let database = self.database.clone();
        drop(self);
        portcullis_storage_sql::testing::drop_postgres_database(&database).await;
    }
}

fn run_chmod(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

/// POSTs `form` with `cookies` (a `Cookie` header): the status and the `Location`, if any.
async fn submit(
    client: &reqwest::Client,
    cookies: String,
    url: String,
    form: Vec<(&'static str, String)>,
) -> (u16, String) {
    let response = client
        .post(url)
        .header(reqwest::header::COOKIE, cookies)
        .form(&form)
        .send()
        .await
        .expect("the form answers");
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.status().as_u16(), location)
}

/// The emails to `to` in `mailbox` so far, oldest first, their soft line breaks and `=3D` of
/// quoted-printable undone.
fn emails_to(mailbox: &Path, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(mailbox)
        .expect("the mailbox")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| {
            text.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "=")
        })
        .filter(|text| {
            text.lines()
                .any(|line| line.starts_with("To:") && line.contains(to))
        })
        .collect()
}

/// Waits (bounded) for the `n`th email to `to`, then returns it.
async fn nth_email(mailbox: &Path, to: &str, n: usize) -> String {
    for _ in 0..200 {
        if let Some(email) = emails_to(mailbox, to).into_iter().nth(n) {
            return email;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no email number {n} to {to} within 10 s");
}

/// The six-digit code of a verification email (its subject says it).
fn code_in(email: &str) -> String {
    let subject = email
        .lines()
        .find(|line| line.starts_with("Subject:"))
        .expect("a subject");
    let code: String = subject.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(code.len(), 6, "{subject}");
    code
}

/// The path and query of the link in a recovery email.
fn recovery_link_in(email: &str) -> String {
    let start = email
        .find("/recover/complete?ticket=")
        .expect("a recovery link");
    let rest = &email[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
        .unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// Exactly one of two answers is the winner's: `won(answer)` for one, not for the other, and
/// neither a server error.
fn one_winner(answers: &[(u16, String); 2], won: impl Fn(&(u16, String)) -> bool, round: u32) {
    assert!(
        answers.iter().all(|(status, _)| *status < 500),
        "round {round}: {answers:?}"
    );
    let winners = answers.iter().filter(|answer| won(answer)).count();
    assert_eq!(winners, 1, "round {round}: {answers:?}");
}

#[tokio::test]
async fn an_email_code_sent_at_both_processes_at_once_adds_the_address_once_every_round() {
    let Some(people) = People::start("  email_change_allowed: true\n", &[]).await else {
        return;
    };
    let (servers, mailbox) = (&people.servers, &people.mailbox);
    let client = client();
    let mut jar = CookieJar::default();
    let login = get_page(&client, &mut jar, format!("{}/login", servers[0].base)).await;
    let status = post_page(
        &client,
        &mut jar,
        format!("{}/login", servers[0].base),
        &[
            ("csrf", &csrf_field(&login)),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 303, "signed in");

    for round in 0..ROUNDS {
        let address = format!("alice{round}@example.com");
        let account = get_page(&client, &mut jar, format!("{}/account/", servers[0].base)).await;
        let csrf = csrf_field(&account);
        let (status, verify) = submit(
            &client,
            jar.header(),
            format!("{}/account/emails", servers[0].base),
            vec![("csrf", csrf.clone()), ("email", address.clone())],
        )
        .await;
        assert_eq!(status, 303, "round {round}: the code is sent");
        let verify = url::Url::parse(&verify).map_or(verify, |url| url.path().to_owned());
        let code = code_in(&nth_email(mailbox.path(), &address, 0).await);

        // The same browser sends the code to both processes at once (a double submit
        // spread by the load balancer).
        let send = |server: &Server| {
            let form = vec![("csrf", csrf.clone()), ("code", code.clone())];
            submit(
                &client,
                jar.header(),
                format!("{}{verify}", server.base),
                form,
            )
        };
        let answers = tokio::join!(send(&servers[0]), send(&servers[1]));
        one_winner(
            &answers.into(),
            |(status, location)| *status == 303 && location.contains("email_added"),
            round,
        );
    }

    let database = portcullis_storage_sql::testing::connect_postgres(&people.uri).await;
    let pool = database.postgres_pool().expect("PostgreSQL");
    let (addresses, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT lower(email)) FROM user_emails")
            .fetch_one(pool)
            .await
            .expect("counted");
    assert_eq!(
        (addresses, distinct),
        (i64::from(ROUNDS), i64::from(ROUNDS))
    );

    database.close().await;
    people.finish().await;
}

#[tokio::test]
async fn a_recovery_link_used_at_both_processes_at_once_sets_one_password_every_round() {
    let Some(people) = People::start(
        "  password_recovery_enabled: true\n",
        &["-e", "alice@example.com"],
    )
    .await
    else {
        return;
    };
    let (servers, mailbox) = (&people.servers, &people.mailbox);
    let client = client();
    let mut last_passwords = None;

    for round in 0..ROUNDS {
        let mut asker = CookieJar::default();
        let url = format!("{}/recover", servers[0].base);
        let form = get_page(&client, &mut asker, url.clone()).await;
        let status = post_page(
            &client,
            &mut asker,
            url,
            &[("csrf", &csrf_field(&form)), ("email", "alice@example.com")],
        )
        .await;
        assert!(status < 400, "round {round}: asked ({status})");
        let round_index = usize::try_from(round).expect("small");
        let link =
            recovery_link_in(&nth_email(mailbox.path(), "alice@example.com", round_index).await);

        // Two tabs, one on each process, each setting its own new password at once.
        let mut forms = Vec::new();
        for server in servers {
            let mut jar = CookieJar::default();
            let url = format!("{}{link}", server.base);
            let page = get_page(&client, &mut jar, url.clone()).await;
            forms.push((jar, url, csrf_field(&page)));
        }
        let ticket = link
            .split_once("ticket=")
            .map(|(_, ticket)| ticket.to_owned())
            .expect("a ticket");
        let passwords = [
            format!("{PASSWORD} round {round} first"),
            format!("{PASSWORD} round {round} second"),
        ];
        let send = |(jar, url, csrf): &(CookieJar, String, String), password: &String| {
            let form = vec![
                ("csrf", csrf.clone()),
                ("ticket", ticket.clone()),
                ("new_password", password.clone()),
                ("new_password_confirm", password.clone()),
            ];
            submit(&client, jar.header(), url.clone(), form)
        };
        let answers: [(u16, String); 2] = tokio::join!(
            send(&forms[0], &passwords[0]),
            send(&forms[1], &passwords[1])
        )
        .into();
        one_winner(&answers, |(status, _)| *status == 303, round);
        let winner = usize::from(answers[0].0 != 303);
        last_passwords = Some((passwords[winner].clone(), passwords[1 - winner].clone()));
    }

    // The password of the last round's winner is the one that signs in.
    let (won, lost) = last_passwords.expect("rounds ran");
    for (password, expected) in [(lost, 401), (won, 303)] {
        let mut jar = CookieJar::default();
        let url = format!("{}/login", servers[1].base);
        let login = get_page(&client, &mut jar, url.clone()).await;
        let (status, _) = submit(
            &client,
            jar.header(),
            url,
            vec![
                ("csrf", csrf_field(&login)),
                ("username", "alice".to_owned()),
                ("password", password.clone()),
            ],
        )
        .await;
        assert_eq!(status, expected, "{password}");
    }

    people.finish().await;
}
