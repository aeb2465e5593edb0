// Guards pack versions: the code a builtin pack emits may not change unless its version (part of every lock's input hash) changes too.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { FunctionSpec, TypeIR } from '../../../src/generators/spec'
import type { RuleSite } from '../../../src/generators/builtin/domain'
import { BUILTIN_PACKS, DomainRegistry } from '../../../src/generators/builtin/domains/index'

/**
 * What each builtin pack emitted when its version was last set. A failure here means a pack's output changed:
 * bump that pack's `version` (so existing locks regenerate), then paste the fingerprint the failure prints.
 */
const RECORDED: Record<string, string> = {
  ml_monitoring: '1.1.0 17dd93a68f896c49',
  financial_services: '1.0.0 51306efd0ef155c4',
  healthcare: '1.0.0 9acdeea2e05c565d',
  api_integration: '1.0.0 35ae35b6bb1fcd83',
  llm_optimization: '1.0.0 7cfc4f3f4cfe112f',
  data_processing: '1.1.0 71f0130fb9d48572',
  security: '1.0.0 d2b1588fecada940',
}

const num: TypeIR = { kind: 'number' }
const str: TypeIR = { kind: 'string' }
const TYPES: TypeIR[] = [
  num,
  str,
  { kind: 'array', element: num },
  { kind: 'array', element: str },
  { kind: 'unknown' },
  { kind: 'record', key: str, value: num },
  { kind: 'objectType', properties: [{ name: 'amount', type: num, optional: false }, { name: 'currency', type: str, optional: false }, { name: 'systolic', type: num, optional: false }, { name: 'diastolic', type: num, optional: false }] },
]
// One key per kind of name the packs look for, and one they must ignore.
const KEYS = [undefined, 'amount', 'amountCents', 'total', 'currency', 'heartRate', 'systolic', 'temperatureC', 'spo2', 'respiratoryRate', 'probability', 'url', 'statusCode', 'prompt', 'createdAt', 'filePath', 'payload', 'other']

function sites(): RuleSite[] {
  const out: RuleSite[] = []
  for (const type of TYPES) {
    for (const key of KEYS) {
      for (const phase of ['perceive', 'enforce'] as const) {
        for (const repair of [false, true]) {
          out.push({ type, value: 'v', target: 'o.x', path: '"p"', ...(key ? { key } : {}), phase, repair, parent: { value: 'o', type: TYPES[6]! } })
        }
      }
    }
  }
  return out
}

function spec(name: string, params: [string, TypeIR][], returns: TypeIR): FunctionSpec {
  return {
    id: `src/a.ts#${name}`,
    file: '/p/src/a.ts',
    name,
    kind: 'function',
    async: false,
    params: params.map(([n, type]) => ({ name: n, type, optional: false, rest: false })),
    returns,
    types: {},
    options: {},
    source: '',
    signature: '',
    unresolved: [],
  }
}

const SPECS = [
  spec('detectDrift', [['current', TYPES[2]!], ['reference', TYPES[2]!]], num),
  spec('orderTotal', [['rows', { kind: 'array', element: TYPES[6]! }]], num),
  spec('summarize', [['prompt', str]], str),
]

function fingerprint(name: string): string {
  const p = new DomainRegistry().get(name)
  const h = createHash('sha256')
  h.update(JSON.stringify([p.version, p.description, p.policy, p.neverInEvents, p.helpers ?? '']))
  for (const phase of ['perceive', 'enforce'] as const) {
    for (const rule of p[phase]) {
      h.update(`\0${phase}:${rule.id}:${rule.description}`)
      for (const site of sites()) h.update(`\0${rule.check?.(site) ?? ''}\0${rule.coerce?.(site) ?? ''}`)
      for (const s of SPECS) h.update(`\0${rule.whole?.(s, phase) ?? ''}`)
    }
  }
  return `${p.version} ${h.digest('hex').slice(0, 16)}`
}

describe('builtin pack versions', () => {
  it.each(BUILTIN_PACKS.map((p) => p.name))('%s emits what its version says', (name) => {
    const now = fingerprint(name)
    expect(now, `${name} changed: bump its version, then record ${JSON.stringify(now)} in RECORDED`).toBe(RECORDED[name])
  })
})
