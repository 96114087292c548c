"""Seeded simulation harnesses used to validate canarykit (``make validate``, reduced in tests).

Simulations are not statistics primitives: they generate data, run the product's own code paths
on it (the primitives of :mod:`canarykit.stats`, or whole rollouts through the trace store and
``evaluate``) and report false-STOP rates, coverage, power and time to decision. Each module
exposes ``validation_sections(scale, seed)`` for ``docs/validation.md``.
"""
