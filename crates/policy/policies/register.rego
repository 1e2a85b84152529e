# Registration, with a password or through an upstream provider: the username's grammar,
# `registration.allowed_usernames` and `registration.banned_usernames`, banned requesters, and
# the email policy for the address given (its violations carry `field: email`).
package register

import rego.v1

import data.common
import data.email as email_policy

default username_allowed := false

username_allowed if not data.registration.allowed_usernames

username_allowed if {
	common.matches_string_constraints(input.username, data.registration.allowed_usernames)
}

violation contains {"field": "username", "code": "username-too-short", "msg": "username too short"} if {
	count(input.username) == 0
}

# A Matrix user ID is at most 255 bytes.
violation contains {"field": "username", "code": "username-too-long", "msg": "username too long"} if {
	count(common.mxid(input.username)) > 255
}

violation contains {
	"field": "username",
	"code": "username-all-numeric",
	"msg": "username must contain at least one non-numeric character",
} if {
	regex.match(`^[0-9]+$`, input.username)
}

violation contains {
	"field": "username",
	"code": "username-invalid-chars",
	"msg": "username contains invalid characters",
} if {
	count(input.username) > 0
	not regex.match(`^[a-z0-9.=_/+-]+$`, input.username)
}

violation contains {"field": "username", "code": "username-banned", "msg": "username is banned"} if {
	common.matches_string_constraints(input.username, data.registration.banned_usernames)
}

violation contains {"field": "username", "code": "username-not-allowed", "msg": "username is not allowed"} if {
	not username_allowed
}

violation contains {"msg": "unknown registration method"} if {
	not input.registration_method in {"password", "upstream-oauth2"}
}

violation contains common.requester_violation

violation contains object.union(found, {"field": "email"}) if {
	input.email
	some found in email_policy.violation
}
