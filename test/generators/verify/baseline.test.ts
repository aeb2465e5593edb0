// The gate must admit what the builtin generator writes: a model that keeps the baseline's checks must not be rejected for it.
import { describe, expect, it } from 'vitest'
import { generateBuiltin, inlineRuntimeHelpers } from '../../../src/generators/builtin'
import { DomainRegistry } from '../../../src/generators/builtin/domains'
import { checkStatic } from '../../../src/generators/verify/static'
import { trustedNames } from '../../../src/generators/verify'
import { runInSandbox, phaseScript } from '../../../src/generators/verify/sandbox'
import { sampleArgs, sampleResults } from '../../../src/generators/verify/samples'
import { transformPoet } from '../../../src/plugin/transform'

const registry = new DomainRegistry()

const SOURCES: [string, string][] = [
  ['none', `
    enum Level { Low = 'low', High = 'high' }
    type Id = \`user-\${number}\`
    interface Point { x: number; y: number; label?: string | null }
    export const shapes = poet()(function shapes(points: Point[], pair: [number, string], level: Level, tags: Record<string, boolean>, at: Date, id: Id, ...rest: number[]): { ok: true } | { ok: false; error: string } { throw 0 })`],
  ['none', `
    interface Entry { key: unknown; note: string | undefined; level?: 1n | 2n | 'max' }
    type Options = { size?: number } & { label?: string }
    export const store = poet()(function store(entries: Entry[], cache: { size?: number; has?: (k: string) => boolean }, options: Options, index: { [i: number]: string }, seen: Set<string>, byId: Map<string, Entry>, bytes: Uint8Array, nonce: 7n): Entry | null { throw 0 })`],
  ['none', `
    const ROLES = ['admin', 'user'] as const
    class Account { readonly kind = 'account'; constructor(public id: string, private secret = 0) {} get label(): string { return this.id } greet() { return 'hi' } }
    interface Formatter { (x: number): string; label: string }
    type UserId = string & { readonly __brand: 'UserId' }
    type Shape = { kind: 'circle'; r: number } | { kind: 'square'; side: number }
    export const act = poet()(function act<T extends { id: UserId }>(role: (typeof ROLES)[number], account: Account, format: Formatter, owner: T, kind: Shape['kind'], shape: Exclude<Shape | null, null>): Extract<Shape | string, object> { throw 0 })`],
  ['ml_monitoring', `
    interface DriftReport { drift: boolean; pValue: number; scores?: { confidence: number }[] }
    export const detectDrift = poet({ domain: 'ml_monitoring' })(function detectDrift(current: number[], reference: number[]): DriftReport { throw 0 })`],
  ['financial_services', `
    interface Line { sku: string; unitPrice: number; quantity: number }
    interface QuoteRequest { amount: number; currency: string; lines: Line[]; feeCents?: number }
    interface Quote { total: number; currency: string; taxRate: number }
    export const quote = poet({ domain: 'financial_services', repair: true })(async function quote(req: QuoteRequest): Promise<Quote> { throw 0 })`],
  ['healthcare', `
    interface Vitals { heartRate: number; bloodPressure: { systolic: number; diastolic: number }; temperatureC?: number; spo2: number; respiratoryRate: number }
    export const triage = poet({ domain: 'healthcare' })(function triage(patientId: string, v: Vitals): { priority: number; pulse: number } { throw 0 })`],
  ['api_integration', `
    interface Response { statusCode: number; body: string; next?: string | null }
    export const fetchPage = poet({ domain: 'api_integration' })(async function fetchPage(endpoint: string, page: number): Promise<Response> { throw 0 })`],
  ['llm_optimization', `
    interface Entities { people: string[]; places: string[] }
    export const extract = poet({ domain: 'llm_optimization' })(async function extract(instruction: string, text: string): Promise<Entities> { throw 0 })`],
  ['data_processing', `
    interface Row { id: string; value: number; createdAt: string; dateFormat?: string }
    export const loadRows = poet({ domain: 'data_processing' })(async function loadRows(rows: Row[], tableName: string): Promise<{ inserted: number; finishedAt: string }> { throw 0 })`],
  ['security', `
    interface Upload { filePath: string; content: string; meta: Record<string, unknown>; options: { overwrite: boolean } }
    export const save = poet({ domain: 'security' })(function save(upload: Upload, payload: unknown): { message: string } { throw 0 })`],
]

describe('the builtin baseline under the verify gate', () => {
  it.each(SOURCES)('passes the static allow-list and runs in the sandbox (%s)', async (domain, body) => {
    const code = `import { poet } from 'unplugin-poet/runtime'\n${body}\n`
    const [spec] = transformPoet(code, '/project/src/f.ts', { root: '/project', domains: registry, warn: () => {} })!.specs
    const built = generateBuiltin(spec!, { pack: domain === 'none' ? undefined : registry.get(domain) })
    // The baseline as the LLM generator hands it to the gate: the runtime's helpers declared in place.
    const parts = { ...built, helpers: inlineRuntimeHelpers(built.helpers!) }
    expect(parts.helpers).not.toContain('import')
    expect(checkStatic({ trusted: trustedNames(parts.helpers), repair: parts.policy.repair, perceive: parts.perceive, enforce: parts.enforce })).toEqual([])
    const cases = [...sampleArgs(spec!).map((s) => ({ phase: 'perceive' as const, value: s.value })), ...sampleResults(spec!).map((s) => ({ phase: 'enforce' as const, value: s.value }))]
    const out = await runInSandbox(phaseScript(parts), cases, parts.policy.repair)
    expect('verdicts' in out && out.verdicts.filter((v) => v.threw)).toEqual([])
  })
})
