# Gate: Staging → Approved, the evidence documents added by issue 12 (DESIGN.md §6).
# Same package as approved.rego: these rules add `deny` reasons, and `allow` there requires
# `count(deny) == 0`. Python (promotion/evidence_records.py) computes `input.documents` from the
# registry: the model cards recorded for the version (file digest, the verdict digest each names,
# the metrics of the promoted verdict each lacks), the decision records (ADR/SCDR: file digest
# and id) and the digest of the verdict being promoted.
# - A model card must be recorded for this version and describe the verdict being promoted,
#   carrying every metric that verdict gives (estimate, interval, slice) unchanged.
# - A decision record (ADR/SCDR) must be recorded for this version.
package canarykit.promotion.approved

import data.canarykit.promotion.common
import rego.v1

model_cards := object.get(input, ["documents", "model_cards"], [])

decision_records := object.get(input, ["documents", "decision_records"], [])

subject := sprintf("%v %v", [object.get(input, ["version", "model"], null), object.get(input, ["version", "version"], null)])

card_of_verdict(c) if {
	common.digest_ok(c.digest)
	is_string(c.verdict_digest)
	c.verdict_digest == input.documents.expected_verdict_digest
}

card_ok(c) if {
	card_of_verdict(c)
	is_array(c.missing_metrics)
	count(c.missing_metrics) == 0
}

model_card_ok if {
	some c in model_cards
	card_ok(c)
}

decision_record_ok if {
	some d in decision_records
	common.digest_ok(d.digest)
	is_string(d.reference)
}

deny contains msg if {
	count(model_cards) == 0
	msg := sprintf("model card: none recorded for %v (canarykit model-card VERDICT --out card.cdx.json, then canarykit evidence add %v --model-card card.cdx.json)", [subject, subject])
}

deny contains msg if {
	count(model_cards) > 0
	not model_card_ok
	not any_card_of_verdict
	last := model_cards[count(model_cards) - 1]
	msg := sprintf("model card: the recorded card describes verdict %v, not the verdict being promoted %v (write the card from this verdict)", [object.get(last, "verdict_digest", null), object.get(input, ["documents", "expected_verdict_digest"], null)])
}

any_card_of_verdict if {
	some c in model_cards
	card_of_verdict(c)
}

deny contains msg if {
	not model_card_ok
	some c in model_cards
	card_of_verdict(c)
	missing := object.get(c, "missing_metrics", [])
	is_array(missing)
	shown := [m | some m in array.slice(missing, 0, 3); is_string(m)]
	head := sprintf("model card: %v lacks or alters %v of the verdict's metrics (e.g. ", [object.get(c, "name", null), count(missing)])
	msg := concat("", [head, concat(", ", shown), "); write it with canarykit model-card from this verdict"])
}

deny contains msg if {
	not decision_record_ok
	msg := sprintf("decision record: no ADR/SCDR recorded for %v (canarykit evidence add %v --decision-record ADR-….md)", [subject, subject])
}
