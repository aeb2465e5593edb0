// Every builtin pack's rules, run for real: TypeScript source → generateBuiltin with the pack → imported phase module → values.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { PhaseContext, PhaseModule, PoetOptions } from '../../../src/runtime/types'
import { DomainRegistry } from '../../../src/generators/builtin/domains/index'
import { phasesFor } from './harness'
import { paymentsPack } from './payments-pack'

const registry = new DomainRegistry()

function phases(domain: string, code: string, name: string, options: PoetOptions = {}) {
  return phasesFor(code, name, { pack: registry.get(domain), options: { domain, ...options } })
}

function perceive(m: PhaseModule, args: unknown[], repair = false) {
  const ctx: PhaseContext = { functionId: m.id, executionId: 'e1', repair }
  const issues = m.perceive!(args, ctx)
  return { issues, stats: ctx.stats, repairs: ctx.repairs, args }
}

function enforce(m: PhaseModule, result: unknown, repair = false) {
  const ctx: PhaseContext = { functionId: m.id, executionId: 'e1', repair, result }
  const issues = m.enforce!(result, ctx)
  return { issues, repairs: ctx.repairs, result: ctx.result }
}

describe('ml_monitoring', () => {
  const drift = `
    interface DriftReport { drift: boolean; pValue: number; scores?: { confidence: number }[] }
    export function detectDrift(current: number[], reference: number[]): DriftReport { throw 0 }`

  it('takes its policy from the pack', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    expect(m.policy).toMatchObject({ attempts: 2, timeout: 10_000, retryOn: 'transient' })
    const own = await phases('ml_monitoring', drift, 'detectDrift', { attempts: 5 })
    expect(own.policy.attempts).toBe(5)
  })

  it('accepts clean samples and reports their statistics', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    const r = perceive(m, [[1, 2, 3, 4], [2, 2, 2, 2]])
    expect(r.issues).toBeUndefined()
    expect(r.stats).toMatchObject({ 'current.n': 4, 'current.mean': 2.5, 'current.min': 1, 'current.max': 4, 'reference.n': 4, 'reference.std': 0 })
    expect(r.stats!['current.std']).toBeCloseTo(Math.sqrt(5 / 3), 12)
    // The baseline is still too small to judge drift.
    expect(r.stats).not.toHaveProperty('drift_z')
  })

  it('rejects non-finite numbers with their exact paths', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    expect(perceive(m, [[1, NaN, 3], [1, 2, Infinity]]).issues).toEqual([
      { path: 'args[0][1]', expected: 'finite number', received: 'NaN', rule: 'ml_monitoring.finite_numbers' },
      { path: 'args[1][2]', expected: 'finite number', received: 'Infinity', rule: 'ml_monitoring.finite_numbers' },
    ])
  })

  it('rejects an empty sample and samples of different lengths', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    expect(perceive(m, [[], [1]]).issues).toEqual([
      { path: 'args[0]', expected: 'non-empty sample', received: 'empty array', rule: 'ml_monitoring.non_empty_sample' },
      { path: 'args[1]', expected: "current's length, 0", received: '1 elements', rule: 'ml_monitoring.equal_sample_lengths' },
    ])
    const r = perceive(m, [[1, 2, 3], [1, 2]])
    expect(r.issues).toEqual([{ path: 'args[1]', expected: "current's length, 3", received: '2 elements', rule: 'ml_monitoring.equal_sample_lengths' }])
    // Invalid input never feeds the statistics or the baseline.
    expect(r.stats).toBeUndefined()
  })

  it('leaves a single-sample function free of the length rule', async () => {
    const m = await phases('ml_monitoring', 'export function score(values: number[], threshold: number): number { throw 0 }', 'score')
    const r = perceive(m, [[1, 2], 0.5])
    expect(r.issues).toBeUndefined()
    expect(Object.keys(r.stats!)).toEqual(['values.n', 'values.mean', 'values.std', 'values.min', 'values.max'])
    expect(perceive(m, [[1], NaN]).issues).toEqual([{ path: 'args[1]', expected: 'finite number', received: 'NaN', rule: 'ml_monitoring.finite_numbers' }])
  })

  it('flags drift of the input against the running baseline, per function module', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    const reference = Array.from({ length: 10 }, (_, i) => i)
    // Warm-up: three calls of the same distribution build a 30-value baseline (mean 4.5).
    for (let k = 0; k < 3; k++) expect(perceive(m, [reference, reference]).stats).not.toHaveProperty('drift_z')
    const same = perceive(m, [reference, reference]).stats!
    expect(same.drift_z).toBeCloseTo(0, 12)
    expect(same.drift).toBe(0)
    const shifted = perceive(m, [reference.map((x) => x + 5), reference]).stats!
    expect(shifted.drift).toBe(1)
    expect(shifted.drift_z).toBeGreaterThan(3)
    // Another generation of the same function starts from an empty baseline.
    const fresh = await phases('ml_monitoring', drift, 'detectDrift')
    expect(perceive(fresh, [reference.map((x) => x + 5), reference]).stats).not.toHaveProperty('drift_z')
  })

  it('keeps probabilities and numbers of the result in range', async () => {
    const m = await phases('ml_monitoring', drift, 'detectDrift')
    expect(enforce(m, { drift: false, pValue: 0.2, scores: [{ confidence: 1 }] }).issues).toBeUndefined()
    expect(enforce(m, { drift: true, pValue: 1.5, scores: [{ confidence: 0.5 }, { confidence: NaN }] }).issues).toEqual([
      { path: 'result.pValue', expected: 'probability in [0, 1]', received: 'number', rule: 'ml_monitoring.probability_range' },
      { path: 'result.scores[1].confidence', expected: 'finite number', received: 'NaN', rule: 'ml_monitoring.finite_numbers' },
      { path: 'result.scores[1].confidence', expected: 'probability in [0, 1]', received: 'NaN', rule: 'ml_monitoring.probability_range' },
    ])
  })

  it('checks a number array under a probability key element by element', async () => {
    const m = await phases('ml_monitoring', 'export function predict(x: number[]): { probabilities: number[] } { throw 0 }', 'predict')
    expect(enforce(m, { probabilities: [0.1, -0.2, 0.9, 2] }).issues).toEqual([
      { path: 'result.probabilities[1]', expected: 'probability in [0, 1]', received: 'number', rule: 'ml_monitoring.probability_range' },
      { path: 'result.probabilities[3]', expected: 'probability in [0, 1]', received: 'number', rule: 'ml_monitoring.probability_range' },
    ])
  })
})

describe('financial_services', () => {
  const quote = `
    type Currency = string
    interface Line { sku: string; unitPrice: number; quantity: number }
    interface QuoteRequest { amount: number; currency: Currency; lines: Line[]; feeCents?: number }
    interface Quote { total: number; currency: string; taxRate: number }
    export async function quote(req: QuoteRequest): Promise<Quote> { throw 0 }`
  const good = { amount: 12.5, currency: 'EUR', lines: [{ sku: 'a', unitPrice: 3.99, quantity: 3 }], feeCents: 30 }

  it('accepts a well-formed request and sets transient-only retries', async () => {
    const m = await phases('financial_services', quote, 'quote')
    expect(m.policy).toMatchObject({ attempts: 2, timeout: 15_000, retryOn: 'transient' })
    expect(perceive(m, [good]).issues).toBeUndefined()
  })

  it('rejects non-finite and over-precise amounts, fractional minor units and unknown currencies', async () => {
    const m = await phases('financial_services', quote, 'quote')
    const bad = { amount: 0.1 + 0.2, currency: 'EURO', lines: [{ sku: 'a', unitPrice: Infinity, quantity: 2.5 }], feeCents: 30.5 }
    expect(perceive(m, [bad]).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
      { path: 'args[0].currency', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
      { path: 'args[0].lines[0].unitPrice', expected: 'finite amount', received: 'Infinity', rule: 'financial_services.money_amount' },
      { path: 'args[0].feeCents', expected: 'integer amount in minor units', received: 'number', rule: 'financial_services.money_amount' },
    ])
  })

  it('allows the precision of the currency next to the amount', async () => {
    const m = await phases('financial_services', quote, 'quote')
    expect(perceive(m, [{ ...good, amount: 1.234, currency: 'KWD' }]).issues).toBeUndefined()
    expect(perceive(m, [{ ...good, amount: 1.2345, currency: 'KWD' }]).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 3 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
    expect(perceive(m, [{ ...good, amount: 1500, currency: 'JPY' }]).issues).toBeUndefined()
    expect(perceive(m, [{ ...good, amount: 1500.5, currency: 'JPY' }]).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 0 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
  })

  it('accepts every cent amount and rejects every amount with a third decimal (property)', async () => {
    const m = await phases('financial_services', 'export function charge(amount: number): boolean { throw 0 }', 'charge')
    const cents = fc.integer({ min: -1e15, max: 1e15 })
    fc.assert(fc.property(cents, (c) => perceive(m, [c / 100]).issues === undefined))
    const mills = fc.integer({ min: -1e14, max: 1e14 }).filter((n) => n % 10 !== 0)
    fc.assert(fc.property(mills, (n) => perceive(m, [n / 1000]).issues?.[0]?.expected === 'amount with at most 2 decimal places'))
  })

  it('reads the currency in any case when judging precision under repair', async () => {
    const m = await phases('financial_services', quote, 'quote', { repair: true })
    expect(perceive(m, [{ ...good, amount: 1500.5, currency: 'jpy' }], true).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 0 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
  })

  it('checks the number member of a union type, and repairs only where a string is not allowed anyway', async () => {
    const m = await phases('financial_services', 'export function f(x: { amount: number | string; price: number | null }): void {}', 'f', { repair: true })
    const x = { amount: '1.999', price: 1.001 }
    expect(perceive(m, [x], true).issues).toEqual([
      { path: 'args[0].price', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
    expect(x.amount).toBe('1.999')
    expect(perceive(m, [{ amount: 1.999, price: '2.5' }], true).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
  })

  it('checks amount and currency parameters by name', async () => {
    const m = await phases('financial_services', 'export function charge(amount: number, currency: string, note: string): boolean { throw 0 }', 'charge')
    expect(perceive(m, [10.01, 'USD', 'x']).issues).toBeUndefined()
    expect(perceive(m, [10.001, 'usd', 'x']).issues).toEqual([
      { path: 'args[0]', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
      { path: 'args[1]', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
    ])
  })

  it('changes nothing without repair: a numeric string is a type error', async () => {
    const m = await phases('financial_services', quote, 'quote')
    const req = { ...good, amount: '12.50', currency: 'eur' }
    const r = perceive(m, [req])
    expect(r.issues).toEqual([
      { path: 'args[0].amount', expected: 'number', received: 'string' },
      { path: 'args[0].currency', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
    ])
    expect(r.repairs).toBeUndefined()
    expect(req).toMatchObject({ amount: '12.50', currency: 'eur' })
  })

  it('repairs numeric strings and lower-case codes under repair: true, and records each repair', async () => {
    const m = await phases('financial_services', quote, 'quote', { repair: true })
    const req = { ...good, amount: ' 12.50 ', currency: 'eur' }
    const r = perceive(m, [req], true)
    expect(r.issues).toBeUndefined()
    expect(req).toMatchObject({ amount: 12.5, currency: 'EUR' })
    expect(r.repairs).toEqual([
      { path: 'args[0].amount', action: 'numeric string → number', rule: 'financial_services.money_amount' },
      { path: 'args[0].currency', action: 'currency code → upper case', rule: 'financial_services.currency_code' },
    ])
    // A repaired value still has to pass the rules: three decimals stay an issue.
    expect(perceive(m, [{ ...good, amount: '1.005' }], true).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
    // Text that is not a number is left for the type check to reject.
    expect(perceive(m, [{ ...good, amount: '12,50' }], true).issues).toEqual([{ path: 'args[0].amount', expected: 'number', received: 'string' }])
  })

  it('checks IBANs and card numbers by their checksums, and normalises an IBAN only under repair', async () => {
    const code = 'export function pay(from: { iban: string; cardNumber?: string }): void {}'
    const m = await phases('financial_services', code, 'pay')
    expect(perceive(m, [{ iban: 'DE89370400440532013000', cardNumber: '4111 1111 1111 1111' }]).issues).toBeUndefined()
    expect(perceive(m, [{ iban: 'DE89 3704 0044 0532 0130 00' }]).issues).toBeUndefined()
    expect(perceive(m, [{ iban: 'DE88370400440532013000', cardNumber: '4111111111111112' }]).issues).toEqual([
      { path: 'args[0].iban', expected: 'IBAN with valid check digits', received: 'string', rule: 'financial_services.iban' },
      { path: 'args[0].cardNumber', expected: 'card number passing the Luhn check', received: 'string', rule: 'financial_services.card_number' },
    ])
    expect(perceive(m, [{ iban: 'gb82 west 1234 5698 7654 32' }]).issues?.[0]?.rule).toBe('financial_services.iban')
    const repairing = await phases('financial_services', code, 'pay', { repair: true })
    const from = { iban: 'gb82 west 1234 5698 7654 32' }
    const r = perceive(repairing, [from], true)
    expect(r.issues).toBeUndefined()
    expect(from.iban).toBe('GB82WEST12345698765432')
    expect(r.repairs).toEqual([{ path: 'args[0].iban', action: 'IBAN → electronic format', rule: 'financial_services.iban' }])
  })

  it('records repairs inside recursive types with their full paths', async () => {
    const code = 'interface Node { amount: number; children: Node[] }\nexport function f(n: Node): void {}'
    const m = await phases('financial_services', code, 'f', { repair: true })
    const tree = { amount: '1', children: [{ amount: '2', children: [{ amount: '3', children: [] }] }] }
    const r = perceive(m, [tree], true)
    expect(r.issues).toBeUndefined()
    expect(tree).toEqual({ amount: 1, children: [{ amount: 2, children: [{ amount: 3, children: [] }] }] })
    expect(r.repairs!.map((x) => x.path)).toEqual(['args[0].amount', 'args[0].children[0].amount', 'args[0].children[0].children[0].amount'])
  })

  it('enforces non-negative totals in results', async () => {
    const m = await phases('financial_services', quote, 'quote')
    expect(enforce(m, { total: 0, currency: 'EUR', taxRate: -0.5 }).issues).toBeUndefined()
    expect(enforce(m, { total: -1, currency: 'EUR', taxRate: 0.2 }).issues).toEqual([
      { path: 'result.total', expected: 'non-negative total', received: 'number', rule: 'financial_services.non_negative_total' },
    ])
    const total = await phases('financial_services', 'export function orderTotal(prices: number[]): number { throw 0 }', 'orderTotal')
    expect(enforce(total, 3.5).issues).toBeUndefined()
    expect(enforce(total, -3.5).issues).toEqual([{ path: 'result', expected: 'non-negative total', received: 'number', rule: 'financial_services.non_negative_total' }])
    expect(perceive(total, [[1.5, 2.555]]).issues).toEqual([
      { path: 'args[0][1]', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
  })
})

describe('healthcare', () => {
  const vitals = `
    interface Vitals { heartRate: number; bloodPressure: { systolic: number; diastolic: number }; temperatureC?: number; spo2: number; respiratoryRate: number; tempF?: number }
    export function triage(patientId: string, v: Vitals): { priority: number; pulse: number } { throw 0 }`
  const ok = { heartRate: 72, bloodPressure: { systolic: 120, diastolic: 80 }, temperatureC: 36.8, spo2: 98, respiratoryRate: 14, tempF: 98.2 }

  it('never lets values, comments or labels into events: the phase module tells the runtime', async () => {
    const m = await phases('healthcare', vitals, 'triage')
    expect(m.neverInEvents).toEqual(['values', 'comment', 'label'])
    expect(m.source).toContain('  neverInEvents: ["values","comment","label"],')
    // A domain without limits renders no field (and versions hash exactly as before).
    const data = await phases('data_processing', 'export function f(rows: number[]): void {}', 'f')
    expect(data.neverInEvents).toBeUndefined()
    expect(data.source).not.toContain('neverInEvents')
  })

  it('accepts plausible vitals', async () => {
    const m = await phases('healthcare', vitals, 'triage')
    expect(perceive(m, ['p1', ok]).issues).toBeUndefined()
  })

  it('rejects implausible vitals by key name, with the unit in the message', async () => {
    const m = await phases('healthcare', vitals, 'triage')
    const bad = { heartRate: 720, bloodPressure: { systolic: 80, diastolic: 120 }, temperatureC: 98.6, spo2: 101, respiratoryRate: 2, tempF: 98.2 }
    expect(perceive(m, ['p1', bad]).issues).toEqual([
      { path: 'args[1].heartRate', expected: 'heart rate (bpm) in [20, 300]', received: 'number', rule: 'healthcare.vital_range' },
      { path: 'args[1].bloodPressure.systolic', expected: 'systolic above diastolic', received: 'number', rule: 'healthcare.blood_pressure_order' },
      { path: 'args[1].temperatureC', expected: 'body temperature (°C) in [25, 45]', received: 'number', rule: 'healthcare.vital_range' },
      { path: 'args[1].spo2', expected: 'SpO2 (%) in [50, 100]', received: 'number', rule: 'healthcare.vital_range' },
      { path: 'args[1].respiratoryRate', expected: 'respiratory rate (breaths/min) in [4, 80]', received: 'number', rule: 'healthcare.vital_range' },
    ])
  })

  it('checks weight and height only when the key names the unit', async () => {
    const m = await phases('healthcare', 'export function bmi(p: { weightKg: number; heightCm: number; weight: number }): number { throw 0 }', 'bmi')
    expect(perceive(m, [{ weightKg: 70, heightCm: 175, weight: 154 }]).issues).toBeUndefined()
    expect(perceive(m, [{ weightKg: 70_000, heightCm: 1.75, weight: 154 }]).issues).toEqual([
      { path: 'args[0].weightKg', expected: 'body weight (kg) in [0.2, 700]', received: 'number', rule: 'healthcare.vital_range' },
      { path: 'args[0].heightCm', expected: 'height (cm) in [20, 280]', received: 'number', rule: 'healthcare.vital_range' },
    ])
  })

  it('rejects NaN vitals, and checks vitals in the result', async () => {
    const m = await phases('healthcare', vitals, 'triage')
    expect(perceive(m, ['p1', { ...ok, heartRate: NaN }]).issues).toEqual([
      { path: 'args[1].heartRate', expected: 'heart rate (bpm) in [20, 300]', received: 'NaN', rule: 'healthcare.vital_range' },
    ])
    expect(enforce(m, { priority: 1, pulse: 65 }).issues).toBeUndefined()
    expect(enforce(m, { priority: 1, pulse: 0 }).issues).toEqual([
      { path: 'result.pulse', expected: 'heart rate (bpm) in [20, 300]', received: 'number', rule: 'healthcare.vital_range' },
    ])
  })
})

describe('api_integration', () => {
  const call = `
    interface Response { statusCode: number; body: string; next?: string | null }
    export async function fetchPage(endpoint: string, page: number): Promise<Response> { throw 0 }`

  it('retries transient failures only, with a longer backoff (Retry-After is honoured by the runtime)', async () => {
    const m = await phases('api_integration', call, 'fetchPage')
    expect(m.policy).toEqual({
      attempts: 4,
      timeout: 10_000,
      retryOn: 'transient',
      backoff: { initial: 250, max: 10_000, factor: 2, jitter: true },
      repair: false,
      sample: 1,
    })
    expect(registry.get('api_integration').description).toContain('Retry-After')
  })

  it('wants absolute http(s) URLs without credentials', async () => {
    const m = await phases('api_integration', call, 'fetchPage')
    expect(perceive(m, ['https://api.example.com/v1/items?x=1', 1]).issues).toBeUndefined()
    expect(perceive(m, ['/v1/items', 1]).issues).toEqual([{ path: 'args[0]', expected: 'absolute http(s) URL', received: 'string', rule: 'api_integration.absolute_url' }])
    expect(perceive(m, ['ftp://example.com/f', 1]).issues?.[0]?.rule).toBe('api_integration.absolute_url')
    expect(perceive(m, ['https://bob:hunter2@api.example.com/', 1]).issues).toEqual([
      { path: 'args[0]', expected: 'URL without credentials (send them in a header)', received: 'string', rule: 'api_integration.no_credentials_in_url' },
    ])
  })

  it('checks status codes and next-page URLs in the result', async () => {
    const m = await phases('api_integration', call, 'fetchPage')
    expect(enforce(m, { statusCode: 200, body: '', next: null }).issues).toBeUndefined()
    expect(enforce(m, { statusCode: 200.5, body: '', next: 'page2' }).issues).toEqual([
      { path: 'result.statusCode', expected: 'HTTP status code 100–599', received: 'number', rule: 'api_integration.status_code' },
    ])
    expect(enforce(m, { statusCode: 700, body: '' }).issues).toEqual([
      { path: 'result.statusCode', expected: 'HTTP status code 100–599', received: 'number', rule: 'api_integration.status_code' },
    ])
  })
})

describe('llm_optimization', () => {
  const summarize = 'export async function summarize(prompt: string, maxTokens: number): Promise<string> { throw 0 }'
  const extract = `
    interface Entities { people: string[]; places: string[] }
    export async function extract(instruction: string, text: string): Promise<Entities> { throw 0 }`

  it('rejects blank prompts and reports their size', async () => {
    const m = await phases('llm_optimization', summarize, 'summarize')
    expect(m.policy).toMatchObject({ attempts: 3, timeout: 60_000, retryOn: 'transient' })
    const ok = perceive(m, ['Summarize this.', 100])
    expect(ok.issues).toBeUndefined()
    expect(ok.stats).toEqual({ prompt_chars: 15 })
    expect(perceive(m, [' \n\t', 100]).issues).toEqual([{ path: 'args[0]', expected: 'non-empty prompt', received: 'string', rule: 'llm_optimization.non_empty_prompt' }])
    expect(perceive(m, ['x'.repeat(200_001), 100]).issues).toEqual([
      { path: 'args[0]', expected: 'prompt of at most 200000 characters', received: 'string', rule: 'llm_optimization.prompt_length' },
    ])
  })

  it('trims prompts only under repair, recording it', async () => {
    const plain = await phases('llm_optimization', summarize, 'summarize')
    const args = ['  Summarize this.\n', 100]
    expect(perceive(plain, args).repairs).toBeUndefined()
    expect(args[0]).toBe('  Summarize this.\n')
    const m = await phases('llm_optimization', summarize, 'summarize', { repair: true })
    const r = perceive(m, args, true)
    expect(r.issues).toBeUndefined()
    expect(args[0]).toBe('Summarize this.')
    expect(r.repairs).toEqual([{ path: 'args[0]', action: 'trimmed surrounding whitespace', rule: 'llm_optimization.non_empty_prompt' }])
  })

  it('checks that string output is non-empty, bounded, and complete JSON when it looks like JSON', async () => {
    const m = await phases('llm_optimization', summarize, 'summarize')
    expect(enforce(m, 'A short summary.').issues).toBeUndefined()
    expect(enforce(m, '[Draft] a summary').issues).toBeUndefined()
    expect(enforce(m, '{"summary": "ok"}').issues).toBeUndefined()
    expect(enforce(m, '   ').issues).toEqual([{ path: 'result', expected: 'non-empty output', received: 'string', rule: 'llm_optimization.non_empty_output' }])
    expect(enforce(m, 'y'.repeat(100_001)).issues).toEqual([
      { path: 'result', expected: 'output of at most 100000 characters', received: 'string', rule: 'llm_optimization.output_length' },
    ])
    expect(enforce(m, '{"summary": "the model was cut o').issues).toEqual([{ path: 'result', expected: 'valid JSON', received: 'string', rule: 'llm_optimization.json_output' }])
  })

  it('parses JSON text (fenced or not) where an object is expected, only under repair', async () => {
    const text = '```json\n{"people": ["Ada"], "places": ["London"]}\n```'
    const plain = await phases('llm_optimization', extract, 'extract')
    expect(enforce(plain, text).issues).toEqual([{ path: 'result', expected: 'Entities', received: 'string' }])
    const m = await phases('llm_optimization', extract, 'extract', { repair: true })
    const r = enforce(m, text, true)
    expect(r.issues).toBeUndefined()
    expect(r.result).toEqual({ people: ['Ada'], places: ['London'] })
    expect(r.repairs).toEqual([{ path: 'result', action: 'JSON text → parsed value', rule: 'llm_optimization.json_output' }])
    // Parsed JSON of the wrong shape is still rejected by the type check.
    expect(enforce(m, '{"people": "Ada"}', true).issues).toEqual([
      { path: 'result.people', expected: 'string[]', received: 'string' },
      { path: 'result.places', expected: 'string[]', received: 'undefined' },
    ])
  })
})

describe('data_processing', () => {
  const load = `
    interface Row { id: string; value: number; createdAt: string; dateFormat?: string }
    export async function loadRows(rows: Row[], tableName: string): Promise<{ inserted: number; finishedAt: string }> { throw 0 }`
  let rows = 0
  const row = (over: object = {}) => ({ id: `r${++rows}`, value: 1.5, createdAt: '2024-05-31T12:00:00Z', dateFormat: 'yyyy', ...over })

  it('accepts a batch and reports its size', async () => {
    const m = await phases('data_processing', load, 'loadRows')
    expect(m.policy).toMatchObject({ attempts: 3, timeout: 120_000, retryOn: 'transient' })
    const r = perceive(m, [[row(), row({ createdAt: '2024-02-29' })], 't'])
    expect(r.issues).toBeUndefined()
    expect(r.stats).toEqual({ batch_size: 2 })
  })

  it('rejects empty and oversized batches', async () => {
    const m = await phases('data_processing', load, 'loadRows')
    expect(perceive(m, [[], 't']).issues).toEqual([{ path: 'args[0]', expected: 'non-empty batch', received: 'empty array', rule: 'data_processing.non_empty_batch' }])
    const big = Array.from({ length: 100_001 }, () => row())
    expect(perceive(m, [big, 't']).issues).toEqual([
      { path: 'args[0]', expected: 'batch of at most 100000 items', received: '100001 items', rule: 'data_processing.max_batch_size' },
    ])
  })

  it('rejects duplicate ids within a batch, pointing at the repeat and the first', async () => {
    const m = await phases('data_processing', load, 'loadRows')
    expect(perceive(m, [[row({ id: 'a' }), row({ id: 'b' })], 't']).issues).toBeUndefined()
    expect(perceive(m, [[row({ id: 'a' }), row({ id: 'b' }), row({ id: 'a' }), row({ id: 'b' })], 't']).issues).toEqual([
      { path: 'args[0][2].id', expected: 'unique id (first at [0])', received: 'a duplicate', rule: 'data_processing.unique_ids' },
      { path: 'args[0][3].id', expected: 'unique id (first at [1])', received: 'a duplicate', rule: 'data_processing.unique_ids' },
    ])
  })

  it('rejects non-finite numbers and dates that are not ISO 8601 or not real days', async () => {
    const m = await phases('data_processing', load, 'loadRows')
    const r = perceive(m, [[row({ value: NaN }), row({ createdAt: '31/05/2024' }), row({ createdAt: '2023-02-29' }), row({ createdAt: '2024-05-31T25:00:00Z' })], 't'])
    expect(r.issues).toEqual([
      { path: 'args[0][0].value', expected: 'finite number', received: 'NaN', rule: 'data_processing.finite_numbers' },
      ...[1, 2, 3].map((i) => ({
        path: `args[0][${i}].createdAt`,
        expected: 'ISO 8601 date (2024-05-31 or 2024-05-31T12:00:00Z)',
        received: 'string',
        rule: 'data_processing.iso_date',
      })),
    ])
  })

  it('checks dates in the result, and turns Date objects into ISO strings only under repair', async () => {
    const m = await phases('data_processing', load, 'loadRows')
    expect(enforce(m, { inserted: 2, finishedAt: '2024-05-31T12:00:00.123+02:00' }).issues).toBeUndefined()
    expect(enforce(m, { inserted: Infinity, finishedAt: 'yesterday' }).issues).toEqual([
      { path: 'result.inserted', expected: 'finite number', received: 'Infinity', rule: 'data_processing.finite_numbers' },
      { path: 'result.finishedAt', expected: 'ISO 8601 date (2024-05-31 or 2024-05-31T12:00:00Z)', received: 'string', rule: 'data_processing.iso_date' },
    ])
    const when = new Date('2024-05-31T12:00:00Z')
    expect(perceive(m, [[row({ createdAt: when })], 't']).issues).toEqual([{ path: 'args[0][0].createdAt', expected: 'string', received: 'Date' }])
    const repairing = await phases('data_processing', load, 'loadRows', { repair: true })
    const rows = [row({ createdAt: when })]
    const r = perceive(repairing, [rows, 't'], true)
    expect(r.issues).toBeUndefined()
    expect(rows[0]!.createdAt).toBe('2024-05-31T12:00:00.000Z')
    expect(r.repairs).toEqual([{ path: 'args[0][0].createdAt', action: 'Date → ISO 8601 string', rule: 'data_processing.iso_date' }])
  })
})

describe('security', () => {
  const upload = `
    interface Upload { filePath: string; content: string; meta: Record<string, unknown>; options: { overwrite: boolean } }
    export function save(upload: Upload, payload: unknown): { message: string } { throw 0 }`
  const ok = () => ({ filePath: 'docs/a.txt', content: 'line 1\nline 2\ttab', meta: { a: { b: 1 } }, options: { overwrite: true } })

  it('accepts ordinary input and keeps values out of events', async () => {
    const m = await phases('security', upload, 'save')
    expect(m.policy).toMatchObject({ attempts: 2, timeout: 5_000, retryOn: 'transient' })
    expect(registry.get('security').neverInEvents).toContain('values')
    expect(perceive(m, [ok(), { any: ['thing'] }]).issues).toBeUndefined()
  })

  it('rejects control characters, path traversal and oversized strings', async () => {
    const m = await phases('security', upload, 'save')
    const rule = (path: string, expected: string, r: string) => ({ path, expected, received: 'string', rule: r })
    for (const filePath of ['../etc/passwd', 'a/../../b', 'a\\..\\b', '%2e%2e/secret', 'a/%2E%2E%2Fb']) {
      expect(perceive(m, [{ ...ok(), filePath }, null]).issues).toEqual([rule('args[0].filePath', "path without '..' segments", 'security.path_traversal')])
    }
    expect(perceive(m, [{ ...ok(), filePath: 'a..b/c...txt' }, null]).issues).toBeUndefined()
    expect(perceive(m, [{ ...ok(), content: 'nul\u0000byte' }, null]).issues).toEqual([
      rule('args[0].content', 'text without NUL or control characters', 'security.control_chars'),
    ])
    expect(perceive(m, [{ ...ok(), content: 'x'.repeat(1_048_577) }, null]).issues).toEqual([
      rule('args[0].content', 'string of at most 1048576 characters', 'security.max_string_length'),
    ])
  })

  it('finds prototype-pollution keys, deeply in open objects', async () => {
    const m = await phases('security', upload, 'save')
    const issue = (path: string, received: string) => ({ path, expected: 'no __proto__, constructor or prototype key', received, rule: 'security.prototype_pollution' })
    expect(perceive(m, [ok(), JSON.parse('{"a": [{"b": {"__proto__": {"admin": true}}}]}')]).issues).toEqual([issue('args[1].a[0].b.__proto__', 'object')])
    expect(perceive(m, [{ ...ok(), meta: JSON.parse('{"x": {"constructor": {"prototype": 1}}}') }, null]).issues).toEqual([issue('args[0].meta.x.constructor', 'object')])
    expect(perceive(m, [{ ...ok(), options: JSON.parse('{"overwrite": false, "__proto__": {"polluted": 1}}') }, null]).issues).toEqual([
      issue('args[0].options.__proto__', 'object'),
    ])
  })

  it('rejects URLs that would make the server call inside its own network (SSRF)', async () => {
    const m = await phases('security', 'export async function preview(webhookUrl: string, page: string): Promise<void> {}', 'preview')
    for (const ok of ['https://example.com/hook', 'http://93.184.216.34:8080/x', 'https://[2606:4700::1111]/']) expect(perceive(m, [ok, 'x']).issues).toBeUndefined()
    const internal = [
      'http://localhost:3000/admin',
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/',
      'http://172.20.1.1/',
      'http://192.168.1.1/',
      'http://[::1]/',
      'http://[fd00::1]/',
      'http://[::ffff:127.0.0.1]/',
      'file:///etc/passwd',
      'gopher://example.com/',
    ]
    for (const url of internal) {
      expect(perceive(m, [url, 'x']).issues, url).toEqual([{ path: 'args[0]', expected: 'URL of a public http(s) host', received: 'string', rule: 'security.internal_url' }])
    }
    // A key that names no URL is not judged as one.
    expect(perceive(m, ['https://example.com/', 'http://127.0.0.1/']).issues).toBeUndefined()
  })

  it('keeps credentials out of results', async () => {
    const m = await phases('security', upload, 'save')
    expect(enforce(m, { message: 'saved docs/a.txt' }).issues).toBeUndefined()
    for (const secret of ['-----BEGIN RSA PRIVATE KEY-----\nMIIE', 'key AKIAIOSFODNN7EXAMPLE here', 'ghp_' + 'a'.repeat(36)]) {
      expect(enforce(m, { message: secret }).issues).toEqual([
        { path: 'result.message', expected: 'no credentials in output', received: 'string', rule: 'security.secret_leak' },
      ])
    }
  })
})

describe('rules inside a union of object types (no discriminant)', () => {
  it('run on the member the value matched, in perceive and enforce', async () => {
    const code = `interface Card { amount: number; currency: string; card: string }
      interface Bank { amount: number; currency: string; iban: string }
      export function pay(p: Card | Bank): Card | Bank { return p }`
    const fin = await phases('financial_services', code, 'pay')
    expect(perceive(fin, [{ amount: 1.234, currency: 'XXQ', iban: 'DE89 3704 0044 0532 0130 00' }]).issues).toEqual([
      { path: 'args[0].amount', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
      { path: 'args[0].currency', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
    ])
    expect(perceive(fin, [{ amount: 12.5, currency: 'EUR', card: '4242' }]).issues).toBeUndefined()
    expect(enforce(fin, { amount: 0.001, currency: 'EUR', card: '4242' }).issues).toEqual([
      { path: 'result.amount', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
    ])
    // Matching no member gives the closest member's type issues, with no rule run on a shape that did not fit.
    expect(perceive(fin, [{ amount: 0.001 }]).issues!.filter((i) => i.rule)).toEqual([])
  })

  it('keep path traversal out of a file request that is one of several shapes', async () => {
    const sec = await phases('security', 'export function open(r: { path: string; mode: string } | { url: string }): void {}', 'open')
    expect(perceive(sec, [{ path: '../../etc/passwd', mode: 'r' }]).issues).toEqual([
      expect.objectContaining({ path: 'args[0].path', rule: 'security.path_traversal' }),
    ])
  })

  it('repair the matched member under repair: true', async () => {
    const fin = await phases('financial_services', 'export function pay(p: { amount: number; currency: string } | { cents: number }): void {}', 'pay', { repair: true })
    const r = perceive(fin, [{ amount: 5, currency: 'eur' }], true)
    expect(r.issues).toBeUndefined()
    expect(r.args).toEqual([{ amount: 5, currency: 'EUR' }])
  })
})

describe('key names that only look like a domain key', () => {
  it('leave counts, rates, ids, formats and texts alone', async () => {
    const fin = await phases(
      'financial_services',
      'export function f(x: { totalCount: number; taxRate: number; paymentId: string; currencySymbol: string; priceDate: string }): void {}',
      'f',
    )
    expect(perceive(fin, [{ totalCount: 1.005, taxRate: 0.0825, paymentId: 'p_1', currencySymbol: '€', priceDate: 'today' }]).issues).toBeUndefined()
    const data = await phases('data_processing', 'export function f(x: { timeout: string; dateFormat: string; timezone: string; at: string }): void {}', 'f')
    expect(perceive(data, [{ timeout: '5s', dateFormat: 'yyyy', timezone: 'UTC', at: 'home' }]).issues).toBeUndefined()
    const api = await phases('api_integration', 'export function f(x: { statusText: string; status: string; urlTemplate: string }): void {}', 'f')
    expect(perceive(api, [{ statusText: 'OK', status: 'done', urlTemplate: '/items/{id}' }]).issues).toBeUndefined()
    const llm = await phases('llm_optimization', 'export function f(x: { promptTokens: number; messageId: string; role: string }): void {}', 'f')
    expect(perceive(llm, [{ promptTokens: 0, messageId: '', role: '' }]).issues).toBeUndefined()
    const health = await phases('healthcare', 'export function f(x: { tempF: number; roomTemperatureK: number; hrv: number }): void {}', 'f')
    expect(perceive(health, [{ tempF: 98.6, roomTemperatureK: 293, hrv: 1000 }]).issues).toBeUndefined()
  })

  it('match across camelCase, snake_case and kebab-case', async () => {
    const m = await phases('financial_services', 'export function f(x: { unit_price: number; "grand-total": number; AmountMinor: number }): void {}', 'f')
    expect(perceive(m, [{ unit_price: 1.001, 'grand-total': 2.002, AmountMinor: 3.5 }]).issues?.map((i) => i.path)).toEqual([
      'args[0].unit_price',
      'args[0]["grand-total"]',
      'args[0].AmountMinor',
    ])
  })
})

describe('custom packs in generated phases', () => {
  it("run the parent's rules first, then the child's, under the child's policy", async () => {
    const custom = new DomainRegistry([paymentsPack])
    const m = await phasesFor('export function pay(amount: number, currency: string): boolean { throw 0 }', 'pay', {
      pack: custom.get('financial_services:payments'),
      options: { domain: 'financial_services:payments' },
    })
    expect(m.policy).toMatchObject({ attempts: 1, timeout: 15_000, retryOn: 'transient' })
    expect(perceive(m, [20_000.001, 'XXX']).issues).toEqual([
      { path: 'args[0]', expected: 'amount with at most 2 decimal places', received: 'number', rule: 'financial_services.money_amount' },
      { path: 'args[0]', expected: 'amount ≤ 10000', received: 'number', rule: 'financial_services:payments.max_amount' },
      { path: 'args[1]', expected: 'ISO 4217 currency code', received: 'string', rule: 'financial_services.currency_code' },
    ])
  })
})
