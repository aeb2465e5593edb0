import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configure, httpSink, poet, type ExecutionEvent, type FeedbackEvent, type PoetEvent } from '../../../src/runtime/index'
import { serve } from '../../../src/train/collector'
import { startGate, startServer } from './server'

const event = (i: number): ExecutionEvent => ({
  v: 1,
  kind: 'execution',
  functionId: 'src/a.ts#f',
  version: 'v1',
  executionId: `x-${i}`,
  ts: Date.now(),
  duration: 1,
  outcome: 'ok',
  attempts: 1,
})
const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => event(from + i))
const ids = (body: string) => (JSON.parse(body) as PoetEvent[]).map((e) => e.executionId)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// Returns as soon as `done` holds, so a long bound costs nothing on a fast machine and spares a loaded one.
async function until(done: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await sleep(10)
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  configure({ sink: false })
  while (cleanup.length) await cleanup.pop()!()
})

async function setup(answer?: Parameters<typeof startServer>[0], opts: Partial<Parameters<typeof httpSink>[0]> = {}) {
  const server = await startServer(answer)
  const sink = httpSink({ url: `${server.url}/v1/events`, retryDelay: 10, ...opts })
  cleanup.push(server.close, sink.close)
  return { server, sink }
}

describe('httpSink against a real HTTP server', () => {
  it('sends full batches at once and a partial batch after the interval, as JSON with the token', async () => {
    const { server, sink } = await setup(undefined, { batchSize: 3, interval: 2500, token: 's3cret' })
    const t0 = Date.now()
    sink(events(0, 7))
    await until(() => server.received.length >= 2)
    // Full batches do not wait for the interval.
    expect(server.received[1].at - t0).toBeLessThan(2500)
    expect(server.received.map((r) => ids(r.body))).toEqual([
      ['x-0', 'x-1', 'x-2'],
      ['x-3', 'x-4', 'x-5'],
    ])
    await until(() => server.received.length >= 3)
    expect(ids(server.received[2].body)).toEqual(['x-6'])
    expect(server.received[2].at - t0).toBeGreaterThanOrEqual(2495)
    expect(server.received[0].headers).toMatchObject({ authorization: 'Bearer s3cret', 'content-type': 'application/json', 'x-poet-dropped': expect.stringMatching(/^0;session=[\w-]+$/) })
    // One session per sink, in every request it makes.
    expect(new Set(server.received.map((r) => r.headers['x-poet-dropped'])).size).toBe(1)
    expect(server.received[0].path).toBe('/v1/events')
    // The server records a request before the sink has read its answer (and counted it): wait for that too.
    await until(() => sink.sent === 7)
    expect(sink.sent).toBe(7)
  })

  it('keeps sending after its interval fires on an empty queue (a full batch went out first), and flush then ends', async () => {
    // A fetch that answers at once: the full batch is done before the interval fires, so the queue is empty then.
    const bodies: string[] = []
    const sink = httpSink({
      url: 'http://collector.invalid/v1/events',
      batchSize: 2,
      interval: 20,
      fetch: async (_url, init) => (bodies.push(String(init?.body)), new Response(null, { status: 202 })),
    })
    // Closed at the end, not in afterEach: close flushes, which before the fix never ended (and so neither would the run).
    sink(events(0, 1)) // a partial batch: the interval starts
    sink(events(1, 1)) // now full: sent at once
    await sleep(60) // the interval fires on the empty queue
    sink(events(2, 2))
    await until(() => bodies.length >= 2)
    expect(bodies.map(ids)).toEqual([
      ['x-0', 'x-1'],
      ['x-2', 'x-3'],
    ])
    // Only reached once batches flow again: before the fix, flush spun on the finished drain forever.
    sink(events(4, 1))
    await sink.flush()
    expect(ids(bodies[2]!)).toEqual(['x-4'])
    expect(sink.sent).toBe(5)
    await sink.close()
  })

  it('ends a flush once what was queued at the call is sent, while events keep coming', async () => {
    // A slow collector and a steady stream of events (a busy server flushing at the end of each request).
    const { server, sink } = await setup(undefined, {
      batchSize: 2,
      fetch: async (url, init) => (await sleep(30), fetch(url, init)),
    })
    let n = 0
    const stream = setInterval(() => sink(events(n++, 1)), 5)
    try {
      await sleep(50)
      const queued = n
      const outcome = await Promise.race([sink.flush().then(() => 'flushed'), sleep(10_000).then(() => 'still flushing')])
      expect(outcome).toBe('flushed')
      const got = server.received.flatMap((r) => ids(r.body))
      expect(events(0, queued).map((e) => e.executionId).every((id) => got.includes(id))).toBe(true)
    } finally {
      clearInterval(stream)
    }
  })

  it('leaves the events that come while it sends what a flush asked for to their interval, rather than chasing each with a request', async () => {
    // Each request held until released: what comes meanwhile is queued behind it.
    const bodies: string[] = []
    const held: (() => void)[] = []
    const sink = httpSink({
      url: 'http://collector.invalid/v1/events',
      interval: 10_000,
      fetch: async (_url, init) => {
        bodies.push(String(init?.body))
        await new Promise<void>((r) => held.push(r))
        return new Response(null, { status: 202 })
      },
    })
    sink(events(0, 1))
    const flushed = sink.flush()
    await until(() => held.length === 1)
    // A call made while the flush's request is out: before the fix, its answer sent this one at once in a request of
    // its own, and the next one's answer the next call's, a request per call for as long as calls kept coming.
    sink(events(1, 1))
    held.shift()!()
    await flushed
    await sleep(20)
    expect(bodies.map(ids)).toEqual([['x-0']])
    const closed = sink.close()
    await until(() => held.length === 1)
    held.shift()!()
    await closed
    expect(bodies.map(ids)).toEqual([['x-0'], ['x-1']])
  })

  it('still sends a partial batch after its interval once closed while a timer was pending (events that come late)', async () => {
    const { server, sink } = await setup(undefined, { batchSize: 10, interval: 50 })
    sink(events(0, 1)) // arms the interval
    await sink.close()
    sink(events(1, 1)) // a call still ending after close, with the sink still configured
    await until(() => server.received.length >= 2)
    expect(server.received.map((r) => ids(r.body))).toEqual([['x-0'], ['x-1']])
  })

  it('uses keepalive requests, so a flush on page unload outlives the page', async () => {
    const seen: (boolean | undefined)[] = []
    const { sink } = await setup(undefined, { fetch: (url, init) => (seen.push(init?.keepalive), fetch(url, init)) })
    sink(events(0, 2))
    await sink.flush()
    expect(seen).toEqual([true])
  })

  it('sends a body over the keepalive limit in bytes without keepalive, even when it is short in characters', async () => {
    const seen: (boolean | undefined)[] = []
    const { server, sink } = await setup(undefined, { fetch: (url, init) => (seen.push(init?.keepalive), fetch(url, init)) })
    // 25 000 characters, 75 000 bytes of UTF-8: a browser refuses such a keepalive request outright (64 KiB limit).
    const comment = '漢'.repeat(25_000)
    sink([{ v: 1, kind: 'feedback', functionId: 'src/a.ts#f', version: 'v1', executionId: 'x-0', ts: Date.now(), comment }])
    await sink.flush()
    expect(seen).toEqual([false])
    expect((JSON.parse(server.received[0].body) as FeedbackEvent[])[0].comment).toBe(comment)
  })

  it('honours 429 with Retry-After, then delivers the batch', async () => {
    const { server, sink } = await setup((_, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }))
    sink(events(0, 2))
    await sink.flush()
    expect(server.received).toHaveLength(2)
    expect(server.received[1].at - server.received[0].at).toBeGreaterThanOrEqual(990)
    expect(ids(server.received[1].body)).toEqual(['x-0', 'x-1'])
    expect([sink.sent, sink.failed]).toEqual([2, 0])
  })

  it('gives a batch up rather than wait out a Retry-After beyond its longest backoff (30 s)', async () => {
    const { server, sink } = await setup(() => ({ status: 503, headers: { 'retry-after': '3600' } }))
    sink(events(0, 2))
    // Raced: a sink that obeys the hour holds flush (and close, and a Node process at exit) for that hour.
    await Promise.race([sink.flush(), sleep(10_000)])
    expect(server.received).toHaveLength(1)
    expect([sink.sent, sink.failed]).toEqual([0, 2])
  })

  it('retries 5xx with backoff and gives a batch up after `retries`, counting it', async () => {
    const { server, sink } = await setup(() => ({ status: 503 }), { retries: 2 })
    sink(events(0, 3))
    await sink.flush()
    expect(server.received).toHaveLength(3)
    expect([sink.sent, sink.failed]).toEqual([0, 3])
  })

  it('gives up on a request the server never answers after `timeout`, and retries it', async () => {
    const { server, sink } = await setup((_, n) => (n === 1 ? null : { status: 202 }), { timeout: 200 })
    sink(events(0, 2))
    // Raced, so that a sink stuck on the hanging request fails here rather than in the test's timeout.
    await Promise.race([sink.flush(), sleep(10_000)])
    expect(server.received).toHaveLength(2)
    expect([sink.sent, sink.failed]).toEqual([2, 0])
  })

  it('gives the queue up when the collector is down, rather than each batch waiting out its own retries', async () => {
    const { server, sink } = await setup(() => ({ status: 503 }), { batchSize: 2, retries: 2, retryDelay: 100 })
    sink(events(0, 10))
    await sink.flush()
    // The first batch is tried 3 times, the next once; that failing too, the 3 batches behind it are given up (each
    // waiting out its own retries would make 15 requests: counted, not timed, which a loaded machine could not keep).
    expect(server.received).toHaveLength(4)
    expect([sink.sent, sink.failed]).toEqual([0, 10])
  })

  it('after giving a batch up, goes on as before once the collector answers again', async () => {
    const { server, sink } = await setup((_, n) => (n <= 3 || n === 6 ? { status: 503 } : { status: 202 }), { batchSize: 2, retries: 2 })
    sink(events(0, 6))
    await sink.flush()
    expect(server.received.map((r) => ids(r.body)[0])).toEqual(['x-0', 'x-0', 'x-0', 'x-2', 'x-4'])
    expect([sink.sent, sink.failed]).toEqual([4, 2])
    // Back to full retries: a single 503 more, and the batch still gets through.
    sink(events(10, 2))
    await sink.flush()
    expect(server.received.slice(5).map((r) => ids(r.body)[0])).toEqual(['x-10', 'x-10'])
    expect([sink.sent, sink.failed]).toEqual([6, 2])
  })

  it('takes a request timeout of 0 or Infinity as none, and a fractional one as it is, rather than failing every request', async () => {
    for (const timeout of [0, Infinity, 1500.5]) {
      const { server, sink } = await setup(undefined, { timeout })
      sink(events(0, 1))
      await sink.flush()
      expect([timeout, server.received.length, sink.sent, sink.failed]).toEqual([timeout, 1, 1, 0])
    }
  })

  it('does not retry a batch the server refused (400)', async () => {
    const { server, sink } = await setup(() => ({ status: 400 }))
    sink(events(0, 1))
    await sink.flush()
    expect(server.received).toHaveLength(1)
    expect(sink.failed).toBe(1)
  })

  it('says once, naming the url and the collector\'s reason, when a real poet serve refuses its token (events went nowhere without a word)', async () => {
    const collector = await realCollector({ token: 'right' })
    const { warnings, restore } = capturedWarnings()
    try {
      const url = `${collector.url}/v1/events`
      const sink = httpSink({ url, token: 'wrong', batchSize: 2 })
      cleanup.push(sink.close)
      sink(events(0, 5))
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([0, 5])
      expect(warnings).toEqual([
        `poet: httpSink: ${url} refused 2 events (401: missing or wrong bearer token (send \`Authorization: Bearer <token>\`, as given to \`poet serve --token\`)); refused events are not sent again`,
      ])
      expect(collector.collector.store.count('executions')).toBe(0)
    } finally {
      restore()
    }
  })

  it('says once, with the collector\'s reason, when a real poet serve takes a batch but refuses some of its events (a clock a year ahead)', async () => {
    const collector = await realCollector()
    const { warnings, restore } = capturedWarnings()
    try {
      const url = `${collector.url}/v1/events`
      const sink = httpSink({ url, batchSize: 3 })
      cleanup.push(sink.close)
      const ahead = Date.now() + 365 * 86_400_000
      sink([...events(0, 2), { ...event(2), ts: ahead }, { ...event(3), ts: ahead }, ...events(4, 2)])
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([4, 2])
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(new RegExp(`^poet: httpSink: ${url.replace(/[.?]/g, '\\$&')} refused 1 of 3 events \\(202: events\\[2\\]\\.ts: \\d+ \\(.+\\) is more than a day after this collector's clock .+; check the clock of the machine that sent it\\); refused events are not sent again$`))
      expect(collector.collector.store.count('executions')).toBe(4)
    } finally {
      restore()
    }
  })

  it('splits a batch a real poet serve refuses as too large (413) until its parts fit, rather than losing all of it', async () => {
    const collector = await realCollector()
    const { warnings, restore } = capturedWarnings()
    try {
      const sink = httpSink({ url: `${collector.url}/v1/events`, batchSize: 300 })
      cleanup.push(sink.close)
      // Input errors with 100 issues each (events carry an issue's path), about 4.5 KB: 300 of them are over the
      // collector's 1 MiB.
      const issues = Array.from({ length: 100 }, (_, k) => ({ path: `args[0].rows[${k}].cells[3].value` })) as ExecutionEvent['issues']
      sink(events(0, 300).map((e) => ({ ...e, outcome: 'input_error' as const, issues })))
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([300, 0])
      expect(collector.collector.store.count('executions')).toBe(300)
      expect(warnings).toEqual([])
    } finally {
      restore()
    }
  })

  it('refuses a lone event over the collector\'s limit, saying so in the singular, and still sends the rest of its batch', async () => {
    const collector = await realCollector({ maxBody: 2000 })
    const { warnings, restore } = capturedWarnings()
    try {
      const url = `${collector.url}/v1/events`
      const sink = httpSink({ url, batchSize: 3 })
      cleanup.push(sink.close)
      const comment = 'x'.repeat(2000)
      sink([event(0), { v: 1, kind: 'feedback', functionId: 'src/a.ts#f', version: 'v1', executionId: 'x-0', ts: Date.now(), comment }, event(2)])
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([2, 1])
      expect(warnings).toEqual([`poet: httpSink: ${url} refused 1 event (413: body over 2000 bytes; send smaller batches); refused events are not sent again`])
    } finally {
      restore()
    }
  })

  it('drops the oldest events beyond maxQueue, counts them, and tells the server', async () => {
    const { server, sink } = await setup(undefined, { maxQueue: 5, batchSize: 100, interval: 10_000 })
    sink(events(0, 8))
    await sink.flush()
    expect(sink.dropped).toBe(3)
    expect(ids(server.received[0].body)).toEqual(['x-3', 'x-4', 'x-5', 'x-6', 'x-7'])
    expect(server.received[0].headers['x-poet-dropped']).toMatch(/^3;session=[\w-]+$/)
  })

  it('has poet serve count what it dropped once, however many requests repeat its running count', async () => {
    const poet = await serve({ port: 0, db: join(mkdtempSync(join(tmpdir(), 'poet-sink-')), 'feedback.db') })
    const sink = httpSink({ url: `${poet.url}/v1/events`, maxQueue: 5, batchSize: 100, interval: 10_000 })
    const other = httpSink({ url: `${poet.url}/v1/events`, maxQueue: 2, batchSize: 100, interval: 10_000 })
    cleanup.push(async () => {
      await poet.close()
      rmSync(dirname(poet.collector.store.file), { recursive: true, force: true })
    }, sink.close, other.close)
    const health = async () => ((await (await fetch(`${poet.url}/healthz`)).json()) as { dropped: { events: number; since?: number } }).dropped
    sink(events(0, 8))
    await sink.flush()
    expect(sink.dropped).toBe(3)
    expect((await health()).events).toBe(3)
    // Its next requests say 3 again, then 6: the collector adds what is new, not each request's count.
    sink(events(10, 1))
    await sink.flush()
    expect((await health()).events).toBe(3)
    sink(events(20, 8))
    await sink.flush()
    expect([sink.sent, sink.dropped]).toEqual([11, 6])
    // Another page's sink counts apart.
    other(events(30, 3))
    await other.flush()
    const { events: dropped, since } = await health()
    expect(dropped).toBe(7)
    expect(since).toBeLessThanOrEqual(Date.now())
    const table = (await (await fetch(`${poet.url}/v1/functions?window=1h`)).json()) as { dropped: number }
    expect(table.dropped).toBe(7)
  })

  it('tells poet serve about the events it gave up while the collector was down, once it is up again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poet-sink-'))
    // Down: every connection is dropped, on a port that stays the test's own until the collector is up behind it.
    const gate = await startGate()
    cleanup.push(gate.close)
    const sink = httpSink({ url: `${gate.url}/v1/events`, retries: 1, retryDelay: 10, batchSize: 100, interval: 10_000 })
    cleanup.push(sink.close)
    sink(events(0, 3))
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([0, 3])
    const poet = await serve({ port: 0, db: join(dir, 'feedback.db') })
    cleanup.push(async () => {
      await poet.close()
      rmSync(dir, { recursive: true, force: true })
    })
    gate.up(Number(new URL(poet.url).port))
    sink(events(10, 1))
    await sink.flush()
    expect([sink.sent, sink.failed, sink.dropped]).toEqual([1, 3, 0])
    const health = (await (await fetch(`${poet.url}/healthz`)).json()) as { executions: number; dropped: { events: number } }
    // Nothing lost without a word: what the collector did not get, it was told about.
    expect([health.executions, health.dropped.events]).toEqual([1, 3])
    const table = (await (await fetch(`${poet.url}/v1/functions?window=1h`)).json()) as { dropped: number }
    expect(table.dropped).toBe(3)
  })

  it('survives an unreachable server without an unhandled rejection, and the calls it reports on never notice', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (r: unknown) => unhandled.push(r)
    process.on('unhandledRejection', onUnhandled)
    try {
      // A port of the test's own that drops every connection: a closed server's port may be another process's by now.
      const gate = await startGate()
      cleanup.push(gate.close)
      const sink = httpSink({ url: `${gate.url}/v1/events`, retries: 2, retryDelay: 5, batchSize: 2 })
      cleanup.push(sink.close)
      configure({ sink })
      const f = poet()((x: number) => x * 2)
      for (let i = 0; i < 5; i++) expect(f(i)).toBe(i * 2)
      await sleep(0)
      await sink.flush()
      expect([sink.sent, sink.failed]).toEqual([0, 5])
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('refuses a batch size that could never empty its queue, rather than posting empty batches forever', () => {
    for (const batchSize of [0, -1, 0.5, NaN]) {
      expect(() => httpSink({ url: 'http://127.0.0.1:1/v1/events', batchSize })).toThrow(`poet: httpSink batchSize must be a whole number from 1, got ${batchSize}`)
    }
  })

  it('warns about a relative url where there is no page to resolve it against, and drops its events without failing', async () => {
    const { warnings, restore } = capturedWarnings()
    try {
      const sink = httpSink({ url: '/__poet/events' })
      cleanup.push(sink.close)
      sink(events(0, 2))
      await sink.flush()
      expect(warnings).toEqual(['poet: httpSink needs an absolute url outside a browser, got "/__poet/events"; its events are dropped'])
      expect([sink.sent, sink.failed]).toEqual([0, 2])
    } finally {
      restore()
    }
  })

  it('counts a batch its encode cannot encode as failed, without an unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (r: unknown) => unhandled.push(r)
    process.on('unhandledRejection', onUnhandled)
    try {
      const { server, sink } = await setup(undefined, {
        batchSize: 2,
        encode: () => {
          throw new Error('cannot encode')
        },
      })
      sink(events(0, 2))
      await sink.flush()
      await sleep(20)
      expect([server.received.length, sink.failed]).toEqual([0, 2])
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('sends the rest of a batch without the events JSON cannot encode (a BigInt or a cycle a listener put in one), counting those as failed', async () => {
    const { server, sink } = await setup(undefined, { batchSize: 5 })
    const batch: PoetEvent[] = events(0, 5)
    Object.assign(batch[1]!, { extra: 1n })
    Object.assign(batch[3]!, { self: batch[3] })
    sink(batch)
    await sink.flush()
    expect(server.received.map((r) => ids(r.body))).toEqual([['x-0', 'x-2', 'x-4']])
    expect([sink.sent, sink.failed]).toEqual([3, 2])
  })

  it('includes in a flush or close the events of calls made just before it, which configure() delivers a microtask later', async () => {
    const { server, sink } = await setup(undefined, { interval: 60_000 })
    configure({ sink })
    const f = poet()(function work(x: number) {
      return x + 1
    })
    f(1)
    await sink.flush()
    expect(sink.sent).toBe(1)
    // The last lines of a script: its last call's event must not be left behind in a closed sink.
    f(2)
    await sink.close()
    expect(sink.sent).toBe(2)
    expect(server.received).toHaveLength(2)
  })

  it('carries real execution events from configure() to the server', async () => {
    const { server, sink } = await setup(undefined, { batchSize: 2 })
    configure({ sink })
    const f = poet()(async function double(x: number) {
      return x * 2
    })
    await f(1)
    await f(2)
    await until(() => server.received.length >= 1)
    const body = JSON.parse(server.received[0].body) as ExecutionEvent[]
    expect(body.map((e) => [e.functionId, e.outcome])).toEqual([
      ['double', 'ok'],
      ['double', 'ok'],
    ])
  })
})

/** A real `poet serve` on 127.0.0.1 with a SQLite file of its own, closed and removed after the test. */
async function realCollector(options: { token?: string; maxBody?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'poet-sink-collector-'))
  const collector = await serve({ port: 0, db: join(dir, 'feedback.db'), ...options })
  cleanup.push(async () => {
    await collector.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return collector
}

/** What console.warn is given until `restore()`. */
function capturedWarnings(): { warnings: unknown[]; restore(): void } {
  const warnings: unknown[] = []
  const warn = console.warn
  console.warn = (m: unknown) => void warnings.push(m)
  return { warnings, restore: () => void (console.warn = warn) }
}
