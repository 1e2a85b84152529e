# Authorization grants: consent to an authorization code or a device code, and the client
# credentials grant. Which scopes may be given to whom, banned requesters, and the soft session
# limit for grants that sign a user in.
package authorization_grant

import rego.v1

import data.common

interactive_grant_types := {"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}

interactive if input.grant_type in interactive_grant_types

may_request_admin if {
	some username in data.admin_users
	input.user.username == username
}

may_request_admin if input.user.can_request_admin == true

device_scope_prefixes := ["urn:matrix:client:device:", "urn:matrix:org.matrix.msc2967.client:device:"]

is_device_scope(scope) if {
	some prefix in device_scope_prefixes
	startswith(scope, prefix)
}

# The empty string is what splitting an empty scope gives.
allowed_scope("") := true

allowed_scope("openid") := true

allowed_scope("email") := true

allowed_scope("urn:mas:graphql:*") := true

allowed_scope("urn:matrix:client:api:*") if interactive

allowed_scope("urn:matrix:org.matrix.msc2967.client:api:*") if interactive

allowed_scope(scope) if {
	interactive
	some prefix in device_scope_prefixes
	startswith(scope, prefix)
	regex.match(`^[A-Za-z0-9._~!$&'()*+,;=:@/-]{10,}$`, substring(scope, count(prefix), -1))
}

# Synapse's admin API needs a user behind the token.
allowed_scope("urn:synapse:admin:*") if {
	interactive
	may_request_admin
}

allowed_scope("urn:mas:admin") if {
	interactive
	may_request_admin
}

allowed_scope("urn:mas:admin") if {
	input.grant_type == "client_credentials"
	some client_id in data.admin_clients
	input.client.id == client_id
}

violation contains {"code": "scope-not-allowed", "msg": sprintf("scope '%s' not allowed", [scope])} if {
	some scope in split(input.scope, " ")
	not allowed_scope(scope)
}

violation contains {"code": "too-many-devices", "msg": "only one device scope is allowed at a time"} if {
	count([scope | some scope in split(input.scope, " "); is_device_scope(scope)]) > 1
}

violation contains common.requester_violation

violation contains {"code": "too-many-sessions", "msg": "user has too many active sessions"} if {
	data.session_limit
	interactive
	input.session_counts
	data.session_limit.soft_limit <= input.session_counts.total
}
