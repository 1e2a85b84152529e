# Dynamic client registration (RFC 7591), the Matrix rules of MSC2966: a dynamically registered
# client is anonymous, so every URI the consent page shows or redirects to must belong to the one
# site it claims (`client_uri`). `data.client_registration` relaxes them for development:
# `allow_insecure_uris`, `allow_host_mismatch`, `allow_missing_client_uri`.
#
# "The same site" is the registrable domain of the Public Suffix List: `app.element.io` and
# `element.io` are one site, `alice.github.io` and `bob.github.io` are two.
package client_registration

import rego.v1

import data.common

setting(name) := object.get(data, ["client_registration", name], false)

metadata := input.client_metadata

native if metadata.application_type == "native"

client_url := portcullis.parse_url(metadata.client_uri)

client_host := client_url.host if client_url.host_kind == "domain"

# https, a domain name, not this machine; anything parsable with `allow_insecure_uris`.
secure(url) if setting("allow_insecure_uris") == true

secure(url) if {
	url.scheme == "https"
	url.host_kind == "domain"
	not url.local
}

on_site(url) if setting("allow_host_mismatch") == true

on_site(url) if {
	not metadata.client_uri
	setting("allow_missing_client_uri") == true
}

on_site(url) if {
	url.host_kind == "domain"
	portcullis.same_site(url.host, client_host)
}

insecure_msg := "must use https, with a domain name that is not localhost"

site_msg := "must be on the same site as client_uri (its domain or a subdomain of it)"

violation contains {"field": "client_uri", "msg": "client_uri is required"} if {
	not metadata.client_uri
	setting("allow_missing_client_uri") != true
}

violation contains {"field": "client_uri", "msg": sprintf("client_uri %s", [insecure_msg])} if {
	metadata.client_uri
	not secure(client_url)
}

violation contains {
	"field": "client_uri",
	"msg": "client_uri must not be a public suffix such as github.io or co.uk: name the client's own site",
} if {
	portcullis.public_suffix(client_host)
	setting("allow_host_mismatch") != true
}

# The fields shown on the consent page, and their `#lang` variants.
site_field(key) if key in {"logo_uri", "policy_uri", "tos_uri"}

site_field(key) if {
	[base, _] := split(key, "#")
	base in {"client_uri", "logo_uri", "policy_uri", "tos_uri"}
}

violation contains {"field": key, "msg": sprintf("%s %s", [key, insecure_msg])} if {
	some key, value in metadata
	site_field(key)
	is_string(value)
	url := portcullis.parse_url(value)
	not secure(url)
}

violation contains {"field": key, "msg": sprintf("%s %s", [key, site_msg])} if {
	some key, value in metadata
	site_field(key)
	is_string(value)
	url := portcullis.parse_url(value)
	secure(url)
	not on_site(url)
}

# Redirect URIs, and where the client may be sent after logout.
redirect_field := {"redirect_uris", "post_logout_redirect_uris"}

# RFC 8252 §7.3 (and `localhost`, as MAS allows): a native app's loopback redirect, any port.
native_redirect(url) if {
	url.scheme == "http"
	url.host in {"localhost", "127.0.0.1", "[::1]"}
}

# RFC 8252 §7.1: a private-use scheme is a reverse domain name the client controls.
native_redirect(url) if {
	not url.scheme in {"http", "https"}
	contains(url.scheme, ".")
	reversed := concat(".", array.reverse(split(url.scheme, ".")))
	on_private_site(reversed)
}

on_private_site(domain) if setting("allow_host_mismatch") == true

on_private_site(domain) if portcullis.same_site(domain, client_host)

valid_redirect(url) if {
	native
	native_redirect(url)
}

valid_redirect(url) if {
	secure(url)
	on_site(url)
}

redirect_msg(url) := "must be http on localhost, 127.0.0.1 or [::1], a private-use scheme that is the reverse domain name of the client_uri host, or https on the client_uri site" if {
	native
	url.scheme == "http"
}

redirect_msg(url) := "a private-use scheme must be the reverse domain name of the client_uri host" if {
	native
	not url.scheme in {"http", "https"}
	contains(url.scheme, ".")
}

redirect_msg(url) := "must be http on localhost, 127.0.0.1 or [::1], a private-use scheme that is the reverse domain name of the client_uri host, or https on the client_uri site" if {
	native
	not url.scheme in {"http", "https"}
	not contains(url.scheme, ".")
}

redirect_msg(url) := insecure_msg if {
	not native
	not secure(url)
}

redirect_msg(url) := insecure_msg if {
	native
	url.scheme == "https"
	not secure(url)
}

redirect_msg(url) := site_msg if {
	url.scheme == "https"
	secure(url)
	not on_site(url)
}

redirect_msg(url) := site_msg if {
	not url.scheme == "https"
	not native
	secure(url)
	not on_site(url)
}

describe_redirect(url) := message if {
	message := redirect_msg(url)
} else := "is not an allowed redirect URI"

violation contains {"field": field, "redirect_uri": uri, "msg": sprintf("%s %s", [field, describe_redirect(url)])} if {
	some list in redirect_field
	some index, uri in object.get(metadata, list, [])
	url := portcullis.parse_url(uri)
	not valid_redirect(url)
	field := sprintf("%s[%d]", [list, index])
}

violation contains {
	"field": "grant_types",
	"msg": "client_credentials requires an authenticated client",
} if {
	"client_credentials" in object.get(metadata, "grant_types", [])
	metadata.token_endpoint_auth_method == "none"
}

violation contains common.requester_violation
