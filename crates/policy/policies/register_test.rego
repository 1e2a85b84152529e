package register_test

import rego.v1

import data.register

password(username) := {"registration_method": "password", "username": username, "email": "a@example.com", "requester": {}}

codes(violations) := {v.code | some v in violations}

test_plain_username_allowed if {
	count(register.violation) == 0 with input as password("alice") with data.server_name as "example.com"
}

test_grammar if {
	codes(register.violation) == {"username-too-short"} with input as password("") with data.server_name as "example.com"
	codes(register.violation) == {"username-invalid-chars"} with input as password("Alice") with data.server_name as "example.com"
	codes(register.violation) == {"username-all-numeric"} with input as password("12345") with data.server_name as "example.com"
	count(register.violation) == 0 with input as password("a.b=c_d/e+f-1") with data.server_name as "example.com"
}

test_too_long if {
	long := concat("", [x | some _ in numbers.range(1, 250); x := "a"])
	codes(register.violation) == {"username-too-long"} with input as password(long) with data.server_name as "example.com"
}

test_banned_usernames if {
	rules := {"banned_usernames": {
		"literals": ["admin"],
		"substrings": ["matrix"],
		"regexes": ["^support-[0-9]+$"],
		"prefixes": ["bot-"],
		"suffixes": ["-staff"],
	}}
	every name in ["admin", "mymatrixname", "support-42", "bot-x", "jo-staff"] {
		codes(register.violation) == {"username-banned"} with input as password(name) with data.server_name as "example.com" with data.registration as rules
	}
	count(register.violation) == 0 with input as password("administrator") with data.server_name as "example.com" with data.registration as rules
}

test_allowed_usernames if {
	rules := {"allowed_usernames": {"prefixes": ["team-"]}}
	count(register.violation) == 0 with input as password("team-alice") with data.server_name as "example.com" with data.registration as rules
	codes(register.violation) == {"username-not-allowed"} with input as password("alice") with data.server_name as "example.com" with data.registration as rules
}

test_email_violations_carry_the_field if {
	rules := ["spam.example"]
	input_doc := object.union(password("alice"), {"email": "x@spam.example"})
	register.violation == {{"field": "email", "code": "email-domain-banned", "msg": "email domain is banned"}} with input as input_doc with data.server_name as "example.com" with data.banned_domains as rules
}

test_unknown_method if {
	some v in register.violation with input as {"registration_method": "magic", "username": "alice", "requester": {}} with data.server_name as "example.com"
	v.msg == "unknown registration method"
}

test_banned_requester if {
	rules := {"banned_ips": ["192.0.2.0/24"]}
	input_doc := object.union(password("alice"), {"requester": {"ip_address": "192.0.2.7"}})
	codes(register.violation) == {"requester-banned"} with input as input_doc with data.server_name as "example.com" with data.requester as rules
}
