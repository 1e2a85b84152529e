//! Pages for people: rendering with the site's branding, and the headers every page carries.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use portcullis_templates::{Locale, Page, Site, negotiate, pages::ErrorPage};

use crate::AppState;

/// `Content-Security-Policy` of every page: nothing from other hosts, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; style-src 'self'; img-src 'self' https: data:; \
     form-action 'self' https: http:; frame-ancestors 'none'; base-uri 'none'";

pub use portcullis_services::captcha::ThirdPartySources;

/// [`CONTENT_SECURITY_POLICY`] with `sources` added to their directives, and nothing else
/// changed: a directive the strict policy leaves to `default-src 'self'` keeps `'self'`.
#[must_use]
pub fn content_security_policy_allowing(sources: &ThirdPartySources) -> String {
    let mut directives: Vec<String> = CONTENT_SECURITY_POLICY
        .split(';')
        .map(|directive| directive.trim().to_owned())
        .collect();
    let extra = [
        ("script-src", sources.script),
        ("frame-src", sources.frame),
        ("connect-src", sources.connect),
        ("style-src", sources.style),
    ];
    for (name, hosts) in extra {
        if hosts.is_empty() {
            continue;
        }
        let hosts = hosts.join(" ");
        match directives
            .iter_mut()
            .find(|directive| directive.split_whitespace().next() == Some(name))
        {
            Some(directive) => {
                directive.push(' ');
                directive.push_str(&hosts);
            }
            // Right after `default-src`, which it narrows.
            None => directives.insert(1, format!("{name} 'self' {hosts}")),
        }
    }
    directives.join("; ")
}

/// Replaces the strict policy of a rendered page by one that also allows `sources`.
pub fn allow_third_party(response: &mut Response, sources: &ThirdPartySources) {
    match HeaderValue::from_str(&content_security_policy_allowing(sources)) {
        Ok(policy) => {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        // Hosts are constants of this program; should one ever be unprintable, the page keeps
        // the strict policy (its widget will not load) rather than lose its policy.
        Err(error) => tracing::error!(%error, "cannot write a content security policy"),
    }
}

tokio::task_local! {
    /// The language negotiated for the request being served, set by [`negotiate_language`].
    static LOCALE: Locale;
}

/// The language of the pages of the request being served: the one negotiated from its
/// `Accept-Language` by [`negotiate_language`], English outside a request.
#[must_use]
pub fn current_locale() -> Locale {
    LOCALE.try_with(|locale| *locale).unwrap_or_default()
}

/// Middleware: negotiates the language of the pages from `Accept-Language`, for every page
/// rendered while serving the request, and marks HTML responses `Vary: Accept-Language`.
pub async fn negotiate_language(request: Request, next: Next) -> Response {
    let locale = negotiate(
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let mut response = LOCALE.scope(locale, next.run(request)).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if is_html {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    response
}

/// Runs `future` as if serving a request negotiated to `locale`: what it renders or
/// translates is in that language.
pub async fn with_locale<F: std::future::Future>(locale: Locale, future: F) -> F::Output {
    LOCALE.scope(locale, future).await
}

/// Runs `work` (synchronous) as if serving a request negotiated to `locale`.
pub fn with_locale_now<T>(locale: Locale, work: impl FnOnce() -> T) -> T {
    LOCALE.sync_scope(locale, work)
}

/// The text of `key` in the language of the request being served (see
/// [`portcullis_templates::translate`]), for messages that handlers pass to pages.
#[must_use]
pub fn tr(key: &str, args: &[(&str, &str)]) -> String {
    portcullis_templates::translate(current_locale(), key, args)
}

/// A wait in words, in the language of the request: "1 second", "40 seconds", "1 minute",
/// "12 minutes", "1 hour and 5 minutes".
#[must_use]
pub fn describe_wait(wait: std::time::Duration) -> String {
    let count = |key: &str, count: u64| tr(key, &[("count", &count.to_string())]);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if seconds < 60 {
        return count("wait.seconds", seconds.max(1));
    }
    let minutes = wait.as_secs().div_ceil(60).max(1);
    match (minutes / 60, minutes % 60) {
        (0, minutes) => count("wait.minutes", minutes),
        (hours, 0) => count("wait.hours", hours),
        (hours, minutes) => tr(
            "wait.hours_and_minutes",
            &[
                ("hours", &count("wait.hours", hours)),
                ("minutes", &count("wait.minutes", minutes)),
            ],
        ),
    }
}

impl AppState {
    /// The branding and paths every page needs, in the language of the request.
    #[must_use]
    pub fn site(&self) -> Site {
        let settings = self.site_config();
        let mut site = Site::new(
            settings
                .service_name
                .clone()
                .unwrap_or_else(|| "Matrix".to_owned()),
        );
        site.base_path = self.urls().base().path().trim_end_matches('/').to_owned();
        site.branding.policy_uri = settings.policy_uri.as_ref().map(ToString::to_string);
        site.branding.tos_uri = settings.tos_uri.as_ref().map(ToString::to_string);
        site.lang = current_locale().tag().to_owned();
        site
    }

    /// Renders `page` with status `status`, or an error page if the template fails.
    pub fn render<P: Page>(&self, status: StatusCode, page: &P) -> Response {
        match self.templates().render_page(&self.site(), page) {
            Ok(html) => (status, protective_headers(), Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, template = P::TEMPLATE, "cannot render a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    protective_headers(),
                    "Internal error\n",
                )
                    .into_response()
            }
        }
    }

    /// A readable error page.
    pub fn error_page(
        &self,
        status: StatusCode,
        title: impl Into<String>,
        message: impl Into<String>,
    ) -> Response {
        self.error_page_with_details(status, title, message, None)
    }

    /// [`Self::error_page`], with technical details folded away (what an administrator asked
    /// for help needs; never a secret).
    pub fn error_page_with_details(
        &self,
        status: StatusCode,
        title: impl Into<String>,
        message: impl Into<String>,
        details: Option<String>,
    ) -> Response {
        let page = ErrorPage {
            title: title.into(),
            message: message.into(),
            details,
        };
        self.render(status, &page)
    }

    /// The 404 page worded by the message `key` (its title by `{key}_title`).
    pub fn not_found_page(&self, key: &str) -> Response {
        self.error_page(
            StatusCode::NOT_FOUND,
            tr(&format!("{key}_title"), &[]),
            tr(key, &[]),
        )
    }

    /// What a lookup `found`, the 404 page worded by `key` when it found nothing, or the
    /// internal error page.
    pub fn found_or_not_found<T>(
        &self,
        found: Result<Option<T>, portcullis_storage::StorageError>,
        key: &str,
    ) -> Result<T, Response> {
        match found {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(self.not_found_page(key)),
            Err(error) => Err(self.internal_error_page(&error)),
        }
    }

    /// The page for a failure that is ours, not the visitor's: logged with its cause, shown
    /// without detail.
    pub fn internal_error_page(&self, error: &(dyn std::error::Error + 'static)) -> Response {
        let storage = error.downcast_ref::<portcullis_storage::StorageError>();
        if let Some(storage) = storage.filter(|storage| storage.is_unavailable()) {
            crate::unavailable::log(storage, storage.already_logged(), "pages");
            let mut page = self.error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                tr("error.unavailable_title", &[]),
                tr("error.unavailable_message", &[]),
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return page;
        }
        tracing::error!(error = %error, "internal error while serving a page");
        self.error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            tr("error.internal_title", &[]),
            tr("error.internal_message", &[]),
        )
    }
}

/// Headers that keep pages from being framed (clickjacking) or loading anything from
/// elsewhere.
#[must_use]
pub fn protective_headers() -> [(HeaderName, HeaderValue); 4] {
    [
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ]
}

/// How the consent pages show a client: its name, logo and links, as it registered them.
#[must_use]
pub fn client_view(
    client: &portcullis_model::OAuthClient,
) -> portcullis_templates::pages::ClientView {
    let mut view = portcullis_templates::pages::ClientView::new(client.client_id.clone());
    view.name = client.client_name.clone();
    view.logo_uri = client.logo_uri.clone();
    view.client_uri = client.client_uri.clone();
    view.policy_uri = client.policy_uri.clone();
    view.tos_uri = client.tos_uri.clone();
    view
}

/// The fields of a two-button form: its token, and which button (`action`).
#[derive(Debug, serde::Deserialize)]
pub struct ChoiceForm {
    pub csrf: String,
    pub action: String,
}

/// The answer of a two-button form (`action=allow` or `action=deny`): whether it allows, or
/// the page that says the choice is not one of the two.
pub fn allow_or_deny(state: &AppState, action: &str) -> Result<bool, Response> {
    match action {
        "allow" => Ok(true),
        "deny" => Ok(false),
        _ => Err(state.error_page(
            StatusCode::BAD_REQUEST,
            tr("form.error.unknown_choice_title", &[]),
            tr("form.error.unknown_choice", &[]),
        )),
    }
}

/// Why the policy refused, in the language of the request: our words for the codes of the
/// built-in policy, the policy's own message for the others (a custom policy's).
#[must_use]
pub fn policy_reasons(verdict: &portcullis_policy::Verdict) -> String {
    let mut reasons: Vec<String> = Vec::new();
    for violation in &verdict.violations {
        let reason = violation
            .code
            .as_deref()
            .map(|code| format!("policy.violation.{code}"))
            .map(|key| (tr(&key, &[]), key))
            .and_then(|(text, key)| (text != key).then_some(text))
            .unwrap_or_else(|| sentence_of(&violation.msg));
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    reasons.join(" ")
}

/// A policy message as a sentence: capitalised, with a full stop.
fn sentence_of(message: &str) -> String {
    let mut chars = message.trim().chars();
    let mut sentence: String = chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowing_nothing_is_the_strict_policy() {
        assert_eq!(
            content_security_policy_allowing(&ThirdPartySources::default()),
            CONTENT_SECURITY_POLICY
        );
    }

    #[test]
    fn allowed_hosts_join_their_directives_and_nothing_else_changes() {
        let policy = content_security_policy_allowing(&ThirdPartySources {
            script: &["https://widget.example"],
            frame: &["https://frames.example"],
            connect: &[],
            style: &["https://styles.example"],
        });
        assert_eq!(
            policy,
            "default-src 'self'; frame-src 'self' https://frames.example; \
             script-src 'self' https://widget.example; style-src 'self' https://styles.example; \
             img-src 'self' https: data:; form-action 'self' https: http:; \
             frame-ancestors 'none'; base-uri 'none'"
        );
    }

    #[test]
    fn waits_are_said_in_seconds_minutes_and_hours() {
        assert_eq!(
            describe_wait(std::time::Duration::from_millis(300)),
            "1 second"
        );
        assert_eq!(describe_wait(std::time::Duration::from_secs(1)), "1 second");
        assert_eq!(
            describe_wait(std::time::Duration::from_secs(5)),
            "5 seconds"
        );
        assert_eq!(
            describe_wait(std::time::Duration::from_secs(60)),
            "1 minute"
        );
        assert_eq!(
            describe_wait(std::time::Duration::from_secs(600)),
            "10 minutes"
        );
        assert_eq!(
            describe_wait(std::time::Duration::from_secs(3600)),
            "1 hour"
        );
        assert_eq!(
            describe_wait(std::time::Duration::from_secs(3900)),
            "1 hour and 5 minutes"
        );
    }
}
