# Gate: Staging → Approved (DESIGN.md §6).
# Requires a canary verdict PROCEED for this model and version under the policy digest bound at
# Staging (a verdict check that did not pass may be lifted only by an unexpired waiver naming
# it), four-eyes — Security and Product approvals from two different people, neither the
# submitter — `revalidate_by` in the future, published guardrails and an authorising change.
package canarykit.promotion.approved

import data.canarykit.promotion.change
import data.canarykit.promotion.common
import rego.v1

default allow := false

allow if {
	common.clock_ok
	common.audit_ok
	transition_ok
	verdict_ok
	four_eyes
	revalidate_ok
	guardrails_ok
	change.allow
	count(deny) == 0
}

transition_ok if input.from_stage == "Staging"

verdict_bound if {
	input.verdict.present == true
	input.verdict.schema == "canarykit.verdict/1"
	input.verdict.model == input.version.model
	input.verdict.candidate == input.version.version
	common.digest_ok(input.version.policy_digest)
	input.verdict.policy_digest == input.version.policy_digest
}

# Quality gates say the experiment itself is broken (e.g. a sample-ratio mismatch); no waiver
# can lift them.
unwaivable_checks := {"sample_ratio"}

check_cleared(c) if c.status == "pass"

check_cleared(c) if {
	c.name in common.waived_checks
	not c.name in unwaivable_checks
}

decision_ok if input.verdict.decision == "PROCEED"

decision_ok if {
	input.verdict.decision in {"STOP", "CONTINUE"}
	count(input.verdict.checks) > 0
	every c in input.verdict.checks {
		check_cleared(c)
	}
}

verdict_ok if {
	verdict_bound
	decision_ok
}

# Approvals count only for the verdict the approver reviewed (its digest).
approvers(role) := {a.actor |
	some a in input.approvals
	a.stage == "Approved"
	a.role == role
	is_string(a.actor)
	a.actor != input.version.submitter
	is_string(a.verdict_digest)
	a.verdict_digest == input.verdict.digest
}

four_eyes if {
	some s in approvers("security")
	some p in approvers("product")
	s != p
}

revalidate_ok if {
	is_number(input.revalidate_by_ns)
	input.revalidate_by_ns > input.now_ns
}

guardrails_ok if {
	is_array(input.guardrails)
	count(input.guardrails) > 0
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
	not transition_ok
	msg := sprintf("stage: %v → Approved is not allowed (only from Staging)", [input.from_stage])
}

deny contains "verdict: no canary verdict supplied" if object.get(input, ["verdict", "present"], false) != true

deny contains msg if {
	input.verdict.present == true
	not verdict_bound
	msg := sprintf("verdict: it is for %v %v under policy %v, not for %v %v under the bound policy %v", [input.verdict.model, input.verdict.candidate, input.verdict.policy_digest, input.version.model, input.version.version, input.version.policy_digest])
}

deny contains msg if {
	input.verdict.present == true
	not decision_ok
	uncleared := [c.name | some c in input.verdict.checks; not check_cleared(c)]
	msg := concat("", [sprintf("verdict: decision is %v, not PROCEED", [input.verdict.decision]), " (checks not passed and not waived: ", concat(", ", uncleared), ")"])
}

deny contains msg if {
	not four_eyes
	msg := concat("", [
		sprintf("four-eyes: needs Security and Product approvals of this verdict from two different people, neither the submitter %v", [input.version.submitter]),
		" (security: ", concat(", ", approvers("security")),
		"; product: ", concat(", ", approvers("product")), ")",
	])
}

deny contains "revalidate_by: must be set to a time after now" if not revalidate_ok

deny contains "guardrails: the guardrail checks must be published (a non-empty list)" if not guardrails_ok

decision := {"allow": allow, "deny": deny}
