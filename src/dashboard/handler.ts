// The dashboard's HTTP side: the page, its script, and its own JSON endpoints (phase sources, promote, roll back) beside the collector's.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import { earlierVersions, LockStore, olderCompilerVersions, olderFallback, refusedLockWrite, serialize, type LockEntry, type LockFile } from '../generators/lock'
import { isBusy, lockHeld, type Decision, type FeedbackStore } from '../train/store'
import { badTarget, guarded, requestUrl, type Middleware, type RunningCollector } from '../train/collector'
import { renamedHint } from '../train/former'
import { renderPage } from './page'

/** Largest body a dashboard action may send: an id and a version, with room to spare. */
export const MAX_ACTION_BODY = 16 * 1024
/** The header that carries the write token the page was given. */
export const TOKEN_HEADER = 'x-poet-token'

export interface FunctionInfo {
  domain?: string
  optimizeFor?: string
  /** From the lock: the version serving calls, and what generated it. */
  current?: string
  generator?: string
  /**
   * Versions generated from the same input as the current one (the trainer's): only these can be made current, since
   * the plugin regenerates any version whose input no longer matches the source.
   */
  promotable?: string[]
  /** Versions an earlier builtin compiler wrote from the current source: a build regenerates them, so none can be made current. */
  olderCompiler?: string[]
}

export interface DashboardOptions {
  /** Path prefix: `/__poet` in Vite dev, `` for `poet serve`. */
  base: string
  lockDir: string
  store: FeedbackStore
  /** The collector's handler, mounted under the same base: the page reads `GET <base>/v1/functions[/:id]` from it. */
  collector: Middleware
  /** Shown in the page title. */
  project: string
  /** Promote and roll back from the page (dev only): every write then needs the token the page was given. */
  writable: boolean
  /** Write token. @default 32 random bytes, new at every start */
  token?: string
  /** `poet serve --token`: its `/api/*` reads then need `Authorization: Bearer <token>` too, like the collector's. */
  readToken?: string
  /** What the running build knows about each function beyond the lock (domain, optimizeFor). */
  functions?: () => Record<string, FunctionInfo>
}

export interface ActionResult {
  status: number
  body: { ok: true; message: string; current: string } | { error: string }
}

/** The dashboard as connect middleware: answers its own paths under `base`, passes everything else to `next`. */
export function createDashboard(o: DashboardOptions): Middleware {
  const base = o.base.replace(/\/$/, '')
  const token = o.token ?? randomBytes(32).toString('base64url')
  const lock = new LockStore(o.lockDir)

  return (req, res, next) => {
    const url = requestUrl(req)
    if (!url) return badTarget(req, res)
    const path = url.pathname
    const pass = () => (next ? next() : send(res, 404, { error: `no route ${req.method} ${path}` }))
    if (base && path === base) return redirect(res, `${base}/`)
    if (path === `${base}/` || path === `${base}/index.html`) {
      if (!isRead(req)) return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' })
      return page(res, renderPage({ base, project: o.project, writable: o.writable, token: o.writable ? token : undefined, uplotCss: uplotCss() }))
    }
    if (path === `${base}/dashboard.js`) return script(res)
    if (path.startsWith(`${base}/api/`) && isRead(req) && o.readToken && !sameToken(/^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1], o.readToken)) {
      return send(res, 401, { error: 'missing or wrong bearer token: open the dashboard as /#?token=<the --token of poet serve>' }, { 'www-authenticate': 'Bearer' })
    }
    if (path === `${base}/api/functions`) {
      if (!isRead(req)) return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' })
      return answer(res, () => send(res, 200, { project: o.project, writable: o.writable, functions: functionInfo() }))
    }
    if (path === `${base}/api/source`) {
      if (!isRead(req)) return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' })
      const id = url.searchParams.get('id') ?? ''
      const version = url.searchParams.get('version') ?? ''
      return answer(res, () => {
        const functions = lock.read().functions
        const stored = Object.hasOwn(functions, id) && Object.hasOwn(functions[id]!.versions, version) ? functions[id]!.versions[version]! : undefined
        const source = stored && lock.source(id, version)
        if (source !== undefined) return text(res, source)
        if (!stored) return send(res, 404, { error: `no phase source for ${JSON.stringify(id)} at version ${JSON.stringify(version)} in ${lock.file}` })
        send(res, 404, { error: `the phase module of ${id}@${version} is missing: ${join(lock.dir, stored.file)}. Restore .poet/ from version control.` })
      })
    }
    if (path === `${base}/api/promote` || path === `${base}/api/rollback`) {
      const action = path.endsWith('promote') ? 'promote' : 'rollback'
      void write(req, action).then(
        (r) => send(res, r.status, r.body),
        (e: unknown) => failed(res, e),
      )
      return
    }
    pass()
  }

  /** The build's view (domain, optimizeFor) merged with the lock's (optimizeFor, current version and its generator). */
  function functionInfo(): Record<string, FunctionInfo> {
    const out: Record<string, FunctionInfo> = { ...o.functions?.() }
    for (const [id, entry] of Object.entries(lock.read().functions)) {
      const input = entry.versions[entry.current]?.inputHash
      const olderCompiler = olderCompilerVersions(entry).filter((v) => v !== entry.current)
      const promotable = Object.keys(entry.versions).filter((v) => v !== entry.current && entry.versions[v]!.inputHash === input && !olderCompiler.includes(v))
      // What the running build says wins; `poet serve` reads no source, and the lock records domain and optimizeFor too.
      const optimizeFor = out[id]?.optimizeFor ?? entry.optimizeFor
      const domain = out[id]?.domain ?? entry.domain
      out[id] = { ...out[id], ...(domain ? { domain } : {}), ...(optimizeFor ? { optimizeFor } : {}), current: entry.current, generator: entry.versions[entry.current]?.generator, promotable, ...(olderCompiler.length ? { olderCompiler } : {}) }
    }
    return out
  }

  async function write(req: IncomingMessage, action: 'promote' | 'rollback'): Promise<ActionResult> {
    if (req.method !== 'POST') return { status: 405, body: { error: `${req.method} is not allowed here; POST { id${action === 'promote' ? ', version' : ''} }` } }
    if (!o.writable) return { status: 403, body: { error: 'this dashboard is read-only: promote and roll back from the Vite dev server, or run `poet rollback`' } }
    if (crossOrigin(req)) return { status: 403, body: { error: 'cross-origin writes are refused: use the dashboard page this server served' } }
    if (!sameToken(req.headers[TOKEN_HEADER], token)) return { status: 403, body: { error: `missing or wrong ${TOKEN_HEADER} header (reload the dashboard: the token changes at every server start)` } }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return { status: 415, body: { error: 'send the body as application/json' } }
    const raw = await readBody(req, MAX_ACTION_BODY)
    if (raw === undefined) return { status: 413, body: { error: `body over ${MAX_ACTION_BODY} bytes` } }
    let body: { id?: unknown; version?: unknown; current?: unknown; candidate?: unknown }
    try {
      body = JSON.parse(raw) as typeof body
    } catch {
      return { status: 400, body: { error: 'body is not valid JSON' } }
    }
    if (typeof body?.id !== 'string') return { status: 400, body: { error: 'expected { "id": "<function id>" }' } }
    if (action === 'promote' && typeof body.version !== 'string') return { status: 400, body: { error: 'expected { "id": "…", "version": "<version to make current>" }' } }
    if (body.current !== undefined && typeof body.current !== 'string') return { status: 400, body: { error: '"current" is the current version the page showed, a string' } }
    if (body.candidate !== undefined && body.candidate !== null && typeof body.candidate !== 'string') {
      return { status: 400, body: { error: '"candidate" is the candidate version the page showed, a string, or null for none' } }
    }
    const seen: SeenState | undefined = typeof body.current === 'string' ? { current: body.current, candidate: typeof body.candidate === 'string' ? body.candidate : undefined } : undefined
    return action === 'promote' ? promote(lock, o.store, body.id, body.version as string, seen) : rollback(lock, o.store, body.id, seen)
  }

  function script(res: ServerResponse): void {
    const js = dashboardScript()
    if (js === undefined) {
      return send(res, 500, { error: 'the dashboard script is missing from dist/ (dashboard.iife.js): rebuild unplugin-poet with `npx tsdown`' })
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' })
    res.end(js)
  }
}

/** `poet serve`: the read-only dashboard at `/`, in front of the collector's own routes. */
export function attachDashboard(running: RunningCollector, o: { lockDir: string; project: string; token?: string; host?: string }): void {
  const collector = running.collector
  const dashboard = createDashboard({ base: '', lockDir: o.lockDir, store: collector.store, collector: collector.handle, project: o.project, writable: false, readToken: o.token })
  // serve() made the collector the server's request listener; the dashboard goes in front of it, and passes on the rest.
  running.server.removeAllListeners('request')
  running.server.on(
    'request',
    guarded((req, res) => {
      const refused = o.token ? undefined : foreignHost(req, o.host)
      if (refused) return foreignHostRefused(res, refused, running.url)
      dashboard(req, res, () => collector.handle(req, res))
    }),
  )
}

/**
 * The name a request for the dashboard or its data gives as its Host, when a page of another site may have sent it: a
 * DNS rebinding page (its name now resolving to 127.0.0.1) reads what it fetches there as its own, and without a token
 * nothing else stands in its way. IP addresses, `localhost` names and the `--host` one are the collector's own; events
 * and /healthz answer under any name, as sinks and probes use whatever name reaches the collector.
 */
function foreignHost(req: IncomingMessage, own: string | undefined): string | undefined {
  const path = requestUrl(req)?.pathname
  if (path === '/v1/events' || path === '/events' || path === '/healthz') return undefined
  const header = req.headers.host
  if (header === undefined) return undefined
  const name = (header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.replace(/:\d*$/, '')).toLowerCase()
  if (isIP(name.replace(/^\[(.*)\]$/, '$1')) || name === 'localhost' || name.endsWith('.localhost') || name === own?.toLowerCase()) return undefined
  return name
}

function foreignHostRefused(res: ServerResponse, name: string, url: string): void {
  const body = `poet serve: refused a request for ${JSON.stringify(name)}: without a --token, the dashboard and its data are served only at the collector's own address (${url}, localhost), as a page of another site can take a name like this one over. Open ${url}/, or start poet serve with --token <t> (then open /#?token=<t>) to serve them under any name.\n`
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) })
  res.end(body)
}

/**
 * The pointers a page showed when its user clicked. "Roll back" means "stop the candidate" while one is under test and
 * "go back a version" otherwise: acted on after another tab (or the trainer) moved the lock, it would do what the user
 * never asked for.
 */
export interface SeenState {
  current: string
  candidate?: string
}

/**
 * A version can be made current only with its phase module on disk: the plugin serves a lock entry by reading it, and
 * regenerates the phases when it cannot, so the move would not hold (and would lose what Train had learned).
 */
export function missingPhase(lockDir: string, entry: LockEntry, version: string): string | undefined {
  const file = join(lockDir, entry.versions[version]!.file)
  if (existsSync(file)) return undefined
  return `cannot make ${version} current: its phase module ${file} is missing, so a build could not serve it and would regenerate the phases instead. Restore .poet/ from version control first.`
}

/** A hand-resolved merge of lock.json can leave current naming a version the lock lost: nothing to compare or go back from. */
function danglingCurrent(lock: LockStore, id: string, entry: LockEntry): ActionResult | undefined {
  if (Object.hasOwn(entry.versions, entry.current)) return undefined
  return {
    status: 409,
    body: {
      error: `the current version of ${id} in ${lock.file}, ${entry.current}, is not among its versions (an edit or a merge lost it): run \`poet rollback ${id} --to <version>\` to pick one (${Object.keys(entry.versions).join(', ')})`,
    },
  }
}

function changedSince(id: string, entry: LockEntry, seen: SeenState | undefined): ActionResult | undefined {
  if (!seen || (seen.current === entry.current && seen.candidate === entry.candidate?.version)) return undefined
  const state = (current: string, candidate: string | undefined) => `current ${current}, ${candidate ? `candidate ${candidate}` : 'no candidate'}`
  return {
    status: 409,
    body: { error: `${id} changed since the page showed it: ${state(entry.current, entry.candidate?.version)} (the page showed ${state(seen.current, seen.candidate)}). Nothing was done; check the page again.` },
  }
}

/**
 * The answer for an id the lock has no entry for. A page opened before a rename (or a script) still posts the old id:
 * it is told where the function went. Acting on the new id instead would move a pointer the caller never saw under
 * that name, and the old id may already be another function's.
 */
function notInLock(lock: LockStore, id: string, l?: LockFile): ActionResult {
  const moved = l && renamedHint(l, id)
  if (!moved) return { status: 404, body: { error: `no function ${JSON.stringify(id)} in ${lock.file}` } }
  return { status: 404, body: { error: `no function ${JSON.stringify(id)} in ${lock.file}.${moved} Nothing was done: reload the dashboard to act on it under its new id.` } }
}

/** Makes `version` current; promoting the candidate under test ends its test. Recorded as a decision. */
export function promote(lock: LockStore, store: FeedbackStore, id: string, version: string, seen?: SeenState): ActionResult {
  let result: ActionResult = notInLock(lock, id)
  let decision: Decision | undefined
  const move = (l: LockFile): void => {
    const entry = Object.hasOwn(l.functions, id) ? l.functions[id] : undefined
    if (!entry) return void (result = notInLock(lock, id, l))
    const stale = changedSince(id, entry, seen) ?? danglingCurrent(lock, id, entry)
    if (stale) return void (result = stale)
    if (!Object.hasOwn(entry.versions, version)) {
      result = { status: 404, body: { error: `${id} has no version ${JSON.stringify(version)}; it has ${Object.keys(entry.versions).join(', ')}` } }
      return
    }
    if (version !== entry.current && olderCompilerVersions(entry).includes(version)) {
      const error = `${version}${olderFallback(entry.versions[version]!) ? ' (a builtin fallback)' : ''} was written by an earlier builtin compiler from the current source of ${id}; a build would regenerate it with this release's compiler (keeping what Train promoted in it), so it cannot serve again. Promote a version this compiler wrote.`
      result = { status: 409, body: { error } }
      return
    }
    if (entry.versions[version]!.inputHash !== entry.versions[entry.current]?.inputHash) {
      result = { status: 409, body: { error: `${version} was generated from another source of ${id}; the plugin would regenerate it away. Revert the source to serve it again.` } }
      return
    }
    if (entry.current === version) {
      result = { status: 200, body: { ok: true, message: `${id} already serves ${version}`, current: version } }
      return
    }
    const missing = missingPhase(lock.dir, entry, version)
    if (missing) return void (result = { status: 409, body: { error: missing } })
    const from = entry.current
    // Promoting another version than the candidate ends the candidate's test too: the message must say so.
    const ended = entry.candidate && entry.candidate.version !== version ? `; the test of candidate ${entry.candidate.version} ended` : ''
    entry.current = version
    if (entry.candidate) delete entry.candidate
    decision = { functionId: id, ts: Date.now(), action: 'promote', from, to: version, reason: 'promoted from the dashboard' }
    result = { status: 200, body: { ok: true, message: `${id}: current ${from} → ${version}${ended}`, current: version } }
  }
  return act(lock, store, move, () => ({ result, decision }))
}

/**
 * Stops the candidate under test, or else moves back to the latest version created before the current one from the
 * same input (an older source's version would be regenerated away at the next load).
 */
export function rollback(lock: LockStore, store: FeedbackStore, id: string, seen?: SeenState): ActionResult {
  let result: ActionResult = notInLock(lock, id)
  let decision: Decision | undefined
  const move = (l: LockFile): void => {
    const entry = Object.hasOwn(l.functions, id) ? l.functions[id] : undefined
    if (!entry) return void (result = notInLock(lock, id, l))
    const stale = changedSince(id, entry, seen) ?? danglingCurrent(lock, id, entry)
    if (stale) return void (result = stale)
    if (entry.candidate) {
      const stopped = entry.candidate.version
      delete entry.candidate
      decision = { functionId: id, ts: Date.now(), action: 'rollback', from: entry.current, to: stopped, reason: 'candidate stopped from the dashboard' }
      result = { status: 200, body: { ok: true, message: `${id}: candidate ${stopped} stopped; ${entry.current} serves every call`, current: entry.current } }
      return
    }
    const { older, sameSource: earlier } = earlierVersions(entry)
    if (!earlier.length) {
      const byCompiler = olderCompilerVersions(entry)
      const compiled = older.filter((v) => byCompiler.includes(v))
      const why = compiled.length
        ? `${compiled.join(', ')} ${compiled.length === 1 ? 'was' : 'were'} written by an earlier builtin compiler from this source, which a build regenerates with this release's compiler${compiled.length < older.length ? '; to go back further, revert the source' : ''}`
        : 'to go back further, revert the source'
      result = { status: 409, body: { error: `${id} has no earlier version of its current source to roll back to (${why})` } }
      return
    }
    const missing = missingPhase(lock.dir, entry, earlier[0]!)
    if (missing) return void (result = { status: 409, body: { error: missing } })
    const from = entry.current
    entry.current = earlier[0]!
    decision = { functionId: id, ts: Date.now(), action: 'rollback', from, to: entry.current, reason: 'rolled back from the dashboard' }
    result = { status: 200, body: { ok: true, message: `${id}: current ${from} → ${entry.current}`, current: entry.current } }
  }
  return act(lock, store, move, () => ({ result, decision }))
}

/**
 * Moves the lock with `move` (which leaves what it did to `outcome`), then records the decision: only once the lock
 * holds the move, so a write the file system refuses leaves the store as it was too. Such a refusal is a 503 saying
 * so, as the page shows; what needs no write (an unknown id, a refused move, a version already current) is answered
 * from the lock as read, as on a writable one.
 */
function act(lock: LockStore, store: FeedbackStore, move: (l: LockFile) => void, outcome: () => { result: ActionResult; decision?: Decision }): ActionResult {
  // The store's write lock first: the lock then moves only when its decision can be recorded (a rollback the store
  // lacked, Train would offer again).
  try {
    return store.writing(() => moveAndRecord(lock, store, move, outcome))
  } catch (e) {
    if (!isBusy(e)) throw e
    return { status: 503, body: { error: `the decision could not be recorded, as ${lockHeld(store.file)}, so nothing was changed. Try again once it is done.` } }
  }
}

function moveAndRecord(lock: LockStore, store: FeedbackStore, move: (l: LockFile) => void, outcome: () => { result: ActionResult; decision?: Decision }): ActionResult {
  try {
    lock.update(move)
  } catch (e) {
    const why = refusedLockWrite(lock.dir, e)
    if (!why) throw e
    const before = lock.read()
    const after = structuredClone(before)
    move(after)
    const { result } = outcome()
    if (result.status !== 200 || serialize(after) === serialize(before)) return result
    return { status: 503, body: { error: `${why}, so nothing was changed. Make it writable and try again, or do this in a writable checkout and commit ${basename(lock.dir)}/.` } }
  }
  const { result, decision } = outcome()
  if (decision) store.recordDecision(decision)
  return result
}

/**
 * A browser write from another site: `Sec-Fetch-Site` says so where browsers send it, else an `Origin` whose host is not
 * the one the request was sent to. Requests without either (curl, scripts) are not browsers acting for another site.
 */
export function crossOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site']
  if (site && site !== 'same-origin' && site !== 'none') return true
  const origin = req.headers.origin
  if (!origin) return false
  try {
    return new URL(origin).host !== req.headers.host
  } catch {
    return true
  }
}

function sameToken(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function isRead(req: IncomingMessage): boolean {
  return req.method === 'GET' || req.method === 'HEAD'
}

/** Reads the body, or undefined once it passes `limit` bytes (then the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  if (Number(req.headers['content-length']) > limit) return Promise.resolve(undefined)
  return new Promise((done, fail) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      req.off('data', onData)
      req.pause()
      done(undefined)
    }
    req.on('data', onData)
    req.on('end', () => done(Buffer.concat(chunks).toString('utf8')))
    req.on('error', fail)
  })
}

/** The client bundle tsdown builds beside the package's entries; `../../dist/` when this module runs from source. */
const SCRIPT_PLACES = ['./dashboard.iife.js', '../../dist/dashboard.iife.js']
let cachedScript: string | undefined
function dashboardScript(): string | undefined {
  for (const place of SCRIPT_PLACES) {
    if (cachedScript !== undefined) break
    try {
      cachedScript = readFileSync(new URL(place, import.meta.url), 'utf8')
    } catch {
      // try the next place
    }
  }
  return cachedScript
}

let cachedCss: string | undefined
function uplotCss(): string {
  if (cachedCss === undefined) {
    try {
      cachedCss = readFileSync(createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'), 'utf8')
    } catch {
      // Charts still draw without it; only their legend layout suffers.
      cachedCss = ''
    }
  }
  return cachedCss
}

function page(res: ServerResponse, html: string): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page holds a write token: no framing by other sites, no referrer leaks.
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  })
  res.end(html)
}

/**
 * Runs a route that reads the lock. Thrown there, an unreadable lock.json (a merge conflict, another build holding it
 * too long) would reach Vite as a 500 with its own HTML page, and the dashboard could only say it got a 500.
 */
function answer(res: ServerResponse, route: () => void): void {
  try {
    route()
  } catch (e) {
    failed(res, e)
  }
}

/** Errors worded for users (`poet: …`) are about the lock's state, which someone can fix: 503 with that message. */
function failed(res: ServerResponse, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e)
  if (/^poet: /.test(message)) send(res, 503, { error: message.slice('poet: '.length) })
  else send(res, 500, { error: `dashboard error: ${message}` })
}

function text(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  res.end(body)
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(302, { location: to })
  res.end()
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return
  const json = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(json)) })
  res.end(json)
}

/** The dashboard's title: the project's package.json name, else its folder's, in `vite dev` and `poet serve` alike. */
export function projectName(root: string): string {
  try {
    const name = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { name?: unknown }).name
    if (typeof name === 'string' && name) return name
  } catch {
    // no package.json: the folder name says it
  }
  return resolve(root).split(/[\\/]/).pop() || root
}
