"""Bridges from canarykit's registry to the tools teams already run (optional extras).

Each integration imports its third-party client lazily, inside the functions that need it:
``canarykit --help`` and the evaluation path never import one. An integration is downstream of
canarykit: it mirrors what canarykit decided and reports where the other tool differs, and it
is never a source of truth (DESIGN.md §10).
"""
