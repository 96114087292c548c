"""Governance actions: configuration (trust, roster, calendar), approvals, waivers, changes.

Each of them is an act of a person, signed with their key from the roster (``key=``; see
:mod:`~canarykit.promotion.acts`); configuration changes need two people
(:mod:`~canarykit.promotion.config_changes`). The acts are grouped by what they govern:
configuration (:mod:`~canarykit.promotion.config_actions`), approvals and waivers
(:mod:`~canarykit.promotion.approval_actions`) and change tickets
(:mod:`~canarykit.promotion.change_actions`); :class:`Governance` has them all.

Examples
--------
>>> g = Governance(":memory:")
>>> g.show_change("CHG-404")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: change: CHG-404 is not registered
"""

from __future__ import annotations

from canarykit.promotion.approval_actions import ApprovalActions
from canarykit.promotion.change_actions import ChangeActions
from canarykit.promotion.config_actions import ConfigActions

__all__ = ["Governance"]


class Governance(ConfigActions, ApprovalActions, ChangeActions):
    """Configuration, approvals, waivers and change tickets (see :class:`Session`).

    Every action here is a person's act: ``key`` is the actor's Ed25519 private key (or its PEM
    file, or a signer), which signs the act's statement (:mod:`~canarykit.promotion.acts`).
    Without a valid signature by a key the roster lists for the actor, the act is denied.
    """
