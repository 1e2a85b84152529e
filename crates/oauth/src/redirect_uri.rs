//! Matching the `redirect_uri` of a request against the client's registered ones.
//!
//! RFC 6749 §3.1.2.3 and RFC 9700 §4.1.3 require exact string matching: no prefix, pattern or
//! "same host" matching, which is how open redirectors and code theft happen. The one exception
//! is RFC 8252 §7.3: a native app listening on a loopback interface gets a port from the
//! operating system at run time, so for native clients an `http` loopback redirect may differ from
//! the registered one in its port only.
//!
//! Both sides are [`Url`]s, so they are compared in their WHATWG-normalised form (lower-case
//! scheme and host, default port removed, an empty path written `/`).

use url::{Host, Url};

/// Whether `requested` is one of `registered`, allowing any port on a loopback `http` redirect
/// when the client is a native app (`application_type_native`).
///
/// Loopback here is `127.0.0.1`, `[::1]` and, as MAS allows, `localhost`; the host itself must
/// still be the registered one (a redirect registered on `127.0.0.1` does not match `[::1]`).
#[must_use]
pub fn matches_registered(
    requested: &Url,
    registered: &[Url],
    application_type_native: bool,
) -> bool {
    registered.iter().any(|candidate| {
        candidate.as_str() == requested.as_str()
            || (application_type_native && same_loopback_redirect_but_port(requested, candidate))
    })
}

fn is_http_loopback(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Domain(domain)) => domain == "localhost",
            Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
            None => false,
        }
}

/// Whether both are `http` loopback URLs equal in everything but the port.
fn same_loopback_redirect_but_port(requested: &Url, registered: &Url) -> bool {
    if !is_http_loopback(requested) || !is_http_loopback(registered) {
        return false;
    }
    let mut requested = requested.clone();
    let mut registered = registered.clone();
    // Both are http URLs with a host, for which setting the port cannot fail.
    requested.set_port(None).is_ok()
        && registered.set_port(None).is_ok()
        && requested.as_str() == registered.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid URL")
    }

    fn web(requested: &str, registered: &str) -> bool {
        matches_registered(&url(requested), &[url(registered)], false)
    }

    fn native(requested: &str, registered: &str) -> bool {
        matches_registered(&url(requested), &[url(registered)], true)
    }

    #[test]
    fn an_identical_uri_matches() {
        assert!(web(
            "https://app.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn any_of_several_registered_uris_matches() {
        let registered = [
            url("https://a.example.com/cb"),
            url("https://b.example.com/cb"),
        ];
        assert!(matches_registered(
            &url("https://b.example.com/cb"),
            &registered,
            false
        ));
    }

    #[test]
    fn nothing_matches_an_empty_registration() {
        assert!(!matches_registered(
            &url("https://a.example.com/cb"),
            &[],
            true
        ));
    }

    #[test]
    fn a_different_path_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb2",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_longer_path_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb/x",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_trailing_slash_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb/",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_different_path_case_does_not_match() {
        assert!(!web(
            "https://app.example.com/CB",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn an_added_query_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb?x=1",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_different_query_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb?x=2",
            "https://app.example.com/cb?x=1"
        ));
    }

    #[test]
    fn a_fragment_does_not_match() {
        assert!(!web(
            "https://app.example.com/cb#x",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn userinfo_does_not_match() {
        assert!(!web(
            "https://evil@app.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_different_host_does_not_match() {
        assert!(!web(
            "https://evil.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_subdomain_does_not_match() {
        assert!(!web(
            "https://x.app.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_different_scheme_does_not_match() {
        assert!(!web(
            "http://app.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_different_port_does_not_match_for_a_web_client() {
        assert!(!web(
            "https://app.example.com:8443/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn host_case_is_normalised_by_parsing() {
        assert!(web(
            "https://APP.example.com/cb",
            "https://app.example.com/cb"
        ));
    }

    #[test]
    fn a_private_use_scheme_matches_exactly() {
        assert!(native("io.element:/callback", "io.element:/callback"));
    }

    #[test]
    fn a_private_use_scheme_with_another_path_does_not_match() {
        assert!(!native("io.element:/callback2", "io.element:/callback"));
    }

    #[test]
    fn a_native_loopback_ipv4_redirect_may_change_its_port() {
        assert!(native("http://127.0.0.1:51004/cb", "http://127.0.0.1/cb"));
    }

    #[test]
    fn a_native_loopback_ipv6_redirect_may_change_its_port() {
        assert!(native("http://[::1]:51004/cb", "http://[::1]:1234/cb"));
    }

    #[test]
    fn a_native_localhost_redirect_may_change_its_port() {
        assert!(native("http://localhost:51004/cb", "http://localhost/cb"));
    }

    #[test]
    fn a_loopback_redirect_of_a_web_client_may_not_change_its_port() {
        assert!(!web("http://127.0.0.1:51004/cb", "http://127.0.0.1/cb"));
    }

    #[test]
    fn a_native_loopback_redirect_may_not_change_its_path() {
        assert!(!native(
            "http://127.0.0.1:51004/other",
            "http://127.0.0.1/cb"
        ));
    }

    #[test]
    fn a_native_loopback_redirect_may_not_change_its_query() {
        assert!(!native(
            "http://127.0.0.1:51004/cb?a=1",
            "http://127.0.0.1/cb"
        ));
    }

    #[test]
    fn a_native_loopback_redirect_may_not_add_userinfo() {
        assert!(!native(
            "http://user@127.0.0.1:51004/cb",
            "http://127.0.0.1/cb"
        ));
    }

    #[test]
    fn a_native_loopback_redirect_may_not_add_a_fragment() {
        assert!(!native(
            "http://127.0.0.1:51004/cb#x",
            "http://127.0.0.1/cb"
        ));
    }

    #[test]
    fn a_native_loopback_redirect_may_not_change_loopback_address_family() {
        assert!(!native("http://[::1]:51004/cb", "http://127.0.0.1/cb"));
    }

    #[test]
    fn localhost_does_not_match_a_registered_loopback_ip() {
        assert!(!native("http://localhost:51004/cb", "http://127.0.0.1/cb"));
    }

    #[test]
    fn another_loopback_ip_is_not_treated_as_loopback() {
        assert!(!native("http://127.0.0.2:51004/cb", "http://127.0.0.2/cb"));
    }

    #[test]
    fn an_https_loopback_redirect_may_not_change_its_port() {
        assert!(!native(
            "https://127.0.0.1:51004/cb",
            "https://127.0.0.1/cb"
        ));
    }

    #[test]
    fn a_subdomain_of_localhost_is_not_treated_as_loopback() {
        assert!(!native(
            "http://evil.localhost:51004/cb",
            "http://evil.localhost/cb"
        ));
    }

    #[test]
    fn a_non_loopback_http_redirect_of_a_native_client_may_not_change_its_port() {
        assert!(!native(
            "http://example.com:8080/cb",
            "http://example.com/cb"
        ));
    }
}
