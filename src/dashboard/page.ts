// The dashboard's HTML shell: styles, the page's configuration (base path, write token) and its script tag.

/** What the page needs to know, read by the client from `<script id="poet-config">`. */
export interface PageConfig {
  base: string
  project: string
  writable: boolean
  /** Write token for promote/rollback; only a writable (dev) dashboard has one. */
  token?: string
}

export function renderPage(o: PageConfig & { uplotCss: string }): string {
  const config: PageConfig = { base: o.base, project: o.project, writable: o.writable, ...(o.token ? { token: o.token } : {}) }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>POET · ${escapeHtml(o.project)}</title>
<style>${o.uplotCss}</style>
<style>${STYLE}</style>
</head>
<body>
<header class="top">
  <a class="brand" href="#/"><span class="logo">P</span> POET <span class="project">${escapeHtml(o.project)}</span></a>
  <div class="controls">
    <label>Window <select id="window"><option value="15m">15 min</option><option value="1h" selected>1 hour</option><option value="24h">24 hours</option><option value="7d">7 days</option></select></label>
    <span id="live" class="live" role="status" title="Refreshes every 2 seconds">live</span>
  </div>
  <div id="banner" class="banner" role="alert" hidden></div>
</header>
<main id="app"><p class="muted">Loading…</p></main>
<div id="toast" class="toast" role="status" hidden></div>
<script id="poet-config" type="application/json">${jsonForScript(config)}</script>
<script src="${escapeHtml(o.base)}/dashboard.js"></script>
</body>
</html>
`
}

/** JSON inside a script element: `<` escaped so no string in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c')
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f7f7f5; --panel: #fff; --ink: #1c1d21; --muted: #62666f; --line: #e6e6e3; --soft: #f1f1ee; --hover: #fafaf8;
  --accent: #3b5bdb; --accent-soft: #e8ecfc; --ok: #237032; --ok-soft: #e6f4ea; --warn: #9a4f00; --warn-soft: #fff1e0;
  --bad: #c92a2a; --bad-soft: #fdecec;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif;
  color: var(--ink); background: var(--bg);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15161a; --panel: #1d1f24; --ink: #e6e7ea; --muted: #9da1ab; --line: #2e3138; --soft: #2a2d34; --hover: #23252b;
    --accent: #8ea2ff; --accent-soft: #262d4a; --ok: #6cc884; --ok-soft: #1b3324; --warn: #f0a54a; --warn-soft: #3a2a14;
    --bad: #ff8a8a; --bad-soft: #3d1f1f;
  }
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; justify-content: space-between; padding: 14px 28px; background: var(--panel); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 650; letter-spacing: .02em; color: var(--ink); }
.brand:hover { text-decoration: none; }
.logo { display: inline-grid; place-items: center; width: 26px; height: 26px; border-radius: 7px; background: var(--ink); color: var(--panel); font-size: 13px; }
.project { font-weight: 500; color: var(--muted); letter-spacing: 0; }
.controls { display: flex; align-items: center; gap: 16px; color: var(--muted); font-size: 13px; }
select, button { font: inherit; }
select { max-width: 100%; padding: 3px 6px; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); color: var(--ink); }
.live { display: inline-flex; align-items: center; gap: 6px; }
.live::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--ok); box-shadow: 0 0 0 3px var(--ok-soft); }
.live.stale::before { background: var(--warn); box-shadow: 0 0 0 3px var(--warn-soft); }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 20px; margin: 0 0 4px; font-weight: 650; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 12px; font-weight: 600; }
.muted { color: var(--muted); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-bottom: 18px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
.grid > .panel { margin-bottom: 0; min-width: 0; }
.stack { display: grid; gap: 18px; margin-bottom: 18px; }
table { width: 100%; border-collapse: collapse; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
h1[tabindex]:focus { outline: none; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.scroll { overflow-x: auto; position: relative; }
th { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); padding: 8px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
td { padding: 10px; border-bottom: 1px solid var(--soft); vertical-align: middle; }
tbody tr:last-child > * { border-bottom: 0; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody th { font-weight: 400; font-size: inherit; color: inherit; padding: 10px; border-bottom: 1px solid var(--soft); white-space: normal; }
tbody tr.fn { cursor: pointer; }
tbody tr.fn:hover { background: var(--hover); }
.id { font-family: var(--mono); font-size: 13px; overflow-wrap: anywhere; }
th.id { min-width: 16em; }
.id a { color: var(--ink); }
.id .file { color: var(--muted); }
h1.id { font-size: 19px; margin-top: 4px; }
.ver { font-family: var(--mono); font-size: 12.5px; }
.tag { display: inline-block; padding: 1px 7px; border-radius: 999px; font-size: 11.5px; font-weight: 550; background: var(--soft); color: var(--muted); white-space: nowrap; }
.tag.domain { background: var(--accent-soft); color: var(--accent); }
.tag.current { background: var(--ok-soft); color: var(--ok); }
.tag.candidate { background: var(--warn-soft); color: var(--warn); }
.rates { display: flex; gap: 4px; flex-wrap: wrap; }
.rate { font-variant-numeric: tabular-nums; font-size: 12px; padding: 1px 6px; border-radius: 5px; background: var(--soft); color: var(--muted); white-space: nowrap; }
.rate.ok { background: var(--ok-soft); color: var(--ok); }
.rate.hot { background: var(--bad-soft); color: var(--bad); }
.rate.warm { background: var(--warn-soft); color: var(--warn); }
.dropped { background: var(--warn-soft); color: var(--warn); padding: 8px 12px; border-radius: 6px; }
.score { font-variant-numeric: tabular-nums; }
.kpis { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 16px 0 18px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px; }
.kpi .label { font-size: 12px; color: var(--muted); }
.kpi .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; margin-top: 2px; }
.kpi .value small { font-size: 13px; color: var(--muted); font-weight: 500; }
.crumbs { font-size: 13px; margin-bottom: 10px; }
.meta { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; color: var(--muted); }
.chart { min-height: 220px; }
.chart .u-legend { font-size: 12px; }
.bars { display: grid; gap: 8px; }
.bar { display: grid; grid-template-columns: 110px 1fr 70px; gap: 10px; align-items: center; font-size: 13px; }
.bar .track { height: 10px; border-radius: 5px; background: var(--soft); overflow: hidden; }
.bar .fill { height: 100%; background: var(--accent); border-radius: 5px; }
button.act { padding: 4px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--ink); cursor: pointer; font-size: 12.5px; }
button.act:hover { border-color: var(--accent); color: var(--accent); }
button.act.danger:hover { border-color: var(--bad); color: var(--bad); }
button.act:disabled { opacity: .5; cursor: default; }
.reason { color: var(--muted); font-size: 12.5px; max-width: 420px; }
.diff { font-family: var(--mono); font-size: 12px; line-height: 1.5; border: 1px solid var(--line); border-radius: 8px; overflow: auto; max-height: 460px; background: var(--panel); }
.diff div { white-space: pre; padding: 0 12px; }
.diff .add { background: var(--ok-soft); color: var(--ok); }
.diff .del { background: var(--bad-soft); color: var(--bad); }
.diff .gap { color: var(--muted); background: var(--soft); }
.diffbar { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 10px; font-size: 13px; color: var(--muted); }
.empty { text-align: center; padding: 56px 20px; }
.empty h1 { margin-bottom: 8px; }
.empty p { max-width: 560px; margin: 8px auto; color: var(--muted); }
.hint { color: var(--muted); margin-bottom: 12px; }
.hint p { margin: 0; }
pre.snippet { display: inline-block; max-width: 100%; overflow-x: auto; text-align: left; background: #1c1d21; color: #e9e9ef; padding: 14px 18px; border-radius: 8px; font: 12.5px/1.6 var(--mono); margin-top: 14px; }
.decision { display: grid; grid-template-columns: 150px 90px 1fr; gap: 10px; padding: 8px 0; border-bottom: 1px solid var(--soft); font-size: 13px; }
.decision:last-child { border-bottom: 0; }
.toast { position: fixed; right: 24px; bottom: 24px; background: #1c1d21; color: #fff; padding: 10px 14px; border-radius: 8px; font-size: 13px; max-width: 460px; box-shadow: 0 6px 24px rgba(0,0,0,.15); }
.toast.error { background: #c92a2a; cursor: pointer; }
.banner { flex-basis: 100%; background: var(--warn-soft); color: var(--warn); padding: 6px 10px; border-radius: 6px; font-size: 13px; }
.banner[hidden] { display: none; }
@media (max-width: 900px) { .grid { grid-template-columns: 1fr; } .kpis { grid-template-columns: repeat(2, 1fr); } }
@media (max-width: 600px) { .top { padding: 10px 14px; } main { padding: 16px 14px 48px; } .panel { padding: 14px; } .decision { grid-template-columns: auto 1fr; } .decision > :last-child { grid-column: 1 / -1; } }
`
