# Gate: Candidate → Staging, the sanctioned-policy rule added by issue 12 (DESIGN.md §10).
# Same package as staging.rego: these rules add `deny` reasons, and `allow` there requires
# `count(deny) == 0`. Python (promotion/sanctioned_policy.py) computes the fact
# `policy_snapshot`: whether the snapshot being bound is signed — a DSSE envelope of the policy
# payload type, signed by a key the trust file lists for purpose `policy` — whether the signed
# file list is exactly the folder's policy files (no extra, missing or changed file, so no
# other snapshot's signature), and whether the snapshot is a complete valid policy.
# A policy decides verdicts: only a sanctioned one may be bound.
package canarykit.promotion.staging

import rego.v1

policy_sanctioned if {
	input.policy_snapshot.present == true
	input.policy_snapshot.verified == true
	input.policy_snapshot.digest == input.policy_digest
	is_array(input.policy_snapshot.problems)
	count(input.policy_snapshot.problems) == 0
}

policy_problems := [p | some p in input.policy_snapshot.problems; is_string(p)] if {
	is_array(input.policy_snapshot.problems)
} else := []

deny contains msg if {
	not policy_sanctioned
	count(policy_problems) > 0
	msg := concat("", ["policy: ", concat("; ", policy_problems)])
}

deny contains "policy: the policy snapshot is not sanctioned (no signature by a key trusted for purpose policy verified)" if {
	not policy_sanctioned
	count(policy_problems) == 0
}
