//! `mas-cli manage register-user`: creates a user with, optionally, a password, verified email
//! addresses, accounts at upstream providers (`-m PROVIDER:SUBJECT`, as MAS) and the right to
//! request admin access, all in one transaction.
//!
//! Interactive by default: what the flags leave out (username, password, admin) is asked for,
//! then a summary is confirmed (each answer a whole line). With `--yes`, or when standard input
//! is not a terminal, nothing is ever asked, so scripts cannot hang on a prompt; without a
//! terminal, a user without a password needs `--yes`. The user is provisioned on the
//! homeserver before the command returns.

use std::{io::IsTerminal as _, process::ExitCode};

use anyhow::Context as _;
use portcullis_model::{Localpart, UserEmail};
use portcullis_passwords::PasswordManager;
use portcullis_services::{
    account::{self, CreateAccountError, HashedPassword, NewAccount},
    jobs::provision_user::ProvisionUser,
    upstream_links::{self, Linked},
};
use zeroize::Zeroizing;

use super::{Context, check_email};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The username (the localpart of the Matrix ID), or the full Matrix ID. Asked for when
    /// missing, unless --yes is given.
    username: Option<String>,

    /// The password. Asked for (hidden, twice) when missing, unless --yes is given; without
    /// it, the user has no password.
    #[arg(short, long)]
    password: Option<String>,

    /// An email address, stored as verified. Repeat to add several.
    #[arg(short = 'e', long = "email", value_name = "EMAIL")]
    emails: Vec<String>,

    /// Allow the user to request admin access.
    #[arg(short = 'a', long, conflicts_with = "no_admin")]
    admin: bool,

    /// Do not allow the user to request admin access (the default with --yes).
    #[arg(short = 'A', long)]
    no_admin: bool,

    /// The user's display name, for the homeserver.
    #[arg(short, long)]
    display_name: Option<String>,

    /// An account at an upstream provider to link, as `PROVIDER:SUBJECT` (the provider's `id`
    /// in `upstream_oauth2.providers`, and the account's subject there, by default its `sub`).
    /// Repeat to link several.
    #[arg(short = 'm', long = "upstream-provider-mapping", value_name = "PROVIDER:SUBJECT", value_parser = parse_mapping)]
    upstream_provider_mappings: Vec<Mapping>,

    /// Do not ask anything: fail if the username is missing, create without confirmation.
    #[arg(short, long)]
    yes: bool,

    /// Accept a password below `passwords.minimum_complexity`.
    #[arg(long)]
    ignore_password_complexity: bool,
}

/// An account at an upstream provider to link.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    provider: String,
    subject: String,
}

/// `PROVIDER:SUBJECT`, split at the first colon (a subject may hold colons).
fn parse_mapping(value: &str) -> Result<Mapping, String> {
    match value.split_once(':') {
        Some((provider, subject)) if !provider.is_empty() && !subject.is_empty() => Ok(Mapping {
            provider: provider.to_owned(),
            subject: subject.to_owned(),
        }),
        _ => Err(format!(
            "{value:?} is not PROVIDER:SUBJECT (a provider id, a colon, the account's subject at it)"
        )),
    }
}

/// Everything the new user will have, once gathered and checked.
struct Plan {
    localpart: Localpart,
    password: Option<Zeroizing<String>>,
    emails: Vec<String>,
    admin: bool,
    display_name: Option<String>,
    mappings: Vec<Mapping>,
}

pub async fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let interactive = !args.yes && std::io::stdin().is_terminal();
    let passwords = context.passwords()?;
    if args.password.is_some() && !passwords.is_enabled() {
        anyhow::bail!(
            "passwords are disabled in the configuration (passwords.enabled: false): drop --password"
        );
    }
    // Without a terminal nothing can be asked: an account without a password must be asked
    // for explicitly, or a script would make one nobody can sign in to.
    if !args.yes && !interactive && args.password.is_none() && passwords.is_enabled() {
        anyhow::bail!(
            "standard input is not a terminal, so no password can be asked for: pass it with --password, or pass --yes to create the user without a password (for a user who signs in at an upstream provider, or gets one later with `mas-cli manage set-password`)"
        );
    }

    let localpart = choose_localpart(context, args.username.as_deref(), interactive).await?;
    let emails = check_emails(context, &args.emails).await?;
    check_mappings(context, &args.upstream_provider_mappings).await?;
    let password = choose_password(
        &passwords,
        args.password,
        &localpart,
        &emails,
        interactive,
        args.ignore_password_complexity,
    )
    .await?;
    let admin = if args.admin {
        true
    } else if args.no_admin || !interactive {
        false
    } else {
        ask(|| {
            dialoguer::Confirm::new()
                .with_prompt("Allow this user to request admin access?")
                .default(false)
                .wait_for_newline(true)
                .interact()
        })
        .await?
    };

    let plan = Plan {
        localpart,
        password,
        emails,
        admin,
        display_name: args.display_name,
        mappings: args.upstream_provider_mappings,
    };
    if interactive {
        eprint!("{}", summary(context, &plan));
        let confirmed = ask(|| {
            dialoguer::Confirm::new()
                .with_prompt("Create this user?")
                .default(false)
                .wait_for_newline(true)
                .interact()
        })
        .await?;
        if !confirmed {
            eprintln!("cancelled: no user was created");
            return Ok(ExitCode::FAILURE);
        }
    }

    create(context, &passwords, plan).await?;
    Ok(ExitCode::SUCCESS)
}

/// The username from the argument, or asked for until a free and valid one is given.
async fn choose_localpart(
    context: &Context,
    given: Option<&str>,
    interactive: bool,
) -> anyhow::Result<Localpart> {
    let server_name = context.server_name().to_owned();
    loop {
        let localpart = match given {
            Some(input) => Localpart::parse(input, &server_name)?,
            None if interactive => {
                let prompt_server_name = server_name.clone();
                let input = ask(move || {
                    dialoguer::Input::<String>::new()
                        .with_prompt("Username")
                        .validate_with(|input: &String| {
                            Localpart::parse(input, &prompt_server_name).map(drop)
                        })
                        .interact_text()
                })
                .await?;
                Localpart::parse(&input, &server_name)?
            }
            None => anyhow::bail!(
                "no username given: pass it as the first argument, e.g. `mas-cli manage register-user alice` ({})",
                if std::io::stdin().is_terminal() {
                    "--yes never asks"
                } else {
                    "standard input is not a terminal, so it cannot be asked for"
                }
            ),
        };

        let mut repo = context.transaction().await?;
        let taken = repo
            .users()
            .find_by_username(localpart.as_str())
            .await?
            .is_some();
        repo.rollback().await?;
        if !taken {
            return Ok(localpart);
        }
        let message = format!(
            "the username {localpart} is already taken: {} exists",
            localpart.mxid(&server_name)
        );
        if given.is_some() {
            anyhow::bail!(message);
        }
        eprintln!("{message}; choose another");
    }
}

/// The addresses, each well formed, given once, and nobody's yet.
async fn check_emails(context: &Context, emails: &[String]) -> anyhow::Result<Vec<String>> {
    let mut seen = Vec::new();
    let mut repo = context.transaction().await?;
    for email in emails {
        check_email(email)?;
        let normalized = UserEmail::normalize(email);
        anyhow::ensure!(
            !seen.contains(&normalized),
            "the address {email} is given twice"
        );
        seen.push(normalized);
        if let Some(existing) = repo.user_emails().find_by_email(email).await? {
            let owner = repo.users().find_by_id(existing.user_id).await?;
            let owner =
                owner.map_or_else(|| "another user".to_owned(), |o| context.mxid(&o.username));
            anyhow::bail!("the address {email} is already used by {owner}");
        }
    }
    repo.rollback().await?;
    Ok(emails.to_vec())
}

/// The password from the flag, or asked for; checked against the minimum complexity unless
/// told otherwise.
async fn choose_password(
    passwords: &PasswordManager,
    given: Option<String>,
    localpart: &Localpart,
    emails: &[String],
    interactive: bool,
    ignore_complexity: bool,
) -> anyhow::Result<Option<Zeroizing<String>>> {
    // zxcvbn counts a password built on these as weak: they are what an attacker tries first.
    let mut user_inputs: Vec<String> = vec![localpart.as_str().to_owned()];
    user_inputs.extend(emails.iter().cloned());

    if let Some(password) = given {
        let password = Zeroizing::new(password);
        if !ignore_complexity {
            let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
            passwords
                .check_complexity(&password, &inputs)
                .map_err(|weak| {
                    anyhow::anyhow!("{weak} Pass --ignore-password-complexity to use it anyway.")
                })?;
        }
        return Ok(Some(password));
    }
    if !interactive || !passwords.is_enabled() {
        return Ok(None);
    }

    let passwords = passwords.clone();
    let password = ask(move || {
        dialoguer::Password::new()
            .with_prompt("Password (leave empty for none)")
            .with_confirmation("Password again", "the passwords differ")
            .allow_empty_password(true)
            .validate_with(move |password: &String| {
                if password.is_empty() || ignore_complexity {
                    return Ok(());
                }
                let inputs: Vec<&str> = user_inputs.iter().map(String::as_str).collect();
                passwords.check_complexity(password, &inputs)
            })
            .interact()
    })
    .await?;
    Ok((!password.is_empty()).then(|| Zeroizing::new(password)))
}

fn summary(context: &Context, plan: &Plan) -> String {
    let none = "(none)".to_owned();
    let emails = if plan.emails.is_empty() {
        none.clone()
    } else {
        plan.emails.join(", ")
    };
    let mappings = if plan.mappings.is_empty() {
        none.clone()
    } else {
        plan.mappings
            .iter()
            .map(|mapping| format!("{:?} at {}", mapping.subject, mapping.provider))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "\nAbout to create:\n  user:         {}\n  password:     {}\n  emails:       {emails}\n  admin:        {}\n  display name: {}\n  linked to:    {mappings}\n\n",
        plan.localpart.mxid(context.server_name()),
        if plan.password.is_some() {
            "set"
        } else {
            "none"
        },
        if plan.admin { "yes" } else { "no" },
        plan.display_name.as_ref().unwrap_or(&none),
    )
}

/// Writes the user, password, addresses and admin flag in one transaction: either all of
/// them exist afterwards, or none.
async fn create(context: &Context, passwords: &PasswordManager, plan: Plan) -> anyhow::Result<()> {
    let server_name = context.server_name();
    let mxid = plan.localpart.mxid(server_name);

    // Hashed before the transaction: on SQLite it holds the write lock, which the server needs
    // too.
    let password = match plan.password {
        Some(password) => {
            let (version, hash) = passwords.hash(password).await?;
            Some(HashedPassword { version, hash })
        }
        None => None,
    };
    let has_password = password.is_some();
    let account = NewAccount {
        username: plan.localpart.as_str(),
        password,
        emails: &plan.emails,
        display_name: plan.display_name.clone(),
        can_request_admin: plan.admin,
        registration_token: None,
    };

    let now = context.now();
    let mut repo = context.transaction().await?;
    let user = match account::create_user(&mut *repo, &account, now).await {
        Ok(user) => user,
        // Someone took the name or the address since they were checked.
        Err(CreateAccountError::UsernameTaken) => {
            anyhow::bail!(
                "the username {} is already taken: {mxid} exists",
                plan.localpart
            )
        }
        Err(error @ CreateAccountError::EmailTaken(_)) => anyhow::bail!("{error}"),
        Err(error) => return Err(error).context("cannot create the user"),
    };
    for mapping in &plan.mappings {
        let provider = repo
            .upstream_providers()
            .find(&mapping.provider)
            .await?
            .with_context(|| unknown_provider(&mapping.provider))?;
        let linked =
            upstream_links::link(&mut *repo, &provider, &mapping.subject, None, &user, now).await?;
        if let Linked::AlreadyLinked(link) = linked {
            // Dropped uncommitted: no user either.
            anyhow::bail!(
                "{:?} at {} was linked to another user meanwhile (link {}): no user was created",
                link.subject,
                link.provider_id,
                link.id
            );
        }
    }
    repo.commit().await.context("cannot create the user")?;

    println!("created user {mxid}");
    if !has_password && passwords.is_enabled() {
        eprintln!(
            "note: {mxid} has no password: it signs in at an upstream provider, or gets one with `mas-cli manage set-password {}`",
            plan.localpart
        );
    }
    // Provisioned now, so that the next command can use the user on the homeserver at once
    // (the queued job runs too, later, and changes nothing).
    let job = ProvisionUser::new(user.id).with_display_name(plan.display_name);
    if let Err(error) = provision_now(context, &job).await {
        eprintln!(
            "warning: the homeserver does not know {mxid} yet ({error:#}); the server's worker will provision it when it can"
        );
    }
    Ok(())
}

/// Sends the homeserver what the `provision-user` job would.
async fn provision_now(context: &Context, job: &ProvisionUser) -> anyhow::Result<()> {
    let homeserver = context.homeserver()?;
    let mut repo = context.transaction().await?;
    let found = job.request(&mut *repo).await?;
    repo.rollback().await?;
    if let Some((_, request)) = found {
        homeserver.provision_user(&request).await?;
    }
    Ok(())
}

fn unknown_provider(id: &str) -> String {
    format!(
        "there is no upstream provider {id:?}: use an `id` of `upstream_oauth2.providers` (written to the database by `mas-cli config sync` or at server start)"
    )
}

/// Each mapping's provider exists and its account is linked to nobody yet.
async fn check_mappings(context: &Context, mappings: &[Mapping]) -> anyhow::Result<()> {
    let mut repo = context.transaction().await?;
    for mapping in mappings {
        repo.upstream_providers()
            .find(&mapping.provider)
            .await?
            .with_context(|| unknown_provider(&mapping.provider))?;
        let existing = repo
            .upstream_links()
            .find_by_subject(&mapping.provider, &mapping.subject)
            .await?;
        if let Some(link) = existing.filter(|link| link.user_id.is_some()) {
            anyhow::bail!(
                "{:?} at {} is already linked to another user (link {}); remove that link first with `mas-cli manage remove-upstream-link {}`",
                link.subject,
                link.provider_id,
                link.id,
                link.id
            );
        }
    }
    repo.rollback().await?;
    Ok(())
}

/// Runs a blocking prompt off the async threads.
async fn ask<T, F>(prompt: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> dialoguer::Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(prompt)
        .await
        .context("the prompt failed")?
        .context("cannot read the answer")
}
