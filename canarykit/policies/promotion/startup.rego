# Gate: starting or downloading a version (DESIGN.md §6).
# Allowed only when the alias (or pinned version) resolves to a version in Staging or Approved,
# not revoked, whose stored signature verifies against the current trust file over the digest
# of the artifact being started, whose artifact file was checked and has the registered digest,
# whose bound policy digest is the one the service expects, and whose stage (and the alias's
# target) the intact audit log records. An artifact that was not checked never allows: with an
# explicit --no-artifact-check the only reason is `degraded` (its own exit status), otherwise
# `artifact`.
# A drill registry (created with `config init --drill`) never starts anything in production.
# Each reason starts with a code word (resolve, revoked, stage, artifact, signature, policy, audit,
# drill, degraded) that the CLI maps to its own exit status.
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
	not_drill
	count(deny) == 0
}

# The registry was not created as a drill registry (Python reads its first audit event).
not_drill if input.registry.drill == false

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

artifact_checked if input.artifact.checked == true

artifact_ok if {
	artifact_checked
	input.artifact.digest == input.version.artifact_digest
}

# The caller asked explicitly not to check the artifact file (--no-artifact-check).
degraded if {
	not artifact_checked
	input.artifact.skip_requested == true
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
	artifact_checked
	not artifact_ok
	msg := sprintf("artifact: digest %v is not the registered %v", [input.artifact.digest, input.version.artifact_digest])
}

deny contains "artifact: the artifact file was not given, so its digest was not checked" if {
	resolved
	not artifact_checked
	not degraded
}

deny contains "degraded: the artifact file was NOT checked (--no-artifact-check); the other checks ran" if {
	resolved
	degraded
}

deny contains msg if {
	resolved
	not policy_ok
	msg := sprintf("policy: the version is bound to %v, the service expects %v", [input.version.policy_digest, input.expected_policy_digest])
}

deny contains "drill: this is a DRILL registry (created with config init --drill): nothing from it may start in production" if {
	not not_drill
}

deny contains msg if {
	resolved
	not audit_backed
	msg := concat("", ["audit: ", concat("; ", object.get(input, ["audit", "problems"], ["the audit log does not back this version"]))])
}

decision := {"allow": allow, "deny": deny}
