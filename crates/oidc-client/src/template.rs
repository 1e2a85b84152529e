//! The claims templates of a provider (`claims_imports`, `additional_authorization_parameters`)
//! in Jinja syntax, as MAS renders them: the filters `b64decode`, `b64encode`, `tlvdecode`,
//! `string` and `from_json`, and Python's string methods (`{{ user.email.split('@')[0] }}`).
//!
//! The context of claims templates is `user` (the userinfo claims with the ID token's claims
//! over them), `id_token_claims`, `userinfo_claims` and `extra_callback_parameters`.

use base64ct::{Base64, Encoding as _};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use serde_json::Map;

/// Why a template cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct TemplateError(#[from] Error);

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_filter("b64decode", b64decode);
    env.add_filter("b64encode", b64encode);
    env.add_filter("tlvdecode", tlvdecode);
    env.add_filter("string", string);
    env.add_filter("from_json", from_json);
    env
}

/// Whether `template` parses, for `config check`.
///
/// # Errors
/// The syntax error, with its position.
pub fn check(template: &str) -> Result<(), TemplateError> {
    environment().template_from_str(template)?;
    Ok(())
}

/// Renders `template` in `context`; `None` when the result is empty or only whitespace (an
/// absent claim renders as nothing, and nothing is then imported).
///
/// # Errors
/// A syntax error, or a filter given what it cannot take.
pub fn render(
    template: &str,
    context: &serde_json::Value,
) -> Result<Option<String>, TemplateError> {
    let env = environment();
    let rendered = env.template_from_str(template)?.render(context)?;
    let trimmed = rendered.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// The context of claims templates.
#[must_use]
pub fn claims_context(
    id_token_claims: &Map<String, serde_json::Value>,
    userinfo_claims: &Map<String, serde_json::Value>,
    extra_callback_parameters: &Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut user = userinfo_claims.clone();
    user.extend(id_token_claims.iter().map(|(k, v)| (k.clone(), v.clone())));
    serde_json::json!({
        "user": user,
        "id_token_claims": id_token_claims,
        "userinfo_claims": userinfo_claims,
        "extra_callback_parameters": extra_callback_parameters,
    })
}

fn b64decode(value: &str) -> Result<Value, Error> {
    // Padded or not: providers send both.
    let bytes = Base64::decode_vec(value)
        .or_else(|_| base64ct::Base64Unpadded::decode_vec(value))
        .or_else(|_| base64ct::Base64Url::decode_vec(value))
        .or_else(|_| base64ct::Base64UrlUnpadded::decode_vec(value))
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, "b64decode: not base64"))?;
    Ok(Value::from_bytes(bytes))
}

fn b64encode(value: &Value) -> Result<String, Error> {
    let bytes = value
        .as_bytes()
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "b64encode: not bytes or text"))?;
    Ok(Base64::encode_string(bytes))
}

/// Bytes of tag-length-value records (a one-byte tag, a one-byte length, that many bytes) as a
/// map from each tag to its value's bytes: `{{ (user.x | b64decode | tlvdecode)[3] | string }}`.
fn tlvdecode(value: &Value) -> Result<Value, Error> {
    let bytes = value
        .as_bytes()
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "tlvdecode: not bytes"))?;
    let mut records = std::collections::BTreeMap::new();
    let mut rest = bytes;
    while let [tag, length, tail @ ..] = rest {
        let length = usize::from(*length);
        let Some((record, after)) = tail.split_at_checked(length) else {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("tlvdecode: the record of tag {tag} is cut short"),
            ));
        };
        records.insert(Value::from(*tag), Value::from_bytes(record.to_vec()));
        rest = after;
    }
    if !rest.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "tlvdecode: a tag without its length",
        ));
    }
    Ok(Value::from_iter(records))
}

fn string(value: &Value) -> String {
    match value.as_bytes() {
        Some(bytes) if value.as_str().is_none() => String::from_utf8_lossy(bytes).into_owned(),
        _ => value.to_string(),
    }
}

fn from_json(value: &str) -> Result<Value, Error> {
    let parsed: serde_json::Value = serde_json::from_str(value)
        .map_err(|error| Error::new(ErrorKind::InvalidOperation, format!("from_json: {error}")))?;
    Ok(Value::from_serialize(parsed))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context() -> serde_json::Value {
        let id_token =
            json!({"sub": "abc", "email": "Alice@Example.com", "name": "from the ID token"});
        let userinfo = json!({"name": "from userinfo", "preferred_username": "alice", "groups": "WyJhZG1pbiJd"});
        claims_context(
            id_token.as_object().expect("test data"),
            userinfo.as_object().expect("test data"),
            &Map::new(),
        )
    }

    #[test]
    fn tlv_records_decode_to_a_map_of_their_tags() {
        // Tag 1 "ab", tag 16 "xyz".
        let encoded = Base64::encode_string(&[1, 2, b'a', b'b', 16, 3, b'x', b'y', b'z']);
        let claims = json!({ "sub": "s", "tlv": encoded });
        let context = claims_context(
            claims.as_object().expect("test data"),
            &Map::new(),
            &Map::new(),
        );
        let render = |t: &str| render(t, &context);
        assert_eq!(
            render("{{ (user.tlv | b64decode | tlvdecode)[16] | string }}")
                .expect("renders")
                .as_deref(),
            Some("xyz")
        );
        assert_eq!(
            render("{{ (user.tlv | b64decode | tlvdecode)[1] | string }}")
                .expect("renders")
                .as_deref(),
            Some("ab")
        );
        let cut = json!({ "sub": "s", "tlv": Base64::encode_string(&[1, 5, b'a']) });
        let context = claims_context(
            cut.as_object().expect("test data"),
            &Map::new(),
            &Map::new(),
        );
        assert!(super::render("{{ user.tlv | b64decode | tlvdecode }}", &context).is_err());
    }

    #[test]
    fn the_id_token_wins_over_userinfo_and_absent_claims_render_as_nothing() {
        let render = |t: &str| render(t, &context()).expect("renders");
        assert_eq!(render("{{ user.sub }}").as_deref(), Some("abc"));
        assert_eq!(
            render("{{ user.name }}").as_deref(),
            Some("from the ID token")
        );
        assert_eq!(
            render("{{ userinfo_claims.name }}").as_deref(),
            Some("from userinfo")
        );
        assert_eq!(
            render("{{ user.preferred_username }}").as_deref(),
            Some("alice")
        );
        assert_eq!(render("{{ user.nickname }}"), None);
        assert_eq!(render("  "), None);
    }

    #[test]
    fn filters_and_python_methods_of_mas_templates() {
        let render = |t: &str| render(t, &context()).expect("renders");
        assert_eq!(
            render("{{ user.email.split('@')[0] | lower }}").as_deref(),
            Some("alice")
        );
        assert_eq!(
            render("{{ (user.groups | b64decode | string | from_json)[0] }}").as_deref(),
            Some("admin")
        );
        assert_eq!(render("{{ 'hi' | b64encode }}").as_deref(), Some("aGk="));
    }

    #[test]
    fn a_syntax_error_is_reported() {
        let error = check("{{ user.name ").expect_err("unclosed");
        assert!(
            error.to_string().contains("expected end of variable block"),
            "{error}"
        );
        check("{{ user.preferred_username }}").expect("fine");
    }
}
