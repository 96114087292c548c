"""``canarykit model-card VERDICT --out card.cdx.json``: a verdict as a CycloneDX model card.

VERDICT is a verdict JSON (``evaluate --out``) or a signed verdict (a DSSE envelope from
``canarykit attest`` / ``evaluate --sign-key``, whose statement's ``predicate.verdict`` is read).
With ``--trust FILE`` an envelope must verify for the ``verdict`` purpose and the card records
the keys that signed it. The card is a CycloneDX 1.6 BOM with one ``machine-learning-model``
component whose ``modelCard`` holds the verdict's checks as performance metrics (estimate,
interval, slice ``overall``; per group and arm for fairness checks), fairness assessments and
the verdict and policy digests (:mod:`canarykit.promotion.model_card`). Record it for the
version with ``canarykit evidence add MODEL VERSION --model-card card.cdx.json``.

Exit status: 0 written; 2 bad input or usage (a malformed verdict, an envelope that does not
verify), one line on stderr.
"""

from __future__ import annotations

import argparse
from typing import Any

from canarykit.cli.common import EXIT_HELP, EXIT_OK, add_format, emit, to_json, write_output

DESCRIPTION = (
    "Write the CycloneDX model card of a canary verdict: one machine-learning-model component "
    "whose modelCard carries the verdict's checks as performance metrics with their intervals "
    "(per group for fairness checks), fairness assessments, and the verdict and policy digests. "
    "VERDICT is a verdict JSON or a signed verdict (DSSE envelope). The Approved gate needs a "
    "model card of the verdict being promoted: record it with `canarykit evidence add MODEL "
    "VERSION --model-card FILE`."
)


def register(subparsers: Any) -> None:
    """Add the ``model-card`` command."""
    p = subparsers.add_parser(
        "model-card",
        help="write a CycloneDX model card of a verdict (evidence for → Approved)",
        description=DESCRIPTION,
        epilog=EXIT_HELP,
    )
    p.add_argument("verdict", metavar="VERDICT", help="verdict JSON or signed verdict (DSSE)")
    p.add_argument(
        "--out",
        default="-",
        metavar="CARD.cdx.json",
        help="model card to write, '-' for stdout (default: stdout)",
    )
    p.add_argument("--model-name", help="the component's display name (default: the model)")
    p.add_argument(
        "--trust",
        metavar="TRUST.yaml",
        help="trust file: a signed VERDICT must verify for the verdict purpose",
    )
    add_format(p)
    p.set_defaults(func=_model_card)


def _model_card(args: argparse.Namespace) -> int:
    from canarykit.promotion.evidence import TrustStore
    from canarykit.promotion.model_card import build_model_card, load_verdict
    from canarykit.promotion.verdicts import verdict_digest

    trust = None if args.trust is None else TrustStore.from_file(args.trust)
    verdict, signed_by = load_verdict(args.verdict, trust=trust)
    card = build_model_card(verdict, model_name=args.model_name, signed_by=signed_by)
    where = write_output(args.out, to_json(card) + "\n")
    if args.out != "-":
        component = card["components"][0]
        metrics = component["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
        emit(
            args,
            {
                "out": where,
                "model": verdict["model"],
                "version": verdict["candidate"],
                "verdict_digest": verdict_digest(verdict),
                "metrics": len(metrics),
            },
            f"model card of {verdict['model']} {verdict['candidate']} ({len(metrics)} metrics,"
            f" verdict {verdict_digest(verdict)}) → {where}",
        )
    return EXIT_OK
