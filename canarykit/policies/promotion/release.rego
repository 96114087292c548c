# Gate: writing the release of a version (DESIGN.md §6, §10).
# Allowed only when the version is Approved and not revoked, its `revalidate_by` has not
# lapsed, the audit chain is intact (and the clock has not moved backwards), the policy
# snapshot released is the one bound at Staging and is sanctioned by a `policy` key's
# signature over exactly its files, and the manifest is signed by a key the trust file lists
# for `release`.
# Python computes every fact (signature checks, digests, times in ns); this file only decides.
package canarykit.promotion.release

import data.canarykit.promotion.common
import rego.v1

default allow := false

allow if {
	common.clock_ok
	common.audit_ok
	approved
	not_revoked
	revalidate_ok
	policy_bound
	policy_signed
	release_key_ok
	count(deny) == 0
}

approved if input.version.stage == "Approved"

not_revoked if input.version.revoked == false

revalidate_ok if {
	is_number(input.version.revalidate_by_ns)
	is_number(input.now_ns)
	input.version.revalidate_by_ns > input.now_ns
}

policy_bound if {
	common.digest_ok(input.version.policy_digest)
	input.policy.digest == input.version.policy_digest
}

policy_signed if {
	input.policy.signature.verified == true
	input.policy.signature.subject_matches == true
}

release_key_ok if {
	input.release_key.trusted == true
	"release" in input.release_key.purposes
}

deny contains msg if {
	some msg in common.audit_reasons
}

deny contains msg if {
	some msg in common.clock_reasons
}

deny contains msg if {
	not approved
	msg := sprintf("stage: %v %v is %v; only Approved is released", [input.version.model, input.version.version, input.version.stage])
}

deny contains msg if {
	not not_revoked
	msg := sprintf("revoked: %v %v has been revoked; a revoked version is never released", [input.version.model, input.version.version])
}

deny contains "revalidate_by: the version has no revalidate_by; promote it to Approved again" if {
	not is_number(input.version.revalidate_by_ns)
}

deny contains msg if {
	is_number(input.version.revalidate_by_ns)
	not revalidate_ok
	msg := sprintf("revalidate_by: the approval lapsed at %v (now %v); revalidate (a new verdict and → Approved) before releasing", [input.version.revalidate_by, input.now])
}

deny contains msg if {
	not policy_bound
	msg := sprintf("policy: the snapshot released has digest %v, not the bound %v (the snapshot bound at Staging)", [input.policy.digest, input.version.policy_digest])
}

deny contains msg if {
	is_string(input.policy.given_digest)
	input.policy.given_digest != input.version.policy_digest
	msg := sprintf("policy: the policy given has digest %v, not the bound %v (leave --policy out: the release ships the snapshot bound at Staging)", [input.policy.given_digest, input.version.policy_digest])
}

deny contains msg if {
	policy_bound
	not policy_signed
	msg := concat("", ["policy signature: ", concat("; ", object.get(input, ["policy", "signature", "problems"], ["the snapshot is not signed by a policy key"]))])
}

deny contains msg if {
	not release_key_ok
	msg := concat("", ["signing key: ", object.get(input, ["release_key", "problem"], "not a key the trust file lists for release")])
}

decision := {"allow": allow, "deny": deny}
