//! Server-rendered pages and the emails: minijinja templates and one stylesheet, embedded in the
//! binary and overridable from a directory (`templates.path`).
//!
//! Every page has a context struct in [`pages`] and is rendered with
//! [`Templates::render_page`], which adds the [`Site`] around it; every email has one in
//! [`emails`], rendered with [`Templates::render_email`] into a subject, a text and an HTML
//! body. Output is HTML-escaped for
//! `.html` templates, so values from users and clients are inert. The pages need no
//! JavaScript; the form post page alone runs a one-line script, under a CSP nonce.

mod check;
pub mod emails;
pub mod i18n;
pub mod pages;
mod scope;
mod site;
mod urls;

use std::{
    collections::HashMap,
    fmt, io,
    path::{Path, PathBuf},
};

use minijinja::{
    AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior,
    value::{Kwargs, Value},
};
use serde::Serialize;

pub use crate::{
    emails::{Email, RenderedEmail},
    i18n::{Locale, format_date, negotiate, translate},
    pages::Page,
    scope::{ScopeView, describe_scope, describe_scopes},
    site::{Branding, Site},
};

/// The embedded templates, by name. An override directory may replace any of them.
const EMBEDDED: &[(&str, &str)] = &[
    (
        "account/cross_signing_reset.html",
        include_str!("../templates/account/cross_signing_reset.html"),
    ),
    (
        "account/tokens.html",
        include_str!("../templates/account/tokens.html"),
    ),
    (
        "account/deactivate.html",
        include_str!("../templates/account/deactivate.html"),
    ),
    (
        "account/deactivated.html",
        include_str!("../templates/account/deactivated.html"),
    ),
    (
        "account/device.html",
        include_str!("../templates/account/device.html"),
    ),
    (
        "account/locked.html",
        include_str!("../templates/account/locked.html"),
    ),
    (
        "account/password.html",
        include_str!("../templates/account/password.html"),
    ),
    (
        "account/profile.html",
        include_str!("../templates/account/profile.html"),
    ),
    (
        "account/second_factors.html",
        include_str!("../templates/account/second_factors.html"),
    ),
    (
        "account/sessions.html",
        include_str!("../templates/account/sessions.html"),
    ),
    ("base.html", include_str!("../templates/base.html")),
    (
        "components/account_nav.html",
        include_str!("../templates/components/account_nav.html"),
    ),
    (
        "components/client.html",
        include_str!("../templates/components/client.html"),
    ),
    (
        "components/providers.html",
        include_str!("../templates/components/providers.html"),
    ),
    (
        "components/recovery_codes.html",
        include_str!("../templates/components/recovery_codes.html"),
    ),
    (
        "components/reauth.html",
        include_str!("../templates/components/reauth.html"),
    ),
    (
        "components/scopes.html",
        include_str!("../templates/components/scopes.html"),
    ),
    (
        "components/session.html",
        include_str!("../templates/components/session.html"),
    ),
    (
        "components/terms_field.html",
        include_str!("../templates/components/terms_field.html"),
    ),
    (
        "components/token_field.html",
        include_str!("../templates/components/token_field.html"),
    ),
    (
        "components/totp_enrolment.html",
        include_str!("../templates/components/totp_enrolment.html"),
    ),
    (
        "compat_sso.html",
        include_str!("../templates/compat_sso.html"),
    ),
    ("consent.html", include_str!("../templates/consent.html")),
    (
        "device_consent.html",
        include_str!("../templates/device_consent.html"),
    ),
    (
        "device_done.html",
        include_str!("../templates/device_done.html"),
    ),
    (
        "device_link.html",
        include_str!("../templates/device_link.html"),
    ),
    (
        "end_session.html",
        include_str!("../templates/end_session.html"),
    ),
    (
        "emails/base.html",
        include_str!("../templates/emails/base.html"),
    ),
    (
        "emails/recovery.html",
        include_str!("../templates/emails/recovery.html"),
    ),
    (
        "emails/recovery.subject",
        include_str!("../templates/emails/recovery.subject"),
    ),
    (
        "emails/recovery.txt",
        include_str!("../templates/emails/recovery.txt"),
    ),
    (
        "emails/verification.html",
        include_str!("../templates/emails/verification.html"),
    ),
    (
        "emails/verification.subject",
        include_str!("../templates/emails/verification.subject"),
    ),
    (
        "emails/verification.txt",
        include_str!("../templates/emails/verification.txt"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    ("index.html", include_str!("../templates/index.html")),
    (
        "form_post.html",
        include_str!("../templates/form_post.html"),
    ),
    (
        "logged_out.html",
        include_str!("../templates/logged_out.html"),
    ),
    ("login.html", include_str!("../templates/login.html")),
    (
        "login_second_factor.html",
        include_str!("../templates/login_second_factor.html"),
    ),
    ("recover.html", include_str!("../templates/recover.html")),
    (
        "recover_complete.html",
        include_str!("../templates/recover_complete.html"),
    ),
    (
        "recover_sent.html",
        include_str!("../templates/recover_sent.html"),
    ),
    ("register.html", include_str!("../templates/register.html")),
    (
        "upstream_link.html",
        include_str!("../templates/upstream_link.html"),
    ),
    (
        "upstream_register.html",
        include_str!("../templates/upstream_register.html"),
    ),
    (
        "verify_email.html",
        include_str!("../templates/verify_email.html"),
    ),
];

/// The stylesheet every page links to, at `{base_path}/assets/portcullis.css`.
const STYLESHEET: &str = include_str!("../assets/portcullis.css");

/// Extensions of the files an override directory may hold; other files are ignored.
const TEMPLATE_EXTENSIONS: &[&str] = &["html", "txt", "subject"];

/// Where a template problem is: the template's name, the override file it came from if any,
/// and the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The template's name (`login.html`).
    pub name: String,
    /// The override file, when the template was not the embedded one.
    pub path: Option<PathBuf>,
    /// The line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}", path.display())?,
            None => write!(f, "{} (embedded)", self.name)?,
        }
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
        }
        Ok(())
    }
}

/// Why templates could not be loaded, rendered or checked.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// An override could not be read.
    #[error("cannot read the template override {}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },

    /// A template does not compile.
    #[error("{location}: {detail}")]
    Syntax {
        /// Where.
        location: Location,
        /// What is wrong.
        detail: String,
    },

    /// A template failed while rendering.
    #[error("rendering {template} failed at {location}: {detail}")]
    Render {
        /// The template that was asked for.
        template: String,
        /// Where it failed, possibly in a template it includes or extends.
        location: Location,
        /// What is wrong.
        detail: String,
    },

    /// No template has that name.
    #[error("no template named {name}")]
    Unknown {
        /// The name asked for.
        name: String,
    },

    /// A rendered page breaks a rule of [`Templates::check_all`].
    #[error("{template}: {problem}")]
    Check {
        /// The template.
        template: String,
        /// The rule it breaks.
        problem: String,
    },
}

/// The loaded templates.
#[derive(Debug, Clone)]
pub struct Templates {
    env: Environment<'static>,
    /// Override files by template name, to name them in errors.
    overrides: HashMap<String, PathBuf>,
}

impl Templates {
    /// Loads the embedded templates, then the files of `override_dir` (recursively, names
    /// relative to it with `/`), each replacing the embedded template of the same name or
    /// adding a new one. Only `.html`, `.txt` and `.subject` files are read.
    ///
    /// # Errors
    /// When an override cannot be read, or any template does not compile; the error names the
    /// file and line.
    pub fn load(override_dir: Option<&Path>) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        // A misspelt variable fails the rendering (and `check_all`) instead of printing
        // nothing; `{% if x %}` on a missing one stays allowed.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_trim_blocks(true);
        env.set_formatter(html_formatter);
        // HTML escaping for `.html` only: an email's subject and text part are not HTML, and
        // `&amp;` there would reach the reader as such.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_lstrip_blocks(true);
        env.add_function("_", translate_function);

        let mut overrides = HashMap::new();
        if let Some(dir) = override_dir {
            collect_overrides(dir, dir, &mut overrides)?;
        }
        for (name, source) in EMBEDDED {
            if !overrides.contains_key(*name) {
                env.add_template(name, source)
                    .map_err(|error| syntax_error(name, None, &error))?;
            }
        }
        let mut names: Vec<&String> = overrides.keys().collect();
        names.sort();
        for name in names {
            let path = &overrides[name];
            let source = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
                path: path.clone(),
                source,
            })?;
            env.add_template_owned(name.clone(), source)
                .map_err(|error| syntax_error(name, Some(path), &error))?;
        }
        Ok(Self { env, overrides })
    }

    /// The templates built into the binary, by name, with their source: what
    /// `templates save` writes out for operators to start their overrides from.
    pub fn embedded() -> impl Iterator<Item = (&'static str, &'static str)> {
        EMBEDDED.iter().copied()
    }

    /// The stylesheet, for the HTTP layer to serve at `/assets/portcullis.css`.
    #[must_use]
    pub fn stylesheet() -> &'static str {
        STYLESHEET
    }

    /// Renders a page with its site context.
    ///
    /// # Errors
    /// When the template fails, or the context holds a value refused on the way in (see
    /// [`pages::FormPostPage::redirect_uri`]).
    pub fn render_page<P: Page>(&self, site: &Site, page: &P) -> Result<String, TemplateError> {
        // Site fields come first, so that a page field cannot shadow `lang` or `branding`.
        let context = minijinja::value::merge_maps([
            Value::from_serialize(site),
            Value::from_serialize(page),
        ]);
        self.render(P::TEMPLATE, context)
    }

    /// Renders an email's subject, text and HTML templates with its site context (`lang`
    /// chooses the language, `branding.service_name` names the service). The subject is made
    /// one line (see [`emails::one_line`]).
    ///
    /// # Errors
    /// When one of the three templates is missing or fails.
    pub fn render_email<E: Email>(
        &self,
        site: &Site,
        email: &E,
    ) -> Result<RenderedEmail, TemplateError> {
        let context = minijinja::value::merge_maps([
            Value::from_serialize(site),
            Value::from_serialize(email),
        ]);
        let subject = self.render(&format!("{}.subject", E::TEMPLATE), &context)?;
        Ok(RenderedEmail {
            subject: emails::one_line(&subject),
            text: self.render(&format!("{}.txt", E::TEMPLATE), &context)?,
            html: self.render(&format!("{}.html", E::TEMPLATE), &context)?,
        })
    }

    /// Renders any template with any context.
    ///
    /// # Errors
    /// When there is no such template, or it fails.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, TemplateError> {
        let template = self
            .env
            .get_template(name)
            .map_err(|_| TemplateError::Unknown {
                name: name.to_owned(),
            })?;
        template
            .render(context)
            .map_err(|error| self.render_error(name, &error))
    }

    /// Renders every page and every email with sample contexts and checks the HTML: a `lang`,
    /// a label for every visible input, unique IDs, balanced tags, a CSRF field in every form
    /// that posts back; and that each email subject renders to a single line. Meant for
    /// `templates check` after editing overrides.
    ///
    /// # Errors
    /// The first problem found.
    pub fn check_all(&self) -> Result<(), TemplateError> {
        check::check_all(self)
    }

    /// Names of all loaded templates, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.env.templates().map(|(name, _)| name).collect();
        names.sort_unstable();
        names
    }

    fn render_error(&self, requested: &str, error: &minijinja::Error) -> TemplateError {
        let name = error.name().unwrap_or(requested).to_owned();
        TemplateError::Render {
            template: requested.to_owned(),
            location: Location {
                path: self.overrides.get(&name).cloned(),
                name,
                line: error.line(),
            },
            detail: describe(error),
        }
    }
}

/// The templates' `_(key, name=value, ...)`: the text of `key` in the language of the page
/// (the context's `lang`), its `{name}` placeholders filled in. The result is escaped like
/// any other value.
fn translate_function(
    state: &State,
    key: &str,
    kwargs: Kwargs,
) -> Result<String, minijinja::Error> {
    let locale = state
        .lookup("lang")
        .and_then(|lang| lang.as_str().and_then(Locale::from_tag))
        .unwrap_or_default();
    let mut values = Vec::new();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        values.push((name, value.to_string()));
    }
    kwargs.assert_all_used()?;
    let args: Vec<(&str, &str)> = values
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    Ok(translate(locale, key, &args))
}

/// minijinja's formatter, except that `/` is left alone in HTML: escaping it protects nothing
/// in text or quoted attributes, and `href="&#x2f;login"` surprises every reader and test.
/// `&`, `<`, `>`, `"` and `'` are escaped, so no value can leave its text or attribute.
fn html_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    // A custom formatter takes over minijinja's check that printing an undefined value fails.
    if value.is_undefined()
        && matches!(
            state.undefined_behavior(),
            UndefinedBehavior::Strict | UndefinedBehavior::SemiStrict
        )
    {
        return Err(minijinja::Error::from(ErrorKind::UndefinedError));
    }
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(text)) if !value.is_safe() => {
            let mut rest = text;
            while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
                out.write_str(&rest[..at])?;
                out.write_str(match rest.as_bytes()[at] {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    _ => "&#x27;",
                })?;
                rest = &rest[at + 1..];
            }
            out.write_str(rest)?;
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn syntax_error(name: &str, path: Option<&PathBuf>, error: &minijinja::Error) -> TemplateError {
    TemplateError::Syntax {
        location: Location {
            name: name.to_owned(),
            path: path.cloned(),
            line: error.line(),
        },
        detail: describe(error),
    }
}

/// minijinja's message without the location it appends, which [`Location`] gives.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// Finds the template files under `dir`, named by their path relative to `root`.
fn collect_overrides(
    root: &Path,
    dir: &Path,
    found: &mut HashMap<String, PathBuf>,
) -> Result<(), TemplateError> {
    let read_error = |source| TemplateError::Read {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let path = entry.path();
        // Not following directory symlinks keeps a link loop from recursing forever.
        if entry.file_type().map_err(read_error)?.is_dir() {
            collect_overrides(root, &path, found)?;
            continue;
        }
        let is_template = path
            .extension()
            .and_then(|extension| extension.to_str())
            .is_some_and(|extension| TEMPLATE_EXTENSIONS.contains(&extension));
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        if !is_template {
            continue;
        }
        let name = relative
            .components()
            .map(|component| component.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        found.insert(name, path);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, value: &str) -> String {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template("test.html", source).expect("compiles");
        env.get_template("test.html")
            .and_then(|template| template.render(minijinja::context! { value }))
            .expect("renders")
    }

    #[test]
    fn html_special_characters_are_escaped() {
        let html = render("{{ value }}", r#"<a href="x" title='y'>&</a>"#);

        assert_eq!(
            html,
            "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn slashes_are_left_alone() {
        let html = render("{{ value }}", "https://example.com/a/b");

        assert_eq!(html, "https://example.com/a/b");
    }

    #[test]
    fn values_marked_safe_are_not_escaped() {
        let html = render("{{ value|safe }}", "<b>bold</b>");

        assert_eq!(html, "<b>bold</b>");
    }

    #[test]
    fn text_templates_are_not_escaped() {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        env.add_template("mail.txt", "{{ value }}")
            .expect("compiles");

        let text = env
            .get_template("mail.txt")
            .and_then(|template| template.render(minijinja::context! { value => "a < b" }))
            .expect("renders");

        assert_eq!(text, "a < b");
    }
}
