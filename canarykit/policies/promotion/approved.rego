# Gate: Staging → Approved (DESIGN.md §6, §10).
# Requires a canary verdict PROCEED for this model and version under the policy digest bound at
# Staging, DSSE-signed by a key trusted for purpose `verdict` with this version as its subject,
# whose decision the sanctioned bound policy re-derives as PROCEED over its checks (Python runs
# the policy's own Rego and hands the result here: a STOP over the checks as they are is final,
# an unexpired waiver lifts only a hold on a waivable check); four-eyes — Security and Product
# approvals of that verdict from two different people, neither the submitter — `revalidate_by`
# in the future, published guardrails and an authorising change.
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

# The verdict is evidence: a DSSE envelope signed by a key trusted for purpose `verdict`, whose
# subject is this version (its artifact digest, or model@version with the verdict's digest).
# `plain_allowed` is the hook for drill registries (a later issue); Python sets it false today.
verdict_signed if {
	input.verdict.signed == true
	input.verdict.verified == true
	input.verdict.subject_matches == true
	count(input.verdict.evidence_problems) == 0
}

verdict_signed if {
	input.verdict.plain_allowed == true
	input.verdict.signed == false
	count(input.verdict.evidence_problems) == 0
}

# The sanctioned policy snapshot bound at Staging is still in the registry, intact and signed.
policy_sanctioned if {
	input.bound_policy.ok == true
	input.bound_policy.digest == input.version.policy_digest
}

# Quality gates say the experiment itself is broken (e.g. a sample-ratio mismatch); no waiver
# can lift them.
unwaivable_checks := {"sample_ratio"}

# Python lifted only checks that an unexpired waiver names and that may be waived.
waivers_valid if {
	is_array(input.verdict.rederived.waived)
	every w in input.verdict.rederived.waived {
		w in common.waived_checks
		not w in unwaivable_checks
	}
}

# A STOP or CONTINUE verdict never opens the gate; a PROCEED must be re-derived by the bound
# policy: no STOP over the checks as they are, PROCEED once waived checks are marked waived.
decision_ok if {
	input.verdict.decision == "PROCEED"
	count(input.verdict.checks) > 0
	input.verdict.rederived.plain_decision in {"PROCEED", "CONTINUE"}
	input.verdict.rederived.decision == "PROCEED"
	is_array(input.verdict.rederived.problems)
	count(input.verdict.rederived.problems) == 0
	is_array(input.verdict.rederived.missing)
	count(input.verdict.rederived.missing) == 0
	waivers_valid
}

verdict_ok if {
	verdict_signed
	policy_sanctioned
	verdict_bound
	decision_ok
}

texts(xs) := [x | some x in xs; is_string(x)] if is_array(xs)

texts(xs) := [] if not is_array(xs)

# Approvals count only for the verdict the approver reviewed (its digest), and only while they
# stand (Python: the signed act is recorded, its signer is still on the roster with the role and
# the key that signed it is still theirs).
approvers(role) := {a.actor |
	some a in input.approvals
	a.stage == "Approved"
	a.role == role
	a.counts == true
	is_string(a.actor)
	a.actor != input.version.submitter
	is_string(a.verdict_digest)
	a.verdict_digest == input.verdict.digest
}

void_approvals contains msg if {
	some a in input.approvals
	a.stage == "Approved"
	object.get(a, "counts", false) != true
	is_string(a.actor)
	is_string(a.role)
	msg := concat("", [a.actor, " as ", a.role, " (", void_reason(a), ")"])
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

deny contains "verdict: no canary verdict supplied" if {
	object.get(input, ["verdict", "present"], false) != true
	object.get(input, ["verdict", "supplied"], false) != true
}

deny contains msg if {
	some problem in texts(object.get(input, ["verdict", "evidence_problems"], []))
	msg := concat("", ["verdict: ", problem])
}

deny contains "verdict: it was not accepted as signed evidence (no envelope verified for purpose verdict)" if {
	input.verdict.present == true
	not verdict_signed
	count(texts(object.get(input, ["verdict", "evidence_problems"], []))) == 0
}

deny contains msg if {
	not policy_sanctioned
	problems := texts(object.get(input, ["bound_policy", "problems"], []))
	msg := concat("", ["policy: the sanctioned policy bound at Staging cannot be used: ", concat("; ", problems)])
}

deny contains msg if {
	input.verdict.present == true
	not verdict_bound
	msg := sprintf("verdict: it is for %v %v under policy %v, not for %v %v under the bound policy %v", [input.verdict.model, input.verdict.candidate, input.verdict.policy_digest, input.version.model, input.version.version, input.version.policy_digest])
}

deny contains msg if {
	input.verdict.present == true
	input.verdict.decision != "PROCEED"
	not_passed := [c.name | some c in input.verdict.checks; c.status != "pass"]
	msg := concat("", [sprintf("verdict: decision is %v, not PROCEED (a STOP or CONTINUE verdict never opens the gate; checks not passed: ", [input.verdict.decision]), concat(", ", texts(not_passed)), ")"])
}

deny contains "verdict: it has no checks, so nothing supports its decision" if {
	input.verdict.present == true
	count(input.verdict.checks) == 0
}

deny contains msg if {
	input.verdict.present == true
	some problem in texts(object.get(input, ["verdict", "rederived", "problems"], []))
	msg := concat("", ["verdict: its checks contradict it: ", problem])
}

deny contains msg if {
	input.verdict.present == true
	missing := texts(object.get(input, ["verdict", "rederived", "missing"], []))
	count(missing) > 0
	msg := concat("", ["verdict: required checks of the bound policy are missing from it: ", concat(", ", missing)])
}

deny contains msg if {
	input.verdict.present == true
	input.verdict.decision == "PROCEED"
	input.verdict.rederived.plain_decision == "STOP"
	reasons := texts(input.verdict.rederived.plain_reasons)
	msg := concat("", [sprintf("verdict: the bound policy %v re-derives STOP over its checks (stop reasons are never waived): ", [input.bound_policy.name]), concat("; ", reasons)])
}

deny contains msg if {
	input.verdict.present == true
	input.verdict.decision == "PROCEED"
	input.verdict.rederived.plain_decision != "STOP"
	is_string(input.verdict.rederived.decision)
	input.verdict.rederived.decision != "PROCEED"
	reasons := texts(input.verdict.rederived.reasons)
	waived := texts(input.verdict.rederived.waived)
	msg := concat("", [sprintf("verdict: the bound policy %v re-derives %v, not PROCEED, over its checks (waived: ", [input.bound_policy.name, input.verdict.rederived.decision]), concat(", ", waived), "): ", concat("; ", reasons)])
}

deny contains msg if {
	input.verdict.present == true
	is_string(input.verdict.rederived.error)
	msg := concat("", ["verdict: the bound policy could not re-derive the decision: ", input.verdict.rederived.error])
}

deny contains "verdict: the decision was not re-derived under the bound policy (denied)" if {
	input.verdict.present == true
	policy_sanctioned
	not is_object(input.verdict.rederived)
}

deny contains msg if {
	input.verdict.present == true
	is_object(input.verdict.rederived)
	not waivers_valid
	msg := concat("", ["verdict: a lifted check is not covered by an unexpired waiver or may not be waived: ", concat(", ", texts(object.get(input, ["verdict", "rederived", "waived"], [])))])
}

deny contains msg if {
	not four_eyes
	msg := concat("", [
		sprintf("four-eyes: needs Security and Product approvals of this verdict from two different people, neither the submitter %v", [input.version.submitter]),
		" (security: ", concat(", ", approvers("security")),
		"; product: ", concat(", ", approvers("product")), ")",
	])
}

deny contains msg if {
	not four_eyes
	count(void_approvals) > 0
	msg := concat("", ["four-eyes: approvals that no longer count: ", concat("; ", void_approvals)])
}

deny contains "revalidate_by: must be set to a time after now" if not revalidate_ok

deny contains "guardrails: the guardrail checks must be published (a non-empty list)" if not guardrails_ok

decision := {"allow": allow, "deny": deny}

# Why an approval does not count (Python's `void`, a string; concat, not sprintf: regopy's %v
# quotes strings without escaping them).
void_reason(a) := a.void if is_string(a.void)

void_reason(a) := "it does not stand" if not is_string(a.void)
