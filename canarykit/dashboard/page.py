"""The dashboard page: one self-contained HTML document (styles and script inline, no CDN).

The script reads the JSON endpoints of :mod:`.server` and draws with plain DOM calls and inline
SVG; every text from the data goes through ``textContent`` (never ``innerHTML``), so a model
named ``<script>`` shows as text. It polls ``/api/token`` every two seconds and redraws when
the store changed (a look was appended). The page's Content-Security-Policy allows requests to
its own origin only.

Examples
--------
>>> html = dashboard_html(title="store.duckdb", governance=False, poll_ms=2000)
>>> html.startswith("<!DOCTYPE html>"), "https://" in html
(True, False)
"""

from __future__ import annotations

import html
import json

__all__ = ["CSP", "dashboard_html"]

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)
"""Content-Security-Policy of the page: nothing may be loaded from anywhere but itself."""

_CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --wait:#9a6700; --fg:#1f2328; --muted:#59636e;
        --line:#d1d9e0; --bg:#ffffff; --panel:#f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --ok:#3fb950; --bad:#ff7b72; --wait:#d29922; --fg:#e6edf3; --muted:#9198a1;
          --line:#3d444d; --bg:#0d1117; --panel:#151b23; } }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
header { padding:10px 16px; border-bottom:1px solid var(--line); display:flex; gap:16px;
         align-items:baseline; flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; }
#binding, #updated { color:var(--muted); font-size:12px; }
main { display:grid; grid-template-columns: minmax(220px, 280px) 1fr; min-height:80vh; }
@media (max-width: 760px) { main { grid-template-columns: 1fr; } }
nav { border-right:1px solid var(--line); padding:8px; overflow:auto; }
nav button { display:block; width:100%; text-align:left; margin:4px 0; padding:8px;
             background:var(--panel); color:var(--fg); border:1px solid var(--line);
             border-radius:6px; cursor:pointer; }
nav button.active { outline:2px solid #0969da; }
section { padding:12px 16px; overflow-x:auto; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; color:#fff; font-weight:600;
         font-size:12px; }
.PROCEED, .pass { background:var(--ok); } .STOP, .fail { background:var(--bad); }
.CONTINUE, .inconclusive { background:var(--wait); }
.DRILL { background:#6639ba; } .drill { border:2px dashed #6639ba; padding:4px 8px; }
.grid { display:grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap:12px; }
.card { border:1px solid var(--line); border-radius:8px; padding:8px 10px; background:var(--panel); }
.card h3 { margin:0 0 4px; font-size:14px; }
.facts { display:grid; grid-template-columns: max-content 1fr; gap:2px 12px; }
.facts dt { color:var(--muted); } .facts dd { margin:0; }
table { border-collapse:collapse; } td, th { padding:2px 8px; border-bottom:1px solid var(--line);
  text-align:left; white-space:nowrap; }
svg text { fill:var(--fg); font-size:10px; }
.muted { color:var(--muted); }
"""

_SCRIPT = r"""
const POLL_MS = __POLL__;
const GOVERNANCE = __GOVERNANCE__;
let selected = null, token = null;
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const kid of kids) node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}
function badge(text) { return el("span", {class: "badge " + text}, text); }
function fmt(x) {
  if (x === null || x === undefined) return "–";
  if (typeof x !== "number") return String(x);
  if (!isFinite(x)) return x > 0 ? "∞" : "-∞";
  const a = Math.abs(x);
  return a !== 0 && (a < 0.01 || a >= 1e5) ? x.toExponential(2) : x.toPrecision(4);
}
async function json(url) {
  const r = await fetch(url, {cache: "no-store"});
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}
function facts(pairs) {
  const dl = el("dl", {class: "facts"});
  for (const [k, v] of pairs) dl.append(el("dt", {}, k), el("dd", {}, v));
  return dl;
}
function timeline(looks) {
  const w = 560, h = 70, s = svg("svg", {width: w, height: h, role: "img",
    "aria-label": "decision at each look: " + looks.map(l => l.decision).join(", ")});
  const colours = {PROCEED: "var(--ok)", STOP: "var(--bad)", CONTINUE: "var(--wait)"};
  const y = {PROCEED: 15, CONTINUE: 35, STOP: 55};
  for (const d of Object.keys(y)) {
    const t = svg("text", {x: 2, y: y[d] + 3}); t.textContent = d; s.append(t);
  }
  looks.forEach((l, i) => {
    const x = 80 + i * Math.min(26, (w - 90) / Math.max(looks.length, 1));
    const c = svg("circle", {cx: x, cy: y[l.decision], r: 5, fill: colours[l.decision],
      "data-look": l.step + "." + l.look});
    const tip = svg("title"); tip.textContent = `step ${l.step} look ${l.look}: ${l.decision}`;
    c.append(tip); s.append(c);
  });
  return s;
}
function checkChart(name, points) {
  const w = 300, h = 120, pad = 30;
  const vals = [];
  for (const p of points) for (const v of [p.estimate, p.ci_low, p.ci_high, p.threshold])
    if (typeof v === "number" && isFinite(v)) vals.push(v);
  const s = svg("svg", {width: w, height: h, role: "img",
    "aria-label": `${name}: estimate and interval over ${points.length} looks`});
  if (!vals.length) return s;
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (lo === hi) { lo -= 1; hi += 1; }
  const span = hi - lo; lo -= 0.05 * span; hi += 0.05 * span;
  const X = (i) => pad + i * (w - pad - 8) / Math.max(points.length - 1, 1);
  const Y = (v) => h - 14 - (v - lo) / (hi - lo) * (h - 24);
  const clip = (v, d) => (typeof v === "number" && isFinite(v)) ? v : d;
  points.forEach((p, i) => {
    const a = Y(clip(p.ci_high, hi)), b = Y(clip(p.ci_low, lo));
    s.append(svg("rect", {x: X(i) - 3, y: Math.min(a, b), width: 6, height: Math.abs(b - a) + 1,
      fill: "#0969da", opacity: 0.35}));
    if (typeof p.estimate === "number")
      s.append(svg("circle", {cx: X(i), cy: Y(p.estimate), r: 2.5, fill: "#0969da"}));
  });
  const t = points.length ? points[points.length - 1].threshold : null;
  if (typeof t === "number") {
    s.append(svg("line", {x1: pad, x2: w - 4, y1: Y(t), y2: Y(t), stroke: "var(--bad)",
      "stroke-dasharray": "4 3"}));
  }
  for (const v of [lo, hi]) { const tx = svg("text", {x: 0, y: Y(v) + 3}); tx.textContent = fmt(v); s.append(tx); }
  return s;
}
function drawRollout(d) {
  const box = $("detail"); box.replaceChildren();
  const last = d.looks.filter(l => l.step === d.current_step).slice(-1)[0];
  box.append(el("h2", {}, `rollout ${d.rollout_id}: ${d.model} ${d.baseline} → ${d.candidate} `,
    d.last_decision ? badge(d.last_decision) : el("span", {class: "muted"}, "no look yet")));
  box.append(facts([
    ["status", d.status],
    ["step", `${d.current_step} of ${d.steps} — planned ${(100 * d.planned_split).toFixed(0)} %` +
       (d.segment ? ` of ${d.segment}` : "") +
       (last && last.observed_split !== null ? `, observed ${(100 * last.observed_split).toFixed(2)} %` : "")],
    ["time in step", last ? `${fmt(last.minutes_in_step)} of ${d.window_minutes} min (` +
       (last.minutes_left > 0 ? `${fmt(last.minutes_left)} left)` : "window over)") : "–"],
    ["control", last ? last.control || "–" : "–"],
    ["looks in step", String(d.looks.filter(l => l.step === d.current_step).length)],
    ["policy", d.policy_digest],
  ]));
  if (d.stop) box.append(el("p", {}, badge("STOP"), ` latched at step ${d.stop.step}, look ${d.stop.look}: ${d.stop.reasons.join("; ")}`));
  box.append(el("h3", {}, "Decision at each look"), timeline(d.looks));
  if (last) {
    box.append(el("h3", {}, "Why"), el("ul", {}, ...last.reasons.map(r => el("li", {}, r))));
    if (last.forecast.length) box.append(el("h3", {}, "Time to decision"),
      el("ul", {}, ...last.forecast.map(f => el("li", {}, f.summary))));
    const step = d.looks.filter(l => l.step === d.current_step);
    const grid = el("div", {class: "grid", id: "checks"});
    for (const c of last.checks) {
      const pts = step.map(l => l.checks.find(x => x.name === c.name)).filter(Boolean);
      const card = el("div", {class: "card", "data-check": c.name},
        el("h3", {}, c.name + " ", badge(c.status)),
        el("div", {class: "muted"}, c.summary || ""));
      if (c.name === "sample_ratio") card.append(el("div", {}, "SRM p-value: " + fmt(c.pvalue)));
      card.append(checkChart(c.name, pts));
      grid.append(card);
    }
    box.append(el("h3", {}, "Checks over the looks of this step (interval: running confidence sequence)"), grid);
    if (last.not_applicable.length) box.append(el("p", {class: "muted"}, "not applicable at this step: " + last.not_applicable.join(", ")));
  }
  if (d.latency.length) {
    const t = el("table", {}, el("tr", {}, el("th", {}, "arm"), el("th", {}, "version"), el("th", {}, "n"),
      ...Object.keys(d.latency[0].quantiles).map(q => el("th", {}, q + " (ms)"))));
    for (const a of d.latency) t.append(el("tr", {}, el("td", {}, a.arm), el("td", {}, a.version),
      el("td", {}, String(a.n)), ...Object.values(a.quantiles).map(v => el("td", {}, fmt(v)))));
    box.append(el("h3", {}, "Latency by arm (this step)"), t);
  }
}
function mlflowText(m) {
  const parts = [];
  if (m.differences.length) parts.push("DRIFT: " + m.differences.join("; "));
  if (m.error) parts.push("cannot check: " + m.error);
  if (m.pending) parts.push(`mirror pending since audit event ${m.pending.seq} (canarykit mlflow sync)`);
  if (!parts.length) parts.push(m.checked ? `in sync (${m.registered_model})` : `mirrored to ${m.registered_model}`);
  return parts.join("; ");
}
function drawGovernance(g) {
  const box = $("governance"); box.replaceChildren(el("h2", {}, "Governance"));
  if (g.drill) box.append(el("p", {class: "drill", role: "alert"}, badge("DRILL"),
    " a drill registry: a rehearsal whose clock may be fixed; nothing from it may start in production"));
  const st = g.status;
  const t = el("table", {}, el("tr", {}, el("th", {}, "version"), el("th", {}, "stage")));
  for (const v of st.versions) t.append(el("tr", {}, el("td", {}, v.version), el("td", {}, v.stage)));
  box.append(t);
  box.append(facts([
    ["aliases", st.aliases.map(a => `${a.alias} → ${a.version ?? "blocked"}`).join(", ") || "–"],
    ["approvals", st.approvals.map(a => `${a.actor} (${a.role}, ${a.stage})`).join(", ") || "–"],
    ["waivers", st.waivers.map(w => `${w.check || w.name} until ${w.expires || w.expires_at}`).join(", ") || "–"],
    ["audit chain", g.audit.ok ? `intact (${g.audit.events} events)` : "BROKEN: " + g.audit.problems.join("; ")],
    ...(g.mlflow ? [["MLflow", mlflowText(g.mlflow)]] : []),
  ]));
  if (g.mlflow && (g.mlflow.differences.length || g.mlflow.pending || g.mlflow.error))
    box.append(el("p", {class: "mlflow", role: "alert"}, badge("STOP"),
      " MLflow differs from canarykit: " + mlflowText(g.mlflow)));
  box.append(el("h3", {}, "Alias history"), el("ul", {}, ...g.alias_history.map(e =>
    el("li", {}, `${e.kind} ${e.version ?? ""} by ${e.actor}${e.chg_id ? " (" + e.chg_id + ")" : ""}`))));
  box.append(el("h3", {}, "Change tickets"), el("ul", {}, ...g.changes.map(c =>
    el("li", {}, `${c.ticket.id} (${c.ticket.type}) window ${c.ticket.window.start} .. ` +
      `${c.ticket.window.end}: ${c.state}` + (c.freezes_now.length ? `, FREEZE now: ${c.freezes_now.join(", ")}` : "") +
      ` — requested by ${c.requester}, ${c.approvals.length} approval(s)`))));
  if (g.calendar.freezes_now.length) box.append(el("p", {}, badge("STOP"), " change freeze now: " + g.calendar.freezes_now.join(", ")));
}
async function refresh() {
  const list = await json("api/rollouts");
  const nav = $("rollouts"); nav.replaceChildren();
  if (!list.length) nav.append(el("p", {class: "muted"}, "no rollouts recorded yet"));
  if (selected === null && list.length) selected = list[0].rollout_id;
  for (const r of list) {
    const b = el("button", {class: r.rollout_id === selected ? "active" : "", "data-rollout": r.rollout_id},
      `#${r.rollout_id} ${r.model} `, r.last_decision ? badge(r.last_decision) : "",
      el("div", {class: "muted"}, `${r.status}, step ${r.current_step}/${r.steps}, ${r.looks} looks`));
    b.onclick = () => { selected = r.rollout_id; refresh(); };
    nav.append(b);
  }
  if (selected !== null) {
    const d = await json("api/rollouts/" + selected);
    drawRollout(d);
    if (GOVERNANCE) drawGovernance(await json("api/governance?model=" + encodeURIComponent(d.model)));
  }
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}
async function poll() {
  try {
    const t = (await json("api/token")).token;
    if (t !== token) { token = t; await refresh(); }
  } catch (e) { $("updated").textContent = "update failed: " + e.message; }
  setTimeout(poll, POLL_MS);
}
poll();
"""


def dashboard_html(*, title: str, governance: bool, poll_ms: int, binding: str = "") -> str:
    """The page (``title``: the store's name; ``binding``: where the server listens)."""
    script = _SCRIPT.replace("__POLL__", str(int(poll_ms))).replace(
        "__GOVERNANCE__", json.dumps(bool(governance))
    )
    e = html.escape
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>canarykit — {e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>canarykit rollouts — {e(title)}</h1>"
        f'<span id="binding">{e(binding)}</span><span id="updated"></span></header>'
        '<main><nav id="rollouts" aria-label="rollouts"></nav><section>'
        '<div id="detail"><p class="muted">loading…</p></div>'
        f'<div id="governance"></div></section></main><script>{script}</script></body></html>\n'
    )
