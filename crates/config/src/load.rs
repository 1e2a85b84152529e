//! Loading: read the files, merge them, interpolate `${VAR}`, deserialise each section with
//! precise paths, warn about unknown options, then validate what parsed.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{
    AccountConfig, BrandingConfig, CaptchaConfig, Config, DatabaseConfig, EmailConfig,
    ExperimentalConfig, HttpConfig, MatrixConfig, PasswordsConfig, PolicyConfig,
    RateLimitingConfig, SecretsConfig, TelemetryConfig, UpstreamOAuth2Config,
    interpolate::interpolate,
    merge::{drop_nulls, merge},
    path::{Segment, from_error_path, from_ignored_path, render},
    problem::{Problem, Problems},
    suggest::{Suggestion, suggestion},
};

/// A configuration that loaded without errors.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged, typed configuration.
    pub config: Config,
    /// Warnings to show the operator (unknown options, ignored values).
    pub warnings: Vec<Problem>,
    /// Directory of the first file, against which a relative SQLite path is resolved.
    pub base_dir: PathBuf,
}

/// Loads and merges `paths` in order, reading `${VAR}` references through `env`.
///
/// # Errors
/// [`Problems`] with every error and warning found, when there is at least one error.
pub fn load(paths: &[PathBuf], env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, Problems> {
    let Some(first) = paths.first() else {
        return Err(Problems(vec![Problem::error(
            "config",
            "no configuration file given",
        )]));
    };
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::read_to_string(path) {
            Ok(text) => documents.push((path.display().to_string(), text)),
            Err(error) => problems.push(Problem::error(
                path.display().to_string(),
                format!("cannot read the file: {error}"),
            )),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }
    load_documents(&documents, base_dir_of(first), env)
}

/// [`load`], reading `${VAR}` references from the process environment.
///
/// # Errors
/// As [`load`].
pub fn load_with_process_env(paths: &[PathBuf]) -> Result<Loaded, Problems> {
    load(paths, &|name| std::env::var(name).ok())
}

/// Loads configuration documents already in memory, given as `(name, YAML text)` pairs in merge
/// order; `name` is used in messages about a whole document.
///
/// # Errors
/// As [`load`].
pub fn load_documents(
    documents: &[(String, String)],
    base_dir: PathBuf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, Problems> {
    let mut problems = Vec::new();
    let mut sections = Map::new();
    for (name, text) in documents {
        match parse_document(name, text) {
            Ok(document) => {
                for (section, value) in document {
                    match sections.get_mut(&section) {
                        Some(existing) => merge(existing, value),
                        None => {
                            sections.insert(section, value);
                        }
                    }
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        return Err(Problems(problems));
    }

    drop_nulls(&mut sections);
    for (name, section) in &mut sections {
        interpolate(section, env, name, &mut problems);
    }
    let config = deserialize_sections(&sections, &mut problems);
    match config {
        Some(config) if !problems.iter().any(Problem::is_error) => Ok(Loaded {
            config,
            warnings: problems,
            base_dir,
        }),
        _ => Err(Problems(problems)),
    }
}

fn base_dir_of(first: &Path) -> PathBuf {
    match first.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// One YAML document as a map of sections.
fn parse_document(name: &str, text: &str) -> Result<Map<String, Value>, Problem> {
    let document: Value = serde_yaml_ng::from_str(text)
        .map_err(|error| Problem::error(name, format!("invalid YAML: {error}")))?;
    match document {
        // An empty file (or one with only comments) configures nothing.
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(Problem::error(
            name,
            "the file must hold a map of sections (`http:`, `matrix:`...)",
        )),
    }
}

/// Deserialises each section separately, so that a mistake in one does not hide those in the
/// others. Returns the configuration when every section parsed and the required ones exist.
fn deserialize_sections(
    sections: &Map<String, Value>,
    problems: &mut Vec<Problem>,
) -> Option<Config> {
    let schema = crate::json_schema();
    let known = crate::SECTIONS;
    for name in sections
        .keys()
        .filter(|name| !known.contains(&name.as_str()))
    {
        problems.push(unknown_option(
            &schema,
            sections,
            &[Segment::Key(name.clone())],
        ));
    }

    let mut parser = SectionParser {
        sections,
        schema: &schema,
        problems,
        failed: false,
    };
    let http = parser.section("http");
    let database = parser.section("database");
    let email = parser.section("email");
    let secrets = parser.required("secrets");
    let passwords = parser.section("passwords");
    let matrix = parser.required("matrix");
    let clients = parser.section("clients");
    let templates = parser.section("templates");
    let account = parser.section("account");
    let captcha = parser.section("captcha");
    let policy = parser.section("policy");
    let rate_limiting = parser.section("rate_limiting");
    let telemetry = parser.section("telemetry");
    let upstream_oauth2 = parser.section("upstream_oauth2");
    let branding = parser.section("branding");
    let oauth = parser.section("oauth");
    let experimental: Option<ExperimentalConfig> = parser.section("experimental");
    let failed = parser.failed;

    // Sections that parsed are checked even when another one did not, so that a single run
    // reports as much as possible.
    let checks = [
        http.as_ref().map(HttpConfig::validate),
        database.as_ref().map(DatabaseConfig::validate),
        email.as_ref().map(EmailConfig::validate),
        secrets.as_ref().map(SecretsConfig::validate),
        passwords.as_ref().map(PasswordsConfig::validate),
        matrix.as_ref().map(MatrixConfig::validate),
        clients.as_deref().map(crate::sections::clients::validate),
        account.as_ref().map(AccountConfig::validate),
        captcha.as_ref().map(CaptchaConfig::validate),
        policy.as_ref().map(PolicyConfig::validate),
        rate_limiting.as_ref().map(RateLimitingConfig::validate),
        telemetry.as_ref().map(TelemetryConfig::validate),
        upstream_oauth2.as_ref().map(UpstreamOAuth2Config::validate),
        branding.as_ref().map(BrandingConfig::validate),
        experimental.as_ref().map(ExperimentalConfig::validate),
    ];
    problems.extend(checks.into_iter().flatten().flatten());
    if failed {
        return None;
    }
    let config = Config {
        http: http.unwrap_or_default(),
        database,
        email: email.unwrap_or_default(),
        secrets: secrets?,
        passwords: passwords.unwrap_or_default(),
        matrix: matrix?,
        clients: clients.unwrap_or_default(),
        templates: templates.unwrap_or_default(),
        account: account.unwrap_or_default(),
        captcha: captcha.unwrap_or_default(),
        policy: policy.unwrap_or_default(),
        rate_limiting: rate_limiting.unwrap_or_default(),
        telemetry: telemetry.unwrap_or_default(),
        upstream_oauth2: upstream_oauth2.unwrap_or_default(),
        branding: branding.unwrap_or_default(),
        oauth: oauth.unwrap_or_default(),
        experimental: experimental.unwrap_or_default(),
    };
    config.validate_across(problems);
    Some(config)
}

/// The problem with the unknown option at `segments` of `document`: a warning, unless it is a
/// likely misspelling of a known option that the document does not set, whose default would
/// then apply silently (`homeserer:` leaving `matrix.homeserver`... as `localhost:8008`): an
/// error.
fn unknown_option(schema: &Value, document: &Map<String, Value>, segments: &[Segment]) -> Problem {
    let path = render("", segments);
    match suggestion(schema, segments) {
        Some(Suggestion::Typo(key)) if !sibling_is_set(document, segments, &key) => Problem::error(
            path,
            format!("unknown option; `{key}` is not set, so its default would apply instead"),
        )
        .with_hint(format!("did you mean {key}?")),
        Some(suggestion) => {
            Problem::warning(path, "unknown option, ignored").with_hint(suggestion.hint())
        }
        None => Problem::warning(path, "unknown option, ignored"),
    }
}

/// Whether the map holding the option at `segments` also sets `key`.
fn sibling_is_set(document: &Map<String, Value>, segments: &[Segment], key: &str) -> bool {
    let Some((_, parent)) = segments.split_last() else {
        return false;
    };
    let Some((first, rest)) = parent.split_first() else {
        return document.contains_key(key);
    };
    let Segment::Key(section) = first else {
        return false;
    };
    let mut value = document.get(section);
    for segment in rest {
        value = match (segment, value) {
            (Segment::Key(name), Some(Value::Object(object))) => object.get(name),
            (Segment::Index(index), Some(Value::Array(items))) => items.get(*index),
            _ => None,
        };
    }
    matches!(value, Some(Value::Object(object)) if object.contains_key(key))
}

struct SectionParser<'a> {
    sections: &'a Map<String, Value>,
    schema: &'a Value,
    problems: &'a mut Vec<Problem>,
    failed: bool,
}

impl SectionParser<'_> {
    /// The section `name`, `None` when absent or invalid (invalid marks the parse failed).
    fn section<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        let value = self.sections.get(name)?;
        let mut ignored = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        let result = {
            let tracked = serde_path_to_error::Deserializer::new(value, &mut track);
            let mut record = |path: serde_ignored::Path<'_>| ignored.push(from_ignored_path(&path));
            T::deserialize(serde_ignored::Deserializer::new(tracked, &mut record))
        };
        for segments in ignored {
            let mut full = vec![Segment::Key(name.to_owned())];
            full.extend(segments);
            self.problems
                .push(unknown_option(self.schema, self.sections, &full));
        }
        match result {
            Ok(section) => Some(section),
            Err(error) => {
                let path = render(name, &from_error_path(&track.path()));
                self.problems.push(Problem::error(path, error.to_string()));
                self.failed = true;
                None
            }
        }
    }

    /// A section MAS requires; its absence is an error.
    fn required<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        if !self.sections.contains_key(name) {
            self.problems.push(
                Problem::error(name, "missing section")
                    .with_hint("`config generate` writes a complete configuration to start from"),
            );
            self.failed = true;
            return None;
        }
        self.section(name)
    }
}
