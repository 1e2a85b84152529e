package compat_login_test

import rego.v1

import data.compat_login

limits := {"soft_limit": 2, "hard_limit": 3}

login(kind, total, replaced) := {
	"user": {"id": "u", "username": "alice", "can_request_admin": false},
	"session_counts": {"total": total, "oauth2": 0, "compat": total, "personal": 0},
	"session_replaced": replaced,
	"login": {"type": kind},
	"requester": {},
}

test_no_limit_without_configuration if {
	count(compat_login.violation) == 0 with input as login("m.login.password", 100, false)
}

test_password_login_held_to_the_hard_limit if {
	count(compat_login.violation) == 0 with input as login("m.login.password", 2, false) with data.session_limit as limits
	some v in compat_login.violation with input as login("m.login.password", 3, false) with data.session_limit as limits
	v.code == "too-many-sessions"
}

test_sso_held_to_the_soft_limit if {
	count(compat_login.violation) == 0 with input as login("m.login.sso", 1, false) with data.session_limit as limits
	count(compat_login.violation) == 1 with input as login("m.login.sso", 2, false) with data.session_limit as limits
}

test_replacing_a_device_is_never_limited if {
	count(compat_login.violation) == 0 with input as login("m.login.password", 10, true) with data.session_limit as limits
}

test_banned_user_agent if {
	rules := {"banned_user_agents": {"substrings": ["curl/"]}}
	doc := object.union(login("m.login.password", 0, false), {"requester": {"user_agent": "curl/8.0"}})
	some v in compat_login.violation with input as doc with data.requester as rules
	v.code == "requester-banned"
}
