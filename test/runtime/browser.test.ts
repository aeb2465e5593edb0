// The runtime in real Chromium: served from 127.0.0.1, imported as an ES module, events flushed when the page goes away.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/chromium'
import type { PoetEvent } from '../../src/runtime/index'
import { bundleRuntime } from './bundle'

const PAGE = `<!doctype html><meta charset="utf-8"><title>poet</title>
<script type="module">
  import * as Poet from '/runtime.js'
  window.Poet = Poet
  window.unhandled = []
  addEventListener('unhandledrejection', (e) => window.unhandled.push(String(e.reason)))
  window.ready = true
</script>`

let browser: Browser
let base: string
const posted: PoetEvent[][] = []
let close: () => Promise<void>
// A collector that refuses its first `refuse` requests with 503 and this Retry-After, then accepts: batches wait out
// their retries.
const flaky: { at: number; url: string; body: string }[] = []
let retryAfter = '20'
let refuse = 1
// A collector that holds its first request for a while, as a slow one does: the queue behind it grows.
const slow: { url: string; events: number }[] = []

beforeAll(async () => {
  const runtime = await bundleRuntime('esm')
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/events') {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        posted.push(JSON.parse(body))
        res.writeHead(202).end()
      })
      return
    }
    if (req.method === 'POST' && req.url?.startsWith('/flaky')) {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        flaky.push({ at: Date.now(), url: req.url ?? '', body })
        if (flaky.length <= refuse) res.writeHead(503, { 'retry-after': retryAfter }).end()
        else res.writeHead(202).end()
      })
      return
    }
    if (req.method === 'POST' && req.url?.startsWith('/slow')) {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        slow.push({ url: req.url ?? '', events: (JSON.parse(body) as unknown[]).length })
        setTimeout(() => res.writeHead(202).end(), slow.length === 1 ? 1500 : 0)
      })
      return
    }
    const [type, content] = req.url === '/runtime.js' ? ['text/javascript', runtime] : ['text/html', PAGE]
    res.writeHead(200, { 'content-type': type }).end(content)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () => new Promise((r) => server.close(() => r()))
  browser = await launchChromium()
})

/** Waits until `done()` holds, for at most `ms`: a loaded machine answers late, and the assertions after it say what failed. */
async function until(done: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
}

afterAll(async () => {
  await browser?.close()
  await close?.()
})

/** A page of the test server with the bundled runtime loaded (as `window.Poet`). */
async function openPage(): Promise<Page> {
  const page = await browser.newPage()
  await page.goto(base)
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready)
  return page
}

describe('the runtime in Chromium', () => {
  it('runs poet functions and flushes their events with keepalive when the page is hidden and left', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(base)
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready)
    const result = await page.evaluate(async () => {
      const { poet, configure, httpSink, feedback, PoetInputError, PoetTimeoutError } = (window as unknown as { Poet: typeof import('../../src/runtime/index') }).Poet
      // A long interval: nothing is sent until the page goes away.
      configure({ sink: httpSink({ url: '/events', batchSize: 100, interval: 60_000 }) })
      const phases = {
        id: 'src/cart.ts#total',
        version: 'v1',
        generator: 'test',
        policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 1, factor: 2, jitter: true }, retryOn: 'any' as const, repair: false, sample: 1 },
        perceive: (args: unknown[]) => (Array.isArray(args[0]) ? undefined : [{ path: 'args[0]', expected: 'array', received: typeof args[0] }]),
      }
      const total = poet({}, phases)((prices: number[]) => ({ sum: prices.reduce((a, b) => a + b, 0) }))
      const slow = poet({ timeout: 20, attempts: 2, backoff: { initial: 1 } })(function slow() {
        return new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 100))
      })
      const t = total([1, 2, 3])
      feedback(t, { score: 0.9 })
      let input = ''
      try {
        total('nope' as unknown as number[])
      } catch (e) {
        input = e instanceof PoetInputError ? e.message : 'wrong error'
      }
      const timedOut = await slow().then(
        () => false,
        (e: unknown) => e instanceof PoetTimeoutError,
      )
      await new Promise((r) => setTimeout(r, 200))
      return { sum: t.sum, input, timedOut, unhandled: (window as unknown as { unhandled: string[] }).unhandled }
    })
    expect(result).toEqual({
      sum: 6,
      input: 'poet: invalid input of src/cart.ts#total:\n  args[0]: expected array, received string',
      timedOut: true,
      unhandled: [],
    })
    expect(posted).toEqual([])
    await page.goto('about:blank')
    await until(() => posted.length > 0)
    const events = posted.flat()
    expect(events.map((e) => (e.kind === 'execution' ? `${e.functionId} ${e.outcome}` : `${e.functionId} feedback`))).toEqual([
      'src/cart.ts#total ok',
      'src/cart.ts#total feedback',
      'src/cart.ts#total input_error',
      'slow timeout',
    ])
    expect(JSON.stringify(events)).not.toContain('nope')
    expect(errors).toEqual([])
    await page.close()
  })

  it('flushes when the page becomes hidden (visibilitychange), before any interval', async () => {
    posted.length = 0
    const page = await openPage()
    await page.evaluate(() => {
      const { poet, configure, httpSink } = (window as unknown as { Poet: typeof import('../../src/runtime/index') }).Poet
      configure({ sink: httpSink({ url: '/events', batchSize: 100, interval: 60_000 }) })
      const add = poet()(function add(a: number, b: number) {
        return a + b
      })
      add(1, 2)
      add(3, 4)
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(posted).toEqual([])
    // What the browser does when the tab is switched away or the phone locks.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
    })
    await until(() => posted.length > 0)
    expect(posted.flat().map((e) => `${e.functionId} ${e.kind}`)).toEqual(['add execution', 'add execution'])
    await page.close()
  })

  /** A page whose sink's only batch was refused with 503: resolves once the page is waiting out the retry. */
  async function waitingOutRetry(): Promise<Page> {
    flaky.length = 0
    refuse = 1
    const page = await openPage()
    await page.evaluate(() => {
      const w = window as unknown as { Poet: typeof import('../../src/runtime/index'); sink: unknown }
      const { poet, configure, httpSink } = w.Poet
      // The request tells the collector whether it was sent with keepalive, the flag that lets it outlive the page.
      const sink = httpSink({ url: '/flaky', batchSize: 1, fetch: (url, init) => fetch(`${url}?keepalive=${init?.keepalive}`, init) })
      w.sink = sink
      configure({ sink })
      poet()(function add(a: number, b: number) {
        return a + b
      })(1, 2)
    })
    await until(() => flaky.length >= 1)
    // The answer read and the wait begun.
    await new Promise((r) => setTimeout(r, 300))
    expect(flaky).toHaveLength(1)
    return page
  }

  it('sends a batch waiting out a retry at once, with keepalive, when the page is left, rather than losing it', async () => {
    retryAfter = '20'
    const page = await waitingOutRetry()
    await page.goto('about:blank')
    await until(() => flaky.length >= 2)
    expect(flaky).toHaveLength(2)
    expect(flaky[1]).toMatchObject({ url: '/flaky?keepalive=true', body: flaky[0].body })
    expect(flaky[1].at - flaky[0].at).toBeLessThan(5000)
    await page.close()
  })

  it('sends a batch waiting out a retry when the page is hidden, and not a second time when its wait would have ended', async () => {
    retryAfter = '5'
    const page = await waitingOutRetry()
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
    })
    await until(() => flaky.length >= 2)
    // Before the Retry-After was over, so sent as the page was hidden: the wait began only once the answer was read.
    // (Timed from the first request, not against a budget: a loaded machine may take seconds to hide the page.)
    expect(flaky[1].at - flaky[0].at).toBeLessThan(5000)
    // Past the Retry-After: the retry it was waiting for must not go out as well.
    await new Promise((r) => setTimeout(r, Math.max(0, flaky[0].at + 6000 - Date.now())))
    expect(flaky.map((r) => r.body)).toEqual([flaky[0].body, flaky[0].body])
    const counts = await page.evaluate(() => {
      const sink = (window as unknown as { sink: { sent: number; failed: number } }).sink
      return [sink.sent, sink.failed]
    })
    expect(counts).toEqual([1, 0])
    await page.close()
  })

  it('sends every batch waiting out a retry when the page is left, including those first sent when it was hidden', async () => {
    flaky.length = 0
    refuse = 4
    retryAfter = '20'
    const page = await openPage()
    await page.evaluate(() => {
      const { poet, configure, httpSink } = (window as unknown as { Poet: typeof import('../../src/runtime/index') }).Poet
      configure({ sink: httpSink({ url: '/flaky', batchSize: 2, interval: 60_000 }) })
      const add = poet()(function add(a: number, b: number) {
        return a + b
      })
      for (let i = 0; i < 5; i++) add(i, i)
    })
    // The first batch refused: it waits out its retry, and the three events behind it wait for it.
    await until(() => flaky.length >= 1)
    await new Promise((r) => setTimeout(r, 300))
    // Hidden: the waiting batch is retried and the others sent, in one request; both refused again, both wait.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }))
    })
    await until(() => flaky.length >= 3)
    await new Promise((r) => setTimeout(r, 300))
    expect(flaky).toHaveLength(3)
    await page.goto('about:blank')
    await until(() => flaky.length >= 4)
    const ids = (r: { body: string }) => (JSON.parse(r.body) as PoetEvent[]).map((e) => e.executionId)
    expect(flaky).toHaveLength(4)
    // Every event of the page once more, together: each reached the collector, once.
    expect(flaky.slice(3).flatMap(ids).sort()).toEqual([...new Set(flaky.slice(0, 3).flatMap(ids))].sort())
    expect(flaky.slice(3).map((r) => ids(r).length)).toEqual([5])
    await page.close()
  })

  it('keeps the keepalive requests it starts as the page goes away within the 64 KiB a browser allows in flight', async () => {
    slow.length = 0
    const page = await openPage()
    const refused = await page.evaluate(async () => {
      const { httpSink } = (window as unknown as { Poet: typeof import('../../src/runtime/index') }).Poet
      // What the browser refuses: a keepalive request past the page's quota fails at once, and after pagehide nothing
      // retries it.
      const refused: number[] = []
      const sink = httpSink({
        url: '/slow',
        batchSize: 10,
        interval: 60_000,
        fetch: (url, init) =>
          fetch(`${url}?keepalive=${init?.keepalive}`, init).catch((e: unknown) => {
            if (init?.keepalive) refused.push(String(init.body).length)
            throw e
          }),
      })
      // About 11 KB a batch: the first is held by the collector, the nine behind it queue up (about 99 KB).
      const comment = 'x'.repeat(1000)
      sink(Array.from({ length: 100 }, (_, i) => ({ v: 1, kind: 'feedback', functionId: 'f', version: 'v', executionId: `x-${i}`, ts: Date.now(), comment }) as const))
      await new Promise((r) => setTimeout(r, 300))
      dispatchEvent(new Event('pagehide'))
      await new Promise((r) => setTimeout(r, 300))
      ;(window as unknown as { sink: unknown }).sink = sink
      return refused
    })
    expect(refused).toEqual([])
    // The page is left: only keepalive requests outlive it. What they cannot hold is dropped, and counted.
    const dropped = await page.evaluate(() => (window as unknown as { sink: { dropped: number } }).sink.dropped)
    await until(() => slow.reduce((n, r) => n + r.events, 0) >= 100 - dropped)
    expect(slow.reduce((n, r) => n + r.events, 0)).toBe(100 - dropped)
    expect(dropped).toBeGreaterThan(0)
    expect(slow.slice(1).filter((r) => !r.url.endsWith('keepalive=true'))).toEqual([])
    await page.close()
  })

  it('reaches an OpenTelemetry Collector on another origin whose CORS allows only the default headers', async () => {
    // What a Collector's OTLP/HTTP receiver answers with `cors: { allowed_origins: ['*'] }` and no allowed_headers:
    // only Accept, Accept-Language, Content-Type and Content-Language (and X-Requested-With) pass its preflight.
    const logs: unknown[] = []
    const collector = createServer((req, res) => {
      const cors = { 'access-control-allow-origin': '*' }
      if (req.method === 'OPTIONS') {
        const asked = String(req.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim()).filter(Boolean)
        const allowed = ['accept', 'accept-language', 'content-type', 'content-language', 'x-requested-with']
        if (asked.every((h) => allowed.includes(h))) res.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': asked.join(', ') })
        else res.writeHead(204)
        return void res.end()
      }
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        logs.push(JSON.parse(body))
        res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r))
    const otlp = `http://localhost:${(collector.address() as AddressInfo).port}/v1/logs`
    const page = await openPage()
    try {
      const counts = await page.evaluate(async (url) => {
        const { otlpSink } = (window as unknown as { Poet: typeof import('../../src/runtime/index') }).Poet
        const sink = otlpSink({ url, retries: 0 })
        sink([{ v: 1, kind: 'execution', functionId: 'f', version: 'v', executionId: 'x', ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 }])
        await sink.flush()
        return [sink.sent, sink.failed]
      }, otlp)
      expect(counts).toEqual([1, 0])
      expect(logs).toHaveLength(1)
    } finally {
      await page.close()
      await new Promise((r) => collector.close(r))
    }
  })
})
