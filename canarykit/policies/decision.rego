# canarykit decision rules: check results (computed in Python) -> PROCEED / STOP / CONTINUE.
#
# Input: {"model", "mode", "checks": [{"name", "kind", "status", "required", "summary", ...}]}.
# Organisations extend the decision by adding rules to `stop_reasons` or `hold_reasons` in
# their own .rego files in package canarykit.decision. Rules can only make the decision
# stricter: canarykit never PROCEEDs while a check fails or a required check is inconclusive.
package canarykit.decision

import rego.v1

# A failed check is evidence of a regression beyond its margin (or a failed quality gate).
stop_reasons contains sprintf("%s: %s", [c.name, c.summary]) if {
	some c in input.checks
	c.status == "fail"
}

# A required check without significant evidence either way: keep collecting data.
hold_reasons contains sprintf("%s: %s", [c.name, c.summary]) if {
	some c in input.checks
	c.required
	c.status == "inconclusive"
}

hold_reasons contains "no checks were evaluated" if count(input.checks) == 0

all_required_pass if {
	every c in input.checks {
		optional_or_pass(c)
	}
}

optional_or_pass(c) if c.status == "pass"

optional_or_pass(c) if {
	c.required == false
	c.status != "fail"
}

decision := "STOP" if {
	count(stop_reasons) > 0
} else := "PROCEED" if {
	count(input.checks) > 0
	count(hold_reasons) == 0
	all_required_pass
} else := "CONTINUE"

reasons := sort([r | some r in stop_reasons]) if decision == "STOP"

reasons := sort([r | some r in hold_reasons]) if decision == "CONTINUE"

reasons := [sprintf("all %d required checks pass", [count([c | some c in input.checks; c.required])])] if decision == "PROCEED"

result := {"decision": decision, "reasons": reasons}
