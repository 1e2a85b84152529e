//! The policy: the decisions MAS leaves to its policy — registration, adding an email, dynamic
//! client registration, authorization grants and compat logins — written in Rego and evaluated
//! in-process by `regorus`, with the same entry points, input documents and data as MAS's.
//!
//! The default policy (`policies/*.rego`) is embedded in the binary. An operator's own files
//! are added to it, or replace it (MAS's policy sources then run unchanged). The data the
//! policy reads is the configuration's base (`server_name`, `session_limit`), merged with
//! `policy.data`, merged with the latest dynamic data pushed through the Admin API.

mod builtins;
mod input;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use regorus::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::input::{
    AuthorizationGrantInput, ClientInput, ClientRegistrationInput, CompatLogin, CompatLoginInput,
    EmailInput, GrantType, RegisterInput, RegistrationMethod, Requester, SessionCounts, UserInput,
};

/// The default policy's sources, by file name.
pub const DEFAULT_POLICY: [(&str, &str); 6] = [
    ("common.rego", include_str!("../policies/common.rego")),
    ("email.rego", include_str!("../policies/email.rego")),
    ("register.rego", include_str!("../policies/register.rego")),
    (
        "client_registration.rego",
        include_str!("../policies/client_registration.rego"),
    ),
    (
        "authorization_grant.rego",
        include_str!("../policies/authorization_grant.rego"),
    ),
    (
        "compat_login.rego",
        include_str!("../policies/compat_login.rego"),
    ),
];

/// The entry points, named as in MAS's configuration (`register/violation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entrypoints {
    pub register: String,
    pub email: String,
    pub client_registration: String,
    pub authorization_grant: String,
    pub compat_login: String,
}

impl Default for Entrypoints {
    fn default() -> Self {
        Self {
            register: "register/violation".to_owned(),
            email: "email/violation".to_owned(),
            client_registration: "client_registration/violation".to_owned(),
            authorization_grant: "authorization_grant/violation".to_owned(),
            compat_login: "compat_login/violation".to_owned(),
        }
    }
}

/// `register/violation` → `data.register.violation`.
fn rule_path(entrypoint: &str) -> String {
    format!("data.{}", entrypoint.trim_matches('/').replace('/', "."))
}

/// Where the policy's Rego comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// A directory of `.rego` files (searched recursively; `*_test.rego` files are tests and
    /// are not loaded).
    pub directory: Option<PathBuf>,
    /// Whether the directory's files replace the default policy instead of adding to it.
    pub replace_default: bool,
}

/// Why a policy could not be loaded or evaluated. Messages name the file and line where there
/// is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read the policy directory {path}: {reason}")]
    Directory { path: PathBuf, reason: String },
    #[error("{path} holds no .rego file")]
    EmptyDirectory { path: PathBuf },
    #[error("{0}")]
    Syntax(String),
    #[error("the entry point {entrypoint} ({decision}) cannot be evaluated: {reason}")]
    Entrypoint {
        decision: &'static str,
        entrypoint: String,
        reason: String,
    },
    #[error("the policy data cannot be used: {0}")]
    Data(String),
    #[error("the {decision} policy failed: {reason}")]
    Evaluation {
        decision: &'static str,
        reason: String,
    },
}

/// One reason a policy refuses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Violation {
    /// For people.
    pub msg: String,
    /// For programs (`username-banned`, `too-many-sessions`...).
    #[serde(default)]
    pub code: Option<String>,
    /// The form or metadata field at fault.
    #[serde(default)]
    pub field: Option<String>,
    /// The redirect URI at fault (client registration).
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

impl Violation {
    /// Whether this violation has this code.
    #[must_use]
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// What a decision found: allowed when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    pub violations: Vec<Violation>,
}

impl Verdict {
    /// Whether nothing was found against the request.
    #[must_use]
    pub const fn is_allowed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether one violation has this code.
    #[must_use]
    pub fn has(&self, code: &str) -> bool {
        self.violations.iter().any(|violation| violation.is(code))
    }

    /// Every message, joined.
    #[must_use]
    pub fn messages(&self) -> String {
        self.violations
            .iter()
            .map(|violation| violation.msg.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The parsed Rego and its entry points, before data is given: what `config check` checks,
/// and what each process builds a [`Policy`] from every time the data changes.
#[derive(Clone)]
pub struct PolicyLoader {
    engine: Engine,
    entrypoints: Entrypoints,
    base: Map<String, Value>,
    configured: Value,
    /// The policy with the configuration's data, prepared while checking: a process starts
    /// with it rather than preparing the same policy again.
    configured_policy: Option<Arc<Policy>>,
}

impl std::fmt::Debug for PolicyLoader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyLoader")
            .field("entrypoints", &self.entrypoints)
            .finish_non_exhaustive()
    }
}

/// An engine with the functions of [`builtins`] (`portcullis.parse_url`, ...), as every
/// policy here is evaluated: for tests that load policies themselves.
///
/// # Errors
/// Never in practice: the functions are added to a new engine.
pub fn new_engine() -> Result<Engine, PolicyError> {
    let mut engine = Engine::new();
    engine.set_strict_builtin_errors(false);
    builtins::add(&mut engine).map_err(PolicyError::Syntax)?;
    Ok(engine)
}

/// The `.rego` files under `directory`, sorted, tests left out.
fn rego_files(directory: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    fn walk(path: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(&path, found)?;
            } else if path.extension().is_some_and(|ext| ext == "rego")
                && !path
                    .file_stem()
                    .is_some_and(|stem| stem.to_string_lossy().ends_with("_test"))
            {
                found.push(path);
            }
        }
        Ok(())
    }
    let mut found = Vec::new();
    walk(directory, &mut found).map_err(|error| PolicyError::Directory {
        path: directory.to_owned(),
        reason: error.to_string(),
    })?;
    found.sort();
    Ok(found)
}

impl PolicyLoader {
    /// Parses the policy's sources. `base` is what the configuration gives every policy
    /// (`server_name`, `session_limit`), `configured` the configuration's `policy.data`.
    ///
    /// # Errors
    /// A file that cannot be read or parsed (with its path and line), or an entry point that
    /// does not evaluate with the configured data.
    pub fn new(
        sources: &Sources,
        entrypoints: Entrypoints,
        base: Map<String, Value>,
        configured: Value,
    ) -> Result<Self, PolicyError> {
        let mut engine = new_engine()?;
        if !(sources.replace_default && sources.directory.is_some()) {
            for (name, text) in DEFAULT_POLICY {
                engine
                    .add_policy(format!("(built-in) {name}"), text.to_owned())
                    .map_err(|error| PolicyError::Syntax(error.to_string()))?;
            }
        }
        if let Some(directory) = &sources.directory {
            let files = rego_files(directory)?;
            if files.is_empty() {
                return Err(PolicyError::EmptyDirectory {
                    path: directory.clone(),
                });
            }
            for file in files {
                let text =
                    std::fs::read_to_string(&file).map_err(|error| PolicyError::Directory {
                        path: file.clone(),
                        reason: error.to_string(),
                    })?;
                engine
                    .add_policy(file.display().to_string(), text)
                    .map_err(|error| PolicyError::Syntax(error.to_string()))?;
            }
        }
        let loader = Self {
            engine,
            entrypoints,
            base,
            configured,
            configured_policy: None,
        };
        let checked = loader.instantiate(None)?;
        Ok(Self {
            configured_policy: Some(Arc::new(checked)),
            ..loader
        })
    }

    /// The built-in policy, with the configuration's data.
    ///
    /// # Errors
    /// When the data makes an entry point fail.
    pub fn builtin(base: Map<String, Value>, configured: Value) -> Result<Self, PolicyError> {
        Self::new(
            &Sources::default(),
            Entrypoints::default(),
            base,
            configured,
        )
    }

    /// A policy evaluating with the configuration's data merged with `dynamic` (the latest
    /// data pushed through the Admin API).
    ///
    /// # Errors
    /// When the data is not an object, or makes an entry point fail to evaluate: such data is
    /// refused, and the policy in use stays.
    pub fn instantiate(&self, dynamic: Option<&Value>) -> Result<Policy, PolicyError> {
        let mut data = Value::Object(self.base.clone());
        for layer in [Some(&self.configured), dynamic].into_iter().flatten() {
            if !layer.is_object() {
                return Err(PolicyError::Data("expected a JSON object".to_owned()));
            }
            merge(&mut data, layer);
        }
        let mut engine = self.engine.clone();
        engine
            .add_data(regorus::Value::from(data.clone()))
            .map_err(|error| PolicyError::Data(error.to_string()))?;
        let mut policy = Policy {
            engine,
            entrypoints: self.entrypoints.clone(),
            data: Arc::new(data),
        };
        policy.check_entrypoints()?;
        Ok(policy)
    }
}

/// Merges `layer` into `into`: objects key by key, recursively; anything else is replaced.
fn merge(into: &mut Value, layer: &Value) {
    match (into, layer) {
        (Value::Object(into), Value::Object(layer)) => {
            for (key, value) in layer {
                match into.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        into.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (into, layer) => *into = layer.clone(),
    }
}

/// A policy ready to decide: the Rego with its data. Cheap to clone.
#[derive(Clone)]
pub struct Policy {
    engine: Engine,
    entrypoints: Entrypoints,
    data: Arc<Value>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("entrypoints", &self.entrypoints)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// The data the policy reads (base, configured and dynamic, merged).
    #[must_use]
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// Whether `username` is in `data.admin_users`, which lets a user request admin scopes
    /// outside a grant too (`manage generate-token --admin`, the Admin API's personal tokens).
    #[must_use]
    pub fn lists_admin_user(&self, username: &str) -> bool {
        self.string_list("admin_users").any(|name| name == username)
    }

    /// Whether `client_id` is in `data.admin_clients`.
    #[must_use]
    pub fn lists_admin_client(&self, client_id: &str) -> bool {
        self.string_list("admin_clients").any(|id| id == client_id)
    }

    fn string_list(&self, key: &str) -> impl Iterator<Item = &str> {
        self.data
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// Evaluates every entry point once with a plain input, so that a policy that cannot
    /// evaluate is found when it is loaded, not at a user's request. It evaluates on the engine
    /// itself, which prepares it (rules analysed and scheduled) once: every evaluation then
    /// starts from a clone of the prepared engine.
    fn check_entrypoints(&mut self) -> Result<(), PolicyError> {
        let requester = Requester::default();
        let user = || UserInput {
            id: "01J00000000000000000000000".to_owned(),
            username: "alice",
            can_request_admin: false,
        };
        let client = ClientInput {
            id: "01J00000000000000000000001",
            client_id: "01J00000000000000000000001",
        };
        let metadata = serde_json::json!({
            "client_uri": "https://client.example.com/",
            "redirect_uris": ["https://client.example.com/callback"],
        });
        let checks: [(&'static str, &str, Result<Value, String>); 5] = [
            (
                "register",
                &self.entrypoints.register,
                to_value(&RegisterInput {
                    registration_method: RegistrationMethod::Password,
                    username: "alice",
                    email: Some("alice@example.com"),
                    requester: &requester,
                }),
            ),
            (
                "email",
                &self.entrypoints.email,
                to_value(&EmailInput {
                    email: "alice@example.com",
                    requester: &requester,
                }),
            ),
            (
                "client_registration",
                &self.entrypoints.client_registration,
                to_value(&ClientRegistrationInput {
                    client_metadata: &metadata,
                    requester: &requester,
                }),
            ),
            (
                "authorization_grant",
                &self.entrypoints.authorization_grant,
                to_value(&AuthorizationGrantInput {
                    user: Some(user()),
                    session_counts: Some(SessionCounts::default()),
                    client: client.clone(),
                    scope: "openid".to_owned(),
                    grant_type: GrantType::AuthorizationCode,
                    requester: &requester,
                }),
            ),
            (
                "compat_login",
                &self.entrypoints.compat_login,
                to_value(&CompatLoginInput {
                    user: user(),
                    session_counts: SessionCounts::default(),
                    session_replaced: false,
                    login: CompatLogin::Password,
                    is_interactive: false,
                    requester: &requester,
                }),
            ),
        ];
        for (decision, entrypoint, input) in checks {
            let fail = |reason: String| PolicyError::Entrypoint {
                decision,
                entrypoint: entrypoint.to_owned(),
                reason,
            };
            let input = input.map_err(fail)?;
            evaluate(&mut self.engine, entrypoint, input).map_err(fail)?;
        }
        Ok(())
    }

    fn violations(&self, entrypoint: &str, input: Value) -> Result<Vec<Violation>, String> {
        evaluate(&mut self.engine.clone(), entrypoint, input)
    }

    fn decide(
        &self,
        decision: &'static str,
        entrypoint: &str,
        input: Result<Value, String>,
    ) -> Result<Verdict, PolicyError> {
        let fail = |reason| PolicyError::Evaluation { decision, reason };
        let violations = self
            .violations(entrypoint, input.map_err(fail)?)
            .map_err(fail)?;
        Ok(Verdict { violations })
    }

    /// `register/violation`.
    ///
    /// # Errors
    /// When the policy fails to evaluate (callers refuse: the check fails closed).
    pub fn evaluate_register(&self, input: &RegisterInput<'_>) -> Result<Verdict, PolicyError> {
        self.decide("registration", &self.entrypoints.register, to_value(input))
    }

    /// `email/violation`.
    ///
    /// # Errors
    /// When the policy fails to evaluate.
    pub fn evaluate_email(&self, input: &EmailInput<'_>) -> Result<Verdict, PolicyError> {
        self.decide("email", &self.entrypoints.email, to_value(input))
    }

    /// `client_registration/violation`.
    ///
    /// # Errors
    /// When the policy fails to evaluate.
    pub fn evaluate_client_registration(
        &self,
        input: &ClientRegistrationInput<'_>,
    ) -> Result<Verdict, PolicyError> {
        self.decide(
            "client registration",
            &self.entrypoints.client_registration,
            to_value(input),
        )
    }

    /// `authorization_grant/violation`.
    ///
    /// # Errors
    /// When the policy fails to evaluate.
    pub fn evaluate_authorization_grant(
        &self,
        input: &AuthorizationGrantInput<'_>,
    ) -> Result<Verdict, PolicyError> {
        self.decide(
            "authorization grant",
            &self.entrypoints.authorization_grant,
            to_value(input),
        )
    }

    /// `compat_login/violation`.
    ///
    /// # Errors
    /// When the policy fails to evaluate.
    pub fn evaluate_compat_login(
        &self,
        input: &CompatLoginInput<'_>,
    ) -> Result<Verdict, PolicyError> {
        self.decide(
            "compat login",
            &self.entrypoints.compat_login,
            to_value(input),
        )
    }
}

/// Evaluates `entrypoint` on `engine` with `input`: the violations, or why it failed.
fn evaluate(engine: &mut Engine, entrypoint: &str, input: Value) -> Result<Vec<Violation>, String> {
    engine.set_input(regorus::Value::from(input));

    let result = engine
        .eval_rule(rule_path(entrypoint))
        .map_err(|error| error.to_string())?;
    if result == regorus::Value::Undefined {
        return Ok(Vec::new());
    }
    let json = serde_json::to_value(&result).map_err(|error| error.to_string())?;
    let Value::Array(items) = json else {
        return Err(format!("expected a set of violations, got {json}"));
    };
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value::<Violation>(item.clone())
                .map_err(|_| format!("a violation must be an object with a msg, got {item}"))
        })
        .collect()
}

fn to_value<T: serde::Serialize>(input: &T) -> Result<Value, String> {
    serde_json::to_value(input).map_err(|error| error.to_string())
}

/// The policy in use by a process, replaced when new dynamic data arrives or the operator's
/// Rego is reloaded. Cloning shares it.
#[derive(Clone, Debug)]
pub struct SharedPolicy {
    current: Arc<RwLock<Current>>,
}

#[derive(Debug)]
struct Current {
    /// The Rego and the configured data.
    loader: Arc<PolicyLoader>,
    /// Which version of the dynamic data it uses (its ID), and that data, if any.
    dynamic: Option<(String, Value)>,
    policy: Arc<Policy>,
}

impl SharedPolicy {
    /// The policy of `loader` with the configuration's data only.
    ///
    /// # Errors
    /// When the policy cannot be instantiated.
    pub fn new(loader: PolicyLoader) -> Result<Self, PolicyError> {
        let policy = match &loader.configured_policy {
            Some(policy) => Arc::clone(policy),
            None => Arc::new(loader.instantiate(None)?),
        };
        Ok(Self {
            current: Arc::new(RwLock::new(Current {
                loader: Arc::new(loader),
                dynamic: None,
                policy,
            })),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The policy to decide with now.
    #[must_use]
    pub fn current(&self) -> Arc<Policy> {
        Arc::clone(&self.read().policy)
    }

    /// The version of the dynamic data in use, if any.
    #[must_use]
    pub fn version(&self) -> Option<String> {
        self.read()
            .dynamic
            .as_ref()
            .map(|(version, _)| version.clone())
    }

    /// What the policy would be with `dynamic` data, without using it.
    ///
    /// # Errors
    /// When that data makes the policy fail.
    pub fn try_data(&self, dynamic: &Value) -> Result<Policy, PolicyError> {
        let loader = Arc::clone(&self.read().loader);
        loader.instantiate(Some(dynamic))
    }

    /// Uses `dynamic` data, version `version`, from now on.
    ///
    /// # Errors
    /// When that data makes the policy fail; the policy in use stays.
    pub fn set_data(&self, version: &str, dynamic: &Value) -> Result<(), PolicyError> {
        let policy = Arc::new(self.try_data(dynamic)?);
        let mut current = self.write();
        current.dynamic = Some((version.to_owned(), dynamic.clone()));
        current.policy = policy;
        Ok(())
    }

    /// Decides with the Rego and configured data of `loader` from now on (the operator's
    /// policy reloaded), keeping the dynamic data in use.
    ///
    /// # Errors
    /// When the new policy fails with that data; the policy in use stays.
    pub fn replace_loader(&self, loader: PolicyLoader) -> Result<(), PolicyError> {
        let dynamic = self.read().dynamic.clone();
        let policy = match (&dynamic, &loader.configured_policy) {
            (Some((_, data)), _) => Arc::new(loader.instantiate(Some(data))?),
            (None, Some(policy)) => Arc::clone(policy),
            (None, None) => Arc::new(loader.instantiate(None)?),
        };
        let mut current = self.write();
        current.loader = Arc::new(loader);
        current.policy = policy;
        Ok(())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Current> {
        self.current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
