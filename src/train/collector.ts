// The collector: node http handlers that take event batches into the feedback store and serve the metrics table.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { LockStore, type LockEntry } from '../generators/lock'
import type { PoetEvent } from '../runtime/types'
import { eventSources, ownersOf, renamedHint } from './former'
import { EventLimits } from './limits'
import { BUSY_TIMEOUT, FeedbackStore, isBusy, lockHeld, type DropReport, type RetentionOptions, type VersionMetrics } from './store'
import { refuseAbsurdTimes, validateBatch } from './validate'

/** A connect-style handler: Vite's `server.middlewares.use(...)` and plain `http.createServer` both take it. */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

export interface RateLimitOptions {
  /** Sustained events per second per token (per client address when no token is configured). @default 2000 */
  eventsPerSecond?: number
  /** Events a token may send at once before the sustained rate applies. @default 20000 */
  burst?: number
}

export interface CollectorOptions {
  /** An open store to write to; otherwise `db` is opened (and closed by `close()`). */
  store?: FeedbackStore
  /** Path of the SQLite file. @default '.poet/feedback.db' */
  db?: string
  /** When set, every `/v1/*` request must carry `Authorization: Bearer <token>`. */
  token?: string
  /** Largest accepted body in bytes. @default 1 MiB */
  maxBody?: number
  /** Per-token rate limit; `false` turns it off. */
  rateLimit?: RateLimitOptions | false
  retention?: RetentionOptions
  /** The lock directory, to mark current/candidate versions and show version reasons. @default none */
  lockDir?: string
  /** Path prefix the full handler answers under, e.g. `/__poet` (then `/__poet/events` takes events too). @default '' */
  base?: string
  /** `Access-Control-Allow-Origin` of the events endpoint. @default '*' */
  corsOrigin?: string
  /** Clock. @default Date.now */
  now?: () => number
}

export interface Collector {
  /** Every endpoint: `POST /v1/events`, `GET /v1/functions`, `GET /v1/functions/:id`, `GET /healthz`; anything else → `next()` or 404. */
  handle: Middleware
  /** Events only, answering at whatever path it is mounted on (Vite dev: `/__poet/events`). Non-POST/OPTIONS → `next()` or 405. */
  events: Middleware
  store: FeedbackStore
  /**
   * Stores a batch this process's own runtime made (Vite dev's SSR), with what its functions' domains forbid dropped as
   * for a posted batch, in the group commit of posted batches. Rejects, storing nothing, when the lock cannot be read or
   * the store cannot commit. Resolves with how many events were new.
   */
  insert(events: PoetEvent[]): Promise<number>
  close(): void
}

export const MAX_BODY = 1024 * 1024
/** Functions outside the lock that `GET /v1/functions` details, the busiest first; it counts the others in `omitted`. */
export const MAX_TABLE_FUNCTIONS = 200
const MINUTE = 60_000
const HOUR = 3_600_000
/** The longest a batch waits for others to share its commit: a bound on the latency the window adds to an ack. */
const MAX_COMMIT_WINDOW_MS = 4
/** The longest pause between two tries of a commit while another process holds the write lock, ms. */
const BUSY_RETRY_MAX_MS = 64
/**
 * Retry-After of a batch that waited out BUSY_TIMEOUT for the write lock: a lock held that long (a migration, a shell's
 * open transaction) is seldom gone a second later, and httpSink's few retries then span half a minute instead of 10 s.
 */
const BUSY_RETRY_SECONDS = 5
/** A broken lock waits for a person: retrying every second would only spend the sink's retries before they come. */
const LOCK_RETRY_SECONDS = 10
/**
 * Latency sample of a version on the dashboard's polls (the trainer's is larger): every 2^j-th call, within a few
 * thousandths of the exact rank, read in a few ms, since every poll holds back the acks of every client. The table
 * (every function at once) and a function's page read the same one, so that a version's p50 and p95 read the same in both.
 */
const VERSION_SAMPLE = 5_000
/** Latency sample of a function's series, spread over its buckets: larger, as each bucket gets a share of it. */
const SERIES_SAMPLE = 10_000

export function createCollector(options: CollectorOptions = {}): Collector {
  const store = options.store ?? new FeedbackStore(options.db ?? '.poet/feedback.db', { retention: options.retention, now: options.now })
  const now = options.now ?? Date.now
  const maxBody = options.maxBody ?? MAX_BODY
  const base = (options.base ?? '').replace(/\/$/, '')
  const limiter = options.rateLimit === false ? undefined : new RateLimiter(options.rateLimit ?? {}, now)
  const tokenDigest = options.token ? sha256(options.token) : undefined
  const lock = options.lockDir ? new LockStore(options.lockDir) : undefined
  const limits = lock && new EventLimits(lock)
  const cors = {
    'access-control-allow-origin': options.corsOrigin ?? '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type, authorization, x-poet-dropped',
    'access-control-expose-headers': 'retry-after',
    'access-control-max-age': '86400',
  }

  function authorized(req: IncomingMessage): boolean {
    if (!tokenDigest) return true
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')
    return !!m && timingSafeEqual(sha256(m[1]!.trim()), tokenDigest)
  }

  function clientKey(req: IncomingMessage): string {
    // Requests that got here carry the one token, however they spell the header (`bearer`, extra spaces): keyed on the
    // header text, each spelling had a budget of its own, and a client could multiply its rate at will.
    return tokenDigest ? 'token' : (req.socket.remoteAddress ?? '')
  }

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS') return send(res, 204, undefined, cors)
    if (req.method !== 'POST') return send(res, 405, { error: `${req.method} is not allowed here; POST a JSON array of events` }, { ...cors, allow: 'POST, OPTIONS' })
    if (!authorized(req)) {
      return send(res, 401, { error: 'missing or wrong bearer token (send `Authorization: Bearer <token>`, as given to `poet serve --token`)' }, { ...cors, 'www-authenticate': 'Bearer' })
    }
    const key = clientKey(req)
    const early = limiter?.wait(key, 1)
    if (early) return tooMany(res, early, cors)
    const body = await readBody(req, maxBody)
    if (body === 'too-large') return send(res, 413, { error: `body over ${maxBody} bytes; send smaller batches` }, { ...cors, connection: 'close' })
    if (body === 'aborted') return
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString('utf8'))
    } catch (e) {
      return send(res, 400, { error: `body is not valid JSON: ${(e as Error).message}` }, cors)
    }
    const checked = validateBatch(parsed)
    if (!checked.ok) return send(res, 400, { error: `invalid batch, nothing stored: ${checked.reason}` }, cors)
    const wait = limiter?.take(key, Math.max(1, checked.events.length))
    if (wait) return tooMany(res, wait, cors)
    const { kept, refused } = refuseAbsurdTimes(checked.events, now())
    try {
      limits?.apply(kept)
    } catch (e) {
      // A merge conflict in lock.json, say: until someone fixes it, which functions forbid what is unknown. Storing the
      // batch as sent could keep what a domain forbids; refusing it for good would lose it. The sink keeps it and retries.
      return send(
        res,
        503,
        { error: `the lock cannot be read, so this batch cannot be checked against the event limits of its functions' domains; nothing stored, send it again once the lock is fixed: ${(e as Error).message}` },
        { ...cors, 'retry-after': String(LOCK_RETRY_SECONDS) },
      )
    }
    const drops = dropReport(req.headers['x-poet-dropped'])
    let stored: number
    try {
      stored = kept.length || drops ? await commit(kept, drops) : 0
    } catch (e) {
      const retry = e instanceof StoreBusy ? BUSY_RETRY_SECONDS : 1
      return send(res, 503, { error: `the feedback store could not commit the batch, nothing stored: ${(e as Error).message}` }, { ...cors, 'retry-after': String(retry) })
    }
    send(res, 202, { accepted: kept.length, stored, ...(refused.length ? { refused } : {}) }, cors)
  }

  // Group commit: batches validated while a commit is pending share one transaction, so one fsync acknowledges
  // them all. Each request still gets its 202 only after that commit. Under load (a batch arriving within a few ms
  // of the last commit) the commit waits about one commit's duration, so that batches whose clients are mid-request
  // join it instead of paying an fsync of their own; a batch arriving at an idle collector commits in the same turn.
  //
  // While another process holds the write lock (vite dev and poet serve on one file, poet train --apply, a sqlite3
  // shell), the group waits on timers, joined by the batches arriving meanwhile, and each batch gets 503 once it has
  // waited BUSY_TIMEOUT. SQLite's own wait sleeps in this thread: it held every request of the server (the Vite dev
  // server's pages and HMR, /healthz) for 5 s per commit.
  let queue: { events: PoetEvent[]; drops?: DropReport; since: number; done: (stored: number) => void; failed: (e: unknown) => void }[] = []
  let lastCommitEnd = -Infinity
  let lastCommitMs = 0
  let busyTries = 0
  function commit(events: PoetEvent[], drops: DropReport | undefined): Promise<number> {
    return new Promise((done, failed) => {
      if (!queue.length) {
        if (performance.now() - lastCommitEnd < MAX_COMMIT_WINDOW_MS) setTimeout(flush, Math.min(MAX_COMMIT_WINDOW_MS, lastCommitMs))
        else setImmediate(flush)
      }
      queue.push({ events, drops, since: performance.now(), done, failed })
    })
  }
  function flush(): void {
    const group = queue
    queue = []
    const t0 = performance.now()
    try {
      const stored = store.insertMany(
        group.map((q) => q.events),
        group.flatMap((q) => (q.drops ? [q.drops] : [])),
        0,
      )
      busyTries = 0
      group.forEach((q, i) => q.done(stored[i]!))
    } catch (e) {
      if (!isBusy(e)) for (const q of group) q.failed(e)
      else {
        for (const q of group) if (t0 - q.since >= BUSY_TIMEOUT) q.failed(new StoreBusy(store.file))
        // The others try again, with the batches that arrive meanwhile.
        queue = group.filter((q) => t0 - q.since < BUSY_TIMEOUT)
        if (queue.length) setTimeout(flush, Math.min(BUSY_RETRY_MAX_MS, 2 ** busyTries++))
        else busyTries = 0
        return
      }
    }
    lastCommitEnd = performance.now()
    lastCommitMs = lastCommitEnd - t0
  }

  function functionsTable(url: URL): unknown {
    const window = readWindow(url, now())
    const file = lock?.read()
    const entries = file?.functions ?? {}
    const rows: Record<string, unknown>[] = []
    const seen = new Set<string>()
    // A renamed or moved function is one row per version, its calls under every id it had counted together.
    const owners = new Set(store.functions(window).flatMap(({ id, versions }) => (file ? versions.flatMap((v) => ownersOf(file, id, v)) : [id])))
    const { listed, omitted } = tableFunctions([...owners], entries, window)
    for (const id of listed) {
      for (const m of store.metrics(file ? eventSources(file, id) : id, window, { sample: VERSION_SAMPLE, custom: false })) {
        seen.add(`${id}\0${m.version}`)
        rows.push({ id, ...role(entryOf(entries, id), m.version), ...summary(m) })
      }
    }
    for (const [id, entry] of Object.entries(entries)) {
      if (!seen.has(`${id}\0${entry.current}`)) rows.push({ id, ...role(entry, entry.current), ...summary(undefined) })
    }
    rows.sort((a, b) => String(a.id).localeCompare(String(b.id)) || String(a.version).localeCompare(String(b.version)))
    return { window, dropped: store.dropped(window), functions: rows, ...(omitted ? { omitted } : {}) }
  }

  /**
   * The functions the table details: every one the lock holds, and the busiest MAX_TABLE_FUNCTIONS others. Events
   * name any function id a client makes up, and each listed one costs a read of its metrics on the thread that acks
   * every batch: twenty thousand made-up ids held the collector for seconds at every poll of the dashboard.
   */
  function tableFunctions(ids: string[], entries: Record<string, LockEntry>, window: { since: number; until: number }): { listed: string[]; omitted: number } {
    const others = ids.filter((id) => !Object.hasOwn(entries, id))
    if (others.length <= MAX_TABLE_FUNCTIONS) return { listed: ids, omitted: 0 }
    const calls = store.callsByFunction(window)
    const busiest = new Set(others.sort((a, b) => (calls.get(b) ?? 0) - (calls.get(a) ?? 0) || a.localeCompare(b)).slice(0, MAX_TABLE_FUNCTIONS))
    return { listed: ids.filter((id) => Object.hasOwn(entries, id) || busiest.has(id)), omitted: others.length - MAX_TABLE_FUNCTIONS }
  }

  function functionDetail(id: string, url: URL): unknown {
    const window = readWindow(url, now())
    const file = lock?.read()
    const entry = entryOf(file?.functions ?? {}, id)
    const events = file ? eventSources(file, id) : id
    const metrics = new Map(store.metrics(events, window, { sample: VERSION_SAMPLE }).map((m) => [m.version, m]))
    const decisions = store.decisions(events)
    if (!entry && metrics.size === 0 && decisions.length === 0) return undefined
    const versions = new Set([...Object.keys(entry?.versions ?? {}), ...metrics.keys()])
    const bucket = readBucket(url, window)
    return {
      id,
      current: entry?.current,
      candidate: entry?.candidate,
      window,
      versions: [...versions].map((version) => {
        const v = entry?.versions[version]
        return {
          ...role(entry, version),
          ...(v ? { created: v.created, generator: v.generator, reason: v.reason } : {}),
          ...summary(metrics.get(version)),
          latency: metrics.get(version)?.latency,
          metrics: metrics.get(version)?.metrics ?? {},
        }
      }),
      bucket,
      series: store.series(events, bucket, window, SERIES_SAMPLE),
      decisions,
    }
  }

  const handle: Middleware = (req, res, next) => {
    const url = requestUrl(req)
    if (!url) return badTarget(req, res)
    const path = url.pathname
    if (path === `${base}/v1/events` || path === `${base}/events`) return void ingest(req, res).catch((e) => fail(res, e))
    if (path === `${base}/healthz`) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' })
      return send(res, 200, { ok: true, executions: store.count('executions'), feedback: store.count('feedback'), dropped: store.droppedHeld() })
    }
    if (path === `${base}/v1/functions` || path.startsWith(`${base}/v1/functions/`)) {
      if (req.method !== 'GET') return send(res, 405, { error: 'use GET' }, { allow: 'GET' })
      if (!authorized(req)) return send(res, 401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer' })
      try {
        if (path === `${base}/v1/functions`) return send(res, 200, functionsTable(url))
        const id = decodeId(path.slice(`${base}/v1/functions/`.length))
        const detail = functionDetail(id, url)
        if (detail) return send(res, 200, detail)
        const moved = lock ? renamedHint(lock.read(), id) : ''
        // A link to the old id (a bookmark, a dashboard open during the rename) says where its calls are counted now.
        if (moved) return send(res, 404, { error: `no function ${JSON.stringify(id)} in the lock.${moved} Its calls under the old id are counted there.` })
        return send(res, 404, { error: `no function ${JSON.stringify(id)} in the store or the lock (ids look like src/file.ts#name, URL-encoded)` })
      } catch (e) {
        return e instanceof BadRequest ? send(res, 400, { error: e.message }) : fail(res, e)
      }
    }
    if (next) return next()
    send(res, 404, { error: `no route ${req.method} ${path}; see /v1/events, /v1/functions, /healthz` })
  }

  const events: Middleware = (req, res, next) => {
    if (next && req.method !== 'POST' && req.method !== 'OPTIONS') return next()
    void ingest(req, res).catch((e) => fail(res, e))
  }

  return {
    handle,
    events,
    store,
    async insert(batch) {
      limits?.apply(batch)
      return batch.length ? commit(batch, undefined) : 0
    },
    close() {
      if (!options.store) store.close()
    },
  }
}

export interface ServeOptions extends CollectorOptions {
  /** @default 8787 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** ms a client has to send a request's headers (a connection that sends nothing counts too); then 408 and closed. @default 10000 */
  headersTimeout?: number
  /** ms a client has to send a whole request, body included (1 MiB at most); then 408 and closed. @default 30000 */
  requestTimeout?: number
  /** ms an idle keep-alive connection waits for the client's next request. @default 5000 */
  keepAliveTimeout?: number
  /** Connections open at once; a connection beyond them is closed as soon as it is accepted (sinks retry). @default 1000 */
  maxConnections?: number
}

/** How often Node looks for connections past those limits (its default, 30 s, would let them stay four times as long). */
const CONNECTION_CHECK_MS = 1000
/** A burst of connections refused at the cap is said once a minute, not once per connection. */
const DROP_REPORT_MS = 60_000

export interface RunningCollector {
  url: string
  server: Server
  collector: Collector
  close(): Promise<void>
}

/** `poet serve`: the collector on its own HTTP server. */
export function serve(options: ServeOptions = {}): Promise<RunningCollector> {
  const collector = createCollector(options)
  // Node's own limits (60 s for headers, 300 s for a request, any number of connections) let a few hundred clients that
  // send a byte now and then hold every file descriptor and keep real sinks out. A batch is at most 1 MiB, which
  // httpSink gives up on after 10 s anyway, so seconds are plenty. The keep-alive outlasts httpSink's 1 s interval, so a
  // busy sink keeps its connection from batch to batch.
  const headersTimeout = options.headersTimeout ?? 10_000
  const server = createServer(
    { headersTimeout, requestTimeout: options.requestTimeout ?? 30_000, connectionsCheckingInterval: Math.min(CONNECTION_CHECK_MS, headersTimeout) },
    guarded(collector.handle),
  )
  server.keepAliveTimeout = options.keepAliveTimeout ?? 5_000
  server.maxConnections = options.maxConnections ?? 1000
  let saidFullAt = -Infinity
  server.on('drop', () => {
    if (performance.now() - saidFullAt < DROP_REPORT_MS) return
    saidFullAt = performance.now()
    console.error(
      `poet serve: ${server.maxConnections} connections are open, the most it takes: new ones are closed until some end (sinks retry). ` +
        'Many clients holding connections open? Raise --max-connections, or put the collector behind a proxy.',
    )
  })
  return new Promise((resolve, reject) => {
    const failedToStart = (e: Error) => {
      collector.close()
      reject(e)
    }
    server.once('error', failedToStart)
    server.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => {
      // Once listening, an error of the server (accepting a connection) is said and the collector goes on: it used to
      // close the store, and every later batch got 503 from a process that looked healthy.
      server.off('error', failedToStart)
      server.on('error', (e) => console.error(`poet serve: the HTTP server reported an error, still serving: ${e.message}`))
      const { address, port } = server.address() as AddressInfo
      resolve({
        url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
        server,
        collector,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => {
              collector.close()
              done()
            })
            server.closeAllConnections()
          }),
      })
    })
  })
}

/** A token bucket per client: batches spend one token per event. */
class RateLimiter {
  private readonly rate: number
  private readonly burst: number
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    o: RateLimitOptions,
    private readonly now: () => number,
  ) {
    this.rate = o.eventsPerSecond ?? 2000
    this.burst = o.burst ?? 20_000
  }

  /** Seconds to wait before `n` events fit, without spending anything; undefined when they fit now. */
  wait(key: string, n: number): number | undefined {
    const b = this.refill(key)
    return b.tokens >= Math.min(n, this.burst) ? undefined : Math.ceil((Math.min(n, this.burst) - b.tokens) / this.rate)
  }

  /** Spends `n` tokens, or returns the seconds to wait (nothing spent). A batch larger than the burst may drain it whole. */
  take(key: string, n: number): number | undefined {
    const wait = this.wait(key, n)
    if (wait !== undefined) return wait
    const b = this.refill(key)
    b.tokens -= Math.min(n, b.tokens)
    return undefined
  }

  private refill(key: string): { tokens: number; at: number } {
    const t = this.now()
    let b = this.buckets.get(key)
    if (!b) {
      // Full buckets carry no state worth keeping; dropping them bounds memory under many clients.
      if (this.buckets.size >= 10_000) for (const [k, v] of this.buckets) if (v.tokens + ((t - v.at) / 1000) * this.rate >= this.burst) this.buckets.delete(k)
      b = { tokens: this.burst, at: t }
      this.buckets.set(key, b)
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.rate)
    b.at = t
    return b
  }
}

class BadRequest extends Error {}

/** The write lock of the store stayed with another process for as long as a batch may wait. */
class StoreBusy extends Error {
  constructor(file: string) {
    super(`${lockHeld(file)}; send it again later`)
  }
}

/**
 * A request listener that answers 500 when `handler` throws: on a plain `http.Server` (unlike Vite's connect) a throw
 * there is an uncaught exception, which would end `poet serve` (a lock.json left with merge conflicts, say).
 */
export function guarded(handler: Middleware): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      handler(req, res)
    } catch (e) {
      fail(res, e)
    }
  }
}

/** The request's URL, or undefined when its target is none: Node's parser takes targets like `//[` that `new URL` refuses. */
export function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://collector')
  } catch {
    return undefined
  }
}

export function badTarget(req: IncomingMessage, res: ServerResponse): void {
  send(res, 400, { error: `the request target ${JSON.stringify(req.url)} is not a valid URL path` })
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    throw new BadRequest(`the function id ${JSON.stringify(raw)} is not validly URL-encoded (encode it with encodeURIComponent)`)
  }
}

function readWindow(url: URL, now: number): { since: number; until: number } {
  const until = numberParam(url, 'until') ?? now
  const sinceParam = numberParam(url, 'since')
  const span = parseDuration(url.searchParams.get('window'))
  if (url.searchParams.has('window') && span === undefined) throw new BadRequest(`window must look like 15m, 24h or 7d, received ${JSON.stringify(url.searchParams.get('window'))}`)
  return { since: sinceParam ?? until - (span ?? 24 * HOUR), until }
}

/**
 * The series' bucket size: `?bucket=`, or a sixtieth of the window, in whole minutes either way. Those are summed from
 * the store's per-minute counts; a bucket that splits minutes (`90s`) would count every call of the window one by one
 * (a day of a busy function on the loop that acks batches), so it is refused rather than served slowly.
 */
function readBucket(url: URL, window: { since: number; until: number }): number {
  const raw = url.searchParams.get('bucket')
  if (raw === null) return Math.max(1, Math.round((window.until - window.since) / 60 / MINUTE)) * MINUTE
  const size = parseDuration(raw)
  if (size === undefined || size <= 0 || size % MINUTE !== 0) {
    throw new BadRequest(`bucket must be a whole number of minutes with its unit, like 1m, 5m, 1h or 1d (the store counts calls per minute), received ${JSON.stringify(raw)}`)
  }
  return size
}

function numberParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name)
  if (raw === null) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n)) throw new BadRequest(`${name} must be epoch milliseconds, received ${JSON.stringify(raw)}`)
  return n
}

/** `90s`, `15m`, `24h`, `7d` → milliseconds. */
export function parseDuration(raw: string | null | undefined): number | undefined {
  const m = raw ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(raw.trim()) : null
  if (!m) return undefined
  return Number(m[1]) * { ms: 1, s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR }[m[2] as 'ms']
}

/** Own keys only: ids come from clients, and one like `constructor` would find Object's, which has no versions. */
function entryOf(functions: Record<string, LockEntry>, id: string): LockEntry | undefined {
  return Object.hasOwn(functions, id) ? functions[id] : undefined
}

function role(entry: LockEntry | undefined, version: string): { version: string; role?: string; share?: number } {
  if (!entry) return { version }
  if (entry.current === version) return { version, role: 'current', ...(entry.candidate ? { share: 1 - entry.candidate.share } : {}) }
  if (entry.candidate?.version === version) return { version, role: 'candidate', share: entry.candidate.share }
  return { version, role: entry.versions[version] ? 'previous' : 'unknown' }
}

function summary(m: VersionMetrics | undefined) {
  return {
    calls: m?.calls ?? 0,
    errorRate: m?.errorRate ?? { input_error: 0, output_error: 0, timeout: 0, error: 0 },
    p50: m?.latency.p50 ?? 0,
    p95: m?.latency.p95 ?? 0,
    score: m && m.score.n > 0 ? { mean: m.score.mean, n: m.score.n } : { mean: null, n: 0 },
  }
}

/**
 * What a sink's `x-poet-dropped` header reports: `<count>;session=<id>`, its running count. A bare count (a sink of an
 * earlier release, or another client) is left out: with nothing to tell its senders apart, every request would count
 * the same drops again.
 */
function dropReport(header: string | string[] | undefined): DropReport | undefined {
  const m = typeof header === 'string' ? /^\s*(\d{1,15})\s*;\s*session=([\w-]{1,64})\s*$/.exec(header) : null
  const count = m ? Number(m[1]) : 0
  return count > 0 ? { session: m![2]!, count } : undefined
}

/** Reads at most `limit` bytes; beyond that it stops reading and reports `too-large`. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve('too-large')
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.off('data', onData)
        req.pause()
        resolve('too-large')
      } else chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', () => resolve('aborted'))
    req.on('close', () => {
      if (!req.complete) resolve('aborted')
    })
  })
}

function tooMany(res: ServerResponse, seconds: number, cors: Record<string, string>): void {
  send(res, 429, { error: `rate limit: retry after ${seconds}s` }, { ...cors, 'retry-after': String(seconds) })
}

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) }) })
  res.end(text)
}

function fail(res: ServerResponse, e: unknown): void {
  send(res, 500, { error: `collector error: ${(e as Error)?.message ?? String(e)}` })
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
