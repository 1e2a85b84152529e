//! What a completed upstream sign-in does when the provider's account is linked to nobody:
//! registering a new user from the provider's claims (MAS's `claims_imports`), linking the
//! account to an existing user whose username the provider gives (`on_conflict`), or to the
//! user who is signed in already.
//!
//! The claims propose; the visitor confirms on a page (unless `skip_confirmation`), choosing
//! a username when the provider fixes none and whether to keep what is only suggested. The
//! account, its link and the use of the attempt are then written in one unit of work, so an
//! attempt registers or links at most once.

use chrono::{DateTime, Utc};
use portcullis_config::SecondFactorRequirement;
use portcullis_config::sections::upstream_oauth2::{
    ImportAction, OnConflict, ProviderConfig, SetEmailVerification,
};
use portcullis_model::{
    AuthenticationKind, BrowserSession, Localpart, LocalpartError, UpstreamAuthorizationSession,
    User,
};
use portcullis_oidc_client::template::{self, TemplateError};
use portcullis_storage::{Repository, StorageError};
use serde_json::Value;

use crate::{
    account::{NewAccount, TokenUse},
    registration::{self, Checked, Circumstances, Conflict, Problem, Requirements},
};

const DEFAULT_LOCALPART_TEMPLATE: &str = "{{ user.preferred_username }}";
const DEFAULT_DISPLAY_NAME_TEMPLATE: &str = "{{ user.name }}";
const DEFAULT_EMAIL_TEMPLATE: &str = "{{ user.email }}";

/// A value the provider's claims give for the new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub value: String,
    /// Only suggested (`action: suggest`): the visitor may leave it out.
    pub optional: bool,
}

/// What the provider's claims propose for the new account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The username, when the provider decides it (`force` with a value, `require`).
    pub localpart: Option<Localpart>,
    /// The username to offer in the field, when the visitor chooses it (`suggest`).
    pub suggested_username: Option<String>,
    pub display_name: Option<Imported>,
    /// An address the provider vouches for (see [`email_is_vouched_for`]).
    pub email: Option<Imported>,
    /// An address the provider gave without vouching for it: not imported, only mentioned.
    pub unvouched_email: Option<String>,
    /// What to do when the username is a user's already.
    pub on_conflict: OnConflict,
    /// The configuration asks to go ahead without the confirmation page.
    pub skip_confirmation: bool,
}

/// Why the provider's claims cannot make an account.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("a claims template: {0}")]
    Template(#[from] TemplateError),
    #[error("the provider gave no {0}, which this server's configuration requires")]
    Missing(&'static str),
    #[error("the username `{value}` that the provider gave cannot be used: {error}")]
    InvalidLocalpart {
        value: String,
        error: LocalpartError,
    },
    #[error("the display name that the provider gave cannot be used")]
    InvalidDisplayName,
    #[error("the email address `{0}` that the provider gave is not a valid address")]
    InvalidEmail(String),
    #[error("the provider has not verified the email address `{0}`, which this server requires")]
    UnverifiedEmail(String),
}

/// The claims the provider's answer holds, as the templates see them.
#[must_use]
pub fn claims_context(attempt: &UpstreamAuthorizationSession) -> Value {
    let object = |value: &Option<Value>| {
        value
            .as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    template::claims_context(
        &object(&attempt.id_token_claims),
        &object(&attempt.userinfo_claims),
        &object(&attempt.extra_callback_parameters),
    )
}

/// Whether the address may be imported as one of the account's (verified) addresses:
/// `set_email_verification: always` says yes, `never` no, and by default (`import`) the
/// provider must mark it verified (`email_verified: true`).
#[must_use]
pub fn email_is_vouched_for(config: &ProviderConfig, context: &Value) -> bool {
    match config.claims_imports.email.set_email_verification {
        Some(SetEmailVerification::Always) => true,
        Some(SetEmailVerification::Never) => false,
        Some(SetEmailVerification::Import) | None => {
            match context.pointer("/user/email_verified") {
                Some(Value::Bool(verified)) => *verified,
                // Some providers send it as a string.
                Some(Value::String(verified)) => verified.eq_ignore_ascii_case("true"),
                _ => false,
            }
        }
    }
}

/// One attribute rendered as its action says: `None` when ignored or absent.
fn import(
    action: ImportAction,
    template: Option<&str>,
    default: &str,
    context: &Value,
    name: &'static str,
) -> Result<Option<Imported>, ImportError> {
    if action == ImportAction::Ignore {
        return Ok(None);
    }
    let value = template::render(template.unwrap_or(default), context)?;
    match value {
        Some(value) => Ok(Some(Imported {
            value,
            optional: action == ImportAction::Suggest,
        })),
        None if action == ImportAction::Require => Err(ImportError::Missing(name)),
        None => Ok(None),
    }
}

/// What the claims of `attempt` propose for a new account on `server_name`.
///
/// # Errors
/// See [`ImportError`]: a broken template, a required value missing, or a value the provider
/// decides that cannot be used.
pub fn propose(
    config: &ProviderConfig,
    attempt: &UpstreamAuthorizationSession,
    server_name: &str,
) -> Result<Proposal, ImportError> {
    let imports = &config.claims_imports;
    let context = claims_context(attempt);

    let localpart_import = import(
        imports.localpart.action,
        imports.localpart.template.as_deref(),
        DEFAULT_LOCALPART_TEMPLATE,
        &context,
        "username",
    )?;
    let (localpart, suggested_username) = match localpart_import {
        Some(Imported {
            value,
            optional: true,
        }) => (None, Some(value)),
        Some(Imported { value, .. }) => match Localpart::parse(&value, server_name) {
            Ok(localpart) => (Some(localpart), None),
            Err(error) => return Err(ImportError::InvalidLocalpart { value, error }),
        },
        None => (None, None),
    };

    let display_name = import(
        imports.displayname.action,
        imports.displayname.template.as_deref(),
        DEFAULT_DISPLAY_NAME_TEMPLATE,
        &context,
        "display name",
    )?;
    let display_name = match display_name {
        Some(name) if registration::check_display_name(&name.value).is_err() => {
            if name.optional {
                None
            } else {
                return Err(ImportError::InvalidDisplayName);
            }
        }
        other => other,
    };

    let email = import(
        imports.email.action,
        imports.email.template.as_deref(),
        DEFAULT_EMAIL_TEMPLATE,
        &context,
        "email address",
    )?;
    let required = imports.email.action == ImportAction::Require;
    let (email, unvouched_email) = match email {
        None => (None, None),
        Some(email) => match portcullis_email::parse_address(&email.value) {
            Err(_) if required => return Err(ImportError::InvalidEmail(email.value)),
            Err(_) => (None, None),
            Ok(address) if email_is_vouched_for(config, &context) => (
                Some(Imported {
                    value: address.to_string(),
                    optional: email.optional,
                }),
                None,
            ),
            Ok(address) if required => {
                return Err(ImportError::UnverifiedEmail(address.to_string()));
            }
            Ok(address) => (None, Some(address.to_string())),
        },
    };

    Ok(Proposal {
        localpart,
        suggested_username,
        display_name,
        email,
        unvouched_email,
        on_conflict: imports.localpart.on_conflict,
        skip_confirmation: imports.skip_confirmation,
    })
}

/// What the visitor chose on the confirmation page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Choices<'a> {
    /// The username typed, used when the provider decides none.
    pub username: &'a str,
    /// Keep the suggested display name.
    pub display_name: bool,
    /// Keep the suggested address.
    pub email: bool,
    /// The registration token typed.
    pub token: &'a str,
    /// Whether the terms box was ticked.
    pub terms_accepted: bool,
}

impl Proposal {
    /// Whether the account can be made without asking the visitor anything: the
    /// configuration says so, the provider decides the username, nothing is only suggested,
    /// and neither terms nor a registration token are to be given.
    #[must_use]
    pub fn needs_no_confirmation(&self, requirements: &Requirements<'_>) -> bool {
        self.skip_confirmation
            && self.localpart.is_some()
            && !self.display_name.as_ref().is_some_and(|name| name.optional)
            && !self.email.as_ref().is_some_and(|email| email.optional)
            && !requirements.terms
            && !requirements.token
    }

    /// The choices that keep everything the provider gives, for [`Self::needs_no_confirmation`].
    #[must_use]
    pub fn accepted(&self) -> Choices<'static> {
        Choices {
            display_name: true,
            email: true,
            ..Choices::default()
        }
    }

    /// The new account as proposed and chosen.
    ///
    /// # Errors
    /// The first [`Problem`]: the username, the terms, the token.
    pub fn decide(
        &self,
        requirements: &Requirements<'_>,
        choices: &Choices<'_>,
    ) -> Result<Checked, Problem> {
        let localpart = match &self.localpart {
            Some(localpart) => localpart.clone(),
            None => Localpart::parse(choices.username.trim(), requirements.server_name)
                .map_err(Problem::Username)?,
        };
        let kept = |imported: &Option<Imported>, chosen: bool| {
            imported
                .as_ref()
                .filter(|imported| !imported.optional || chosen)
                .map(|imported| imported.value.clone())
        };
        if requirements.terms && !choices.terms_accepted {
            return Err(Problem::TermsNotAccepted);
        }
        let token = registration::required_token(requirements.token, choices.token)?;
        Ok(Checked {
            localpart,
            display_name: kept(&self.display_name, choices.display_name),
            token,
            email: kept(&self.email, choices.email),
        })
    }
}

/// Makes the account `checked` describes, links the attempt's upstream account to it and
/// signs the user in, in `repo`'s unit of work (which the caller rolls back on a conflict).
/// When a second factor comes first ([`Circumstances::second_factor_first`]) there is no
/// session yet: the attempt is left for the session the second step starts
/// ([`consume_after_second_factor`](crate::upstream_sign_in::consume_after_second_factor)).
///
/// # Errors
/// When storage fails.
pub async fn register(
    repo: &mut dyn Repository,
    attempt: &UpstreamAuthorizationSession,
    checked: &Checked,
    circumstances: Circumstances<'_>,
) -> Result<Result<(User, Option<BrowserSession>), Conflict>, StorageError> {
    let Some(link_id) = attempt.link_id else {
        return Ok(Err(Conflict::AlreadyFinished));
    };
    // Said first when it is known already; the conditional updates below decide a race.
    let stored = repo
        .upstream_authorization_sessions()
        .find(attempt.id)
        .await?;
    if stored.is_none_or(|stored| stored.consumed_at.is_some()) {
        return Ok(Err(Conflict::AlreadyFinished));
    }
    let emails: Vec<String> = checked.email.iter().cloned().collect();
    let account = NewAccount {
        username: checked.localpart.as_str(),
        emails: &emails,
        display_name: checked.display_name.clone(),
        registration_token: checked.token.as_deref().map(TokenUse::Value),
        ..NewAccount::default()
    };
    let (user, session) = match registration::create_signed_in(
        repo,
        &account,
        AuthenticationKind::Upstream,
        circumstances,
    )
    .await?
    {
        Ok(created) => created,
        Err(conflict) => return Ok(Err(conflict)),
    };
    if !claim(
        repo,
        attempt,
        link_id,
        &user,
        session.as_ref(),
        circumstances.now,
    )
    .await?
    {
        return Ok(Err(Conflict::AlreadyFinished));
    }
    Ok(Ok((user, session)))
}

/// Links the account to `user` and marks the attempt used by `session` (if one started);
/// `false` when another request did either first.
async fn claim(
    repo: &mut dyn Repository,
    attempt: &UpstreamAuthorizationSession,
    link_id: ulid::Ulid,
    user: &User,
    session: Option<&BrowserSession>,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    if repo.upstream_links().claim(link_id, user).await?.is_none() {
        return Ok(false);
    }
    let Some(session) = session else {
        return Ok(true);
    };
    Ok(repo
        .upstream_authorization_sessions()
        .consume(attempt.id, session.id, now)
        .await?
        .is_some())
}

/// The user the provider's username names, when it is one of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Nobody here has the username.
    Nobody,
    /// `on_conflict` lets the account be linked to this user.
    Linkable(User),
    /// The username is taken and `on_conflict: fail` (the default) forbids linking.
    Taken,
    /// `on_conflict: set`, and the user has an account at this provider already.
    LinkedAlready,
    /// The user is locked or deactivated.
    Unusable,
}

/// Whether the proposal's username is a user's already, and what `on_conflict` makes of it.
///
/// # Errors
/// When storage fails.
pub async fn existing_user(
    repo: &mut dyn Repository,
    provider_id: &str,
    localpart: &Localpart,
    on_conflict: OnConflict,
) -> Result<Existing, StorageError> {
    let Some(user) = repo.users().find_by_username(localpart.as_str()).await? else {
        return Ok(Existing::Nobody);
    };
    if user.locked_at.is_some() || user.deactivated_at.is_some() {
        return Ok(Existing::Unusable);
    }
    Ok(match on_conflict {
        OnConflict::Fail => Existing::Taken,
        OnConflict::Set if !links_at(repo, &user, provider_id).await?.is_empty() => {
            Existing::LinkedAlready
        }
        OnConflict::Add | OnConflict::Replace | OnConflict::Set => Existing::Linkable(user),
    })
}

/// The user's links at the provider.
async fn links_at(
    repo: &mut dyn Repository,
    user: &User,
    provider_id: &str,
) -> Result<Vec<portcullis_model::UpstreamLink>, StorageError> {
    let mut links = crate::upstream_links::linked_accounts(repo, user).await?;
    links.retain(|link| link.provider_id == provider_id);
    Ok(links)
}

/// Links the attempt's account to the existing `user` as `on_conflict` allows (with
/// `replace`, the user's other accounts at this provider are unlinked), and signs them in.
/// Checked again here: the user may have been locked, or linked, meanwhile.
///
/// A user with a second factor (or of whom `requirement` asks one) is not signed in by a
/// provider that does not vouch for several factors: the account is linked, no session starts,
/// and the attempt is left for the session the second step starts
/// ([`consume_after_second_factor`](crate::upstream_sign_in::consume_after_second_factor)).
///
/// # Errors
/// When storage fails.
pub async fn link_existing(
    repo: &mut dyn Repository,
    attempt: &UpstreamAuthorizationSession,
    user: &User,
    (on_conflict, requirement): (OnConflict, SecondFactorRequirement),
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(User, Option<BrowserSession>), Existing>, StorageError> {
    let Some(link_id) = attempt.link_id else {
        return Ok(Err(Existing::Nobody));
    };
    let Some(user) = repo.users().find_by_id(user.id).await? else {
        return Ok(Err(Existing::Nobody));
    };
    if user.locked_at.is_some() || user.deactivated_at.is_some() {
        return Ok(Err(Existing::Unusable));
    }
    let others = links_at(repo, &user, &attempt.provider_id).await?;
    match on_conflict {
        OnConflict::Fail => return Ok(Err(Existing::Taken)),
        OnConflict::Set if !others.is_empty() => return Ok(Err(Existing::LinkedAlready)),
        OnConflict::Replace => {
            for other in others {
                repo.upstream_links().remove(other.id).await?;
            }
        }
        OnConflict::Add | OnConflict::Set => {}
    }
    let second_factor_first = !crate::upstream_sign_in::vouches_for_second_factor(attempt)
        && (crate::second_factor::factors_of(repo, &user).await?.any()
            || crate::second_factor::required_for(requirement, &user));
    if second_factor_first {
        if !claim(repo, attempt, link_id, &user, None, now).await? {
            return Ok(Err(Existing::Nobody));
        }
        return Ok(Ok((user, None)));
    }
    let session = crate::sessions::start_browser_session(
        repo,
        &user,
        AuthenticationKind::Upstream,
        user_agent,
        now,
    )
    .await?;
    if !claim(repo, attempt, link_id, &user, Some(&session), now).await? {
        return Ok(Err(Existing::Nobody));
    }
    Ok(Ok((user, Some(session))))
}

/// Links the attempt's account to the signed-in `user`; the browser session counts as
/// freshly authenticated. `false` when the attempt was used, or the account linked, meanwhile.
///
/// # Errors
/// When storage fails.
pub async fn link_signed_in(
    repo: &mut dyn Repository,
    attempt: &UpstreamAuthorizationSession,
    user: &User,
    session: &BrowserSession,
    now: DateTime<Utc>,
) -> Result<bool, StorageError> {
    let Some(link_id) = attempt.link_id else {
        return Ok(false);
    };
    if !claim(repo, attempt, link_id, user, Some(session), now).await? {
        return Ok(false);
    }
    repo.browser_sessions()
        .authenticate(session, AuthenticationKind::Upstream, now)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    /// The homelab guide's Pocket ID block, with `extra` merged into its `claims_imports`.
    fn provider(imports: Value) -> ProviderConfig {
        let mut claims_imports = json!({
            "localpart": { "action": "require", "template": "{{ user.preferred_username }}" },
            "displayname": { "action": "suggest", "template": "{{ user.name }}" },
            "email": {
                "action": "suggest",
                "template": "{{ user.email }}",
                "set_email_verification": "import"
            }
        });
        if let (Some(base), Some(extra)) = (claims_imports.as_object_mut(), imports.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(json!({
            "id": "01JPQ0C4ETQD0000000000P0C1",
            "issuer": "https://id.example.com",
            "client_id": "portcullis",
            "token_endpoint_auth_method": "client_secret_post",
            "claims_imports": claims_imports,
        }))
        .expect("a provider")
    }

    fn answered(
        id_token_claims: Value,
        userinfo_claims: Option<Value>,
    ) -> UpstreamAuthorizationSession {
        let at = Utc
            .with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
            .single()
            .expect("an instant");
        UpstreamAuthorizationSession {
            id: ulid::Ulid::nil(),
            provider_id: "01JPQ0C4ETQD0000000000P0C1".to_owned(),
            state: "state".to_owned(),
            nonce: None,
            code_verifier: None,
            post_auth_action: None,
            created_at: at,
            link_id: Some(ulid::Ulid::nil()),
            id_token: None,
            id_token_claims: Some(id_token_claims),
            userinfo_claims,
            extra_callback_parameters: None,
            completed_at: Some(at),
            user_session_id: None,
            consumed_at: None,
        }
    }

    fn requirements(terms: bool, token: bool) -> Requirements<'static> {
        Requirements {
            server_name: "example.com",
            terms,
            email: false,
            token,
        }
    }

    #[test]
    fn the_homelab_block_fixes_the_username_and_suggests_the_name_and_a_verified_address() {
        let attempt = answered(
            json!({
                "sub": "alice-sub",
                "preferred_username": "alice",
                "name": "Alice Liddell",
                "email": "Alice@Example.com",
                "email_verified": true,
            }),
            None,
        );
        let proposal = propose(&provider(json!({})), &attempt, "example.com").expect("a proposal");
        assert_eq!(
            proposal.localpart.as_ref().map(Localpart::as_str),
            Some("alice")
        );
        assert_eq!(proposal.suggested_username, None);
        assert_eq!(
            proposal.display_name,
            Some(Imported {
                value: "Alice Liddell".to_owned(),
                optional: true
            })
        );
        assert_eq!(
            proposal.email.as_ref().map(|email| email.optional),
            Some(true)
        );
        assert_eq!(proposal.unvouched_email, None);
        assert!(
            !proposal.needs_no_confirmation(&requirements(false, false)),
            "suggestions are confirmed"
        );

        // Keeping both suggestions, then leaving both out.
        let kept = proposal
            .decide(&requirements(false, false), &proposal.accepted())
            .expect("decided");
        assert_eq!(kept.localpart.as_str(), "alice");
        assert_eq!(kept.display_name.as_deref(), Some("Alice Liddell"));
        assert!(kept.email.is_some());
        assert_eq!(kept.token, None);
        let bare = proposal
            .decide(&requirements(false, false), &Choices::default())
            .expect("decided");
        assert_eq!((bare.display_name, bare.email), (None, None));
    }

    #[test]
    fn an_address_the_provider_has_not_verified_is_only_mentioned() {
        for verified in [json!(false), json!(null), json!("no")] {
            let attempt = answered(
                json!({
                    "sub": "s", "preferred_username": "alice",
                    "email": "alice@example.com", "email_verified": verified,
                }),
                None,
            );
            let proposal =
                propose(&provider(json!({})), &attempt, "example.com").expect("a proposal");
            assert_eq!(proposal.email, None, "email_verified: {verified}");
            assert_eq!(
                proposal.unvouched_email.as_deref(),
                Some("alice@example.com")
            );
        }
        // `always` vouches for it; a required address that is not vouched for refuses.
        let attempt = answered(
            json!({ "sub": "s", "preferred_username": "alice", "email": "alice@example.com" }),
            None,
        );
        let always =
            provider(json!({ "email": { "action": "force", "set_email_verification": "always" } }));
        let proposal = propose(&always, &attempt, "example.com").expect("a proposal");
        assert_eq!(
            proposal.email,
            Some(Imported {
                value: "alice@example.com".to_owned(),
                optional: false
            })
        );
        let required = provider(json!({ "email": { "action": "require" } }));
        assert!(matches!(
            propose(&required, &attempt, "example.com"),
            Err(ImportError::UnverifiedEmail(_))
        ));
    }

    #[test]
    fn userinfo_claims_count_and_the_id_token_wins() {
        let attempt = answered(
            json!({ "sub": "s", "preferred_username": "alice" }),
            Some(json!({ "preferred_username": "mallory", "name": "From Userinfo" })),
        );
        let proposal = propose(&provider(json!({})), &attempt, "example.com").expect("a proposal");
        assert_eq!(
            proposal.localpart.as_ref().map(Localpart::as_str),
            Some("alice")
        );
        assert_eq!(
            proposal.display_name.map(|name| name.value).as_deref(),
            Some("From Userinfo")
        );
    }

    #[test]
    fn a_required_username_must_be_given_and_valid_a_forced_one_only_valid() {
        let nameless = answered(json!({ "sub": "s" }), None);
        assert!(matches!(
            propose(&provider(json!({})), &nameless, "example.com"),
            Err(ImportError::Missing("username"))
        ));
        let capitalised = answered(json!({ "sub": "s", "preferred_username": "Alice" }), None);
        assert!(matches!(
            propose(&provider(json!({})), &capitalised, "example.com"),
            Err(ImportError::InvalidLocalpart { ref value, .. }) if value == "Alice"
        ));

        // `force` without a value: the visitor chooses.
        let force = provider(json!({ "localpart": { "action": "force" } }));
        let proposal = propose(&force, &nameless, "example.com").expect("a proposal");
        assert_eq!(proposal.localpart, None);
        let choices = Choices {
            username: " bob ",
            ..Choices::default()
        };
        let decided = proposal
            .decide(&requirements(false, false), &choices)
            .expect("decided");
        assert_eq!(decided.localpart.as_str(), "bob");
        assert!(matches!(
            proposal.decide(&requirements(false, false), &Choices::default()),
            Err(Problem::Username(_))
        ));

        // `suggest`: offered in the field, not decided.
        let suggest = provider(json!({ "localpart": { "action": "suggest" } }));
        let proposal = propose(&suggest, &capitalised, "example.com").expect("a proposal");
        assert_eq!(proposal.localpart, None);
        assert_eq!(proposal.suggested_username.as_deref(), Some("Alice"));
    }

    #[test]
    fn terms_and_the_registration_token_are_asked_for() {
        let attempt = answered(json!({ "sub": "s", "preferred_username": "alice" }), None);
        let proposal = propose(&provider(json!({})), &attempt, "example.com").expect("a proposal");
        assert!(matches!(
            proposal.decide(&requirements(true, false), &Choices::default()),
            Err(Problem::TermsNotAccepted)
        ));
        assert!(matches!(
            proposal.decide(&requirements(false, true), &Choices::default()),
            Err(Problem::TokenNeeded)
        ));
        let choices = Choices {
            token: " t0ken ",
            terms_accepted: true,
            ..Choices::default()
        };
        let decided = proposal
            .decide(&requirements(true, true), &choices)
            .expect("decided");
        assert_eq!(decided.token.as_deref(), Some("t0ken"));
    }

    #[test]
    fn skipping_the_confirmation_needs_nothing_left_to_ask() {
        let attempt = answered(
            json!({ "sub": "s", "preferred_username": "alice", "name": "Alice" }),
            None,
        );
        let skip = provider(json!({
            "skip_confirmation": true,
            "displayname": { "action": "force" },
            "email": { "action": "ignore" },
        }));
        let proposal = propose(&skip, &attempt, "example.com").expect("a proposal");
        assert!(proposal.needs_no_confirmation(&requirements(false, false)));
        assert!(
            !proposal.needs_no_confirmation(&requirements(true, false)),
            "terms"
        );
        assert!(
            !proposal.needs_no_confirmation(&requirements(false, true)),
            "token"
        );
        let suggesting = provider(json!({ "skip_confirmation": true }));
        let proposal = propose(&suggesting, &attempt, "example.com").expect("a proposal");
        assert!(!proposal.needs_no_confirmation(&requirements(false, false)));
    }

    #[test]
    fn a_broken_template_is_an_error_not_a_guess() {
        let attempt = answered(json!({ "sub": "s", "preferred_username": "alice" }), None);
        let broken =
            provider(json!({ "displayname": { "action": "suggest", "template": "{{ user.name" } }));
        assert!(matches!(
            propose(&broken, &attempt, "example.com"),
            Err(ImportError::Template(_))
        ));
    }
}
