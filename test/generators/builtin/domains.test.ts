// The domain registry: builtin packs, custom packs and their validation, resolution of parent chains, suggestions, the docs table.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { CodeRule, DomainPack } from '../../../src/generators/builtin/domain'
import { DomainPackError, DomainRegistry, distance, domainsDocument, TABLE_END, TABLE_START, withDomainsTable } from '../../../src/generators/builtin/domains/index'

const BUILTIN = ['ml_monitoring', 'financial_services', 'healthcare', 'api_integration', 'llm_optimization', 'data_processing', 'security']

const rule = (id: string, description = 'a rule'): CodeRule => ({ id, description, check: () => undefined })

const payments: DomainPack = {
  name: 'financial_services:payments',
  version: '0.1.0',
  description: 'Card payments.',
  policy: { attempts: 1, backoff: { initial: 50, max: 1000, factor: 3, jitter: false } },
  perceive: [rule('financial_services:payments.max_amount', 'amounts at most 10 000')],
  helpers: 'const PAY_LIMIT = 10000',
  neverInEvents: ['label'],
}

function errorOf(fn: () => unknown): DomainPackError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(DomainPackError)
    return e as DomainPackError
  }
  throw new Error('expected a DomainPackError')
}

describe('DomainRegistry: builtin packs', () => {
  const registry = new DomainRegistry()

  it('knows the seven builtin packs, in a stable order', () => {
    expect(registry.names()).toEqual(BUILTIN)
    for (const name of BUILTIN) expect(registry.has(name)).toBe(true)
    expect(registry.has('ml')).toBe(false)
  })

  it('gives every builtin pack a version, a description, policy defaults and rules in both phases', () => {
    for (const name of BUILTIN) {
      const p = registry.get(name)
      expect(p.chain).toEqual([name])
      expect(p.version).toMatch(/^\d+\.\d+\.\d+$/)
      expect(p.description.length).toBeGreaterThan(20)
      expect(p.policy.attempts).toBeGreaterThanOrEqual(1)
      expect(p.policy.timeout).toBeGreaterThan(0)
      expect(p.policy.retryOn).toBe('transient')
      expect(p.perceive.length).toBeGreaterThan(0)
      expect(p.enforce.length).toBeGreaterThan(0)
      for (const r of [...p.perceive, ...p.enforce]) expect(r.id.startsWith(name + '.')).toBe(true)
    }
  })

  it('sets the policy each domain needs', () => {
    expect(registry.get('api_integration').policy).toEqual({
      attempts: 4,
      timeout: 10_000,
      retryOn: 'transient',
      backoff: { initial: 250, max: 10_000, factor: 2, jitter: true },
    })
    expect(registry.get('llm_optimization').policy).toMatchObject({ attempts: 3, timeout: 60_000 })
    expect(registry.get('data_processing').policy).toMatchObject({ timeout: 120_000 })
    expect(registry.get('security').policy).toMatchObject({ attempts: 2, timeout: 5_000 })
  })

  it('keeps values out of the events of sensitive domains', () => {
    expect(registry.get('healthcare').neverInEvents).toEqual(['values', 'comment', 'label'])
    expect(registry.get('security').neverInEvents).toEqual(['values', 'comment', 'label'])
    expect(registry.get('financial_services').neverInEvents).toEqual(['values', 'comment'])
    expect(registry.get('data_processing').neverInEvents).toEqual([])
  })

  it('returns the same resolved pack on every call (generation and lock hashing agree)', () => {
    expect(registry.get('healthcare')).toBe(registry.get('healthcare'))
  })
})

describe('DomainRegistry: unknown names', () => {
  const registry = new DomainRegistry()

  it.each([
    ['ml_monitor', 'ml_monitoring'],
    ['ml-monitoring', 'ml_monitoring'],
    ['ML_Monitoring', 'ml_monitoring'],
    ['ml_montioring', 'ml_monitoring'],
    ['finance_services', 'financial_services'],
    ['healthcar', 'healthcare'],
    ['secruity', 'security'],
    ['api_integrations', 'api_integration'],
  ])('suggests %s → %s', (typo, name) => {
    expect(registry.suggest(typo)).toBe(name)
  })

  it('suggests nothing for a name that is nowhere near', () => {
    expect(registry.suggest('weather')).toBeUndefined()
  })

  it('throws a clear error for an unknown domain, with the suggestion and the known names', () => {
    const e = errorOf(() => registry.get('helthcare'))
    expect(e.pack).toBe('helthcare')
    expect(e.message).toBe(`poet: unknown domain "helthcare" — did you mean "healthcare"? Known domains: ${BUILTIN.join(', ')}.`)
    expect(registry.unknownMessage('weather')).toBe(`poet: unknown domain "weather". Known domains: ${BUILTIN.join(', ')}.`)
  })

  it('counts a transposition as one edit', () => {
    expect(distance('ab', 'ba')).toBe(1)
    expect(distance('kitten', 'sitting')).toBe(3)
    expect(distance('', 'abc')).toBe(3)
  })
})

describe('DomainRegistry: custom packs', () => {
  it('resolves a child of a builtin: policy child over parent, rules parent first, helpers and event limits joined', () => {
    const registry = new DomainRegistry([payments])
    expect(registry.names()).toEqual([...BUILTIN, 'financial_services:payments'])
    const parent = registry.get('financial_services')
    const p = registry.get('financial_services:payments')
    expect(p.parent).toBe('financial_services')
    expect(p.chain).toEqual(['financial_services', 'financial_services:payments'])
    expect(p.version).toBe('1.0.0+0.1.0')
    expect(p.policy).toEqual({ attempts: 1, timeout: 15_000, retryOn: 'transient', backoff: { initial: 50, max: 1000, factor: 3, jitter: false } })
    expect(p.perceive.map((r) => r.id)).toEqual([...parent.perceive.map((r) => r.id), 'financial_services:payments.max_amount'])
    expect(p.enforce.map((r) => r.id)).toEqual(parent.enforce.map((r) => r.id))
    expect(p.helpers).toBe(`${parent.helpers}\n\nconst PAY_LIMIT = 10000`)
    expect(p.neverInEvents).toEqual(['values', 'comment', 'label'])
  })

  it('lets a child replace an inherited rule by reusing its id, in the same place', () => {
    const stricter = rule('financial_services.currency_code', 'only EUR')
    const registry = new DomainRegistry([{ name: 'financial_services:eu', version: '1', description: 'EU', perceive: [stricter] }])
    const ids = registry.get('financial_services').perceive.map((r) => r.id)
    const child = registry.get('financial_services:eu').perceive
    expect(child.map((r) => r.id)).toEqual(ids)
    expect(child[ids.indexOf('financial_services.currency_code')]).toBe(stricter)
  })

  it('infers the parent from a parent:child name, and resolves grandchildren in either order of definition', () => {
    const registry = new DomainRegistry([
      { name: 'security:internal:strict', version: '3', description: 'strict', policy: { attempts: 1 }, neverInEvents: ['stats'] },
      { name: 'security:internal', version: '2', description: 'internal', policy: { timeout: 1000 } },
    ])
    const p = registry.get('security:internal:strict')
    expect(p.chain).toEqual(['security', 'security:internal', 'security:internal:strict'])
    expect(p.parent).toBe('security:internal')
    expect(p.version).toBe('1.0.0+2+3')
    expect(p.policy).toEqual({ attempts: 1, timeout: 1000, retryOn: 'transient' })
    expect(p.neverInEvents).toEqual(['values', 'comment', 'label', 'stats'])
  })

  it('accepts a standalone custom pack with global policy defaults', () => {
    const registry = new DomainRegistry([{ name: 'weather', version: '1.0.0', description: 'Forecasts.' }])
    const p = registry.get('weather')
    expect(p).toMatchObject({ chain: ['weather'], policy: {}, perceive: [], enforce: [], neverInEvents: [] })
    expect(p.helpers).toBeUndefined()
    expect(registry.describe().at(-1)).toEqual({
      name: 'weather',
      version: '1.0.0',
      description: 'Forecasts.',
      policy: {},
      perceive: [],
      enforce: [],
      neverInEvents: [],
    })
    expect(registry.markdownTable()).toContain('| `weather` | Forecasts. | global defaults | — | — | — |')
  })

  const invalid: [string, unknown, string][] = [
    ['not an object', 'ml', 'poet: domains[0] must be a domain pack object, got string.'],
    ['no name', { version: '1' }, 'poet: domains[0] has no name: give it one like "financial_services:payments".'],
    ['no version', { name: 'weather' }, 'poet: domain pack "weather": has no version: set version (e.g. "1.0.0") and bump it when its rules change, so locks regenerate.'],
    ['a bad name', { name: 'Weather Pack', version: '1' }, 'poet: domain pack "Weather Pack": the name must be lower-case words of [a-z0-9_], a child named "<parent>:<child>".'],
    [
      'a builtin name',
      { name: 'security', version: '1' },
      'poet: domain pack "security": a builtin pack has this name; extend it instead with parent and a name like "security:custom".',
    ],
    [
      'a parent its name does not carry',
      { name: 'payments', version: '1', parent: 'financial_services' },
      'poet: domain pack "payments": a pack extending "financial_services" must be named "financial_services:<child>", one level below it.',
    ],
    [
      'an unknown parent',
      { name: 'financial:payments', version: '1' },
      'poet: domain pack "financial:payments" extends unknown pack "financial" — did you mean "financial_services"?',
    ],
    ['an unknown key', { name: 'weather', version: '1', neverInEvent: ['values'] }, 'poet: domain pack "weather": unknown key neverInEvent — did you mean neverInEvents? Allowed:'],
    ['attempts 0', { name: 'weather', version: '1', policy: { attempts: 0 } }, 'poet: domain pack "weather": policy.attempts must be an integer from 1 to 100 (1 = no retry), got 0.'],
    ['attempts a sync retry loop never ends', { name: 'weather', version: '1', policy: { attempts: 1e9 } }, 'poet: domain pack "weather": policy.attempts must be an integer from 1 to 100 (1 = no retry), got 1000000000.'],
    ['a negative timeout', { name: 'weather', version: '1', policy: { timeout: -5 } }, 'policy.timeout must be a positive number of milliseconds, got -5.'],
    ['a bad retryOn', { name: 'weather', version: '1', policy: { retryOn: 'never' } }, 'policy.retryOn must be "transient" or "any", got "never".'],
    ['a policy typo', { name: 'weather', version: '1', policy: { attemps: 2 } }, 'unknown key policy.attemps — did you mean policy.attempts?'],
    ['a partial backoff', { name: 'weather', version: '1', policy: { backoff: { max: 100 } } }, 'policy.backoff needs all of initial, max, factor, jitter; missing initial, factor, jitter.'],
    ['a bad backoff', { name: 'weather', version: '1', policy: { backoff: { initial: 1, max: 2, factor: 2, jitter: 'yes' } } }, 'policy.backoff.jitter must be true or false, got "yes".'],
    ['a negative backoff', { name: 'weather', version: '1', policy: { backoff: { initial: -1, max: 2, factor: 2, jitter: true } } }, 'policy.backoff.initial must be a number ≥ 0, got -1.'],
    ['rules not in an array', { name: 'weather', version: '1', perceive: rule('weather.x') }, 'perceive must be an array of rules, got object.'],
    [
      'a rule id outside the pack',
      { name: 'weather', version: '1', enforce: [rule('healthcare.vital_range')] },
      'enforce[0].id must be "weather.<rule>" (or an inherited rule\'s id, to replace it), got "healthcare.vital_range".',
    ],
    ['a rule without description', { name: 'weather', version: '1', perceive: [{ id: 'weather.x' }] }, 'perceive[0] (weather.x) needs a one-line description'],
    ['a check that is not a function', { name: 'weather', version: '1', perceive: [{ id: 'weather.x', description: 'd', check: 'x > 0' }] }, 'perceive[0].check must be a function returning code, got string.'],
    ['bad event fields', { name: 'weather', version: '1', neverInEvents: ['args'] }, 'neverInEvents: "args" is not one of values, stats, comment, label.'],
  ]

  it.each(invalid)('rejects a pack with %s, naming it and the fix', (_, pack, message) => {
    const e = errorOf(() => new DomainRegistry([pack as DomainPack]))
    expect(e.message).toContain(message)
  })

  it('rejects a pack defined twice', () => {
    const e = errorOf(() => new DomainRegistry([payments, payments]))
    expect(e.message).toBe('poet: domain pack "financial_services:payments": defined twice.')
  })

  it('cannot form a cycle: a parent is always a strict prefix of its child', () => {
    const e = errorOf(() => new DomainRegistry([{ name: 'a:b', version: '1', description: '' }, { name: 'a', version: '1', description: '', parent: 'a:b' }]))
    expect(e.pack).toBe('a')
    expect(e.message).toBe('poet: domain pack "a": a pack extending "a:b" must be named "a:b:<child>", one level below it.')
  })

  it('suggests custom names too', () => {
    expect(new DomainRegistry([payments]).suggest('financial_services:payment')).toBe('financial_services:payments')
  })
})

describe('the domains table', () => {
  it('lists every pack with its policy, rules and event limits', () => {
    const table = new DomainRegistry().markdownTable()
    const rows = table.trimEnd().split('\n')
    expect(rows[0]).toBe('| Domain | For | Policy defaults | Perceive rules | Enforce rules | Events never carry |')
    expect(rows).toHaveLength(2 + BUILTIN.length)
    const health = rows.find((r) => r.startsWith('| `healthcare` |'))!
    expect(health).toContain('2 attempts<br>timeout 10 s<br>retry on transient')
    expect(health).toContain('`healthcare.vital_range`: vitals by key name lie in plausible ranges: heart rate (bpm) 20–300')
    expect(health.endsWith('| values, comment, label |')).toBe(true)
    // A `|` inside a description must not split the cell.
    expect(rows.find((r) => r.startsWith('| `ml_monitoring` |'))).toContain('(\\|z\\| > 3)')
  })

  it('replaces only what sits between the README markers, and leaves a file without markers alone', () => {
    const registry = new DomainRegistry([{ name: 'weather', version: '1', description: 'Forecasts.' }])
    const readme = `# Title\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nAfter.\n`
    expect(withDomainsTable(readme, registry)).toBe(`# Title\n\n${TABLE_START}\n\n${registry.markdownTable()}\n${TABLE_END}\n\nAfter.\n`)
    expect(withDomainsTable(withDomainsTable(readme, registry), registry)).toBe(withDomainsTable(readme, registry))
    expect(withDomainsTable('# No table here\n', registry)).toBe('# No table here\n')
  })

  it('is exactly what docs/domains.md (and the README, when it embeds the table) hold: `node scripts/domains-table.mjs` regenerates them', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8')
    expect(withDomainsTable(readme)).toBe(readme)
    const file = readFileSync(fileURLToPath(new URL('../../../docs/domains.md', import.meta.url)), 'utf8')
    expect(file).toBe(domainsDocument())
    expect(file).toContain(new DomainRegistry().markdownTable())
  })
})
