//! `check_all`: every page rendered with sample contexts, and the HTML checked.
//!
//! The checks are the ones an override is most likely to break, done by a small tag scanner
//! rather than a full HTML parser: the page must declare its language, label every visible
//! input, keep IDs unique, close what it opens (explicitly: optional end tags count as
//! unclosed), and carry the CSRF token in every form that posts back to us.

use std::collections::{BTreeMap, HashSet};

use crate::{
    Site, TemplateError, Templates,
    emails::{Email, RecoveryEmail, VerificationEmail},
    pages::{
        AccountCrossSigningResetPage, AccountDeactivatePage, AccountDeactivatedPage,
        AccountDevicePage, AccountLockedPage, AccountNav, AccountPasswordPage, AccountProfilePage,
        AccountSecondFactorsPage, AccountSection, AccountSessionsPage, AccountTokensPage,
        ClientView, CompatSsoPage, ConsentPage, DeviceConsentPage, DeviceDonePage, DeviceLinkPage,
        EmailView, EndSessionPage, ErrorPage, FormPostPage, ImportedValue, IndexPage,
        LinkedAccountView, LoggedOutPage, LoginPage, NewPersonalToken, Page, PasskeyForm,
        PasskeyView, PasswordChangeErrors, PersonalTokenView, ProviderButton, RecoverCompletePage,
        RecoverPage, RecoverSentPage, RegisterErrors, RegisterPage, SecondFactorPage, SessionKind,
        SessionView, Timestamp, TotpEnrolmentView, UpstreamLinkPage, UpstreamRegisterPage,
        VerifyEmailPage,
    },
    scope::describe_scopes,
    site::Branding,
};

/// Elements without an end tag.
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Input types that need no label: they are not shown, or are labelled by their value.
const UNLABELLED_INPUT_TYPES: &[&str] = &["hidden", "submit", "reset", "button", "image"];

pub(crate) fn check_all(templates: &Templates) -> Result<(), TemplateError> {
    // Every page in every language: a translation may not break the HTML.
    let translated = crate::Locale::ALL.iter().skip(1).map(|locale| Site {
        lang: locale.tag().to_owned(),
        ..sample_site()
    });
    for site in [sample_site(), minimal_site()]
        .into_iter()
        .chain(translated)
    {
        for page in sample_logins() {
            check_page(templates, &site, &page)?;
        }
        for page in sample_registers() {
            check_page(templates, &site, &page)?;
        }
        for page in sample_upstream_registers() {
            check_page(templates, &site, &page)?;
        }
        check_page(templates, &site, &sample_upstream_link())?;
        for page in sample_verify_emails() {
            check_page(templates, &site, &page)?;
        }
        for page in sample_consents() {
            check_page(templates, &site, &page)?;
        }
        for page in sample_device_consents() {
            check_page(templates, &site, &page)?;
        }
        check_page(
            templates,
            &site,
            &CompatSsoPage {
                csrf: "csrf-token".to_owned(),
                redirect_host: "app.example.com".to_owned(),
                username: "alice".to_owned(),
            },
        )?;
        for page in sample_device_links() {
            check_page(templates, &site, &page)?;
        }
        for page in sample_errors() {
            check_page(templates, &site, &page)?;
        }
        check_page(templates, &site, &sample_form_post())?;
        for username in [Some("alice".to_owned()), None] {
            check_page(
                templates,
                &site,
                &IndexPage {
                    csrf: "token".to_owned(),
                    username,
                },
            )?;
        }
        for (client_name, username) in [
            (Some("Element".to_owned()), Some("alice".to_owned())),
            (None, None),
        ] {
            check_page(
                templates,
                &site,
                &EndSessionPage {
                    csrf: "token".to_owned(),
                    client_name,
                    username,
                },
            )?;
        }
        for login_url in [Some("/login".to_owned()), None] {
            check_page(templates, &site, &LoggedOutPage { login_url })?;
            for approved in [true, false] {
                check_page(
                    templates,
                    &site,
                    &DeviceDonePage {
                        approved,
                        client_name: "Element X".to_owned(),
                        username: "alice".to_owned(),
                    },
                )?;
            }
        }
        check_account_pages(templates, &site)?;
        check_recovery_pages(templates, &site)?;
        check_email(
            templates,
            &site,
            &VerificationEmail {
                email: "alice@example.com".to_owned(),
                code: "123456".to_owned(),
            },
        )?;
        check_email(
            templates,
            &site,
            &RecoveryEmail {
                email: "alice@example.com".to_owned(),
                username: "alice".to_owned(),
                recovery_link: "https://auth.example.com/recover/complete?ticket=TTT".to_owned(),
            },
        )?;
    }
    Ok(())
}

/// An email renders in its three parts, the HTML part passes the page checks, and the subject
/// template gives one line: [`Templates::render_email`] would join the lines of a longer one,
/// which is better caught here than read in an inbox.
fn check_email<E: Email>(
    templates: &Templates,
    site: &Site,
    email: &E,
) -> Result<(), TemplateError> {
    let rendered = templates.render_email(site, email)?;
    let problem = |suffix: &str, problem: String| TemplateError::Check {
        template: format!("{}.{suffix}", E::TEMPLATE),
        problem,
    };
    check_html(&rendered.html).map_err(|problem_found| problem("html", problem_found))?;
    let context = minijinja::value::merge_maps([
        minijinja::Value::from_serialize(site),
        minijinja::Value::from_serialize(email),
    ]);
    let subject = templates.render(&format!("{}.subject", E::TEMPLATE), context)?;
    if subject.trim().contains(['\r', '\n']) {
        return Err(problem(
            "subject",
            "the subject renders to more than one line".to_owned(),
        ));
    }
    if rendered.subject.is_empty() {
        return Err(problem("subject", "the subject renders empty".to_owned()));
    }
    if rendered.text.trim().is_empty() {
        return Err(problem("txt", "the text part renders empty".to_owned()));
    }
    Ok(())
}

/// The account pages, each with everything shown and with as little as possible.
fn check_recovery_pages(templates: &Templates, site: &Site) -> Result<(), TemplateError> {
    for full in [true, false] {
        let some = |text: &str| full.then(|| text.to_owned());
        check_page(
            templates,
            site,
            &RecoverPage {
                csrf: "csrf-token".to_owned(),
                email: some("<alice@example.com>"),
                error: some("Too many requests."),
                login_url: "/auth/login".to_owned(),
            },
        )?;
        check_page(
            templates,
            site,
            &RecoverCompletePage {
                csrf: "csrf-token".to_owned(),
                ticket: "T".repeat(32),
                action: "/auth/recover/complete?ticket=TTT".to_owned(),
                username: "alice".to_owned(),
                errors: if full {
                    PasswordChangeErrors {
                        current_password: None,
                        new_password: some("Too weak."),
                        new_password_confirm: some("Not the same."),
                        form: some("Something went wrong."),
                    }
                } else {
                    PasswordChangeErrors::default()
                },
            },
        )?;
    }
    check_page(
        templates,
        site,
        &RecoverSentPage {
            email: "alice@example.com".to_owned(),
            recover_url: "/auth/recover".to_owned(),
            login_url: "/auth/login".to_owned(),
        },
    )
}

fn check_account_pages(templates: &Templates, site: &Site) -> Result<(), TemplateError> {
    for (full, section) in [
        (true, AccountSection::Profile),
        (false, AccountSection::Sessions),
        (true, AccountSection::Password),
        (false, AccountSection::CrossSigningReset),
        (true, AccountSection::Tokens),
        (true, AccountSection::Deactivate),
    ] {
        let nav = sample_nav(section, full);
        let some = |text: &str| full.then(|| text.to_owned());
        check_page(
            templates,
            site,
            &AccountProfilePage {
                nav: nav.clone(),
                csrf: "csrf-token".to_owned(),
                mxid: "@alice:example.com".to_owned(),
                display_name: some("Alice"),
                display_name_unavailable: !full,
                displayname_change_allowed: full,
                display_name_url: "/auth/account/profile".to_owned(),
                display_name_input: some("<Alice>"),
                display_name_error: some("The display name is too long."),
                emails: if full {
                    vec![
                        EmailView {
                            email: "alice@example.com".to_owned(),
                            remove_url: "/auth/account/emails/E1/remove".to_owned(),
                        },
                        EmailView {
                            email: "a@example.org".to_owned(),
                            remove_url: "/auth/account/emails/E2/remove".to_owned(),
                        },
                    ]
                } else {
                    Vec::new()
                },
                email_change_allowed: full,
                add_email_url: "/auth/account/emails".to_owned(),
                email_input: some("<a@example.com>"),
                email_error: some("This address is already in use."),
                email_password_required: full,
                linked_accounts: if full {
                    vec![LinkedAccountView {
                        provider: "Pocket ID".to_owned(),
                        account: "alice@id.example.com".to_owned(),
                        remove_url: "/auth/account/upstream-links/L1/remove".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                link_error: some("This is your only way to sign in."),
                link_providers: if full {
                    vec![ProviderButton {
                        name: "Google".to_owned(),
                        brand: Some("google".to_owned()),
                        logo: Some("/assets/brands/google.svg".to_owned()),
                        url: "/upstream/authorize/google?kind=manage_account".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                notice: some("Your display name is on its way to the homeserver."),
            },
        )?;
        let sessions = if full { sample_sessions() } else { Vec::new() };
        let of_kind = |kind| {
            sessions
                .iter()
                .filter(|session: &&SessionView| session.kind == kind)
                .cloned()
                .collect::<Vec<_>>()
        };
        check_page(
            templates,
            site,
            &AccountSessionsPage {
                nav: nav.clone(),
                csrf: "csrf-token".to_owned(),
                browser_sessions: of_kind(SessionKind::Browser),
                oauth_sessions: of_kind(SessionKind::OAuth),
                compat_sessions: of_kind(SessionKind::Compat),
                notice: some("The session has ended."),
            },
        )?;
        check_page(
            templates,
            site,
            &AccountDevicePage {
                nav: nav.clone(),
                csrf: "csrf-token".to_owned(),
                device_id: "ABCDEFGHIJ".to_owned(),
                sessions: sample_sessions()
                    .into_iter()
                    .filter(|session| session.device_id.is_some())
                    .collect(),
                confirm_end: full,
            },
        )?;
        let errors = if full {
            PasswordChangeErrors {
                form: Some("Too many attempts.".to_owned()),
                current_password: Some("Wrong password.".to_owned()),
                new_password: Some("Too easy to guess.".to_owned()),
                new_password_confirm: Some("The passwords do not match.".to_owned()),
            }
        } else {
            PasswordChangeErrors::default()
        };
        check_page(
            templates,
            site,
            &AccountPasswordPage {
                nav: nav.clone(),
                csrf: "csrf-token".to_owned(),
                current_password_required: full,
                errors,
                notice: some("Your password has been changed."),
                remove_password_url: some("/account/password/remove"),
            },
        )?;
        for allowed in [true, false] {
            check_page(
                templates,
                site,
                &AccountCrossSigningResetPage {
                    nav: nav.clone(),
                    csrf: "csrf-token".to_owned(),
                    password_required: full,
                    error: some("Wrong password."),
                    allowed,
                },
            )?;
        }
        let stamp = Timestamp {
            iso: "2026-11-23T12:00:00Z".to_owned(),
            text: "2026-11-23 12:00 UTC".to_owned(),
        };
        check_page(
            templates,
            site,
            &AccountTokensPage {
                nav: nav.clone(),
                csrf: "csrf-token".to_owned(),
                password_required: full,
                tokens: if full {
                    vec![PersonalTokenView {
                        name: "<My bot>".to_owned(),
                        scopes: describe_scopes([
                            "urn:matrix:client:api:*",
                            "urn:matrix:client:device:BOTDEVICE01",
                            "urn:mas:admin",
                        ]),
                        created_at: stamp.clone(),
                        last_active_at: Some(stamp.clone()),
                        expires_at: Some(stamp.clone()),
                        expired: true,
                        revoke_url: "/auth/account/tokens/T1/revoke".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                created: full.then(|| NewPersonalToken {
                    name: "<My bot>".to_owned(),
                    token: "mpt_abc".to_owned(),
                }),
                admin_allowed: full,
                expiry_choices: vec![90, 30, 365],
                name_input: some("<bot>"),
                device_input: some("<device>"),
                error: some("Give the token a name."),
                notice: some("Revoked."),
            },
        )?;
        check_page(
            templates,
            site,
            &AccountDeactivatePage {
                nav,
                csrf: "csrf-token".to_owned(),
                mxid: "@alice:example.com".to_owned(),
                password_required: full,
                error: some("Wrong password."),
            },
        )?;
    }
    check_second_factor_pages(templates, site)?;
    check_page(templates, site, &AccountDeactivatedPage {})?;
    check_page(templates, site, &AccountLockedPage {})
}

fn sample_enrolment() -> TotpEnrolmentView {
    TotpEnrolmentView {
        qr_code: "data:image/svg+xml;base64,PHN2Zy8+".to_owned(),
        secret: "JBSW Y3DP EHPK 3PXP JBSW".to_owned(),
        uri: "otpauth://totp/Example:@alice:example.com?secret=JBSWY3DPEHPK3PXPJBSW".to_owned(),
    }
}

/// The second factors' account page in each of its states, and the sign-in's second step.
fn check_second_factor_pages(templates: &Templates, site: &Site) -> Result<(), TemplateError> {
    let codes = vec!["abcd-efgh-jkmn".to_owned(), "pqrs-tuvw-xyz2".to_owned()];
    // (authenticator app set up, one being added, new codes, password asked, required)
    for (totp, adding, new_codes, password_required, required) in [
        (false, false, false, true, false),
        (false, false, false, false, false),
        (false, true, false, false, false),
        (true, false, true, true, false),
        (true, false, false, false, true),
    ] {
        for totp_allowed in [true, false] {
            check_page(
                templates,
                site,
                &AccountSecondFactorsPage {
                    nav: sample_nav(AccountSection::SecondFactors, password_required),
                    csrf: "csrf-token".to_owned(),
                    password_required,
                    totp_allowed,
                    totp,
                    enrolment: adding.then(sample_enrolment),
                    recovery_codes_left: if totp { 9 } else { 0 },
                    new_recovery_codes: if new_codes { codes.clone() } else { Vec::new() },
                    required,
                    passkeys: if totp { sample_passkeys() } else { Vec::new() },
                    add_passkey: totp_allowed.then(|| PasskeyForm {
                        action: "/account/second-factors/passkeys".to_owned(),
                        options_url: "/account/second-factors/passkeys/options".to_owned(),
                    }),
                    remove_passkey_url: "/account/second-factors/passkeys/remove".to_owned(),
                    start_url: "/account/second-factors/totp".to_owned(),
                    confirm_url: "/account/second-factors/totp/confirm".to_owned(),
                    recovery_codes_url: "/account/second-factors/recovery-codes".to_owned(),
                    remove_url: "/account/second-factors/remove".to_owned(),
                    error: adding.then(|| "That code is not right.".to_owned()),
                    notice: new_codes.then(|| "Two-step verification is on.".to_owned()),
                },
            )?;
        }
    }
    for (enrolment, recovery_codes, error) in [
        (None, Vec::new(), None),
        (None, Vec::new(), Some("Wrong code.".to_owned())),
        (
            None,
            Vec::new(),
            Some("This passkey was not accepted.".to_owned()),
        ),
        (
            Some(sample_enrolment()),
            Vec::new(),
            Some("Wrong code.".to_owned()),
        ),
        (None, codes, None),
    ] {
        // The passkey refusal stands for a user with passkeys only.
        let totp = error.as_deref() != Some("This passkey was not accepted.");
        check_page(
            templates,
            site,
            &SecondFactorPage {
                csrf: "csrf-token".to_owned(),
                continue_url: (!recovery_codes.is_empty()).then(|| "/".to_owned()),
                error,
                passkey: (enrolment.is_none() && recovery_codes.is_empty()).then(|| PasskeyForm {
                    action: "/login/second-factor".to_owned(),
                    options_url: "/login/passkey/options".to_owned(),
                }),
                totp,
                add_passkey: enrolment.is_some().then(|| PasskeyForm {
                    action: "/login/second-factor".to_owned(),
                    options_url: "/login/second-factor/passkey/options".to_owned(),
                }),
                recovery_codes,
                enrolment,
                cancel_url: "/login".to_owned(),
            },
        )?;
    }
    Ok(())
}

fn sample_passkeys() -> Vec<PasskeyView> {
    let at = |text: &str| Timestamp {
        iso: "2026-12-01T10:00:00Z".to_owned(),
        text: text.to_owned(),
    };
    vec![
        PasskeyView {
            id: "01JEXAMPLE0000000000000001".to_owned(),
            name: "Laptop".to_owned(),
            created_at: at("1 December 2026"),
            last_used_at: Some(at("3 December 2026")),
        },
        PasskeyView {
            id: "01JEXAMPLE0000000000000002".to_owned(),
            name: "Phone <script>".to_owned(),
            created_at: at("2 December 2026"),
            last_used_at: None,
        },
    ]
}

fn sample_nav(current: AccountSection, everything: bool) -> AccountNav {
    AccountNav {
        current,
        username: "alice".to_owned(),
        mxid: "@alice:example.com".to_owned(),
        display_name: Some("Alice Liddell".to_owned()),
        password_change_allowed: everything,
        deactivation_allowed: everything,
        reauth: if everything {
            vec![ProviderButton {
                name: "Pocket ID".to_owned(),
                brand: Some("pocketid".to_owned()),
                logo: None,
                url: "/upstream/authorize/pocketid?kind=manage_account".to_owned(),
            }]
        } else {
            Vec::new()
        },
        passkey_reauth: everything.then(|| PasskeyForm {
            action: "/account/reauthenticate".to_owned(),
            options_url: "/login/passkey/options".to_owned(),
        }),
        has_password: everything,
    }
}

fn sample_sessions() -> Vec<SessionView> {
    let at = |text: &str| Timestamp {
        iso: "2026-11-23T12:00:00Z".to_owned(),
        text: text.to_owned(),
    };
    let session = |id: &str, kind, device: Option<&str>, current: bool| SessionView {
        id: id.to_owned(),
        kind,
        title: format!("Session {id}"),
        device_id: device.map(str::to_owned),
        device_url: device.map(|device| format!("/auth/account/devices/{device}")),
        created_at: at("2026-11-23 12:00 UTC"),
        last_active_at: current.then(|| at("2026-11-23 12:05 UTC")),
        last_active_ip: current.then(|| "192.0.2.1".to_owned()),
        client: current.then(|| "Firefox on Linux".to_owned()),
        user_agent: current.then(|| "Mozilla/5.0 (X11; Linux x86_64)".to_owned()),
        current,
        end_url: format!("/auth/account/sessions/{id}/end"),
    };
    vec![
        session(
            "01J00000000000000000000BR1",
            SessionKind::Browser,
            None,
            true,
        ),
        session(
            "01J00000000000000000000BR2",
            SessionKind::Browser,
            None,
            false,
        ),
        session(
            "01J00000000000000000000OA1",
            SessionKind::OAuth,
            Some("ABCDEFGHIJ"),
            false,
        ),
        session(
            "01J00000000000000000000OA2",
            SessionKind::OAuth,
            None,
            false,
        ),
        session(
            "01J00000000000000000000CO1",
            SessionKind::Compat,
            Some("ABCDEFGHIJ"),
            true,
        ),
    ]
}

fn check_page<P: Page>(templates: &Templates, site: &Site, page: &P) -> Result<(), TemplateError> {
    let html = templates.render_page(site, page)?;
    check_html(&html).map_err(|problem| TemplateError::Check {
        template: P::TEMPLATE.to_owned(),
        problem,
    })
}

fn sample_site() -> Site {
    Site {
        lang: "en".to_owned(),
        base_path: "/auth".to_owned(),
        branding: Branding {
            service_name: "Example Chat".to_owned(),
            policy_uri: Some("https://example.com/privacy".to_owned()),
            tos_uri: Some("https://example.com/terms".to_owned()),
            imprint: Some("Example Ltd, 1 Example Street".to_owned()),
        },
    }
}

fn minimal_site() -> Site {
    Site::new("matrix.example.com")
}

fn sample_logins() -> Vec<LoginPage> {
    vec![
        LoginPage::new("csrf-token"),
        LoginPage {
            csrf: "csrf-token".to_owned(),
            username: Some("alice".to_owned()),
            error: Some("Wrong username or password.".to_owned()),
            registration_url: Some("/register".to_owned()),
            recovery_url: Some("/recover".to_owned()),
            password_form: true,
            providers: vec![ProviderButton {
                name: "Pocket ID".to_owned(),
                brand: Some("pocketid".to_owned()),
                logo: None,
                url: "/upstream/authorize/pocketid".to_owned(),
            }],
            passkey: Some(PasskeyForm {
                action: "/login/passkey".to_owned(),
                options_url: "/login/passkey/options".to_owned(),
            }),
        },
        LoginPage {
            password_form: false,
            providers: vec![
                ProviderButton {
                    name: "Google".to_owned(),
                    brand: Some("google".to_owned()),
                    logo: Some("/assets/brands/google.svg".to_owned()),
                    url: "/upstream/authorize/google".to_owned(),
                },
                ProviderButton {
                    name: "Company login".to_owned(),
                    brand: None,
                    logo: None,
                    url: "/upstream/authorize/corp".to_owned(),
                },
            ],
            ..LoginPage::new("csrf-token")
        },
    ]
}

fn sample_registers() -> Vec<RegisterPage> {
    vec![
        RegisterPage::new("csrf-token", "example.com"),
        RegisterPage {
            csrf: "csrf-token".to_owned(),
            server_name: "example.com".to_owned(),
            username: Some("bob".to_owned()),
            display_name: Some("Bob".to_owned()),
            email: Some("bob@example.com".to_owned()),
            token: Some("the-token".to_owned()),
            terms_accepted: true,
            email_required: true,
            token_required: true,
            login_url: Some("/login".to_owned()),
            errors: RegisterErrors {
                form: Some("Too many attempts.".to_owned()),
                username: Some("This username is taken.".to_owned()),
                password: Some("This password is too easy to guess.".to_owned()),
                password_confirm: Some("The passwords do not match.".to_owned()),
                display_name: Some("The display name is too long.".to_owned()),
                email: Some("Enter an email address.".to_owned()),
                token: Some("This token is not valid.".to_owned()),
                terms: Some("Accept the terms of service to continue.".to_owned()),
            },
            password_form: true,
            providers: vec![ProviderButton {
                name: "GitHub".to_owned(),
                brand: Some("github".to_owned()),
                logo: Some("/assets/brands/github.svg".to_owned()),
                url: "/upstream/authorize/github".to_owned(),
            }],
        },
        RegisterPage {
            password_form: false,
            providers: vec![ProviderButton {
                name: "Pocket ID".to_owned(),
                brand: None,
                logo: None,
                url: "/upstream/authorize/pocketid".to_owned(),
            }],
            ..RegisterPage::new("csrf-token", "example.com")
        },
    ]
}

fn sample_upstream_registers() -> Vec<UpstreamRegisterPage> {
    let chosen = UpstreamRegisterPage {
        csrf: "csrf-token".to_owned(),
        server_name: "example.com".to_owned(),
        provider: "Pocket ID".to_owned(),
        account_name: None,
        localpart: None,
        existing_user: false,
        username: Some("alice".to_owned()),
        display_name: Some(ImportedValue {
            value: "Alice Liddell".to_owned(),
            optional: true,
            chosen: true,
        }),
        email: Some(ImportedValue {
            value: "alice@example.com".to_owned(),
            optional: true,
            chosen: false,
        }),
        unvouched_email: None,
        token_required: true,
        token: Some("the-token".to_owned()),
        terms_accepted: true,
        errors: RegisterErrors {
            form: Some("Too many attempts.".to_owned()),
            username: Some("This username is taken.".to_owned()),
            email: Some("This address is used by another account.".to_owned()),
            token: Some("This token is not valid.".to_owned()),
            terms: Some("Accept the terms of service to continue.".to_owned()),
            ..RegisterErrors::default()
        },
    };
    let fixed = UpstreamRegisterPage {
        account_name: Some("alice@pocket.example.com".to_owned()),
        localpart: Some("alice".to_owned()),
        username: None,
        display_name: Some(ImportedValue {
            value: "Alice Liddell".to_owned(),
            optional: false,
            chosen: true,
        }),
        email: Some(ImportedValue {
            value: "alice@example.com".to_owned(),
            optional: false,
            chosen: true,
        }),
        unvouched_email: Some("alice@unverified.example.com".to_owned()),
        token_required: false,
        token: None,
        errors: RegisterErrors::default(),
        ..chosen.clone()
    };
    let existing = UpstreamRegisterPage {
        existing_user: true,
        ..fixed.clone()
    };
    vec![chosen, fixed, existing]
}

fn sample_upstream_link() -> UpstreamLinkPage {
    UpstreamLinkPage {
        csrf: "csrf-token".to_owned(),
        provider: "Pocket ID".to_owned(),
        account_name: Some("alice@pocket.example.com".to_owned()),
        user_id: "@alice:example.com".to_owned(),
        cancel_url: "/account/".to_owned(),
    }
}

fn sample_verify_emails() -> Vec<VerifyEmailPage> {
    let page = VerifyEmailPage {
        csrf: "csrf-token".to_owned(),
        email: "bob@example.com".to_owned(),
        action: "/register/steps/01J0000000000000000000REG1/verify-email".to_owned(),
        resend_url: "/register/steps/01J0000000000000000000REG1/resend".to_owned(),
        restart_url: None,
        error: None,
        notice: None,
    };
    vec![
        page.clone(),
        VerifyEmailPage {
            restart_url: Some("/register".to_owned()),
            error: Some("This code is not right.".to_owned()),
            notice: Some("A new code was sent.".to_owned()),
            ..page
        },
    ]
}

fn sample_client() -> ClientView {
    ClientView {
        client_id: "01J0000000000000000000CL1E".to_owned(),
        name: Some("Element".to_owned()),
        logo_uri: Some("https://element.example/logo.png".to_owned()),
        client_uri: Some("https://element.example/".to_owned()),
        policy_uri: Some("https://element.example/privacy".to_owned()),
        tos_uri: Some("https://element.example/terms".to_owned()),
    }
}

const SAMPLE_SCOPE: &str = "openid email urn:matrix:client:api:* urn:matrix:client:device:ABCDEFGH urn:synapse:admin:* urn:mas:admin urn:mas:graphql:* something:else";

fn sample_consents() -> Vec<ConsentPage> {
    vec![
        ConsentPage {
            csrf: "csrf-token".to_owned(),
            client: sample_client(),
            scopes: describe_scopes(SAMPLE_SCOPE.split(' ')),
            username: "alice".to_owned(),
        },
        ConsentPage {
            csrf: "csrf-token".to_owned(),
            client: ClientView::new("01J0000000000000000000CL1E"),
            scopes: describe_scopes(["openid"]),
            username: "alice".to_owned(),
        },
    ]
}

fn sample_device_consents() -> Vec<DeviceConsentPage> {
    vec![
        DeviceConsentPage {
            csrf: "csrf-token".to_owned(),
            client: sample_client(),
            user_code: "ABCD-EFGH".to_owned(),
            scopes: describe_scopes(SAMPLE_SCOPE.split(' ')),
            username: "alice".to_owned(),
            requester_ip: Some("192.0.2.1".to_owned()),
        },
        DeviceConsentPage {
            csrf: "csrf-token".to_owned(),
            client: ClientView::new("01J0000000000000000000CL1E"),
            user_code: "ABCD-EFGH".to_owned(),
            scopes: describe_scopes(["openid"]),
            username: "alice".to_owned(),
            requester_ip: None,
        },
    ]
}

fn sample_device_links() -> Vec<DeviceLinkPage> {
    vec![
        DeviceLinkPage::default(),
        DeviceLinkPage {
            code: Some("ABCD-EFGH".to_owned()),
            error: Some("This code is not valid or has expired.".to_owned()),
        },
    ]
}

fn sample_errors() -> Vec<ErrorPage> {
    vec![
        ErrorPage {
            title: "Something went wrong".to_owned(),
            message: "Please try again later.".to_owned(),
            details: Some("invalid_request: missing client_id".to_owned()),
        },
        ErrorPage {
            title: "Page not found".to_owned(),
            message: "This page does not exist.".to_owned(),
            details: None,
        },
    ]
}

fn sample_form_post() -> FormPostPage {
    FormPostPage {
        redirect_uri: "https://client.example/callback".to_owned(),
        params: BTreeMap::from([
            ("code".to_owned(), "sample-code".to_owned()),
            ("state".to_owned(), "sample-state".to_owned()),
        ]),
        csp_nonce: "c2FtcGxlLW5vbmNl".to_owned(),
    }
}

/// A start or end tag found in the page.
struct Tag<'a> {
    name: String,
    closing: bool,
    attributes: Vec<(String, Option<&'a str>)>,
}

impl Tag<'_> {
    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(attribute, _)| attribute == name)
            .map(|(_, value)| value.unwrap_or(""))
    }
}

/// Checks the rules of the module documentation on a rendered page.
pub(crate) fn check_html(html: &str) -> Result<(), String> {
    if !html
        .trim_start()
        .get(..15)
        .is_some_and(|start| start.eq_ignore_ascii_case("<!doctype html>"))
    {
        return Err("the page does not start with <!doctype html>".to_owned());
    }
    let tags = scan_tags(html)?;

    let lang = tags
        .iter()
        .find(|tag| tag.name == "html" && !tag.closing)
        .and_then(|tag| tag.attribute("lang"));
    if lang.is_none_or(str::is_empty) {
        return Err("<html> has no lang attribute".to_owned());
    }

    let mut ids = HashSet::new();
    for id in tags.iter().filter_map(|tag| tag.attribute("id")) {
        if !ids.insert(id) {
            return Err(format!("the id {id:?} is used twice"));
        }
    }

    let labelled: HashSet<&str> = tags
        .iter()
        .filter(|tag| tag.name == "label" && !tag.closing)
        .filter_map(|tag| tag.attribute("for"))
        .collect();
    for input in tags.iter().filter(|tag| !tag.closing) {
        let needs_label = match input.name.as_str() {
            "input" => !UNLABELLED_INPUT_TYPES.contains(
                &input
                    .attribute("type")
                    .unwrap_or("text")
                    .to_ascii_lowercase()
                    .as_str(),
            ),
            "select" | "textarea" => true,
            _ => false,
        };
        if !needs_label {
            continue;
        }
        let name = input.attribute("name").unwrap_or("?");
        match input.attribute("id") {
            Some(id) if labelled.contains(id) => {}
            Some(id) => return Err(format!("no <label for=\"{id}\"> for the field {name:?}")),
            None => {
                return Err(format!(
                    "the field {name:?} has no id for a <label> to name"
                ));
            }
        }
    }

    check_balance_and_forms(&tags)
}

/// Checks that elements close in order, and that every form posting back to us has a `csrf`
/// field.
fn check_balance_and_forms(tags: &[Tag<'_>]) -> Result<(), String> {
    let mut open: Vec<&str> = Vec::new();
    // For the form being read: whether it needs a CSRF field, and whether it has one.
    let mut form: Option<(bool, bool)> = None;
    for tag in tags {
        if tag.closing {
            match open.pop() {
                Some(name) if name == tag.name => {}
                Some(name) => return Err(format!("</{}> closes <{name}>", tag.name)),
                None => return Err(format!("</{}> closes nothing", tag.name)),
            }
            if tag.name == "form"
                && let Some((true, false)) = form.take()
            {
                return Err("a form posting back here has no hidden csrf field".to_owned());
            }
            continue;
        }
        if tag.name == "form" {
            // A form without an action posts to the page's own URL: to us.
            let posts_back = tag
                .attribute("method")
                .is_some_and(|method| method.eq_ignore_ascii_case("post"))
                && tag.attribute("action").is_none();
            form = Some((posts_back, false));
        }
        if tag.name == "input"
            && tag.attribute("type") == Some("hidden")
            && tag.attribute("name") == Some("csrf")
            && let Some((_, has_csrf)) = &mut form
        {
            *has_csrf = true;
        }
        if !VOID_ELEMENTS.contains(&tag.name.as_str()) {
            open.push(&tag.name);
        }
    }
    match open.last() {
        Some(name) => Err(format!("<{name}> is never closed")),
        None => Ok(()),
    }
}

/// Splits a page into its tags, skipping text, comments, the doctype, and the contents of
/// `<script>` and `<style>`.
fn scan_tags(html: &str) -> Result<Vec<Tag<'_>>, String> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let end = comment.find("-->").ok_or("an unclosed comment")?;
            rest = &comment[end + 3..];
            continue;
        }
        if rest.starts_with("<!") {
            let end = rest.find('>').ok_or("an unclosed declaration")?;
            rest = &rest[end + 1..];
            continue;
        }
        let (tag, after) = parse_tag(&rest[1..])?;
        rest = after;
        if !tag.closing && (tag.name == "script" || tag.name == "style") {
            let end_tag = format!("</{}", tag.name);
            let end = rest
                .to_ascii_lowercase()
                .find(&end_tag)
                .ok_or_else(|| format!("<{}> is never closed", tag.name))?;
            rest = &rest[end..];
        }
        tags.push(tag);
    }
    Ok(tags)
}

/// Parses one tag after its `<`, returning it and the text after its `>`.
fn parse_tag(input: &str) -> Result<(Tag<'_>, &str), String> {
    let (closing, input) = match input.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let name_end = input
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .ok_or("a tag is never closed")?;
    let name = input[..name_end].to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!("a stray '<' before {:?}", truncate(input)));
    }
    let mut rest = &input[name_end..];
    let mut attributes = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if let Some(after) = rest.strip_prefix('>') {
            let tag = Tag {
                name,
                closing,
                attributes,
            };
            return Ok((tag, after));
        }
        let attribute_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
            .ok_or_else(|| format!("<{name}> is never closed"))?;
        if attribute_end == 0 {
            return Err(format!("a malformed attribute in <{name}>"));
        }
        let attribute = rest[..attribute_end].to_ascii_lowercase();
        rest = &rest[attribute_end..];
        let value = if let Some(after_equals) = rest.strip_prefix('=') {
            let (value, after) = parse_value(after_equals)
                .ok_or_else(|| format!("an unclosed attribute value in <{name}>"))?;
            rest = after;
            Some(value)
        } else {
            None
        };
        attributes.push((attribute, value));
    }
}

/// Parses an attribute value, quoted or not.
fn parse_value(input: &str) -> Option<(&str, &str)> {
    for quote in ['"', '\''] {
        if let Some(quoted) = input.strip_prefix(quote) {
            let end = quoted.find(quote)?;
            return Some((&quoted[..end], &quoted[end + 1..]));
        }
    }
    let end = input.find(|c: char| c.is_ascii_whitespace() || c == '>')?;
    Some((&input[..end], &input[end..]))
}

fn truncate(text: &str) -> &str {
    match text.char_indices().nth(20) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!("<!doctype html><html lang=\"en\"><body>{body}</body></html>")
    }

    #[test]
    fn a_labelled_input_passes() {
        let html = page(r#"<label for="u">User</label><input id="u" name="username">"#);

        assert_eq!(check_html(&html), Ok(()));
    }

    #[test]
    fn an_input_without_a_label_fails() {
        let html = page(r#"<input id="u" name="username">"#);

        assert!(check_html(&html).is_err());
    }

    #[test]
    fn a_hidden_input_needs_no_label() {
        let html = page(r#"<input type="hidden" name="state" value="x">"#);

        assert_eq!(check_html(&html), Ok(()));
    }

    #[test]
    fn a_page_without_lang_fails() {
        let html = "<!doctype html><html><body></body></html>";

        assert!(check_html(html).is_err());
    }

    #[test]
    fn a_page_without_doctype_fails() {
        let html = "<html lang=\"en\"><body></body></html>";

        assert!(check_html(html).is_err());
    }

    #[test]
    fn an_unclosed_element_fails() {
        let html = page("<main><p>text</main>");

        assert!(check_html(&html).is_err());
    }

    #[test]
    fn a_duplicate_id_fails() {
        let html = page(r#"<p id="a"></p><p id="a"></p>"#);

        assert!(check_html(&html).is_err());
    }

    #[test]
    fn a_form_posting_back_without_csrf_fails() {
        let html = page(r#"<form method="post"><button type="submit">Go</button></form>"#);

        assert!(check_html(&html).is_err());
    }

    #[test]
    fn a_form_posting_back_with_csrf_passes() {
        let html =
            page(r#"<form method="post"><input type="hidden" name="csrf" value="t"></form>"#);

        assert_eq!(check_html(&html), Ok(()));
    }

    #[test]
    fn script_contents_are_not_read_as_tags() {
        let html = page("<script>if (a < b) { document.write('<p>'); }</script>");

        assert_eq!(check_html(&html), Ok(()));
    }
}
