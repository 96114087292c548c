# Gate: Candidate → Staging (DESIGN.md §6).
# Requires a verified signature over the artifact digest (and, if supplied or required, a SLSA
# provenance attestation whose subject is the artifact), an SBOM without a blocking
# vulnerability, a security decision PASS by someone other than the submitter, and the policy
# snapshot bound by digest.
package canarykit.promotion.staging

import data.canarykit.promotion.common
import rego.v1

# Vulnerabilities at or above this rank block (none 0, info 1, low 2, medium 3, high 4, critical 5).
blocking_rank := 4

# Whether a provenance attestation must be supplied (it is always checked when supplied).
require_provenance := false

clearing_states := {"not_affected", "false_positive", "resolved"}

default allow := false

allow if {
	common.clock_ok
	common.audit_ok
	transition_ok
	signature_ok
	attestation_ok
	sbom_ok
	security_pass
	duties_separated
	policy_bound
	count(deny) == 0
}

transition_ok if input.from_stage == "Candidate"

signature_ok if {
	input.signature.trust_configured == true
	input.signature.present == true
	input.signature.verified == true
}

attestation_ok if {
	input.attestation.present == false
	require_provenance == false
}

attestation_ok if {
	input.attestation.present == true
	input.attestation.verified == true
	input.attestation.subject_matches == true
}

# A vulnerability is cleared when its severity is below the threshold, its analysis state
# clears it, or an unexpired waiver names its id.
# The rules read groups, not vulnerabilities: Python (promotion/sbom.py, gate_summary) groups
# the SBOM's vulnerabilities in one linear pass by everything read here (rank, severity,
# analysis state, the id a waiver names, the security approvers of the statement), with each
# group's count and first ids, so the gate's work does not grow with the SBOM (over every
# vulnerability, even linear rules took 1.2 s for 3,000 of them; the partial sets before
# that, 50 s).
cleared(g) if {
	is_number(g.rank)
	g.rank < blocking_rank
}

cleared(g) if g.analysis_state in clearing_states

cleared(g) if g.waiver in common.waived_checks

sbom_groups := input.sbom.groups if is_array(input.sbom.groups)

else := []

blocking := [g | some g in sbom_groups; not cleared(g)]

# How many vulnerabilities the groups hold (a group without a numeric count fails closed).
vulnerability_count(groups) := sum([g.count | some g in groups])

# The vulnerabilities the groups name, in order (the first few of each group).
named(groups) := [{"id": id, "severity": object.get(g, "severity", null), "analysis_state": object.get(g, "analysis_state", null)} |
	some g in groups
	some id in g.ids
]

sbom_ok if {
	input.sbom.present == true
	input.sbom.valid == true
	count(blocking) == 0
}

# At most this many vulnerabilities are named one by one in the reasons of one rule; the rest
# are counted (a denial stays readable, and its size bounded, whatever the SBOM lists).
listed_max := 20

# A security approval counts only while it stands (signed, signer still on the roster with the
# role, signing key still theirs: Python sets `counts`).
security_approvers contains a.actor if {
	some a in input.approvals
	a.stage == "Staging"
	a.role == "security"
	a.counts == true
	is_string(a.actor)
	a.actor != input.version.submitter
}

void_security_approvals contains msg if {
	some a in input.approvals
	a.stage == "Staging"
	a.role == "security"
	object.get(a, "counts", false) != true
	is_string(a.actor)
	msg := concat("", [a.actor, " (", void_reason(a), ")"])
}

security_pass if count(security_approvers) > 0

duties_separated if {
	is_string(input.version.submitter)
	every a in input.approvals {
		a.actor != input.version.submitter
	}
}

policy_bound if common.digest_ok(input.policy_digest)

deny contains msg if {
	some msg in common.audit_reasons
}

deny contains msg if {
	some msg in common.clock_reasons
}

deny contains msg if {
	not transition_ok
	msg := sprintf("stage: %v → Staging is not allowed (only from Candidate)", [input.from_stage])
}

deny contains msg if {
	not signature_ok
	msg := concat("", ["signature: ", concat("; ", object.get(input, ["signature", "problems"], ["not verified"]))])
}

deny contains msg if {
	not attestation_ok
	input.attestation.present == true
	msg := concat("", ["attestation: ", concat("; ", object.get(input, ["attestation", "problems"], ["not verified"]))])
}

deny contains "attestation: no SLSA provenance attestation supplied, and the policy requires one" if {
	not attestation_ok
	object.get(input, ["attestation", "present"], false) != true
}

deny contains msg if {
	some i, v in named(blocking)
	i < listed_max
	msg := sprintf("sbom: %v is %v (blocking at %v and above) with analysis state %v and no unexpired waiver", [v.id, v.severity, blocking_name, v.analysis_state])
}

deny contains msg if {
	total := vulnerability_count(blocking)
	total > listed_max
	msg := sprintf("sbom: and %v more blocking vulnerabilities (%v in all; the first %v are named)", [total - listed_max, total, listed_max])
}

blocking_name := "high"

deny contains msg if {
	not sbom_ok
	count(blocking) == 0
	msg := concat("", ["sbom: ", concat("; ", object.get(input, ["sbom", "problems"], ["missing or invalid"]))])
}

deny contains msg if {
	not security_pass
	msg := sprintf("security decision: no PASS from a security approver other than the submitter %v", [input.version.submitter])
}

deny contains msg if {
	not security_pass
	count(void_security_approvals) > 0
	msg := concat("", ["security decision: approvals that no longer count: ", concat("; ", void_security_approvals)])
}

deny contains msg if {
	not duties_separated
	msg := sprintf("separation of duties: the submitter %v appears among the approvers", [input.version.submitter])
}

deny contains msg if {
	not policy_bound
	msg := sprintf("policy: %v is not a policy snapshot digest (sha256:<64 hex>)", [object.get(input, "policy_digest", null)])
}

decision := {"allow": allow, "deny": deny}

# Why an approval does not count (Python's `void`, a string; concat, not sprintf: regopy's %v
# quotes strings without escaping them).
void_reason(a) := a.void if is_string(a.void)

void_reason(a) := "it does not stand" if not is_string(a.void)
