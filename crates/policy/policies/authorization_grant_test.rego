package authorization_grant_test

import rego.v1

import data.authorization_grant

grant(scope, grant_type, user) := {
	"user": user,
	"session_counts": {"total": 0, "oauth2": 0, "compat": 0, "personal": 0},
	"client": {"id": "01CLIENT", "client_id": "01CLIENT"},
	"scope": scope,
	"grant_type": grant_type,
	"requester": {},
}

alice := {"id": "u1", "username": "alice", "can_request_admin": false}

promoted := {"id": "u2", "username": "bob", "can_request_admin": true}

api := "urn:matrix:client:api:*"

device := "urn:matrix:client:device:ABCDEFGHIJ"

code := "authorization_code"

test_matrix_login if {
	count(authorization_grant.violation) == 0 with input as grant(concat(" ", ["openid", api, device]), code, alice)
	count(authorization_grant.violation) == 0 with input as grant("openid urn:matrix:org.matrix.msc2967.client:api:*", "urn:ietf:params:oauth:grant-type:device_code", alice)
}

test_short_device_id if {
	some v in authorization_grant.violation with input as grant("urn:matrix:client:device:ABC", code, alice)
	v.code == "scope-not-allowed"
}

test_one_device_only if {
	scope := concat(" ", [api, device, "urn:matrix:client:device:KLMNOPQRST"])
	some v in authorization_grant.violation with input as grant(scope, code, alice)
	v.code == "too-many-devices"
}

test_admin_scopes if {
	count(authorization_grant.violation) == 1 with input as grant("urn:synapse:admin:*", code, alice)
	count(authorization_grant.violation) == 0 with input as grant("urn:synapse:admin:*", code, alice) with data.admin_users as ["alice"]
	count(authorization_grant.violation) == 0 with input as grant("urn:mas:admin", code, promoted)
}

test_client_credentials if {
	cc := object.remove(grant("urn:mas:admin", "client_credentials", null), ["user", "session_counts"])
	count(authorization_grant.violation) == 1 with input as cc
	count(authorization_grant.violation) == 0 with input as cc with data.admin_clients as ["01CLIENT"]
	api_cc := object.union(cc, {"scope": api})
	count(authorization_grant.violation) == 1 with input as api_cc with data.admin_clients as ["01CLIENT"]
}

test_soft_session_limit if {
	busy := object.union(grant("openid", code, alice), {"session_counts": {"total": 5, "oauth2": 5, "compat": 0, "personal": 0}})
	count(authorization_grant.violation) == 0 with input as busy
	some v in authorization_grant.violation with input as busy with data.session_limit as {"soft_limit": 5, "hard_limit": 10}
	v.code == "too-many-sessions"
}

test_banned_ip if {
	doc := object.union(grant("openid", code, alice), {"requester": {"ip_address": "2001:db8::1"}})
	some v in authorization_grant.violation with input as doc with data.requester as {"banned_ips": ["2001:db8::/32"]}
	v.code == "requester-banned"
}
