// httpSink: batches events and POSTs them as JSON (keepalive), retrying with backoff and Retry-After, never losing the page's unload.
import { parseRetryAfter } from '../retry-after'
import type { Sink } from '../sink'
import type { PoetEvent } from '../types'

export interface HttpSinkOptions {
  /** Where batches are POSTed, e.g. `http://127.0.0.1:4318/v1/events` or `/__poet/events`. */
  url: string
  /** Sent as `Authorization: Bearer <token>` (the collector's `--token`). */
  token?: string
  headers?: Record<string, string>
  /**
   * Events per request; a full batch is sent at once. What the page sends as it is hidden or left goes in one request,
   * as many events as fit what a browser lets outlive the page. @default 50
   */
  batchSize?: number
  /**
   * Milliseconds a partial batch waits before it is sent; while the page is hidden, a second at most; in a page's
   * worker, none (what a task queued goes as it ends). @default 1000
   */
  interval?: number
  /** Events held at most; beyond it the oldest are dropped (and counted). @default 1000 */
  maxQueue?: number
  /**
   * Retries of a batch after a network error, 408, 429 or 5xx, before it is given up. The batch after one given up
   * gets a single try: if that fails too, the collector is down and the queue behind it is given up as well. A batch
   * waiting out a retry also goes at once when the page is hidden or left: up to this many such early sends are extra
   * tries, not retries (past them, a hidden page leaves it waiting; one being left sends it as a retry). @default 4
   */
  retries?: number
  /**
   * Delay before the first retry, doubling (full jitter) up to 30 s; a Retry-After header wins, up to 30 s (a longer
   * one gives the batch up). @default 500
   */
  retryDelay?: number
  /**
   * Milliseconds a request may take, answer included, before it counts as a network error (and is retried): a
   * collector that never answers must not hold the sink, and every `flush` and `close`, for good. `0` or `Infinity`:
   * none. @default 10000
   */
  timeout?: number
  /**
   * Tells the server how many events were lost so far, dropped or given up (`dropped + failed`: none of them reached
   * it), in an `x-poet-dropped` header (`<count>;session=<id>`, the id this sink's own: poet serve keeps the highest count
   * of each, so a count sent again is not counted twice). Cross-origin, a server must allow that header in CORS (the poet
   * collector does), or browsers refuse every request. @default true
   */
  dropCountHeader?: boolean
  /** The request body for a batch. @default JSON.stringify */
  encode?: (events: PoetEvent[]) => string
  /** @default globalThis.fetch */
  fetch?: typeof fetch
}

export interface HttpSink extends Sink {
  /** Sends everything queued now (not what comes in meanwhile); resolves when done (never rejects). */
  flush(): Promise<void>
  /** Flushes, then stops listening to page and process lifecycle events (until it gets events again). */
  close(): Promise<void>
  /** Events accepted by the server. */
  readonly sent: number
  /**
   * Events dropped: the queue was full (oldest first), or the page was left holding more than a browser lets outlive it
   * (successes first, failures and feedback last).
   */
  readonly dropped: number
  /** Events given up: refused by the server (4xx) or still failing after every retry. */
  readonly failed: number
}

// Browsers cap the bodies of keepalive requests in flight at 64 KiB, all of a page's together (of UTF-8, not
// characters): a request past it fails outright, and as the page goes away nothing retries it. Only keepalive requests
// outlive the page (the Fetch standard ends the others with it), so what a page being left holds beyond our share of
// the quota is dropped and counted, and requests past it while the page lives go without keepalive.
const KEEPALIVE_MAX = 60_000
// Bytes of keepalive bodies in flight, from every sink of the page: they share the one quota.
let inflight = 0
// The longest wait before a retry. A Retry-After beyond it gives the batch up: obeying an hour would hold the one
// batch in flight, and every flush, close and Node exit behind it, for that hour.
const MAX_DELAY = 30_000
/** Why the page ended a batch's wait before its time: hidden (it may come back), or left. */
type Hurry = 'hidden' | 'left'

// One process listener for every sink following the process: one each had Node warn of a leak past ten open sinks.
const exiting = new Set<() => void>()
const onProcessBeforeExit = () => exiting.forEach((f) => f())

export function httpSink(options: HttpSinkOptions): HttpSink {
  const { url, batchSize = 50, interval = 1000, maxQueue = 1000, retries = 4, retryDelay = 500, timeout = 10_000, dropCountHeader = true, encode = JSON.stringify } = options
  // Batches are taken with splice(0, batchSize): below 1, the queue never shrinks and the sink posts `[]` forever.
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new RangeError(`poet: httpSink batchSize must be a whole number from 1, got ${batchSize}`)
  // A relative URL resolves against the page; with no page (SSR, Node, edge) every send would fail. Telemetry must
  // not break the app that configured it, so the sink says so once and counts its events as failed.
  const unusable = typeof location === 'undefined' && !/^[a-z][a-z\d+.-]*:/i.test(url)
  if (unusable) console.warn(`poet: httpSink needs an absolute url outside a browser, got "${url}"; its events are dropped`)
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  const queue: PoetEvent[] = []
  // The count in the header is this sink's running total, sent with every request, retries and parallel sends included:
  // the collector keeps the highest per session, which no duplicate or reordering can inflate. Random, not a counter:
  // every page and worker has sinks of its own.
  const session = Math.random().toString(36).slice(2)
  // A worker (dedicated or shared) hears nothing of its page's lifecycle, and ends with it: events batched for the
  // interval there were lost when the page closed. It sends what a task queued as the task ends (a microtask after
  // configure hands its events over), beside any request still awaiting its answer, as a page does as it goes.
  // A page's worker has a location (its script's). workerd's global is a worker scope too, but has none: there a
  // request's events wait for the flush handed to ctx.waitUntil and go in one request, where a request per task spent
  // a subrequest each (a Worker has 50 per request on Cloudflare's free plan, its own fetches included).
  const scope = (globalThis as { WorkerGlobalScope?: abstract new () => unknown }).WorkerGlobalScope
  const worker = !!scope && globalThis instanceof scope && typeof location !== 'undefined'
  let sent = 0
  let dropped = 0
  let failed = 0
  // The count of the header the collector last took: a page being left with more lost since says so in one more request.
  let told = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let sending: Promise<void> | undefined
  // The batch the drain is sending now: a flush waits batch by batch, not for the drain to end, which under a steady
  // stream of events it never does.
  let step: Promise<void> | undefined
  let queued = 0
  // Events a drain asked for `all` still owes: those queued when it was asked. Later ones wait for their interval, or a
  // steady trickle of calls kept a drain sending each as it came, a request per answer instead of one per interval.
  let owed = 0
  // A retry's wait is unref'd, so the sink never holds a process by itself; but while anyone awaits a flush (close at
  // the end of a script, the process running dry) it must, or Node exits mid-wait and the batch is never sent.
  let holding = 0
  let pause: ReturnType<typeof setTimeout> | undefined
  // Retries waiting out their delay, each ended at once by calling it: a page going away takes its timers with it, and
  // a batch still waiting would be lost. A set, since the page's own urgent sends may be retrying beside the drain.
  const waits = new Set<(why?: Hurry) => void>()
  // Batches the page sent beside the drain as it was hidden or left, each awaiting nothing: a flush waits for them too.
  const loose = new Set<Promise<void>>()
  // A batch was just given up after its retries: the collector looks down, so the next batch gets one try only.
  let down = false
  // The refusal statuses already reported.
  const warned = new Set<number>()

  const sink = ((events: PoetEvent[]) => {
    // A closed sink that is used again (configured again after configure closed it) must not lose its events at exit.
    listen(true)
    for (const e of events) {
      if (queue.length >= maxQueue) {
        queue.shift()
        dropped++
      }
      queue.push(e)
    }
    queued += events.length
    if (queue.length >= batchSize) drain(false)
    arm()
  }) as HttpSink

  /**
   * Whatever is left of a partial batch goes out after the interval at the latest. A hidden page may be killed with no
   * further event (a phone's OS does it to a browser sent to the background), so there it waits a second at most: long
   * enough to share a request with the calls around it, as Chrome runs a hidden page's timers once a second anyway.
   * A worker's goes as the task that queued it ends.
   */
  function arm(): void {
    if (worker) {
      queueMicrotask(() => {
        while (queue.length) aside(queue.splice(0, batchSize))
      })
    } else if (!timer && queue.length) timer = unref(setTimeout(() => ((timer = undefined), drain(true)), hidden() ? Math.min(interval, 1000) : interval))
  }

  /**
   * Sends batches one at a time: full ones, and everything queued when any caller asked for `all` (a drain already
   * running takes that request over). Starts only when there is something to send, so the first `await` always comes before
   * the `finally`: a drain that ended at once would otherwise stay in `sending` for good, and every later drain (and
   * `flush`) would wait on it instead of sending.
   */
  function drain(all: boolean): void {
    if (all) owed = queue.length
    const more = () => queue.length >= batchSize || (owed > 0 && queue.length > 0)
    if (!sending && more()) {
      sending = (async () => {
        try {
          do {
            const batch = queue.splice(0, batchSize)
            owed -= batch.length
            await (step = send(batch))
          } while (more())
        } finally {
          sending = undefined
          owed = 0
        }
      })()
    }
    if (!sending) owed = 0
  }

  async function send(batch: PoetEvent[]): Promise<void> {
    let body: string | undefined
    if (!unusable && (body = encodes(batch)) === undefined) {
      // An event JSON cannot encode (a BigInt or a cycle a listener put in it) must not take the batch with it: the
      // others go without it, and it counts as failed (retrying would not help).
      const all = batch.length
      batch = batch.filter((e) => encodes([e]) !== undefined)
      failed += all - batch.length
      if (batch.length) body = encodes(batch)
    }
    if (body === undefined) return void (failed += batch.length)
    const size = bytes(body)
    // Sends the page hurried (hidden or left while the batch waited out a retry) use up no retry: the collector asked
    // for that wait and nobody waited it out, so a user switching tabs would otherwise spend them all. As many of them
    // as retries at most; after that a hidden page leaves the wait alone, and one being left (its last chance) spends
    // a retry on it, so a batch is sent 1 + 2 × retries times at most.
    for (let attempt = 0, hurried = 0; ; ) {
      let wait: number | undefined
      let split = false
      const keepalive = inflight + size < KEEPALIVE_MAX
      if (keepalive) inflight += size
      // Bounds reading the answer too. Older browsers without AbortSignal.timeout wait as long as fetch does; Node's
      // takes whole milliseconds that a timer can wait, and 0 or Infinity mean none (as a poet timeout does).
      const lost = dropped + failed
      const signal = timeout > 0 && timeout < 2 ** 31 - 1 ? AbortSignal.timeout?.(Math.ceil(timeout)) : undefined
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: dropCountHeader ? { ...headers, 'x-poet-dropped': `${lost};session=${session}` } : headers,
          body,
          keepalive,
          signal,
        })
        // Read the body so the connection can be reused.
        const answer = await res.text().catch(() => '')
        if (res.ok) {
          down = false
          told = Math.max(told, lost)
          // poet serve takes a batch but refuses the events it cannot store (a clock a day ahead): `refused` lists them.
          let n = 0
          try {
            const list = (JSON.parse(answer) as { refused?: { reason?: unknown }[] }).refused!
            refused(res.status, String(list[0]!.reason), `${(n = list.length)} of ${batch.length}`)
          } catch {
            // Any other answer: all of it was taken.
          }
          failed += n
          return void (sent += batch.length - n)
        }
        // Over the collector's size limit, each half may not be: a batch is split until its parts fit (or a lone event
        // is refused), rather than lost whole.
        if (res.status === 413 && batch.length > 1) split = true
        else if (res.status !== 408 && res.status !== 429 && res.status < 500) {
          let reason = answer
          try {
            const error = (JSON.parse(answer) as { error?: unknown }).error
            if (typeof error === 'string') reason = error
          } catch {
            // Not the poet collector's JSON: its text as it came.
          }
          refused(res.status, reason, batch.length)
          return void (failed += batch.length)
        } else wait = parseRetryAfter(res.headers.get('retry-after'))
      } catch {
        // A network error: worth another try.
      } finally {
        // Done once its answer is read: the browser counts a request against the quota until then.
        if (keepalive) inflight -= size
      }
      if (split) {
        const half = batch.length >> 1
        await send(batch.slice(0, half))
        return send(batch.slice(half))
      }
      if (down || attempt >= retries || (wait ?? 0) > MAX_DELAY) {
        // Down still: every batch behind this one would wait out the same retries in turn, holding flush, close and a
        // Node exit for minutes. They are given up with it; events that come later get their tries again.
        if (down) failed += queue.splice(0).length
        down = !down
        return void (failed += batch.length)
      }
      const backoff = Math.random() * Math.min(MAX_DELAY, retryDelay * 2 ** attempt)
      const early = await new Promise<Hurry | undefined>((r) => {
        const t = (pause = setTimeout(() => go(), Math.max(backoff, wait ?? 0)))
        function go(why?: Hurry) {
          if (why === 'hidden' && hurried >= retries) return
          clearTimeout(t)
          waits.delete(go)
          // Its last chance: back in the queue, to share the keepalive quota with the rest by importance.
          if (why === 'left') queue.unshift(...batch)
          r(why)
        }
        waits.add(go)
        if (!holding) unref(t)
      })
      if (early === 'left') return
      if (early && hurried < retries) hurried++
      else attempt++
    }
  }

  /** The body for `events`, or undefined when it cannot be encoded (a custom encode may throw too: nothing may reject from send). */
  function encodes(events: PoetEvent[]): string | undefined {
    try {
      return encode(events)
    } catch {
      return undefined
    }
  }

  /**
   * A refusal (a wrong token, a batch the collector finds invalid) is a mistake in the setup that no retry mends, and
   * every later batch meets it too: said once per status, with the collector's reason, or events vanish without a word.
   */
  function refused(status: number, reason: string, n: number | string): void {
    if (warned.has(status)) return
    warned.add(status)
    reason = reason.slice(0, 300)
    console.warn(`poet: httpSink: ${url} refused ${n} event${n === 1 ? '' : 's'} (${status}${reason ? `: ${reason}` : ''}); refused events are not sent again`)
  }

  /**
   * The page is hidden or going away: start requests now for what fits in the keepalive quota (only those outlive the
   * page), failures and feedback first, awaiting none. What does not fit is dropped and counted if the page is left
   * (before the request starts, so that it tells the collector); if it is hidden, it goes as the page's next events do,
   * with keepalive if the quota has room by then.
   * A batch waiting out a retry goes now too, Retry-After or not (unless it already went early as often as it may):
   * the timer it waited on is cleared, so it is never sent twice, and refused again it waits anew. Its request starts
   * a microtask later, still before the page is gone; one being left joins the queue here instead.
   */
  function urgent(why: Hurry): void {
    for (const go of waits) go(why)
    // Armed before the page was hidden, it would hold what comes next for the full interval.
    clearTimeout(timer)
    timer = undefined
    const important = (e: PoetEvent) => e.kind === 'feedback' || e.outcome !== 'ok'
    const chosen = new Set<PoetEvent>()
    // What a request holds besides its events (`[]`, or the envelope of OTLP log records), counted once.
    const envelope = bytes(encodes([]) ?? '')
    let room = KEEPALIVE_MAX - inflight - envelope
    for (const e of [...queue.filter(important), ...queue.filter((e) => !important(e))]) {
      // Its size in a request of its own past the envelope, and a comma: at least its share of a request's. One JSON
      // cannot encode takes no room (send counts it as failed).
      const alone = encodes([e])
      const size = alone === undefined ? 0 : bytes(alone) - envelope + 1
      if (size < room) {
        room -= size
        chosen.add(e)
      }
    }
    // Sent in the order they came; the rest stays, in place (a spread of a long queue would overflow the stack).
    const fits = queue.filter((e) => chosen.has(e))
    let kept = 0
    for (const e of queue) if (!chosen.has(e)) queue[kept++] = e
    queue.length = kept
    if (why === 'left') dropped += queue.splice(0).length
    // In one request, whatever batchSize says: together they fit the quota, and Chrome allows a page 256 keepalive
    // requests in flight (past them fetch fails, and a page going away never hears of it). With none of them fitting
    // (the requests of a hide just before still in flight fill the quota), or with nothing left to send, an empty one
    // tells the collector what was lost since it last heard.
    if (fits.length || (why === 'left' && dropCountHeader && dropped + failed > told)) aside(fits)
    arm()
  }
  /** Sends a batch beside the drain, awaiting nothing (no answer must hold back what comes next): a flush waits for it. */
  function aside(batch: PoetEvent[]): void {
    const p = send(batch).finally(() => loose.delete(p))
    loose.add(p)
  }
  const bytes = (text: string) => new TextEncoder().encode(text).length
  const hidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden'
  const onVisibility = () => {
    if (hidden()) urgent('hidden')
  }
  const onPagehide = () => urgent('left')
  // Chrome freezes a page hidden for long, and may then discard it without another event.
  const onFreeze = () => urgent('hidden')
  const flush = async (): Promise<void> => {
    holding++
    ;(pause as { ref?(): void } | undefined)?.ref?.()
    // Node 20's fetch may stay pending after its connection closed (always when before the request was written; about
    // 1 in 300 when reset), holding nothing: the process ended under whoever awaited this (close, the exit flush), the
    // batch neither sent nor counted. Held until the request's own timeout aborts it (with none, it could be forever).
    // Only a process ends under a pending flush (and not every runtime has setInterval).
    const hold = proc && timeout > 0 && timeout < 2 ** 31 - 1 ? setInterval(() => {}, 60_000) : undefined
    // What the interval would send, this sends: the next events arm it anew. A timer left armed may be dead, and would
    // keep them from arming one for good: workerd cancels a request's timers as it ends.
    clearTimeout(timer)
    timer = undefined
    try {
      // configure() hands events over a microtask after the calls that made them: let those of calls made just before
      // this flush land first, or `f(); await sink.close()` on a script's last lines leaves f's event behind.
      await undefined
      // Done once every event queued before the call has been sent, failed or dropped.
      for (const target = queued; sent + failed + dropped < target && (queue.length || sending || loose.size); ) {
        drain(true)
        await (sending ? step : Promise.race(loose))
      }
    } finally {
      holding--
      if (hold) clearInterval(hold)
    }
  }
  // Node: send what is left when the event loop runs dry (our timers are unref'd, so they never hold a process).
  const proc = (globalThis as { process?: { on?(e: string, f: () => void): void; off?(e: string, f: () => void): void } }).process
  const onBeforeExit = () => {
    if (queue.length || sending) void flush()
  }
  const target = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener }
  let listening = false
  /** Follows (or stops following) the page's and the process's lifecycle: close stops, and new events resume it. */
  function listen(on: boolean): void {
    if (listening === on) return
    listening = on
    if (on) {
      if (typeof target.addEventListener === 'function') {
        target.addEventListener('pagehide', onPagehide)
        target.addEventListener('visibilitychange', onVisibility)
        if (typeof document !== 'undefined') document.addEventListener('freeze', onFreeze)
      }
      exiting.add(onBeforeExit)
      if (exiting.size === 1 && proc && typeof proc.on === 'function') proc.on('beforeExit', onProcessBeforeExit)
    } else {
      if (typeof target.removeEventListener === 'function') {
        target.removeEventListener('pagehide', onPagehide)
        target.removeEventListener('visibilitychange', onVisibility)
        if (typeof document !== 'undefined') document.removeEventListener('freeze', onFreeze)
      }
      exiting.delete(onBeforeExit)
      if (!exiting.size && proc && typeof proc.off === 'function') proc.off('beforeExit', onProcessBeforeExit)
    }
  }
  listen(true)

  return Object.defineProperties(sink, {
    flush: { value: flush },
    close: {
      value: async () => {
        clearTimeout(timer)
        // Cleared, not just stopped: a stale id would keep every later partial batch from arming the interval.
        timer = undefined
        // As flush does: the events of calls made before close land first, and only what comes after counts as new.
        await undefined
        const held = queued
        await flush()
        // Events that came meanwhile mean it is in use again (configured anew): it goes on following the lifecycle.
        if (queued === held) listen(false)
      },
    },
    sent: { get: () => sent },
    dropped: { get: () => dropped },
    failed: { get: () => failed },
  })
}

function unref<T>(timer: T): T {
  const t = timer as { unref?(): void }
  if (t && typeof t.unref === 'function') t.unref()
  return timer
}
