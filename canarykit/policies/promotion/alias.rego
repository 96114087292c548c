# Gate: moving an alias (set or rollback) to a version (DESIGN.md §6).
# The target must be Approved and not revoked, the caller's expected current value must equal
# the alias's current value (compare-and-set), and a change ticket must authorise it.
package canarykit.promotion.alias

import data.canarykit.promotion.change
import data.canarykit.promotion.common
import rego.v1

default allow := false

allow if {
	common.clock_ok
	common.audit_ok
	target_ok
	cas_ok
	change.allow
	count(deny) == 0
}

target_ok if {
	input.target.stage == "Approved"
	input.target.revoked == false
	approval_current
}

# Moving the alias onto a version needs its approval still current (revalidate_by in the
# future); a rollback may return to an older Approved version whose revalidation lapsed.
approval_current if {
	input.target.purpose == "alias_existing"
	is_number(input.target.revalidate_by_ns)
	input.target.revalidate_by_ns > input.now_ns
}

approval_current if input.target.purpose == "rollback"

cas_ok if {
	input.cas.checked == true
	input.cas.expected == input.cas.current
}

deny contains msg if {
	some msg in common.audit_reasons
}

deny contains msg if {
	some msg in common.clock_reasons
}

deny contains msg if {
	some msg in change.deny
}

deny contains msg if {
	input.target.stage != "Approved"
	msg := sprintf("alias: %v %v is %v; %v may point only to an Approved, unrevoked version", [input.target.model, input.target.version, input.target.stage, input.alias])
}

deny contains msg if {
	input.target.stage == "Approved"
	not approval_current
	msg := sprintf("alias: the approval of %v %v lapsed (revalidate_by passed); revalidate it first", [input.target.model, input.target.version])
}

deny contains msg if {
	not cas_ok
	msg := sprintf("compare-and-set: %v is %v, not the expected %v (re-read the alias and retry)", [input.alias, object.get(input, ["cas", "current"], null), object.get(input, ["cas", "expected"], null)])
}

decision := {"allow": allow, "deny": deny}
