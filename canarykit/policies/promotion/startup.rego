# Gate: starting or downloading a version (DESIGN.md §6).
# Allowed only when the alias (or pinned version) resolves to a version in Staging or Approved,
# not revoked, whose stored signature verifies against the current trust file over the digest
# of the artifact being started, whose bound policy digest is the one the service expects, and
# whose stage (and the alias's target) the intact audit log records.
# Each reason starts with a code word (resolve, revoked, stage, artifact, signature, policy, audit)
# that the CLI maps to its own exit status.
package canarykit.promotion.startup

import data.canarykit.promotion.common
import rego.v1

default allow := false

allow if {
	resolved
	not_revoked
	stage_ok
	signature_ok
	artifact_ok
	policy_ok
	audit_backed
	count(deny) == 0
}

# The audit chain is intact and records the stage (and alias target) the registry shows.
audit_backed if {
	input.audit.ok == true
	input.audit.stage_recorded == true
	input.audit.alias_recorded == true
}

resolved if {
	input.resolved == true
	is_string(input.version.version)
}

not_revoked if input.version.revoked == false

stage_ok if input.version.stage in {"Staging", "Approved"}

signature_ok if {
	input.signature.trust_configured == true
	input.signature.present == true
	input.signature.verified == true
}

artifact_ok if input.artifact.checked == false

artifact_ok if {
	input.artifact.checked == true
	input.artifact.digest == input.version.artifact_digest
}

policy_ok if {
	common.digest_ok(input.expected_policy_digest)
	input.version.policy_digest == input.expected_policy_digest
}

deny contains msg if {
	not resolved
	msg := concat("", ["resolve: ", object.get(input, "resolve_problem", "no version to start")])
}

deny contains msg if {
	resolved
	not not_revoked
	msg := sprintf("revoked: %v %v has been revoked", [input.version.model, input.version.version])
}

deny contains msg if {
	resolved
	not stage_ok
	msg := sprintf("stage: %v %v is %v; only Staging or Approved versions may start", [input.version.model, input.version.version, input.version.stage])
}

deny contains msg if {
	resolved
	not signature_ok
	msg := concat("", ["signature: ", concat("; ", object.get(input, ["signature", "problems"], ["does not verify"]))])
}

deny contains msg if {
	resolved
	not artifact_ok
	msg := sprintf("artifact: digest %v is not the registered %v", [input.artifact.digest, input.version.artifact_digest])
}

deny contains msg if {
	resolved
	not policy_ok
	msg := sprintf("policy: the version is bound to %v, the service expects %v", [input.version.policy_digest, input.expected_policy_digest])
}

deny contains msg if {
	resolved
	not audit_backed
	msg := concat("", ["audit: ", concat("; ", object.get(input, ["audit", "problems"], ["the audit log does not back this version"]))])
}

decision := {"allow": allow, "deny": deny}
