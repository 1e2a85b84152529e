//! The pages as a handler renders them, and overrides as an operator writes them.

use std::{collections::BTreeMap, fs, path::Path};

use portcullis_templates::{
    Branding, Locale, Site, TemplateError, Templates, describe_scopes,
    pages::{
        ClientView, CompatSsoPage, ConsentPage, DeviceConsentPage, DeviceLinkPage, ErrorPage,
        FormPostPage, LoggedOutPage, LoginPage, RegisterErrors, RegisterPage, VerifyEmailPage,
    },
};

fn embedded() -> Templates {
    Templates::load(None).expect("the embedded templates compile")
}

fn site() -> Site {
    Site::new("Example Chat")
}

fn consent(client: ClientView) -> ConsentPage {
    ConsentPage {
        csrf: "csrf-token".to_owned(),
        client,
        scopes: describe_scopes(["openid", "urn:matrix:client:api:*"]),
        username: "alice".to_owned(),
    }
}

fn form_post(redirect_uri: &str) -> FormPostPage {
    FormPostPage {
        redirect_uri: redirect_uri.to_owned(),
        params: BTreeMap::from([
            ("code".to_owned(), "the-code".to_owned()),
            (
                "state".to_owned(),
                "\"><script>alert(1)</script>".to_owned(),
            ),
        ]),
        csp_nonce: "bm9uY2Utb2YtdGVzdA".to_owned(),
    }
}

fn write(dir: &Path, name: &str, contents: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("created");
    }
    fs::write(path, contents).expect("written");
}

#[test]
fn every_embedded_page_renders_and_passes_the_html_checks() {
    let result = embedded().check_all();

    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn the_embedded_templates_include_every_page() {
    let templates = embedded();

    let names = templates.names();

    for page in [
        "base.html",
        "login.html",
        "register.html",
        "verify_email.html",
        "upstream_register.html",
        "upstream_link.html",
        "consent.html",
        "compat_sso.html",
        "device_link.html",
        "device_consent.html",
        "error.html",
        "form_post.html",
        "logged_out.html",
        "account/profile.html",
        "account/sessions.html",
        "account/device.html",
        "account/password.html",
        "account/cross_signing_reset.html",
        "account/deactivate.html",
        "account/deactivated.html",
        "account/locked.html",
    ] {
        assert!(names.contains(&page), "{page} is missing");
    }
}

#[test]
fn the_stylesheet_has_a_dark_theme_and_visible_focus() {
    let css = Templates::stylesheet();

    assert!(css.contains("prefers-color-scheme: dark"));
    assert!(css.contains(":focus-visible"));
}

#[test]
fn pages_link_the_stylesheet_under_the_base_path() {
    let site = Site {
        base_path: "/auth".to_owned(),
        ..site()
    };

    let html = embedded()
        .render_page(&site, &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(html.contains(r#"<link rel="stylesheet" href="/auth/assets/portcullis.css">"#));
}

#[test]
fn pages_declare_their_language() {
    let site = Site {
        lang: "pt-BR".to_owned(),
        ..site()
    };

    let html = embedded()
        .render_page(&site, &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(html.contains(r#"<html lang="pt-BR">"#));
}

#[test]
fn the_footer_links_the_policies_and_shows_the_imprint_when_set() {
    let site = Site {
        branding: Branding {
            policy_uri: Some("https://example.com/privacy".to_owned()),
            tos_uri: Some("https://example.com/terms".to_owned()),
            imprint: Some("Example Ltd".to_owned()),
            ..Branding::new("Example Chat")
        },
        ..site()
    };

    let html = embedded()
        .render_page(&site, &LoggedOutPage { login_url: None })
        .expect("rendered");

    assert!(html.contains(r#"href="https://example.com/privacy""#));
    assert!(html.contains(r#"href="https://example.com/terms""#));
    assert!(html.contains("Example Ltd"));
}

#[test]
fn there_is_no_footer_without_branding_links() {
    let html = embedded()
        .render_page(&site(), &LoggedOutPage { login_url: None })
        .expect("rendered");

    assert!(!html.contains("<footer"));
}

#[test]
fn the_login_form_posts_username_password_and_csrf() {
    let html = embedded()
        .render_page(&site(), &LoginPage::new("the-csrf-token"))
        .expect("rendered");

    assert!(html.contains(r#"<form method="post""#));
    assert!(html.contains(r#"name="username""#));
    assert!(html.contains(r#"type="password" id="password" name="password""#));
    assert!(html.contains(r#"<input type="hidden" name="csrf" value="the-csrf-token">"#));
}

#[test]
fn the_login_form_prefills_the_username_from_a_hint() {
    let page = LoginPage {
        username: Some("alice".to_owned()),
        ..LoginPage::new("csrf-token")
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"name="username" value="alice""#));
}

#[test]
fn the_login_page_shows_its_error() {
    let page = LoginPage {
        error: Some("Wrong username or password.".to_owned()),
        ..LoginPage::new("csrf-token")
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"role="alert""#));
    assert!(html.contains("Wrong username or password."));
}

#[test]
fn the_login_page_offers_to_create_an_account_only_when_registration_is_open() {
    let open = LoginPage {
        registration_url: Some("/register".to_owned()),
        ..LoginPage::new("csrf-token")
    };

    let with_link = embedded().render_page(&site(), &open).expect("rendered");
    let without_link = embedded()
        .render_page(&site(), &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(with_link.contains(r#"<a href="/register">Create an account</a>"#));
    assert!(!without_link.contains("Create an account"));
}

fn register_page() -> RegisterPage {
    RegisterPage::new("the-csrf-token", "example.com")
}

#[test]
fn the_registration_form_posts_its_fields_with_csrf_and_nothing_optional_by_default() {
    let html = embedded()
        .render_page(&site(), &register_page())
        .expect("rendered");

    assert!(html.contains(r#"<form method="post" class="form">"#));
    assert!(html.contains(r#"<input type="hidden" name="csrf" value="the-csrf-token">"#));
    assert!(html.contains(r#"<label for="username">Username</label>"#));
    assert!(
        html.contains(
            r#"type="password" id="password" name="password" autocomplete="new-password""#
        )
    );
    assert!(html.contains(r#"id="password-confirm" name="password_confirm""#));
    assert!(html.contains(r#"id="display-name" name="display_name""#));
    assert!(
        html.contains("@username:example.com"),
        "the Matrix ID is explained"
    );
    let email = &html[html
        .find(r#"id="email""#)
        .expect("the email field is shown")..];
    assert!(
        !email[..email.find('>').expect("tag end")].contains("required"),
        "the email address is optional by default"
    );
    for absent in [r#"name="token""#, r#"name="accept_terms""#] {
        assert!(!html.contains(absent), "{absent} is not shown by default");
    }
    assert!(
        !html.contains("Sign in</a>"),
        "no sign-in link without a URL"
    );
}

#[test]
fn the_registration_form_asks_for_an_email_and_a_token_when_required() {
    let page = RegisterPage {
        email_required: true,
        token_required: true,
        ..register_page()
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"<input type="email" id="email" name="email""#));
    assert!(html.contains(r#"<label for="token">Registration token</label>"#));
    let email = &html[html.find(r#"id="email""#).expect("email field")..];
    assert!(email[..email.find('>').expect("tag end")].contains("required"));
}

#[test]
fn the_registration_form_asks_to_accept_the_terms_when_the_site_has_some() {
    let site = Site {
        branding: Branding {
            tos_uri: Some("https://example.com/terms".to_owned()),
            ..Branding::new("Example Chat")
        },
        ..site()
    };

    let html = embedded()
        .render_page(&site, &register_page())
        .expect("rendered");

    assert!(html.contains(
        r#"<input type="checkbox" id="accept-terms" name="accept_terms" value="yes" required>"#
    ));
    assert!(html.contains(
        r#"<label for="accept-terms">I agree to the <a href="https://example.com/terms""#
    ));
}

#[test]
fn the_registration_form_shows_each_error_next_to_its_field_and_keeps_the_values() {
    let page = RegisterPage {
        username: Some("bob".to_owned()),
        display_name: Some("Bob".to_owned()),
        login_url: Some("/login?kind=manage_account".to_owned()),
        errors: RegisterErrors {
            username: Some("This username is already taken.".to_owned()),
            password_confirm: Some("The two passwords do not match.".to_owned()),
            ..RegisterErrors::default()
        },
        ..register_page()
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"name="username" value="bob""#));
    assert!(html.contains(r#"name="display_name" value="Bob""#));
    assert!(
        html.contains(r#"aria-describedby="username-hint username-error" aria-invalid="true""#)
    );
    assert!(html.contains(
        r#"<p class="field-error" id="username-error">This username is already taken.</p>"#
    ));
    assert!(html.contains(r#"aria-invalid="true" aria-describedby="password-confirm-error""#));
    assert!(html.contains(r#"<a href="/login?kind=manage_account">Sign in</a>"#));
    assert!(!html.contains("autofocus"), "no jump away from the error");
}

#[test]
fn a_form_wide_registration_error_is_an_alert() {
    let page = RegisterPage {
        errors: RegisterErrors {
            form: Some("Too many registration attempts.".to_owned()),
            ..RegisterErrors::default()
        },
        ..register_page()
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(
        r#"<p class="alert" role="alert" id="form-error">Too many registration attempts.</p>"#
    ));
}

#[test]
fn values_with_markup_are_escaped_on_the_registration_page() {
    let page = RegisterPage {
        username: Some("\"><script>alert(1)</script>".to_owned()),
        display_name: Some("<b>Bob</b>".to_owned()),
        ..register_page()
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(!html.contains("<script>alert(1)"));
    assert!(!html.contains("<b>Bob"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_username_with_markup_is_escaped_on_the_login_page() {
    let page = LoginPage {
        username: Some("\"><script>alert(1)</script>".to_owned()),
        ..LoginPage::new("csrf-token")
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;"));
}

#[test]
fn a_client_name_with_a_script_tag_is_escaped_on_the_consent_page() {
    let client = ClientView {
        name: Some("<script>alert(1)</script>".to_owned()),
        ..ClientView::new("client-id")
    };

    let html = embedded()
        .render_page(&site(), &consent(client))
        .expect("rendered");

    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn the_consent_page_names_the_client_by_id_when_it_has_no_name() {
    let html = embedded()
        .render_page(&site(), &consent(ClientView::new("01J0CLIENTID")))
        .expect("rendered");

    assert!(html.contains("01J0CLIENTID"));
}

#[test]
fn the_consent_page_shows_an_https_logo() {
    let client = ClientView {
        logo_uri: Some("https://client.example/logo.png".to_owned()),
        ..ClientView::new("client-id")
    };

    let html = embedded()
        .render_page(&site(), &consent(client))
        .expect("rendered");

    assert!(html.contains(r#"src="https://client.example/logo.png""#));
}

#[test]
fn the_consent_page_leaves_out_a_logo_that_is_not_https() {
    let client = ClientView {
        logo_uri: Some("http://client.example/logo.png".to_owned()),
        ..ClientView::new("client-id")
    };

    let html = embedded()
        .render_page(&site(), &consent(client))
        .expect("rendered");

    assert!(!html.contains("<img"));
}

#[test]
fn the_consent_page_leaves_out_a_javascript_client_link() {
    let client = ClientView {
        client_uri: Some("javascript:alert(1)".to_owned()),
        policy_uri: Some("https://client.example/privacy".to_owned()),
        ..ClientView::new("client-id")
    };

    let html = embedded()
        .render_page(&site(), &consent(client))
        .expect("rendered");

    assert!(!html.contains("javascript:"));
    assert!(html.contains("Its privacy policy"));
}

#[test]
fn the_consent_page_explains_each_scope_in_words() {
    let html = embedded()
        .render_page(&site(), &consent(ClientView::new("client-id")))
        .expect("rendered");

    assert!(html.contains("See your username and confirm that it is you"));
    assert!(html.contains("Use your Matrix account"));
}

#[test]
fn the_consent_form_posts_allow_or_deny_with_csrf() {
    let html = embedded()
        .render_page(&site(), &consent(ClientView::new("client-id")))
        .expect("rendered");

    assert!(html.contains(r#"<input type="hidden" name="csrf" value="csrf-token">"#));
    assert!(html.contains(r#"name="action" value="allow""#));
    assert!(html.contains(r#"name="action" value="deny""#));
}

#[test]
fn an_admin_scope_is_marked_on_the_consent_page() {
    let page = ConsentPage {
        scopes: describe_scopes(["urn:synapse:admin:*"]),
        ..consent(ClientView::new("client-id"))
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains("scope-admin"));
    assert!(html.contains("Administrator"));
}

#[test]
fn the_single_sign_on_consent_names_where_the_token_goes_and_who_is_signed_in() {
    let page = CompatSsoPage {
        csrf: "csrf-token".to_owned(),
        redirect_host: "app.example.com".to_owned(),
        username: "alice".to_owned(),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains("app.example.com</span> wants to sign in to your account"));
    assert!(html.contains("<strong>alice</strong>"));
    assert!(html.contains(r#"<input type="hidden" name="csrf" value="csrf-token">"#));
    assert!(html.contains(r#"name="action" value="allow""#));
    assert!(html.contains(r#"name="action" value="deny""#));
}

#[test]
fn a_redirect_host_with_markup_is_escaped_on_the_single_sign_on_consent() {
    let page = CompatSsoPage {
        csrf: "csrf-token".to_owned(),
        redirect_host: "<script>alert(1)</script>".to_owned(),
        username: "alice".to_owned(),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(!html.contains("<script>alert(1)</script>"));
}

#[test]
fn the_device_link_form_prefills_the_code() {
    let page = DeviceLinkPage {
        code: Some("ABCD-EFGH".to_owned()),
        error: None,
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"name="code" value="ABCD-EFGH""#));
}

#[test]
fn the_device_link_form_shows_its_error_next_to_the_field() {
    let page = DeviceLinkPage {
        code: Some("WRONG".to_owned()),
        error: Some("This code is not valid.".to_owned()),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"aria-describedby="code-error""#));
    assert!(html.contains("This code is not valid."));
}

#[test]
fn the_device_consent_page_shows_the_user_code_and_the_client() {
    let page = DeviceConsentPage {
        csrf: "csrf-token".to_owned(),
        client: ClientView {
            name: Some("Element X".to_owned()),
            ..ClientView::new("client-id")
        },
        user_code: "WDJB-MJHT".to_owned(),
        scopes: describe_scopes(["openid"]),
        username: "alice".to_owned(),
        requester_ip: Some("192.0.2.7".to_owned()),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains("WDJB-MJHT"));
    assert!(html.contains("Element X"));
    assert!(html.contains("192.0.2.7"));
    assert!(html.contains(r#"name="action" value="allow""#));
}

#[test]
fn the_error_page_folds_its_details_away() {
    let page = ErrorPage {
        title: "Something went wrong".to_owned(),
        message: "Please try again.".to_owned(),
        details: Some("invalid_request".to_owned()),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains("<summary>Technical details</summary>"));
    assert!(html.contains("invalid_request"));
}

#[test]
fn the_error_page_links_home() {
    let page = ErrorPage {
        title: "Not found".to_owned(),
        message: "This page does not exist.".to_owned(),
        details: None,
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"href="/">Go to the home page</a>"#));
    assert!(!html.contains("<details"));
}

#[test]
fn the_form_post_page_posts_every_parameter_to_the_redirect_uri() {
    let html = embedded()
        .render_page(&site(), &form_post("https://client.example/cb"))
        .expect("rendered");

    assert!(html.contains(r#"action="https://client.example/cb""#));
    assert!(html.contains(r#"<input type="hidden" name="code" value="the-code">"#));
    assert!(html.contains("<noscript>"));
}

#[test]
fn the_form_post_page_escapes_parameter_values() {
    let html = embedded()
        .render_page(&site(), &form_post("https://client.example/cb"))
        .expect("rendered");

    assert!(!html.contains("<script>alert(1)"));
}

#[test]
fn the_form_post_script_carries_the_nonce() {
    let html = embedded()
        .render_page(&site(), &form_post("https://client.example/cb"))
        .expect("rendered");

    assert!(html.contains(r#"<script nonce="bm9uY2Utb2YtdGVzdA">"#));
}

#[test]
fn the_form_post_page_refuses_a_javascript_redirect_uri() {
    let result = embedded().render_page(&site(), &form_post("javascript://%0aalert(1)"));

    assert!(matches!(result, Err(TemplateError::Render { .. })));
}

#[test]
fn the_logged_out_page_offers_to_sign_in_again() {
    let page = LoggedOutPage {
        login_url: Some("/login".to_owned()),
    };

    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains(r#"<a class="button button-primary" href="/login">Sign in again</a>"#));
}

#[test]
fn rendering_an_unknown_template_names_it() {
    let result = embedded().render("nope.html", ());

    assert!(matches!(result, Err(TemplateError::Unknown { name }) if name == "nope.html"));
}

#[test]
fn an_override_replaces_the_embedded_template_of_the_same_name() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(
        dir.path(),
        "logged_out.html",
        r#"{% extends "base.html" %}{% block content %}<p>Goodbye from the override</p>{% endblock %}"#,
    );
    let templates = Templates::load(Some(dir.path())).expect("the override compiles");

    let html = templates
        .render_page(&site(), &LoggedOutPage { login_url: None })
        .expect("rendered");

    assert!(html.contains("Goodbye from the override"));
}

#[test]
fn an_override_in_a_subdirectory_replaces_a_component() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(
        dir.path(),
        "components/client.html",
        r#"<h1 id="page-title">Custom client header</h1>"#,
    );
    let templates = Templates::load(Some(dir.path())).expect("the override compiles");

    let html = templates
        .render_page(&site(), &consent(ClientView::new("client-id")))
        .expect("rendered");

    assert!(html.contains("Custom client header"));
}

#[test]
fn embedded_templates_not_overridden_stay_in_place() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(dir.path(), "logged_out.html", "{% extends \"base.html\" %}");
    let templates = Templates::load(Some(dir.path())).expect("the override compiles");

    let html = templates
        .render_page(&site(), &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(html.contains(r#"name="password""#));
}

#[test]
fn a_syntax_error_in_an_override_names_the_file_and_the_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(dir.path(), "login.html", "<p>fine</p>\n<p>{% if %}</p>\n");

    let error = Templates::load(Some(dir.path())).expect_err("does not compile");

    let message = error.to_string();
    assert!(matches!(error, TemplateError::Syntax { .. }));
    assert!(
        message.contains(&dir.path().join("login.html").display().to_string()),
        "{message}"
    );
    assert!(message.contains("line 2"), "{message}");
}

#[test]
fn a_misspelt_variable_in_an_override_fails_the_rendering_with_the_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(
        dir.path(),
        "logged_out.html",
        "{% extends \"base.html\" %}{% block content %}{{ logn_url }}{% endblock %}",
    );
    let templates = Templates::load(Some(dir.path())).expect("compiles");

    let error = templates
        .render_page(&site(), &LoggedOutPage { login_url: None })
        .expect_err("undefined variable");

    assert!(error.to_string().contains("logged_out.html"), "{error}");
}

#[test]
fn an_override_with_an_unlabelled_input_fails_the_check() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(
        dir.path(),
        "device_link.html",
        r#"{% extends "base.html" %}{% block content %}<form method="get"><input type="text" name="code"></form>{% endblock %}"#,
    );
    let templates = Templates::load(Some(dir.path())).expect("compiles");

    let result = templates.check_all();

    assert!(
        matches!(result, Err(TemplateError::Check { ref template, .. }) if template == "device_link.html"),
        "{result:?}"
    );
}

#[test]
fn a_missing_override_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("temporary directory");

    let result = Templates::load(Some(&dir.path().join("missing")));

    assert!(matches!(result, Err(TemplateError::Read { .. })));
}

#[test]
fn files_that_are_not_templates_are_ignored_in_the_override_directory() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(dir.path(), "README.md", "{% this is not a template");

    let result = Templates::load(Some(dir.path()));

    assert!(result.is_ok());
}

fn account_nav() -> portcullis_templates::pages::AccountNav {
    portcullis_templates::pages::AccountNav {
        current: portcullis_templates::pages::AccountSection::Profile,
        username: "alice".to_owned(),
        mxid: "@alice:example.com".to_owned(),
        display_name: Some("Alice Liddell".to_owned()),
        password_change_allowed: false,
        deactivation_allowed: false,
        reauth: Vec::new(),
        passkey_reauth: None,
        has_password: true,
    }
}

fn profile(displayname_change_allowed: bool) -> portcullis_templates::pages::AccountProfilePage {
    profile_with_emails(displayname_change_allowed, false, false)
}

fn profile_with_emails(
    displayname_change_allowed: bool,
    email_change_allowed: bool,
    email_password_required: bool,
) -> portcullis_templates::pages::AccountProfilePage {
    portcullis_templates::pages::AccountProfilePage {
        nav: account_nav(),
        csrf: "csrf-token".to_owned(),
        mxid: "@alice:example.com".to_owned(),
        display_name: Some("<script>alert(1)</script>".to_owned()),
        display_name_unavailable: false,
        displayname_change_allowed,
        display_name_url: "/account/profile".to_owned(),
        display_name_input: None,
        display_name_error: None,
        emails: vec![portcullis_templates::pages::EmailView {
            email: "alice@example.com".to_owned(),
            remove_url: "/account/emails/E1/remove".to_owned(),
        }],
        email_change_allowed,
        add_email_url: "/account/emails".to_owned(),
        email_input: None,
        email_error: None,
        email_password_required,
        linked_accounts: Vec::new(),
        link_error: None,
        link_providers: Vec::new(),
        notice: None,
    }
}

#[test]
fn the_profile_lists_linked_accounts_and_offers_the_providers_to_confirm_with() {
    let templates = embedded();
    let pocket = portcullis_templates::pages::ProviderButton {
        name: "Pocket ID".to_owned(),
        brand: None,
        logo: None,
        url: "/upstream/authorize/pocketid?kind=manage_account".to_owned(),
    };
    let mut page = profile_with_emails(false, true, true);
    page.nav.reauth = vec![pocket.clone()];
    page.linked_accounts = vec![portcullis_templates::pages::LinkedAccountView {
        provider: "Pocket ID".to_owned(),
        account: "alice@id.example.com".to_owned(),
        remove_url: "/account/upstream-links/L1/remove".to_owned(),
    }];
    page.link_providers = vec![portcullis_templates::pages::ProviderButton {
        name: "Google".to_owned(),
        brand: Some("google".to_owned()),
        logo: Some("/assets/brands/google.svg".to_owned()),
        url: "/upstream/authorize/google?kind=manage_account".to_owned(),
    }];
    let html = templates.render_page(&site(), &page).expect("renders");
    assert!(
        html.contains("Pocket ID: <strong>alice@id.example.com</strong>"),
        "{html}"
    );
    assert!(
        html.contains(r#"action="/account/upstream-links/L1/remove""#),
        "{html}"
    );
    assert!(html.contains(r#"id="unlink-password-1""#), "{html}");
    assert!(
        html.contains("Or confirm that it is you by signing in again with:"),
        "{html}"
    );
    assert!(html.contains("Continue with Pocket ID"), "{html}");
    assert!(html.contains("Link an account at Google"), "{html}");

    // Without linked accounts, providers or a password to ask for: none of it.
    let bare = templates
        .render_page(&site(), &profile_with_emails(false, true, false))
        .expect("renders");
    assert!(!bare.contains("Sign-in providers"), "{bare}");
    assert!(!bare.contains("Or confirm that it is you"), "{bare}");
}

#[test]
fn the_profile_shows_the_email_forms_only_when_allowed() {
    let templates = embedded();

    let allowed = templates
        .render_page(&site(), &profile_with_emails(false, true, false))
        .expect("renders");
    let refused = templates
        .render_page(&site(), &profile_with_emails(false, false, false))
        .expect("renders");

    assert!(allowed.contains(r#"action="/account/emails""#));
    assert!(allowed.contains(r#"<label for="new-email">Email address</label>"#));
    assert!(allowed.contains(r#"action="/account/emails/E1/remove""#));
    assert!(
        !allowed.contains(r#"name="password""#),
        "a recent sign-in needs no password"
    );
    assert!(refused.contains("alice@example.com"));
    assert!(!refused.contains(r#"action="/account/emails""#));
    assert!(!refused.contains("/remove"));
}

#[test]
fn the_remove_forms_ask_for_the_password_when_the_sign_in_is_old() {
    let mut page = profile_with_emails(false, true, true);
    page.emails.push(portcullis_templates::pages::EmailView {
        email: "second@example.com".to_owned(),
        remove_url: "/account/emails/E2/remove".to_owned(),
    });
    page.email_error = Some("Wrong password.".to_owned());
    let html = embedded().render_page(&site(), &page).expect("renders");

    assert!(html.contains(r#"<label for="remove-password-1">Your password</label>"#));
    assert!(html.contains(r#"<label for="remove-password-2">Your password</label>"#));
    assert_eq!(html.matches(r#"name="password""#).count(), 2);
    assert!(html.contains(r#"role="alert" id="email-error">Wrong password."#));
}

#[test]
fn a_display_name_with_markup_is_escaped_on_the_profile() {
    let html = embedded()
        .render_page(&site(), &profile(true))
        .expect("renders");

    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn the_profile_shows_the_display_name_form_only_when_allowed() {
    let templates = embedded();

    let allowed = templates
        .render_page(&site(), &profile(true))
        .expect("renders");
    let refused = templates
        .render_page(&site(), &profile(false))
        .expect("renders");

    assert!(allowed.contains(r#"name="display_name""#));
    assert!(allowed.contains(r#"action="/account/profile""#));
    assert!(!refused.contains(r#"name="display_name""#));
    assert!(
        !refused.contains("/account/password"),
        "switched-off pages are not linked"
    );
}

#[test]
fn the_email_code_page_has_a_labelled_code_field_and_a_resend_form() {
    let page = VerifyEmailPage {
        csrf: "the-csrf-token".to_owned(),
        email: "bob@example.com".to_owned(),
        action: "/register/steps/R1/verify-email".to_owned(),
        resend_url: "/register/steps/R1/resend".to_owned(),
        restart_url: Some("/register/password".to_owned()),
        error: Some("This code is not right.".to_owned()),
        notice: None,
    };
    let html = embedded().render_page(&site(), &page).expect("rendered");

    assert!(html.contains("bob@example.com"));
    assert!(html.contains(r#"<label for="code">Code</label>"#));
    assert!(html.contains(r#"autocomplete="one-time-code""#));
    assert!(html.contains(r#"action="/register/steps/R1/verify-email""#));
    assert!(html.contains(r#"action="/register/steps/R1/resend""#));
    assert_eq!(
        html.matches(r#"<input type="hidden" name="csrf" value="the-csrf-token">"#)
            .count(),
        2
    );
    assert!(html.contains(r#"role="alert" id="code-error">This code is not right."#));
    assert!(html.contains(r#"href="/register/password">Start again</a>"#));
}

#[test]
fn the_recovery_pages_have_labelled_fields_and_say_nothing_of_the_account() {
    use portcullis_templates::pages::{
        PasswordChangeErrors, RecoverCompletePage, RecoverPage, RecoverSentPage,
    };
    let templates = embedded();

    let form = templates
        .render_page(
            &site(),
            &RecoverPage {
                csrf: "the-csrf-token".to_owned(),
                email: Some("<bob@example.com>".to_owned()),
                error: None,
                login_url: "/login".to_owned(),
            },
        )
        .expect("renders");
    let sent = templates
        .render_page(
            &site(),
            &RecoverSentPage {
                email: "bob@example.com".to_owned(),
                recover_url: "/recover".to_owned(),
                login_url: "/login".to_owned(),
            },
        )
        .expect("renders");
    let complete = templates
        .render_page(
            &site(),
            &RecoverCompletePage {
                csrf: "the-csrf-token".to_owned(),
                ticket: "TICKET".to_owned(),
                action: "/recover/complete?ticket=TICKET".to_owned(),
                username: "bob".to_owned(),
                errors: PasswordChangeErrors {
                    new_password: Some("Too weak.".to_owned()),
                    ..PasswordChangeErrors::default()
                },
            },
        )
        .expect("renders");

    assert!(form.contains(r#"<label for="email">Email address</label>"#));
    assert!(form.contains("&lt;bob@example.com&gt;"));
    assert!(sent.contains("If an account has the address"));
    assert!(complete.contains(r#"<label for="new-password">New password</label>"#));
    assert!(complete.contains(r#"<input type="hidden" name="ticket" value="TICKET">"#));
    assert!(complete.contains(r#"id="new-password-error">Too weak."#));
}

fn french_site() -> Site {
    Site {
        lang: "fr".to_owned(),
        ..site()
    }
}

#[test]
fn a_page_rendered_for_french_is_in_french() {
    let page = LoginPage {
        registration_url: Some("/register".to_owned()),
        ..LoginPage::new("csrf-token")
    };

    let html = embedded()
        .render_page(&french_site(), &page)
        .expect("rendered");

    assert!(html.contains(r#"<html lang="fr">"#), "{html}");
    assert!(html.contains("Se connecter à Example Chat"), "{html}");
    assert!(html.contains("Mot de passe"), "{html}");
    assert!(html.contains("Créer un compte"), "{html}");
    assert!(!html.contains("Password"), "{html}");
}

#[test]
fn a_page_rendered_for_english_stays_in_english() {
    let html = embedded()
        .render_page(&site(), &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("Sign in to Example Chat"), "{html}");
    assert!(!html.contains("Mot de passe"), "{html}");
}

#[test]
fn translated_values_are_escaped() {
    let site = Site {
        branding: Branding::new("<b>Chat</b>"),
        ..french_site()
    };

    let html = embedded()
        .render_page(&site, &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(
        html.contains("Se connecter à &lt;b&gt;Chat&lt;/b&gt;"),
        "{html}"
    );
}

#[test]
fn overrides_can_translate_with_the_same_function() {
    let dir = tempfile::tempdir().expect("temporary directory");
    write(
        dir.path(),
        "login.html",
        r#"{% extends "base.html" %}{% block title %}{{ _("login.title") }}{% endblock %}{% block content %}<p>{{ _("login.heading", service="Ici") }}</p>{% endblock %}"#,
    );
    let templates = Templates::load(Some(dir.path())).expect("loaded");

    let html = templates
        .render_page(&french_site(), &LoginPage::new("csrf-token"))
        .expect("rendered");

    assert!(html.contains("<p>Se connecter à Ici</p>"), "{html}");
    assert!(
        html.contains("<title>Connexion · Example Chat</title>"),
        "{html}"
    );
}

#[test]
fn the_consent_page_is_in_french_for_french() {
    let client = ClientView {
        name: Some("Element".to_owned()),
        ..ClientView::new("client-id")
    };

    let html = embedded()
        .render_page(&french_site(), &consent(client))
        .expect("rendered");

    assert!(html.contains("souhaite accéder à votre compte"), "{html}");
    assert!(html.contains(">Autoriser<"), "{html}");
    assert!(
        html.contains("Utiliser votre compte Matrix"),
        "scopes are described in French: {html}"
    );
    assert!(
        html.contains("Vous êtes connecté en tant que <strong>alice</strong>"),
        "{html}"
    );
    assert_eq!(Locale::from_tag("fr"), Some(Locale::Fr));
}
