# Shared facts for the promotion gates. Every fact is an allow-style rule: it holds only when
# its evidence is present and well-formed, so an undefined or malformed input never allows.
package canarykit.promotion.common

import rego.v1

# Checks lifted by a waiver that has not expired at the instant of the transition.
# `expires_ns > now_ns` is written positively: a waiver without a numeric expiry lifts nothing.
waived_checks contains w.check if {
	is_number(input.now_ns)
	some w in input.waivers
	is_string(w.check)
	is_number(w.expires_ns)
	w.expires_ns > input.now_ns
	w.version in {null, input.version.version}
	is_string(w.created_by)
	w.created_by != input.version.submitter
}

# The hash-chained audit log verified before the decision.
audit_ok if input.audit.ok == true

audit_reasons contains msg if {
	not audit_ok
	msg := concat("", ["audit: the audit log failed verification (", concat("; ", object.get(input, ["audit", "problems"], [])), ")"])
}

# The time of the transition is known and not earlier than the last audit event: the clock
# may not be moved backwards to revive an expired waiver or reopen a window.
clock_ok if {
	is_number(input.now_ns)
	input.now_ns > 0
	input.clock.monotonic == true
}

clock_reasons contains "clock: the time of the transition is missing" if not is_number(input.now_ns)

clock_reasons contains msg if {
	is_number(input.now_ns)
	not clock_ok
	msg := sprintf("clock: now (%v ns) is earlier than the last audit event (%v ns); the clock may not move backwards", [input.now_ns, object.get(input, ["clock", "last_event_ns"], null)])
}

digest_ok(d) if regex.match(`^sha256:[0-9a-f]{64}$`, d)
