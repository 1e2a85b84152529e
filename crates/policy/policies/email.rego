# Adding an email address: `allowed_domains`, `banned_domains` (globs, `*` within one label)
# and `emails.allowed_addresses`, `emails.banned_addresses` (string constraints).
package email

import rego.v1

import data.common

domain := parts[1] if {
	parts := split(input.email, "@")
	count(parts) == 2
}

default domain_allowed := false

domain_allowed if not data.allowed_domains

domain_allowed if {
	some pattern in data.allowed_domains
	glob.match(pattern, ["."], domain)
}

default address_allowed := false

address_allowed if not data.emails.allowed_addresses

address_allowed if common.matches_string_constraints(input.email, data.emails.allowed_addresses)

violation contains {"code": "email-domain-not-allowed", "msg": "email domain is not allowed"} if {
	not domain_allowed
}

violation contains {"code": "email-domain-banned", "msg": "email domain is banned"} if {
	some pattern in data.banned_domains
	glob.match(pattern, ["."], domain)
}

violation contains {"code": "email-not-allowed", "msg": "email is not allowed"} if {
	not address_allowed
}

violation contains {"code": "email-banned", "msg": "email is not allowed"} if {
	common.matches_string_constraints(input.email, data.emails.banned_addresses)
}
