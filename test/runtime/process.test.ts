// The runtime in a real Node process: it never holds the process open, and events still leave before it exits.
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PoetEvent } from '../../src/runtime/index'
import { bundleRuntime } from './bundle'
import { startGate, startServer } from './sinks/server'

const dir = fileURLToPath(new URL('../.tmp/runtime-process/', import.meta.url))
let server: Awaited<ReturnType<typeof startServer>>

beforeAll(async () => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(`${dir}runtime.mjs`, await bundleRuntime('esm'))
  server = await startServer()
})
afterAll(() => server.close())

/** Runs an ES module script beside the bundled runtime; resolves with its exit code, output and wall time. */
function run(name: string, source: string): Promise<{ code: number | null; out: string; ms: number }> {
  writeFileSync(`${dir}${name}.mjs`, source)
  const t0 = Date.now()
  return new Promise((resolve) => {
    // A script that would never end (a retry loop without bound) is killed, and fails on its exit code.
    const child = spawn(process.execPath, [`${dir}${name}.mjs`], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 })
    let out = ''
    child.stdout.on('data', (c) => (out += c))
    child.stderr.on('data', (c) => (out += c))
    child.on('exit', (code) => resolve({ code, out, ms: Date.now() - t0 }))
  })
}

describe('the runtime in a Node process', () => {
  it('exits as soon as the work is done: a 30 s timeout armed on a fast call keeps nothing alive', async () => {
    const r = await run(
      'timeout',
      `import { poet } from './runtime.mjs'
       const quick = poet({ timeout: 30_000 })(async (x) => x * 2)
       console.log(await quick(21))`,
    )
    expect(r).toMatchObject({ code: 0, out: '42\n' })
    expect(r.ms).toBeLessThan(10_000)
  })

  it('exits as soon as the work is done on a platform whose timers cannot be unref\'d (Deno\'s are numbers)', async () => {
    const r = await run(
      'timeout-no-unref',
      `const setTimer = globalThis.setTimeout
       // As in Deno: a timer is a number, with no unref, and keeps the process alive until it fires or is cleared.
       globalThis.setTimeout = (fn, ms, ...args) => Number(setTimer(fn, ms, ...args))
       const { poet } = await import('./runtime.mjs')
       const quick = poet({ timeout: 20_000 })(async (x) => x * 2)
       const late = poet({ timeout: 25_000 })(async (x) => { await new Promise((r) => setTimer(r, 50)); return x })
       console.log(await quick(21), await Promise.all([late(1), quick(2)]))`,
    )
    expect(r).toMatchObject({ code: 0, out: '42 [ 1, 4 ]\n' })
    expect(r.ms).toBeLessThan(10_000)
  })

  it('sets no timer per call: sequential calls with a timeout share one armed timer', async () => {
    const r = await run(
      'timeout-shared',
      `const setTimer = globalThis.setTimeout
       let timers = 0
       globalThis.setTimeout = (...args) => (timers++, setTimer(...args))
       const { poet } = await import('./runtime.mjs')
       const quick = poet({ timeout: 20_000 })(async (x) => x * 2)
       let sum = 0
       for (let i = 0; i < 200; i++) sum += await quick(i)
       console.log(sum, timers)`,
    )
    expect(r.code).toBe(0)
    const [sum, timers] = r.out.trim().split(' ').map(Number)
    expect(sum).toBe(2 * ((199 * 200) / 2))
    expect(timers).toBeLessThanOrEqual(2)
  })

  it('treats a timeout too long for a timer (about 25 days or more) as none, rather than firing every millisecond', async () => {
    // A platform timer cannot wait 2^31 ms or more: it fires after 1 ms instead (Node warns each time).
    const r = await run(
      'long-timeout',
      `import { poet } from './runtime.mjs'
       let overflows = 0
       process.on('warning', (w) => { if (w.name === 'TimeoutOverflowWarning') overflows++ })
       const slow = poet({ timeout: 1e12 })(async (x) => { await new Promise((r) => setTimeout(r, 100)); return x })
       console.log(await slow(1), overflows)`,
    )
    expect(r).toMatchObject({ code: 0, out: '1 0\n' })
  })

  it('sends queued events before the process exits, without waiting for the batch interval', async () => {
    const before = server.received.length
    const r = await run(
      'flush-on-exit',
      `import { poet, configure, httpSink } from './runtime.mjs'
       configure({ sink: httpSink({ url: ${JSON.stringify(server.url + '/v1/events')}, interval: 60_000, batchSize: 100 }) })
       const f = poet()(function work(x) { return x + 1 })
       f(1); f(2); f(3)
       console.log('done')`,
    )
    expect(r).toMatchObject({ code: 0, out: 'done\n' })
    expect(r.ms).toBeLessThan(10_000)
    const events = server.received.slice(before).flatMap((x) => JSON.parse(x.body) as PoetEvent[])
    expect(events.map((e) => `${e.functionId} ${e.kind}`)).toEqual(['work execution', 'work execution', 'work execution'])
  })

  it('sends the events of a dozen open httpSinks before the process exits, with no warning of a listener leak', async () => {
    const before = server.received.length
    const r = await run(
      'many-sinks',
      `import { httpSink } from './runtime.mjs'
       for (let i = 0; i < 12; i++) {
         const sink = httpSink({ url: ${JSON.stringify(server.url + '/v1/events')}, interval: 60_000 })
         sink([{ v: 1, kind: 'execution', functionId: 'f', version: 'v', executionId: 'x-' + i, ts: 0, duration: 1, outcome: 'ok', attempts: 1 }])
       }
       console.log('done')`,
    )
    // Node prints MaxListenersExceededWarning to stderr (part of out) at the eleventh listener of one event.
    expect(r).toMatchObject({ code: 0, out: 'done\n' })
    const ids = server.received.slice(before).flatMap((x) => (JSON.parse(x.body) as PoetEvent[]).map((e) => e.executionId))
    expect(ids.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `x-${i}`).sort())
  })

  it('awaits a retry in progress on close at the end of a script, instead of exiting with the batch unsent', async () => {
    // The collector is busy once (a 503, as under load): the batch waits out its backoff, and close awaits that.
    const busy = await startServer((_, n) => (n === 1 ? { status: 503 } : { status: 202 }))
    try {
      const r = await run(
        'close-during-retry',
        `import { httpSink } from './runtime.mjs'
         const sink = httpSink({ url: ${JSON.stringify(busy.url + '/v1/events')}, retryDelay: 300 })
         sink([{ v: 1, kind: 'execution', functionId: 'f', version: 'v', executionId: 'x', ts: 0, duration: 1, outcome: 'ok', attempts: 1 }])
         await sink.close()
         console.log('sent', sink.sent)`,
      )
      expect(r).toMatchObject({ code: 0, out: 'sent 1\n' })
      expect(busy.received).toHaveLength(2)
    } finally {
      await busy.close()
    }
  })

  it('exits within the retries of one batch when the collector is down, however many batches are queued', async () => {
    // A port of the test's own that drops every connection: a closed server's port may be another process's by now.
    const gone = await startGate()
    try {
      const r = await run(
        'exit-collector-down',
        `import { poet, configure, httpSink } from './runtime.mjs'
         const sink = httpSink({ url: ${JSON.stringify(gone.url + '/v1/events')}, batchSize: 2, retryDelay: 200, timeout: 1000 })
         configure({ sink })
         const f = poet()(function work(x) { return x + 1 })
         for (let i = 0; i < 20; i++) f(i)
         process.on('exit', () => console.log('failed', sink.failed))`,
      )
      // A request whose reset leaves Node 20's fetch pending (about 1 in 300) waits out its 1 s timeout.
      expect(r).toMatchObject({ code: 0, out: 'failed 20\n' })
      // The first batch is tried 5 times (its 4 retries wait 3 s at most, jittered), the next once, and the 8 behind
      // them are given up. Each of the ten waiting out its own retries, 50 requests, would take 15 s on average.
      expect(gone.connections).toBe(6)
      expect(r.ms).toBeLessThan(10_000)
    } finally {
      await gone.close()
    }
  })

  it("waits at exit for a request whose connection closed before it was written (Node 20's fetch stays pending)", async () => {
    const closing = await startGate({ close: true })
    try {
      const r = await run(
        'exit-fetch-pending',
        `import { poet, configure, httpSink } from './runtime.mjs'
         const sink = httpSink({ url: ${JSON.stringify(closing.url + '/v1/events')}, retries: 1, retryDelay: 100, timeout: 500 })
         configure({ sink })
         const f = poet()(function work(x) { return x + 1 })
         for (let i = 0; i < 3; i++) f(i)
         process.on('exit', () => console.log('failed', sink.failed))`,
      )
      // Counted as failed after its tries timed out, where the process ended at the first one, nothing sent or counted.
      expect(r).toMatchObject({ code: 0, out: 'failed 3\n' })
      expect(closing.connections).toBeGreaterThanOrEqual(2)
    } finally {
      await closing.close()
    }
  })

  it('sends a batch that was waiting to be retried when the process ran dry', async () => {
    const busy = await startServer((_, n) => (n === 1 ? { status: 503 } : { status: 202 }))
    try {
      const r = await run(
        'exit-during-retry',
        `import { poet, configure, httpSink } from './runtime.mjs'
         configure({ sink: httpSink({ url: ${JSON.stringify(busy.url + '/v1/events')}, batchSize: 1, retryDelay: 300 }) })
         poet()(function work(x) { return x + 1 })(1)
         console.log('done')`,
      )
      expect(r).toMatchObject({ code: 0, out: 'done\n' })
      expect(busy.received.map((x) => (JSON.parse(x.body) as PoetEvent[]).length)).toEqual([1, 1])
    } finally {
      await busy.close()
    }
  })

  it('ends a sync function that always throws under an endless or absurd attempts option (no plugin to refuse it)', async () => {
    const r = await run(
      'attempts',
      `import { poet } from './runtime.mjs'
       for (const attempts of [Infinity, 1e12, NaN, -1, 100]) {
         let n = 0
         const f = poet({ attempts })(() => { n++; throw new Error('down') })
         try { f() } catch (e) { console.log(attempts, n, e.message) }
       }`,
    )
    expect(r.code).toBe(0)
    // Beyond the plugin's range (1 to 100), the default: three tries.
    expect(r.out.trim().split('\n')).toEqual(['Infinity 3 down', '1000000000000 3 down', 'NaN 3 down', '-1 1 down', '100 100 down'])
  })
})

describe('an onEvent listener that fails', () => {
  it('breaks neither the call nor the process, thrown or rejected (an async listener\'s rejection was unhandled: Node exited with it)', async () => {
    const r = await run(
      'listener-rejects',
      `import { feedback, onEvent, poet } from './runtime.mjs'
       onEvent(async () => { throw new Error('async listener failed') })
       onEvent(() => Promise.reject(new Error('listener rejected')))
       onEvent(() => { throw new Error('listener threw') })
       let heard = 0
       onEvent(() => void heard++)
       const f = poet({ attempts: 1 })((n) => ({ n }))
       const r = f(1)
       feedback(r, { score: 1 })
       // Past the microtasks the rejections would go unhandled in, and a macrotask beyond.
       await new Promise((done) => setTimeout(done, 0))
       console.log(r.n, heard)`,
    )
    expect(r).toMatchObject({ code: 0, out: '1 2\n' })
  })
})
