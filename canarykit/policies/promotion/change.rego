# Change management: what a change ticket may authorise, and when (DESIGN.md §6).
# Standard changes are pre-approved but only move the alias to an already Approved version (or
# roll it back); Normal changes need their CAB approvals; every change happens inside its own
# ticket window, inside a calendar window and outside every freeze — except an Emergency change
# approved by an executive, which may happen outside a window or during a freeze.
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
	type_ok
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
	is_string(a.actor)
	a.actor != input.change.requester
}

cab_approvers := {a.actor |
	some a in input.change.approvals
	is_string(a.actor)
	a.actor != input.change.requester
}

cab_ok if count(cab_approvers) >= cab_min_approvals

executive_ok if count(approvers_with_role("executive")) > 0

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
	in_window
}

type_ok if {
	input.change.type == "Emergency"
	calendar_ok
	executive_ok
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
	msg := sprintf("change %v: a Normal change needs CAB approvals from %v people other than its requester (has %v)", [input.change.id, cab_min_approvals, count(cab_approvers)])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type != "Emergency"
	some name in active_freezes
	msg := sprintf("change %v: the calendar is frozen (%v)", [input.change.id, name])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type != "Emergency"
	not in_calendar_window
	msg := sprintf("change %v: now is outside every change window of the calendar", [input.change.id])
}

deny contains msg if {
	ticket_ok
	calendar_ok
	input.change.type == "Emergency"
	not in_window
	not executive_ok
	msg := sprintf("change %v: an Emergency change outside a window or during a freeze needs an executive approver", [input.change.id])
}

decision := {"allow": allow, "deny": deny}
