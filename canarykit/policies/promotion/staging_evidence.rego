# Gate: Candidate → Staging, the SBOM rules added by issue 12 (DESIGN.md §6).
# Same package as staging.rego: these rules add `deny` reasons, and `allow` there requires
# `count(deny) == 0`. Python (promotion/sbom.py, promotion/evidence_records.py) computes the
# facts: the number of components, whether a vulnerability analysis is present (a
# `vulnerabilities` section or a scanner in `metadata.tools`), each vulnerability's highest
# severity over all its ratings and the digest of its statement, and the VEX approvals given;
# it hands the gate the vulnerabilities grouped (promotion/sbom.py, gate_summary).
# - An SBOM that lists no components describes nothing: refused.
# - An SBOM without a vulnerability analysis says nothing about vulnerabilities: refused.
# - A VEX analysis state that clears a vulnerability (`not_affected`, `resolved`,
#   `false_positive`) on a vulnerability at or above the blocking rank counts only with a
#   security approval of that very statement by someone other than the submitter, or an
#   unexpired waiver naming the vulnerability: the submitter's own SBOM cannot clear it.
package canarykit.promotion.staging

import data.canarykit.promotion.common
import rego.v1

vex_states := {"not_affected", "resolved", "false_positive"}

# The rules read the groups of staging.rego (`sbom_groups`): vulnerabilities alike in rank,
# severity, analysis state, waiver and the security approvers of their statement.
below_blocking(g) if {
	is_number(g.rank)
	g.rank < blocking_rank
}

# A security approval of this statement (Python matched id and statement digest) by someone
# other than the submitter.
vex_approved(g) if {
	some a in g.vex_approvers
	is_string(a)
	a != input.version.submitter
}

vex_backed(g) if vex_approved(g)

vex_backed(g) if g.waiver in common.waived_checks

unbacked_vex := [g |
	some g in sbom_groups
	not below_blocking(g)
	g.analysis_state in vex_states
	not vex_backed(g)
]

sbom_usable if {
	input.sbom.present == true
	input.sbom.valid == true
}

deny contains msg if {
	some i, v in named(unbacked_vex)
	i < listed_max
	msg := sprintf("sbom: %v is %v and only the SBOM says %v; a VEX statement on a high or critical vulnerability counts with a security approval of it (canarykit approve %v %v --role security --vex %v --sbom SBOM) or an unexpired waiver", [v.id, object.get(v, "severity", null), v.analysis_state, input.version.model, input.version.version, v.id])
}

deny contains msg if {
	total := vulnerability_count(unbacked_vex)
	total > listed_max
	msg := sprintf("sbom: and %v more VEX statements on high or critical vulnerabilities without a security approval or waiver (%v in all)", [total - listed_max, total])
}

deny contains msg if {
	sbom_usable
	object.get(input.sbom, "components", 0) == 0
	msg := "sbom: it lists no components, so it describes nothing; generate it from the model's runtime, e.g. cyclonedx-py environment -o sbom.cdx.json"
}

deny contains msg if {
	sbom_usable
	object.get(input.sbom, ["analysis", "present"], false) != true
	msg := "sbom: no vulnerability analysis (no vulnerabilities section, no scanner in metadata.tools); scan it with CycloneDX output, e.g. grype sbom:sbom.cdx.json -o cyclonedx-json > scanned.cdx.json, or trivy fs --scanners vuln --format cyclonedx -o scanned.cdx.json ."
}
