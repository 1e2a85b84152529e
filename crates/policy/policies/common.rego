# Helpers shared by the decisions: string-constraint objects, banned requesters.
package common

import rego.v1

# A string-constraint object (`literals`, `substrings`, `regexes`, `prefixes`, `suffixes`)
# matches when any one of its lists does.
matches_string_constraints(value, constraints) if {
	some literal in constraints.literals
	value == literal
}

matches_string_constraints(value, constraints) if {
	some part in constraints.substrings
	contains(value, part)
}

matches_string_constraints(value, constraints) if {
	some pattern in constraints.regexes
	regex.match(pattern, value)
}

matches_string_constraints(value, constraints) if {
	some prefix in constraints.prefixes
	startswith(value, prefix)
}

matches_string_constraints(value, constraints) if {
	some suffix in constraints.suffixes
	endswith(value, suffix)
}

# A bare address is a range of one.
as_cidr(address) := address if contains(address, "/")

as_cidr(address) := concat("", [address, "/128"]) if {
	not contains(address, "/")
	contains(address, ":")
}

as_cidr(address) := concat("", [address, "/32"]) if {
	not contains(address, "/")
	not contains(address, ":")
}

ip_banned(ip, banned) if {
	some entry in banned
	net.cidr_contains(as_cidr(entry), ip)
}

requester_banned(requester, rules) if ip_banned(requester.ip_address, rules.banned_ips)

requester_banned(requester, rules) if {
	matches_string_constraints(requester.user_agent, rules.banned_user_agents)
}

describe_requester(requester) := sprintf("%s / %s", [requester.ip_address, requester.user_agent]) if {
	requester.ip_address
	requester.user_agent
}

describe_requester(requester) := requester.ip_address if {
	requester.ip_address
	not requester.user_agent
}

describe_requester(requester) := requester.user_agent if {
	not requester.ip_address
	requester.user_agent
}

describe_requester(requester) := "unknown" if {
	not requester.ip_address
	not requester.user_agent
}

# The violation every decision adds for a banned requester.
requester_violation := {"code": "requester-banned", "msg": sprintf(
	"requester [%s] is not allowed to do this",
	[describe_requester(input.requester)],
)} if {
	requester_banned(input.requester, data.requester)
}

mxid(localpart) := sprintf("@%s:%s", [localpart, data.server_name])
