// Domain phase modules run by the real runtime: what a user sees from a call (errors, retries, repairs and stats in events).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PoetOptions } from '../../../src/runtime/types'
import { onEvent, poet, PoetInputError, type ExecutionEvent, type PoetEvent } from '../../../src/runtime/index'
import { DomainRegistry } from '../../../src/generators/builtin/domains/index'
import { phasesFor } from './harness'

const registry = new DomainRegistry()

async function marked<F extends (...args: never[]) => unknown>(domain: string, code: string, name: string, fn: F, options: PoetOptions = {}): Promise<F> {
  const phases = await phasesFor(code, name, { pack: registry.get(domain), options: { domain, ...options } })
  return poet({ domain, ...options }, phases)(fn)
}

/** What `await fn()` throws, the way a caller's try/catch sees it. */
async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn()
  } catch (e) {
    return e
  }
  throw new Error('expected the call to fail')
}

/** Runs `body` and returns the execution events it emitted. */
async function eventsOf(body: () => unknown): Promise<ExecutionEvent[]> {
  const seen: PoetEvent[] = []
  const off = onEvent((e) => seen.push(e))
  try {
    await body()
  } finally {
    off()
  }
  return seen.filter((e): e is ExecutionEvent => e.kind === 'execution')
}

describe('financial_services under the runtime', () => {
  const code = `
    interface Charge { amount: number; currency: string }
    export async function charge(c: Charge): Promise<{ total: number }> { throw 0 }`

  it('repairs a numeric string before the function sees it, and the event records the repair', async () => {
    const received: unknown[] = []
    const charge = await marked('financial_services', code, 'charge', async (c: { amount: number; currency: string }) => {
      received.push(c.amount, c.currency)
      return { total: c.amount }
    }, { repair: true })
    const [event] = await eventsOf(async () => {
      expect(await charge({ amount: '19.90' as unknown as number, currency: 'chf' })).toEqual({ total: 19.9 })
    })
    expect(received).toEqual([19.9, 'CHF'])
    expect(event).toMatchObject({
      outcome: 'ok',
      attempts: 1,
      repairs: [
        { path: 'args[0].amount', action: 'numeric string → number', rule: 'financial_services.money_amount' },
        { path: 'args[0].currency', action: 'currency code → upper case', rule: 'financial_services.currency_code' },
      ],
    })
  })

  it('under repair, a frozen charge it cannot repair is an input error, not a TypeError from the phase', async () => {
    let calls = 0
    const charge = await marked('financial_services', code, 'charge', async (c: { amount: number; currency: string }) => {
      calls++
      return { total: c.amount }
    }, { repair: true })
    const error = await caught(() => charge(Object.freeze({ amount: '19.90' as unknown as number, currency: 'chf' })))
    expect(error).toBeInstanceOf(PoetInputError)
    expect((error as PoetInputError).issues).toEqual([
      { path: 'args[0].amount', expected: 'number', received: 'string' },
      { path: 'args[0].currency', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
    ])
    expect(calls).toBe(0)
  })

  it('rejects over-precise money before the function runs, without retrying, naming the rule in the event', async () => {
    let calls = 0
    const charge = await marked('financial_services', code, 'charge', async (c: { amount: number; currency: string }) => {
      calls++
      return { total: c.amount }
    })
    const [event] = await eventsOf(async () => {
      const e = await caught(() => charge({ amount: 10.001, currency: 'EUR' }))
      expect(e).toBeInstanceOf(PoetInputError)
      expect((e as PoetInputError).message).toContain('args[0].amount: expected amount with at most 2 decimal places, received number')
    })
    expect(calls).toBe(0)
    expect(event).toMatchObject({ outcome: 'input_error', attempts: 0, issues: [{ path: 'args[0].amount', rule: 'financial_services.money_amount' }] })
    expect(JSON.stringify(event)).not.toContain('10.001')
  })

  it('guards the result: a negative total is an output error', async () => {
    const charge = await marked('financial_services', code, 'charge', async (_: { amount: number; currency: string }) => ({ total: -5 }), { attempts: 1 })
    const [event] = await eventsOf(() => caught(() => charge({ amount: 5, currency: 'EUR' })))
    expect(event).toMatchObject({ outcome: 'output_error', issues: [{ path: 'result.total', rule: 'financial_services.non_negative_total' }] })
  })
})

describe('ml_monitoring under the runtime', () => {
  it('puts sample statistics and drift into events, never the samples', async () => {
    const code = 'export function detectDrift(current: number[], reference: number[]): number { throw 0 }'
    const detect = await marked('ml_monitoring', code, 'detectDrift', (current: number[], reference: number[]) => current.length - reference.length)
    // 5.123456 is neither the minimum nor the maximum: it may appear in no statistic.
    const base = Array.from({ length: 30 }, (_, i) => (i % 10) + 0.123456)
    const events = await eventsOf(() => {
      detect(base, base)
      detect(base.map((x) => x + 10), base)
    })
    expect(events.map((e) => e.outcome)).toEqual(['ok', 'ok'])
    expect(events[0]!.stats).toMatchObject({ 'current.n': 30, 'reference.n': 30 })
    expect(events[0]!.stats).not.toHaveProperty('drift_z')
    expect(events[1]!.stats).toMatchObject({ drift: 1 })
    expect(events[1]!.stats!.drift_z).toBeGreaterThan(3)
    expect(JSON.stringify(events)).not.toContain('5.123456')
  })
})

describe('llm_optimization under the runtime', () => {
  const code = `
    interface Entities { people: string[] }
    export async function extract(prompt: string): Promise<Entities> { throw 0 }`
  const model = async (prompt: string) => '```json\n{"people": ["Ada"]}\n```' + prompt.slice(0, 0)

  it('hands the caller the parsed object when the model answers with fenced JSON, under repair', async () => {
    const extract = await marked('llm_optimization', code, 'extract', model as unknown as (prompt: string) => Promise<{ people: string[] }>, { repair: true })
    const [event] = await eventsOf(async () => expect(await extract('  Who is named here?  ')).toEqual({ people: ['Ada'] }))
    expect(event).toMatchObject({
      outcome: 'ok',
      stats: { prompt_chars: 22 },
      repairs: [
        { path: 'args[0]', action: 'trimmed surrounding whitespace', rule: 'llm_optimization.non_empty_prompt' },
        { path: 'result', action: 'JSON text → parsed value', rule: 'llm_optimization.json_output' },
      ],
    })
  })

  it('without repair, the same answer is an output error the caller can see', async () => {
    const extract = await marked('llm_optimization', code, 'extract', model as unknown as (prompt: string) => Promise<{ people: string[] }>, { attempts: 1 })
    const [event] = await eventsOf(async () => expect(String(await caught(() => extract('Who?')))).toContain('result: expected Entities, received string'))
    expect(event).toMatchObject({ outcome: 'output_error', issues: [{ path: 'result' }] })
  })
})

describe('api_integration under the runtime, against a real HTTP server', () => {
  let server: Server
  let base = ''
  const hits = new Map<string, number>()

  beforeAll(async () => {
    server = createServer((req, res) => {
      const n = (hits.get(req.url!) ?? 0) + 1
      hits.set(req.url!, n)
      if (req.url === '/flaky' && n === 1) res.writeHead(503, { 'retry-after': '1' }).end()
      else if (req.url === '/bad') res.writeHead(400).end()
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  class HttpError extends Error {
    constructor(
      readonly status: number,
      readonly headers: Headers,
    ) {
      super(`HTTP ${status}`)
    }
  }
  const code = 'export async function getJson(url: string): Promise<{ ok: boolean }> { throw 0 }'
  const getJson = async (url: string) => {
    const r = await fetch(url)
    if (!r.ok) throw new HttpError(r.status, r.headers)
    return (await r.json()) as { ok: boolean }
  }

  it('retries a 503 after the Retry-After it asks for', async () => {
    const call = await marked('api_integration', code, 'getJson', getJson)
    const t0 = Date.now()
    const [event] = await eventsOf(async () => expect(await call(`${base}/flaky`)).toEqual({ ok: true }))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950)
    expect(hits.get('/flaky')).toBe(2)
    expect(event).toMatchObject({ outcome: 'ok', attempts: 2 })
  })

  it('does not retry a 400, and rejects a relative URL before any request', async () => {
    const call = await marked('api_integration', code, 'getJson', getJson)
    const [event] = await eventsOf(async () => expect(await caught(() => call(`${base}/bad`))).toBeInstanceOf(HttpError))
    expect(event).toMatchObject({ outcome: 'error', attempts: 1, error: 'Error' })
    expect(hits.get('/bad')).toBe(1)
    const e = await caught(() => call('/relative'))
    expect(e).toBeInstanceOf(PoetInputError)
    expect((e as Error).message).toContain('args[0]: expected absolute http(s) URL, received string')
  })
})
