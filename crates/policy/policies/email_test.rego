package email_test

import rego.v1

import data.email

address(value) := {"email": value, "requester": {}}

codes(violations) := {v.code | some v in violations}

test_any_address_by_default if {
	count(email.violation) == 0 with input as address("alice@example.com")
}

test_allowed_domains_are_globs if {
	rules := ["example.com", "*.example.org"]
	count(email.violation) == 0 with input as address("a@example.com") with data.allowed_domains as rules
	count(email.violation) == 0 with input as address("a@mail.example.org") with data.allowed_domains as rules
	codes(email.violation) == {"email-domain-not-allowed"} with input as address("a@a.b.example.org") with data.allowed_domains as rules
	codes(email.violation) == {"email-domain-not-allowed"} with input as address("a@example.net") with data.allowed_domains as rules
}

test_banned_domains if {
	rules := ["*.spam.example"]
	codes(email.violation) == {"email-domain-banned"} with input as address("a@x.spam.example") with data.banned_domains as rules
	count(email.violation) == 0 with input as address("a@spam.example") with data.banned_domains as rules
}

test_addresses if {
	rules := {"allowed_addresses": {"suffixes": ["@corp.example"]}, "banned_addresses": {"literals": ["boss@corp.example"]}}
	count(email.violation) == 0 with input as address("alice@corp.example") with data.emails as rules
	codes(email.violation) == {"email-banned"} with input as address("boss@corp.example") with data.emails as rules
	codes(email.violation) == {"email-not-allowed"} with input as address("alice@home.example") with data.emails as rules
}
