//! Functions the built-in policy calls that Rego does not have: URL parsing as browsers and this
//! server parse URLs, and the Public Suffix List (which the `psl` crate embeds). A policy of
//! one's own may call them too; MAS's policies do not need them.
//!
//! - `portcullis.parse_url(s)`: `{scheme, host, host_kind: "domain" | "ipv4" | "ipv6", port,
//!   path, has_userinfo, has_fragment, local}` (`local`: `localhost` and its subdomains,
//!   loopback and unspecified addresses); undefined when `s` is not a URL.
//! - `portcullis.public_suffix(host)`: whether `host` is exactly a rule of the list (`co.uk`,
//!   `github.io`), which no one site owns.
//! - `portcullis.same_site(host, site_host)`: whether `host` is `site_host`, a subdomain of it,
//!   or under the same registrable domain (`app.element.io` and `element.io`); never for a public
//!   suffix.

use regorus::{Engine, Value};
use url::{Host, Url};

pub(crate) fn add(engine: &mut Engine) -> Result<(), String> {
    let parse_url = |args: Vec<Value>| -> anyhow::Result<Value> {
        Ok(args
            .first()
            .and_then(|arg| arg.as_string().ok())
            .and_then(|raw| Url::parse(raw).ok())
            .map_or(Value::Undefined, |url| Value::from(describe(&url))))
    };
    let public_suffix = |args: Vec<Value>| -> anyhow::Result<Value> {
        Ok(string_arg(&args, 0)
            .map_or(Value::Undefined, |host| Value::from(is_public_suffix(host))))
    };
    let same_site = |args: Vec<Value>| -> anyhow::Result<Value> {
        Ok(match (string_arg(&args, 0), string_arg(&args, 1)) {
            (Some(host), Some(site)) => Value::from(is_same_site(host, site)),
            _ => Value::Undefined,
        })
    };
    for (name, nargs, extension) in [
        (
            "portcullis.parse_url",
            1,
            Box::new(parse_url) as Box<dyn regorus::Extension>,
        ),
        ("portcullis.public_suffix", 1, Box::new(public_suffix)),
        ("portcullis.same_site", 2, Box::new(same_site)),
    ] {
        engine
            .add_extension(name.to_owned(), nargs, extension)
            .map_err(|error| error.to_string())?;
    }
    Ok(())
}

fn string_arg(args: &[Value], index: usize) -> Option<&str> {
    args.get(index)
        .and_then(|arg| arg.as_string().ok())
        .map(|s| &**s)
}

fn describe(url: &Url) -> serde_json::Value {
    let (host, kind, local) = match url.host() {
        Some(Host::Domain(domain)) => (
            domain.to_owned(),
            "domain",
            domain == "localhost" || domain.ends_with(".localhost"),
        ),
        Some(Host::Ipv4(ip)) => (
            ip.to_string(),
            "ipv4",
            ip.is_loopback() || ip.is_unspecified(),
        ),
        Some(Host::Ipv6(ip)) => (
            format!("[{ip}]"),
            "ipv6",
            ip.is_loopback() || ip.is_unspecified(),
        ),
        None => (String::new(), "none", false),
    };
    serde_json::json!({
        "scheme": url.scheme(),
        "host": host,
        "host_kind": kind,
        "port": url.port(),
        "path": url.path(),
        "has_userinfo": !url.username().is_empty() || url.password().is_some(),
        "has_fragment": url.fragment().is_some(),
        "local": local,
    })
}

/// Whether `host` is exactly a rule of the Public Suffix List, ICANN or private. A name under a
/// top-level domain the list does not know (`intranet`, `example.test`) is not.
pub(crate) fn is_public_suffix(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    psl::suffix(host.as_bytes())
        .is_some_and(|suffix| suffix.is_known() && suffix.as_bytes() == host.as_bytes())
}

fn registrable_domain(host: &str) -> Option<&str> {
    psl::domain_str(host.trim_end_matches('.'))
}

fn is_same_or_subdomain(host: &str, parent: &str) -> bool {
    host == parent
        || host
            .strip_suffix(parent)
            .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
}

pub(crate) fn is_same_site(host: &str, site_host: &str) -> bool {
    let (host, site_host) = (host.to_ascii_lowercase(), site_host.to_ascii_lowercase());
    if is_public_suffix(&host) {
        return false;
    }
    is_same_or_subdomain(&host, &site_host)
        || registrable_domain(&host)
            .zip(registrable_domain(&site_host))
            .is_some_and(|(a, b)| a == b)
}
