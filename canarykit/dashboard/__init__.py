"""The live rollout dashboard: ``canarykit serve DB [--registry REG]``.

A small, read-only local web app built on the standard library's threading HTTP server (no
framework, no CDN: the page, its script and its styles are one self-contained document). It
shows every rollout of a trace store; for one rollout its step, planned vs observed split, time
left in the step, the decision timeline over looks, each check's estimate and confidence
sequence over looks against its threshold, SRM, the forecast and latency quantiles by arm; and,
with a registry, the governance view. It polls a change token and redraws when a look is
appended. Machine endpoints serve the same data as JSON and Prometheus text.

Modules: :mod:`.data` (reads the store and registry), :mod:`.metrics` (Prometheus text),
:mod:`.page` (the HTML document), :mod:`.server` (routes and the HTTP server).
"""
