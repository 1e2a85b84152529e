# Logins through the Matrix client API (`/_matrix/client/v3/login`) and the web part of its SSO
# flow: session limits and banned requesters. A login that replaces a device's session adds no
# session, so the limits do not apply to it.
package compat_login

import rego.v1

import data.common

# Only the web step of SSO lets the user end sessions before going on; every other login is
# a single request, held to the hard limit.
interactive if input.login.type == "m.login.sso"

interactive if input.is_interactive == true

violation contains common.requester_violation

violation contains {"code": "too-many-sessions", "msg": "user has too many active sessions (soft limit)"} if {
	data.session_limit
	interactive
	not input.session_replaced
	data.session_limit.soft_limit <= input.session_counts.total
}

violation contains {"code": "too-many-sessions", "msg": "user has too many active sessions (hard limit)"} if {
	data.session_limit
	not interactive
	not input.session_replaced
	data.session_limit.hard_limit <= input.session_counts.total
}
