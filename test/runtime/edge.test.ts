// The runtime inside a real edge runtime (Vercel's edge-runtime: a V8 context with only web APIs, no Node).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EdgeRuntime } from 'edge-runtime'
import type { PoetEvent } from '../../src/runtime/index'
import { bundleRuntime } from './bundle'
import { startServer } from './sinks/server'

let code: string
let server: Awaited<ReturnType<typeof startServer>>
beforeAll(async () => {
  code = await bundleRuntime('iife')
  server = await startServer()
})
afterAll(() => server.close())

/** Runs `body` (an async function body using the global `Poet`) in a fresh edge VM and returns its JSON result. */
async function inEdge<T>(body: string): Promise<T> {
  const vm = new EdgeRuntime()
  expect(vm.evaluate('typeof require + typeof process')).toBe('undefinedundefined')
  vm.evaluate(code)
  return JSON.parse(await vm.evaluate<Promise<string>>(`(async () => JSON.stringify(await (async () => { ${body} })()))()`))
}

describe('the runtime in an edge runtime', () => {
  it('needs nothing from Node: the bundle imports and requires nothing', () => {
    expect(code).not.toMatch(/\brequire\(|from\s*["']node:|import\(/)
  })

  it('runs sync and async calls, retries, input validation and timeouts', async () => {
    const result = await inEdge<Record<string, unknown>>(`
      const { poet, onEvent, PoetInputError, PoetTimeoutError } = Poet
      const events = []
      onEvent((e) => events.push(e))
      const add = poet()((a, b) => a + b)
      let calls = 0
      const flaky = poet({ attempts: 3, backoff: { initial: 1 } })(async () => { if (++calls < 3) throw new Error('flaky'); return 'third time' })
      const slow = poet({ timeout: 20, attempts: 1 })(function slow() { return new Promise((r) => setTimeout(r, 500)) })
      const phases = { id: 'edge.ts#sqrt', version: 'v1', generator: 'test', policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 1, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
        perceive: (args) => typeof args[0] === 'number' ? undefined : [{ path: 'args[0]', expected: 'number', received: typeof args[0] }] }
      const sqrt = poet({}, phases)(Math.sqrt)
      let input, timeout
      try { sqrt('4') } catch (e) { input = e instanceof PoetInputError && e.message }
      try { await slow() } catch (e) { timeout = e instanceof PoetTimeoutError && e.message }
      return { sum: add(2, 3), flaky: await flaky(), calls, root: sqrt(9), input, timeout, outcomes: events.map((e) => e.outcome) }
    `)
    expect(result).toEqual({
      sum: 5,
      flaky: 'third time',
      calls: 3,
      root: 3,
      input: 'poet: invalid input of edge.ts#sqrt:\n  args[0]: expected number, received string',
      timeout: 'poet: slow timed out after 20 ms',
      outcomes: ['input_error', 'timeout', 'ok', 'ok', 'ok'],
    })
  })

  it('sends events and feedback to a real collector with httpSink', async () => {
    const before = server.received.length
    const out = await inEdge<{ sent: number }>(`
      const { poet, configure, httpSink, feedback } = Poet
      const sink = httpSink({ url: ${JSON.stringify(server.url + '/v1/events')}, batchSize: 10 })
      configure({ sink })
      const quote = poet()(async function quote(n) { return { total: n * 2 } })
      const q = await quote(21)
      feedback(q, { score: 1, label: 'edge' })
      await new Promise((r) => setTimeout(r, 0))
      await sink.flush()
      return { sent: sink.sent }
    `)
    expect(out.sent).toBe(2)
    const body = JSON.parse(server.received[before].body) as PoetEvent[]
    expect(body.map((e) => [e.kind, e.functionId])).toEqual([
      ['execution', 'quote'],
      ['feedback', 'quote'],
    ])
    expect(body[0].executionId).toBe(body[1].executionId)
  })
})
