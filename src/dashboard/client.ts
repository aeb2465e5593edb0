// The dashboard page's script: polls the collector's JSON, renders the functions table and one function's charts, versions and diffs.
import uPlot from 'uplot'
import { lineDiff, type DiffLine } from './diff'
import { chartSeries, ms, pct, type SeriesBucket } from './format'
import type { PageConfig } from './page'

type Kind = 'input_error' | 'output_error' | 'timeout' | 'error'
const KINDS: { kind: Kind; label: string }[] = [
  { kind: 'input_error', label: 'input' },
  { kind: 'output_error', label: 'output' },
  { kind: 'timeout', label: 'timeout' },
  { kind: 'error', label: 'error' },
]

interface Row {
  id: string
  version: string
  role?: string
  share?: number
  calls: number
  errorRate: Record<Kind, number>
  p50: number
  p95: number
  score: { mean: number | null; n: number }
}

interface VersionRow extends Row {
  created?: string
  generator?: string
  reason?: string
}

interface Detail {
  id: string
  current?: string
  candidate?: { version: string; share: number }
  versions: VersionRow[]
  /** The window asked for, in epoch ms: the charts' time axis. */
  window: { since: number; until: number }
  /** Bucket size of `series`, ms; buckets without calls are not in it. */
  bucket?: number
  series: SeriesBucket[]
  decisions: { ts: number; action: string; from?: string; to?: string; reason: string }[]
}

interface Info {
  domain?: string
  optimizeFor?: string
  generator?: string
  current?: string
  promotable?: string[]
  olderCompiler?: string[]
}

const config = JSON.parse(document.getElementById('poet-config')!.textContent!) as PageConfig
const app = document.getElementById('app')!
const windowSelect = document.getElementById('window') as HTMLSelectElement
const live = document.getElementById('live')!
const banner = document.getElementById('banner')!
let staleSince = ''
const POLL_MS = 2000
/** A read not answered by then is given up: polls wait for the one still out, so one that never ends would stop them. */
const REQUEST_TIMEOUT_MS = 10_000

let charts: uPlot[] = []
// The time axis spans the window asked for (epoch s), read again at every poll's setData. Left to uPlot, the range
// around a new function's single bucket stretched over years.
let span: [number, number] = [0, 1]
let rendered = ''
let diffPick: { id: string; from: string; to: string } | undefined

/** The server answered, with an error it explains (a broken lock.json, a wrong token): not a connection problem. */
class ServerError extends Error {}

async function getJson<T>(path: string): Promise<T> {
  let res: Response
  try {
    res = await fetch(config.base + path, { headers: authHeaders(), cache: 'no-store', signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') throw new Error(`the collector did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`)
    throw new Error(unreachable())
  }
  if (!res.ok) throw new ServerError(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `${res.status} ${res.statusText}`)
  return (await res.json()) as T
}

/** What a request that got no answer at all means; the browser says only "Failed to fetch". */
function unreachable(): string {
  return `cannot reach the collector at ${location.host}: stopped, or restarting`
}

/** `poet serve --token`: the collector wants the bearer token, which the user gives the page as `#token=…`. */
function authHeaders(): Record<string, string> {
  const token = new URLSearchParams(location.hash.split('?')[1] ?? '').get('token') ?? sessionStorage.getItem('poet-token')
  if (token) sessionStorage.setItem('poet-token', token)
  return token ? { authorization: `Bearer ${token}` } : {}
}

function route(): { id?: string } {
  const m = /^#\/fn\/([^?]+)/.exec(location.hash)
  if (!m) return {}
  try {
    return { id: decodeURIComponent(m[1]!) }
  } catch {
    // A hand-edited link with a stray `%`: the id as written, which the collector then reports as unknown.
    return { id: m[1]! }
  }
}

/**
 * Polls, navigation and actions each refresh the page, and with a slow collector several answers are in flight at once:
 * only the latest refresh started may draw, so an answer for the page the user left never lands over the one they
 * opened. A poll is skipped while a refresh is still out, so a slow collector does not gather a queue of them.
 */
let latest = 0
let inFlight = 0
function refresh(o: { poll?: boolean } = {}): Promise<void> {
  if (o.poll && inFlight) return Promise.resolve()
  const mine = ++latest
  inFlight++
  return refreshOnce(() => mine !== latest).finally(() => inFlight--)
}

let lastError: string | undefined
/** After a navigation: `''` the new page's heading, else the id of the function whose link takes focus. */
let focusAfter: string | undefined
async function refreshOnce(superseded: () => boolean): Promise<void> {
  try {
    const { id } = route()
    const meta = await getJson<{ functions: Record<string, Info> }>('/api/functions')
    if (superseded()) return
    if (id) await showFunction(id, meta.functions[id] ?? {}, superseded)
    else await showTable(meta.functions, superseded)
    if (focusAfter !== undefined && !superseded()) {
      const to = focusAfter ? app.querySelector<HTMLElement>(`a[data-fn="${CSS.escape(focusAfter)}"]`) : app.querySelector('h1')
      focusAfter = undefined
      to?.focus()
    }
    liveSays('live', 'Refreshes every 2 seconds')
    lastError = undefined
    banner.hidden = true
  } catch (e) {
    if (superseded()) return
    const message = (e as Error).message
    const answered = e instanceof ServerError
    liveSays(answered ? 'error' : 'offline', message)
    if (!rendered) {
      app.innerHTML = `<div class="panel"><h1>${answered ? 'The collector answered with an error' : 'Cannot reach the collector'}</h1><p class="muted">${esc(message)}</p></div>`
    } else if (message !== lastError) {
      // The page keeps what it last showed. A toast that went after 5 s left numbers that look current on a page kept
      // open: the banner stays until an answer comes, and says since when they are old.
      if (banner.hidden) staleSince = new Date().toLocaleTimeString()
      banner.textContent = `Not updating since ${staleSince}: ${message}. Retrying every ${POLL_MS / 1000} s.`
      banner.hidden = false
    }
    lastError = message
  }
}

/** The status in the header. Written only when it changes: as a status region, each write is read out, every poll. */
function liveSays(text: string, title: string): void {
  live.classList.toggle('stale', text !== 'live')
  if (live.textContent !== text) live.textContent = text
  live.title = title
}

async function showTable(info: Record<string, Info>, superseded: () => boolean): Promise<void> {
  const data = await getJson<{ functions: Row[]; dropped?: number; omitted?: number }>(`/v1/functions?window=${windowSelect.value}`)
  if (superseded()) return
  const byId = new Map<string, Row[]>()
  for (const r of data.functions) byId.set(r.id, [...(byId.get(r.id) ?? []), r])
  for (const id of Object.keys(info)) if (!byId.has(id)) byId.set(id, [])
  const html = byId.size === 0 ? emptyState() : functionsTable([...byId].sort(([a], [b]) => a.localeCompare(b)), info, data.dropped ?? 0, data.omitted ?? 0)
  document.title = `POET · ${config.project}`
  if (html !== rendered) {
    destroyCharts()
    redraw(app, html)
    rendered = html
    for (const tr of app.querySelectorAll<HTMLTableRowElement>('tr.fn')) {
      tr.addEventListener('click', () => (location.hash = `#/fn/${encodeURIComponent(tr.dataset.id!)}`))
    }
  }
}

/** How a production runtime reports to this collector. */
function sinkSnippet(): string {
  return `<pre class="snippet">${esc(`import { configure, httpSink } from 'unplugin-poet/runtime'

configure({ sink: httpSink({ url: '${location.origin}/v1/events'${authHeaders().authorization ? ', token: process.env.POET_TOKEN' : ''} }) })`)}</pre>`
}

function emptyState(): string {
  const snippet = config.writable
    ? `<pre class="snippet">${esc(`import { poet } from 'unplugin-poet/runtime'

export const quote = poet({ domain: 'financial_services' })(
  function quote(amount: number, currency: 'EUR' | 'USD') { … },
)`)}</pre>`
    : sinkSnippet()
  return `<div class="panel empty">
  <h1>No POET functions yet</h1>
  <p>${
    config.writable
      ? 'Mark a function with <code>poet()</code> and call it: in dev the runtime reports to this server by itself, and its calls, errors, latency and feedback appear here within seconds.'
      : 'Point the runtime at this collector, then call a <code>poet()</code> function: its calls, errors, latency and feedback appear here within seconds.'
  }</p>
  ${snippet}
</div>`
}

function functionsTable(rows: [string, Row[]][], info: Record<string, Info>, dropped: number, omitted: number): string {
  const body = rows
    .map(([id, versions]) => {
      const i = info[id] ?? {}
      const current = versions.find((v) => v.role === 'current') ?? versions[0]
      const calls = versions.reduce((n, v) => n + v.calls, 0)
      const candidate = versions.find((v) => v.role === 'candidate')
      // Only the kinds that happened: four zero chips per row would drown the ones that matter.
      const rates =
        KINDS.map(({ kind, label }) => {
          const failed = versions.reduce((n, v) => n + v.errorRate[kind] * v.calls, 0)
          return failed > 0 ? rate(label, failed / calls) : ''
        }).join('') || (calls ? '<span class="rate ok">no errors</span>' : '<span class="muted">—</span>')
      const [file, name] = splitId(id)
      return `<tr class="fn" data-id="${esc(id)}">
  <th scope="row" class="id"><a href="#/fn/${esc(encodeURIComponent(id))}" data-fn="${esc(id)}"><span class="file">${esc(file)}#</span>${esc(name)}</a></th>
  <td>${i.domain ? `<span class="tag domain">${esc(i.domain)}</span>` : '<span class="muted">—</span>'}</td>
  <td class="ver">${esc(current?.version ?? i.current ?? '—')}${candidate ? ` <span class="tag candidate" title="candidate under test"><span class="sr">candidate under test: </span>+${esc(candidate.version.slice(0, 6))} ${pct(candidate.share ?? 0)}</span>` : ''}</td>
  <td>${esc(i.generator ?? '—')}</td>
  <td class="num">${fmtInt(calls)}</td>
  <td><div class="rates">${rates}</div></td>
  <td class="num">${ms(current?.p50, current?.calls)}</td>
  <td class="num">${ms(current?.p95, current?.calls)}</td>
  <td class="num score">${score(current?.score)}</td>
</tr>`
    })
    .join('')
  // Lost before they were sent, these are in no count of the table: said above it, or its numbers look complete.
  const lost = dropped
    ? `<p class="dropped">${fmtInt(dropped)} event${dropped === 1 ? '' : 's'} lost by clients in the last ${esc(windowLabel())}, never received: the counts below miss them. A sink drops events when its queue is full (raise <code>maxQueue</code>) or when a page is left holding more than the browser lets a page send as it goes, and gives them up when the collector refuses them or stays down past its retries.</p>`
    : ''
  const unlisted = omitted
    ? `<p class="dropped">${fmtInt(omitted)} more function${omitted === 1 ? '' : 's'} outside the lock sent events in the last ${esc(windowLabel())}: the table lists the lock's functions and the busiest others. Open one as <code>#/fn/&lt;id&gt;</code>.</p>`
    : ''
  // A lock committed and deployed lists its functions before any event came: a table of zeros says nothing of why.
  const quiet = rows.every(([, versions]) => versions.every((v) => !v.calls))
    ? `<div class="hint"><p>No calls in the last ${esc(windowLabel())}. ${
        config.writable
          ? 'Call a <code>poet()</code> function in the app: in dev the runtime reports here by itself, within seconds.'
          : 'Is the runtime pointed at this collector? Its calls appear here within seconds of it reporting:'
      }</p>${config.writable ? '' : sinkSnippet()}</div>`
    : ''
  // Every page has an h1 to jump to: here the project's, for screen readers, above the panel's visible heading.
  return `<h1 class="sr">${esc(config.project)}</h1><div class="panel"><h2>Functions · last ${esc(windowLabel())}</h2>${lost}${unlisted}${quiet}
${table(['Function', 'Domain', 'Version', 'Generator', '#Calls', 'Error rate by kind', '#p50', '#p95', '#Feedback'], body)}</div>`
}

async function showFunction(id: string, info: Info, superseded: () => boolean): Promise<void> {
  // The tab, the window list and history name the function open, not only the project.
  document.title = `${splitId(id)[1]} · POET · ${config.project}`
  let d: Detail
  try {
    d = await getJson<Detail>(`/v1/functions/${encodeURIComponent(id)}?window=${windowSelect.value}`)
  } catch (e) {
    // Not reached, or no answer in time: the page keeps what it showed and says it is offline, as for any other read.
    // Only an answer (no such function, a broken lock) replaces it.
    if (!(e instanceof ServerError)) throw e
    if (superseded()) return
    destroyCharts()
    rendered = `<p class="crumbs"><a href="#/">← All functions</a></p><div class="panel"><h1 tabindex="-1">${esc(id)}</h1><p class="muted">${esc((e as Error).message)}</p></div>`
    app.innerHTML = rendered
    return
  }
  if (superseded()) return
  const versions = [...d.versions].sort((a, b) => (a.created ?? '').localeCompare(b.created ?? '') || a.version.localeCompare(b.version))
  // Versions the events name but the lock does not hold (another build's) have no phase code to diff.
  const inLock = versions.filter((v) => v.role !== undefined && v.role !== 'unknown')
  const current = versions.find((v) => v.role === 'current') ?? versions[versions.length - 1]
  const calls = versions.reduce((n, v) => n + v.calls, 0)
  const failed = versions.reduce((n, v) => n + KINDS.reduce((m, k) => m + v.errorRate[k.kind] * v.calls, 0), 0)
  // The skeleton changes only with the function, the window or its set of versions; each poll refills its sections in
  // place, so charts keep their cursor, the diff its selection and the page its scroll position.
  const skeleton = `${id}\0${windowSelect.value}\0${versions.map((v) => v.version).join(',')}`
  if (skeleton !== rendered) {
    destroyCharts()
    app.innerHTML = `<p class="crumbs"><a href="#/">← All functions</a></p>
<h1 class="id" tabindex="-1">${esc(id)}</h1>
<div class="meta" id="meta"></div>
<div class="kpis" id="kpis"></div>
<div class="grid">
  <div class="panel"><h2>Calls and errors</h2><div class="chart" id="chart-calls" role="img"></div></div>
  <div class="panel"><h2>Latency</h2><div class="chart" id="chart-latency" role="img"></div></div>
</div>
<div class="stack"></div>
<div class="grid">
  <div class="panel"><h2>Feedback score by version</h2><div id="scores"></div></div>
  <div class="panel"><h2>Decisions</h2><div id="decisions"></div></div>
</div>
<div class="stack"></div>
<div class="panel"><h2>Versions</h2><div id="versions"></div></div>
<div class="panel" id="diff-panel"><h2>Phase code diff</h2>${inLock.length > 1 ? diffControls(id, inLock, d) : '<p class="muted">Only one version so far: a diff appears once the source, its types or the trainer produce another.</p>'}<div id="diff"></div></div>`
    rendered = skeleton
    diffRetry = undefined
    if (inLock.length > 1) void wireDiff(id)
  }
  fill('meta', `${info.domain ? `<span class="tag domain">${esc(info.domain)}</span>` : ''}${info.optimizeFor ? `<span class="tag">optimizes ${esc(info.optimizeFor)}</span>` : ''}<span>current <span class="ver">${esc(d.current ?? '—')}</span></span>${d.candidate ? `<span class="tag candidate">candidate ${esc(d.candidate.version)} · ${pct(d.candidate.share)} of calls</span>` : ''}`)
  fill('kpis', `${kpi('Calls · all versions', fmtInt(calls))}${kpi('Failed · all versions', calls ? pct(failed / calls) : '—')}${kpi('p50 · current version', ms(current?.p50, current?.calls))}${kpi('p95 · current version', ms(current?.p95, current?.calls))}${kpi('Feedback · current version', score(current?.score))}`)
  fill('scores', scoreBars(versions))
  fill('decisions', decisions(d))
  if (fill('versions', versionTable(id, versions, info, d))) wireVersionButtons(id)
  void diffRetry?.()
  drawCharts(d)
  // A canvas says nothing to a screen reader, and uPlot's legend reads "--" until hovered: each chart is one image,
  // named by what it shows.
  const over = `over the last ${windowLabel()}: `
  document.getElementById('chart-calls')!.ariaLabel = `Calls and errors ${over}${fmtInt(calls)} calls, ${fmtInt(Math.round(failed))} failed`
  document.getElementById('chart-latency')!.ariaLabel = `Latency of the current version ${over}${current?.calls ? `p50 ${ms(current.p50, 1)}, p95 ${ms(current.p95, 1)}` : 'no calls'}`
}

/** Replaces a section's HTML when it changed; true when it did. */
function fill(id: string, html: string): boolean {
  const el = document.getElementById(id)
  if (!el || el.dataset.html === html) return false
  redraw(el, html)
  el.dataset.html = html
  return true
}

/**
 * Replaces `el`'s HTML as a poll does, every 2 s under traffic: keyboard focus stays on the same function's link or
 * version's button, and a table scrolled sideways on a phone stays scrolled, rather than both going back to the start.
 */
function redraw(el: HTMLElement, html: string): void {
  const active = document.activeElement as HTMLElement | null
  const { fn, action, version } = (el.contains(active) && active?.dataset) || {}
  const scrolled = [...el.querySelectorAll('.scroll')].map((s) => s.scrollLeft)
  el.innerHTML = html
  const again =
    fn !== undefined ? `a[data-fn="${CSS.escape(fn)}"]` : action ? `button[data-action="${action}"]${version ? `[data-version="${CSS.escape(version)}"]` : ''}` : undefined
  if (again) el.querySelector<HTMLElement>(again)?.focus({ preventScroll: true })
  el.querySelectorAll('.scroll').forEach((s, k) => (s.scrollLeft = scrolled[k] ?? 0))
}

function kpi(label: string, value: string): string {
  return `<div class="kpi"><div class="label">${label}</div><div class="value">${value}</div></div>`
}

function scoreBars(versions: VersionRow[]): string {
  const rated = versions.filter((v) => v.score.n > 0)
  if (!rated.length) return '<p class="muted">No feedback yet. Call <code>feedback(result, { score })</code> to rate results; scores drive Train.</p>'
  return `<div class="bars">${rated
    .map((v) => {
      const s = v.score.mean ?? 0
      return `<div class="bar"><span class="ver">${esc(v.version)}</span><div class="track"><div class="fill" style="width:${Math.max(0, Math.min(1, s)) * 100}%"></div></div><span class="num">${s.toFixed(2)} <small class="muted">n=${fmtInt(v.score.n)}</small></span></div>`
    })
    .join('')}</div>`
}

function decisions(d: Detail): string {
  if (!d.decisions.length) return '<p class="muted">No decisions yet. With <code>optimizeFor</code>, Train proposes, promotes and rolls back versions from the evidence.</p>'
  return d.decisions
    .slice(-12)
    .reverse()
    .map((x) => `<div class="decision"><span class="muted">${when(x.ts)}</span><span><span class="tag ${x.action === 'promote' ? 'current' : x.action === 'candidate' ? 'candidate' : ''}">${esc(x.action)}</span></span><span>${x.to ? `<span class="ver">${esc(x.from ?? '')} → ${esc(x.to)}</span> ` : ''}<span class="reason">${esc(x.reason)}</span></span></div>`)
    .join('')
}

function versionTable(id: string, versions: VersionRow[], info: Info, d: Detail): string {
  // What the user sees when clicking goes with the click: the server refuses it if the lock has moved since.
  const seen = `data-current="${esc(d.current ?? '')}" data-candidate="${esc(d.candidate?.version ?? '')}"`
  const rows = [...versions]
    .reverse()
    .map((v) => {
      const role = v.role === 'current' || v.role === 'candidate' ? `<span class="tag ${v.role}">${v.role}${v.role === 'candidate' && v.share ? ` ${pct(v.share)}` : ''}</span>` : ''
      const buttons = !config.writable
        ? ''
        : v.role === 'current'
          ? `<button class="act danger" data-action="rollback" data-id="${esc(id)}" ${seen} title="Stop the candidate, or go back to the previous version">Roll back</button>`
          : info.promotable?.includes(v.version)
            ? `<button class="act" data-action="promote" data-id="${esc(id)}" data-version="${esc(v.version)}" ${seen} title="Make this version current">Promote</button>`
            : v.role === 'unknown' || v.role === undefined
              ? `<span class="muted" title="Events name this version, but the lock does not hold it: another build or branch made it">not in the lock</span>`
              : info.olderCompiler?.includes(v.version)
                ? `<span class="muted" title="Written by an earlier builtin compiler from the current source: a build regenerates it with this release's compiler, keeping what Train promoted">older compiler</span>`
                : `<span class="muted" title="Generated from an earlier source: revert the source to serve it again">older source</span>`
      return `<tr data-version="${esc(v.version)}"><th scope="row" class="ver">${esc(v.version)} ${role}</th><td class="muted">${v.created ? when(Date.parse(v.created)) : '—'}</td><td>${esc(v.generator ?? '—')}</td><td class="reason">${esc(v.reason ?? '—')}</td><td class="num">${fmtInt(v.calls)}</td><td class="num">${score(v.score)}</td>${config.writable ? `<td class="num">${buttons}</td>` : ''}</tr>`
    })
    .join('')
  return table(['Version', 'Created', 'Generator', 'What made it', '#Calls', '#Feedback', ...(config.writable ? ['#<span class="sr">Action</span>'] : [])], rows)
}

/** A table that scrolls within its panel on a narrow screen, not the whole page; `#` marks a numeric column. */
function table(heads: string[], rows: string): string {
  const th = heads.map((h) => (h.startsWith('#') ? `<th scope="col" class="num">${h.slice(1)}</th>` : `<th scope="col">${h}</th>`)).join('')
  return `<div class="scroll"><table><thead><tr>${th}</tr></thead><tbody>${rows}</tbody></table></div>`
}

function wireVersionButtons(id: string): void {
  for (const b of app.querySelectorAll<HTMLButtonElement>('button[data-action]')) {
    b.addEventListener('click', async () => {
      const { action, version, current, candidate } = b.dataset
      const question =
        action === 'promote'
          ? `Make ${version} the current version of ${id}? The app serves it from its next call.`
          : candidate
            ? `Stop testing candidate ${candidate} of ${id}? All calls go to ${current} again.`
            : `Roll ${id} back from ${current} to the version before it? The app serves that one from its next call.`
      if (!confirm(question)) return
      // One action at a time: a second click, on this button or another, would act on a lock the first is moving.
      const buttons = [...app.querySelectorAll<HTMLButtonElement>('button[data-action]')]
      for (const x of buttons) x.disabled = true
      const label = b.textContent
      b.textContent = action === 'promote' ? 'Promoting…' : 'Rolling back…'
      try {
        const res = await fetch(`${config.base}/api/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-poet-token': config.token ?? '' },
          body: JSON.stringify({ id, version, current, candidate: candidate || null }),
        })
        // A proxy's or a stopped store's answer may not be JSON.
        const body = (await res.json().catch(() => ({}))) as { message?: string; error?: string }
        toast(body.message ?? body.error ?? `${label}: ${res.status} ${res.statusText}`, !res.ok)
      } catch {
        toast(`${label}: ${unreachable()}`, true)
      }
      // Usable again should the read below fail too; it draws them anew when it does not.
      b.textContent = label
      for (const x of buttons) x.disabled = false
      // Not '': a failed read would then trade the page for the error shown when nothing has been drawn yet.
      rendered = '\0'
      await refresh()
      // The table was drawn again: focus goes back to the row acted on, not to the top of the page.
      const row = [...app.querySelectorAll<HTMLElement>('#versions tr[data-version]')].find((r) => r.dataset.version === (version ?? current))
      ;(row?.querySelector('button') ?? app.querySelector<HTMLElement>('#versions button') ?? app.querySelector('h1'))?.focus()
    })
  }
}

/**
 * The pair the diff opens on, as `poet diff` picks it: current against the candidate under test, else against the
 * newest other version (older first). A pair the user chose is kept while both its versions exist.
 */
function diffControls(id: string, versions: VersionRow[], d: Detail): string {
  const has = (v: string) => versions.some((x) => x.version === v)
  const pick = diffPick?.id === id && has(diffPick.from) && has(diffPick.to) ? diffPick : defaultDiff(versions, d)
  const options = (selected: string) => versions.map((v) => `<option value="${esc(v.version)}"${v.version === selected ? ' selected' : ''}>${esc(v.version)}${v.role === 'current' ? ' (current)' : ''}</option>`).join('')
  return `<div class="diffbar"><label>from <select id="diff-from">${options(pick.from)}</select></label> <label>to <select id="diff-to">${options(pick.to)}</select></label></div>`
}

function defaultDiff(oldestFirst: VersionRow[], d: Detail): { id: string; from: string; to: string } {
  const current = d.current && oldestFirst.some((v) => v.version === d.current) ? d.current : oldestFirst[oldestFirst.length - 1]!.version
  const candidate = d.candidate?.version
  if (candidate && candidate !== current && oldestFirst.some((v) => v.version === candidate)) return { id: d.id, from: current, to: candidate }
  const order = oldestFirst.map((v) => v.version)
  const newestOther = order.filter((v) => v !== current).pop()!
  return order.indexOf(newestOther) > order.indexOf(current) ? { id: d.id, from: current, to: newestOther } : { id: d.id, from: newestOther, to: current }
}

let diffShown = 0
/** The diff of a source that did not come (collector away, module missing) is asked again at the next poll answered. */
let diffRetry: (() => Promise<void>) | undefined
async function wireDiff(id: string): Promise<void> {
  const from = document.getElementById('diff-from') as HTMLSelectElement
  const to = document.getElementById('diff-to') as HTMLSelectElement
  const show = async () => {
    const mine = ++diffShown
    const [a, b] = await Promise.all([source(id, from.value), source(id, to.value)])
    // Sources of an earlier pick that answer late must not replace the diff of the pair now selected.
    if (mine !== diffShown) return
    // A diff against a missing source would show every line of the other as added or removed.
    const missing = [a, b].find((x): x is { error: string } => typeof x !== 'string')
    document.getElementById('diff')!.innerHTML = missing ? `<p class="muted">No diff: ${esc(missing.error)}</p>` : renderDiff(lineDiff(a as string, b as string))
    diffRetry = missing ? show : undefined
  }
  const chosen = () => {
    diffPick = { id, from: from.value, to: to.value }
    void show()
  }
  from.addEventListener('change', chosen)
  to.addEventListener('change', chosen)
  await show()
}

/** Versions are content hashes, so a source once read is that version's for good; a failure is asked again next time. */
const sources = new Map<string, Promise<string>>()
async function source(id: string, version: string): Promise<string | { error: string }> {
  const key = `${id}\0${version}`
  let p = sources.get(key)
  if (!p) {
    p = fetch(`${config.base}/api/source?id=${encodeURIComponent(id)}&version=${encodeURIComponent(version)}`, { headers: authHeaders(), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }).then(async (r) => {
      if (r.ok) return r.text()
      throw new Error(((await r.json().catch(() => ({}))) as { error?: string }).error ?? `${r.status} ${r.statusText}`)
    })
    sources.set(key, p)
  }
  try {
    return await p
  } catch (e) {
    sources.delete(key)
    return { error: e instanceof TypeError ? unreachable() : (e as Error).message }
  }
}

function renderDiff(lines: DiffLine[]): string {
  if (lines.every((l) => l.op === ' ')) return '<p class="muted">The two versions have the same phase code.</p>'
  return `<div class="diff">${lines
    .map((l) => (l.op === '…' ? `<div class="gap">${esc(l.text)}</div>` : `<div class="${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}">${l.op} ${esc(l.text)}</div>`))
    .join('')}</div>`
}

function drawCharts(d: Detail): void {
  span = [d.window.since / 1000, d.window.until / 1000]
  const s = chartSeries(d.series, d.window, d.bucket)
  const callsData: uPlot.AlignedData = [s.t, s.calls, s.errors]
  const latencyData: uPlot.AlignedData = [s.t, s.p50, s.p95]
  if (charts.length === 2) {
    charts[0]!.setData(callsData)
    charts[1]!.setData(latencyData)
    return
  }
  const callsEl = document.getElementById('chart-calls')
  const latencyEl = document.getElementById('chart-latency')
  if (!callsEl || !latencyEl) return
  if (!d.series.length) {
    callsEl.innerHTML = latencyEl.innerHTML = '<p class="muted">No calls in this window yet.</p>'
    return
  }
  callsEl.innerHTML = latencyEl.innerHTML = ''
  const width = chartWidth(callsEl)
  // A canvas takes no CSS: the axes read the scheme's colors, light or dark, when drawn.
  const css = getComputedStyle(document.documentElement)
  const [line, accent, bad, ok, warn] = ['--line', '--accent', '--bad', '--ok', '--warn'].map((v) => css.getPropertyValue(v))
  const axis = { stroke: css.getPropertyValue('--muted'), grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 } }
  charts = [
    new uPlot(
      {
        width,
        height: 200,
        series: [{}, { label: 'calls', stroke: accent, fill: 'rgba(59,91,219,.08)', width: 2 }, { label: 'errors', stroke: bad, fill: 'rgba(201,42,42,.08)', width: 2 }],
        axes: [axis, { ...axis, size: 48 }],
        scales: { x: { time: true, range: () => span }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      callsData,
      callsEl,
    ),
    new uPlot(
      {
        width,
        height: 200,
        series: [{}, { label: 'p50 ms', stroke: ok, width: 2, points: { filter: isolated } }, { label: 'p95 ms', stroke: warn, width: 2, dash: [6, 4], points: { filter: isolated } }],
        axes: [axis, { ...axis, size: 56 }],
        scales: { x: { time: true, range: () => span }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      },
      latencyData,
      latencyEl,
    ),
  ]
  // The chart's name says what the legend's "--" would (see showFunction).
  for (const legend of app.querySelectorAll('.u-legend')) legend.ariaHidden = 'true'
}

/**
 * Where uPlot leaves points out (many buckets), the buckets whose neighbours had no calls: a line needs two points, so
 * a burst of calls in one bucket would have no latency drawn at all.
 */
function isolated(u: uPlot, seriesIdx: number, show: boolean): number[] | null {
  if (show) return null
  const ys = u.data[seriesIdx]!
  const out: number[] = []
  for (let i = 0; i < ys.length; i++) if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) out.push(i)
  return out.length ? out : null
}

function chartWidth(el: HTMLElement): number {
  return Math.max(200, el.clientWidth)
}

function destroyCharts(): void {
  for (const c of charts) c.destroy()
  charts = []
}

let toastTimer: ReturnType<typeof setTimeout> | undefined
const toastEl = document.getElementById('toast')!
/** What an action did. A refusal stays until read and dismissed (Escape, or a click on it): 5 s is too short for its reason. */
function toast(message: string, error: boolean): void {
  toastEl.textContent = message
  toastEl.className = error ? 'toast error' : 'toast'
  toastEl.title = error ? 'Escape or click to dismiss' : ''
  toastEl.hidden = false
  clearTimeout(toastTimer)
  if (!error) toastTimer = setTimeout(() => (toastEl.hidden = true), 5000)
}
toastEl.addEventListener('click', () => (toastEl.hidden = true))
addEventListener('keydown', (e) => void (e.key === 'Escape' && (toastEl.hidden = true)))

function rate(label: string, x: number): string {
  const cls = x >= 0.1 ? ' hot' : x > 0 ? ' warm' : ''
  return `<span class="rate${cls}" title="${label} errors">${label} ${pct(x)}</span>`
}

function splitId(id: string): [string, string] {
  const i = id.lastIndexOf('#')
  return i < 0 ? ['', id] : [id.slice(0, i), id.slice(i + 1)]
}

function windowLabel(): string {
  return windowSelect.selectedOptions[0]?.textContent ?? windowSelect.value
}

function score(s: { mean: number | null; n: number } | undefined): string {
  return s && s.mean !== null && s.n > 0 ? `${s.mean.toFixed(2)} <small class="muted">n=${fmtInt(s.n)}</small>` : '<span class="muted">—</span>'
}

const ago = new Intl.RelativeTimeFormat('en', { numeric: 'auto' })
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [['minute', 60], ['hour', 3600], ['day', 86_400]]

/**
 * A moment as someone who keeps the page open reads it: how long ago ("3 hours ago", redrawn as polls go by), and the
 * date and time in their own time zone on hover; past a month, that date.
 */
function when(t: number): string {
  const s = (Date.now() - t) / 1000
  const at = new Date(t)
  if (!Number.isFinite(s)) return '—'
  let text = s < 60 ? 'just now' : at.toLocaleDateString()
  for (const [unit, size] of UNITS) if (s >= size && s < 30 * 86_400) text = ago.format(-Math.floor(s / size), unit)
  return `<time datetime="${at.toISOString()}" title="${esc(at.toLocaleString())}">${esc(text)}</time>`
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US')
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

windowSelect.addEventListener('change', () => {
  rendered = ''
  void refresh()
})
// Keyboard focus follows the user: onto the heading of the function a link opened, back onto the link of the one left.
let shownId = route().id
addEventListener('hashchange', () => {
  const left = shownId
  shownId = route().id
  focusAfter = shownId !== undefined ? '' : left
  rendered = ''
  void refresh()
})
// uPlot draws at a fixed width: a window made narrower (a phone turned, a split screen) would scroll the whole page.
addEventListener('resize', () => {
  const el = document.getElementById('chart-calls')
  if (el) for (const c of charts) c.setSize({ width: chartWidth(el), height: 200 })
})
void refresh()
setInterval(() => void refresh({ poll: true }), POLL_MS)
