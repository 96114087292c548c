# Change management: what a change ticket may authorise, and when (DESIGN.md §6, ITIL).
# Standard changes are pre-approved but only move the alias to an already Approved version (or
# roll it back); Normal changes need their CAB approvals; Emergency changes always need an
# executive approval (or an emergency CAB). Approvals by the ticket's requester or by the
# submitter of the version changed do not count. Every change happens inside its own ticket
# window (at most max_window_ns long), inside a calendar window and outside every freeze —
# except an Emergency change approved by an executive, and a backout (a rollback under the
# ticket whose alias move it undoes: its pre-approved backout plan). A ticket is used once per
# transition it covers.
package canarykit.promotion.change

import data.canarykit.promotion.common
import rego.v1

# Distinct CAB approvers (other than the ticket's requester) a Normal change needs.
cab_min_approvals := 2

now := input.now_ns

default allow := false

allow if {
	common.clock_ok
	ticket_ok
	scope_ok
	in_ticket_window
	window_bounded
	not_used_before
	type_ok
}

# The ticket's window is no longer than the calendar allows (Python checks it at registration
# too; a ticket stored otherwise is still refused here).
window_bounded if {
	is_number(input.change.max_window_ns)
	input.change.window_end_ns - input.change.window_start_ns <= input.change.max_window_ns
}

# The transition this action is has not been made under this ticket before.
not_used_before if {
	is_string(input.target.use)
	is_array(input.change.uses)
	not input.target.use in input.change.uses
}

backout if {
	input.target.purpose == "rollback"
	input.target.backout == true
}

# Who the approvals must be independent of: the requester and the version's submitter.
submitter := input.version.submitter if is_string(input.version.submitter)

else := null

independent(actor) if {
	is_string(actor)
	actor != input.change.requester
	actor != submitter
}

ticket_ok if {
	input.change.present == true
	is_string(input.change.id)
	input.change.type in {"Standard", "Normal", "Emergency"}
}

scope_ok if {
	input.change.model == input.target.model
	input.target.version in input.change.versions
}

in_ticket_window if {
	is_number(input.change.window_start_ns)
	is_number(input.change.window_end_ns)
	input.change.window_start_ns <= now
	now < input.change.window_end_ns
}

calendar_ok if input.calendar.configured == true

in_calendar_window if {
	calendar_ok
	some w in input.calendar.windows
	w.start_ns <= now
	now < w.end_ns
}

# Each freeze is cleared positively: it ended before now, or starts after now.
clear_of_freeze(f) if {
	is_number(f.end_ns)
	f.end_ns <= now
}

clear_of_freeze(f) if {
	is_number(f.start_ns)
	now < f.start_ns
}

outside_freezes if {
	calendar_ok
	every f in input.calendar.freezes {
		clear_of_freeze(f)
	}
}

active_freezes contains f.name if {
	some f in input.calendar.freezes
	not clear_of_freeze(f)
}

in_window if {
	in_calendar_window
	outside_freezes
}

approvers_with_role(role) := {a.actor |
	some a in input.change.approvals
	a.role == role
	independent(a.actor)
}

cab_approvers := {a.actor |
	some a in input.change.approvals
	independent(a.actor)
}

not_independent contains a.actor if {
	some a in input.change.approvals
	is_string(a.actor)
	not independent(a.actor)
}

cab_ok if count(cab_approvers) >= cab_min_approvals

executive_ok if count(approvers_with_role("executive")) > 0

# An Emergency change is approved by an executive, or by an emergency CAB (as many independent
# approvers as a Normal change needs).
emergency_approved if executive_ok

emergency_approved if cab_ok

# The approvals the ticket's type needs (a backout runs with them).
approved_as_typed if input.change.type == "Standard"

approved_as_typed if {
	input.change.type == "Normal"
	cab_ok
}

approved_as_typed if {
	input.change.type == "Emergency"
	emergency_approved
}

type_ok if {
	input.change.type == "Standard"
	input.target.purpose in {"alias_existing", "rollback"}
	in_window
}

type_ok if {
	input.change.type == "Normal"
	cab_ok
	in_window
}

type_ok if {
	input.change.type == "Emergency"
	emergency_approved
	in_window
}

type_ok if {
	input.change.type == "Emergency"
	calendar_ok
	executive_ok
}

# A pre-approved backout may run during a freeze and outside the calendar's windows.
type_ok if {
	backout
	calendar_ok
	approved_as_typed
}

deny contains msg if {
	some msg in common.clock_reasons
}

deny contains msg if {
	not ticket_ok
	msg := "change: a change ticket (CHG-ID) of type Standard, Normal or Emergency is required"
}

deny contains msg if {
	ticket_ok
	not scope_ok
	msg := sprintf("change %v: scope is %v %v, which does not cover %v %v", [input.change.id, input.change.model, input.change.versions, input.target.model, input.target.version])
}

deny contains msg if {
	ticket_ok
	not in_ticket_window
	msg := sprintf("change %v: now is outside the ticket's window", [input.change.id])
}

deny contains "change: no change calendar configured (canarykit config set-calendar FILE)" if {
	ticket_ok
	not calendar_ok
}

deny contains msg if {
	ticket_ok
	input.change.type == "Standard"
	not input.target.purpose in {"alias_existing", "rollback"}
	msg := sprintf("change %v: a Standard change only moves the alias to an already Approved version; promoting a new version needs a Normal or Emergency change", [input.change.id])
}

deny contains msg if {
	ticket_ok
	input.change.type == "Normal"
	not cab_ok
	msg := sprintf("change %v: a Normal change needs CAB approvals from %v people other than its requester and the version's submitter (has %v)", [input.change.id, cab_min_approvals, count(cab_approvers)])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type != "Emergency"
	not backout
	some name in active_freezes
	msg := sprintf("change %v: the calendar is frozen (%v)", [input.change.id, name])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type != "Emergency"
	not backout
	not in_calendar_window
	msg := sprintf("change %v: now is outside every change window of the calendar", [input.change.id])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type == "Emergency"
	not in_window
	not executive_ok
	not backout
	msg := sprintf("change %v: an Emergency change outside a window or during a freeze needs an executive approver", [input.change.id])
}

deny contains msg if {
	ticket_ok
	input.change.type == "Emergency"
	not emergency_approved
	msg := sprintf("change %v: an Emergency change always needs an executive approval (or an emergency CAB of %v people other than its requester and the version's submitter)", [input.change.id, cab_min_approvals])
}

deny contains msg if {
	ticket_ok
	not approved_as_typed
	count(not_independent) > 0
	msg := concat("", ["change ", input.change.id, ": approvals by the requester or the version's submitter do not count (CAB members and executives are independent of both): ", concat(", ", sort(not_independent))])
}

deny contains msg if {
	ticket_ok
	not window_bounded
	msg := sprintf("change %v: the ticket's window is longer than the calendar allows (max_ticket_window_days)", [input.change.id])
}

deny contains msg if {
	ticket_ok
	not not_used_before
	msg := concat("", ["change ", input.change.id, ": was used already to ", used_for, "; a ticket covers each transition once (open a new ticket)"])
}

used_for := input.target.use if is_string(input.target.use)

else := "(unknown transition)"

decision := {"allow": allow, "deny": deny}
