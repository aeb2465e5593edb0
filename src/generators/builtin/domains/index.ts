// The domain registry: the one source of truth for builtin and custom packs, their resolution, `poet domains` and the docs table.
import type { CodeRule, DomainPack, EventField } from '../domain'
import { apiIntegration } from './api_integration'
import { dataProcessing } from './data_processing'
import { financialServices } from './financial_services'
import { healthcare } from './healthcare'
import { llmOptimization } from './llm_optimization'
import { mlMonitoring } from './ml_monitoring'
import { security } from './security'

export const BUILTIN_PACKS: readonly DomainPack[] = [
  mlMonitoring,
  financialServices,
  healthcare,
  apiIntegration,
  llmOptimization,
  dataProcessing,
  security,
]

/** A pack with its parent chain merged in: what the generator and the lock's input hash use. */
export interface ResolvedDomainPack extends DomainPack {
  /** Pack names from the root ancestor to this pack. */
  chain: string[]
  policy: NonNullable<DomainPack['policy']>
  perceive: CodeRule[]
  enforce: CodeRule[]
  neverInEvents: EventField[]
}

/** One row of `poet domains` and of the docs table. */
export interface DomainRow {
  name: string
  version: string
  description: string
  parent?: string
  policy: NonNullable<DomainPack['policy']>
  perceive: { id: string; description: string }[]
  enforce: { id: string; description: string }[]
  neverInEvents: EventField[]
}

/** A custom pack that cannot be used, or an unknown domain name; `pack` names the offender. */
export class DomainPackError extends Error {
  override name = 'DomainPackError'
  constructor(
    readonly pack: string,
    message: string,
  ) {
    super(message)
  }
}

const NAME = /^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)*$/
const PACK_KEYS = ['name', 'version', 'description', 'parent', 'policy', 'perceive', 'enforce', 'helpers', 'neverInEvents']
const POLICY_KEYS = ['attempts', 'timeout', 'retryOn', 'backoff']
const BACKOFF_KEYS = ['initial', 'max', 'factor', 'jitter']
const RULE_KEYS = ['id', 'description', 'check', 'coerce', 'whole']
const EVENT_FIELDS: readonly EventField[] = ['values', 'stats', 'comment', 'label']

export class DomainRegistry {
  readonly #packs = new Map<string, DomainPack>()
  readonly #resolved = new Map<string, ResolvedDomainPack>()

  /** Builtin packs plus `custom` ones (the plugin's `domains` option), each validated: a bad one throws `DomainPackError`. */
  constructor(custom: readonly DomainPack[] = []) {
    for (const p of BUILTIN_PACKS) this.#packs.set(p.name, p)
    // Parents may come later in the list than their children, so names are registered before parents are checked.
    const accepted = custom.map((p, i) => this.#accept(p, i))
    for (const p of accepted) this.#checkParent(p)
  }

  has(name: string): boolean {
    return this.#packs.has(name)
  }

  /** Every pack name, builtin first, in registration order. */
  names(): string[] {
    return [...this.#packs.keys()]
  }

  /** The pack with its chain merged: policy child over parent, rules parent first, helpers and event limits combined. */
  get(name: string): ResolvedDomainPack {
    const cached = this.#resolved.get(name)
    if (cached) return cached
    const pack = this.#packs.get(name)
    if (!pack) throw new DomainPackError(name, this.unknownMessage(name))
    const resolved = pack.parent ? merge(this.get(pack.parent), pack) : merge(undefined, pack)
    this.#resolved.set(name, resolved)
    return resolved
  }

  /**
   * The closest known name (edit distance with transpositions, case and `-`/`_` ignored; a name that starts with
   * what was typed counts as one edit away), if any is close enough.
   */
  suggest(name: string): string | undefined {
    return closest(name, this.names())
  }

  /** `unknown domain "x"` with the closest name and the list of known ones: what the build error says. */
  unknownMessage(name: string): string {
    const hint = this.suggest(name)
    return `poet: unknown domain ${JSON.stringify(name)}${hint ? ` — did you mean ${JSON.stringify(hint)}?` : '.'} Known domains: ${this.names().join(', ')}.`
  }

  /** One row per pack, resolved, for `poet domains` and the docs table. */
  describe(): DomainRow[] {
    return this.names().map((name) => {
      const p = this.get(name)
      const rules = (rs: CodeRule[]) => rs.map((r) => ({ id: r.id, description: r.description }))
      return {
        name,
        version: p.version,
        description: p.description,
        ...(p.parent ? { parent: p.parent } : {}),
        policy: p.policy,
        perceive: rules(p.perceive),
        enforce: rules(p.enforce),
        neverInEvents: p.neverInEvents,
      }
    })
  }

  /** The Markdown table of every pack (README and docs/domains.md embed it). */
  markdownTable(): string {
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
    const rules = (rs: DomainRow['perceive']) => (rs.length ? rs.map((r) => `\`${r.id}\`: ${cell(r.description)}`).join('<br>') : '—')
    const lines = [
      '| Domain | For | Policy defaults | Perceive rules | Enforce rules | Events never carry |',
      '| --- | --- | --- | --- | --- | --- |',
    ]
    for (const row of this.describe()) {
      lines.push(
        `| \`${row.name}\` | ${cell(row.description)} | ${policyText(row.policy)} | ${rules(row.perceive)} | ${rules(row.enforce)} | ${row.neverInEvents.join(', ') || '—'} |`,
      )
    }
    return lines.join('\n') + '\n'
  }

  #accept(input: unknown, index: number): DomainPack {
    const where = `domains[${index}]`
    if (!isRecord(input)) throw new DomainPackError(where, `poet: ${where} must be a domain pack object, got ${kindOf(input)}.`)
    const name = input.name
    if (typeof name !== 'string' || name === '') throw new DomainPackError(where, `poet: ${where} has no name: give it one like "financial_services:payments".`)
    const fail = (what: string): never => {
      throw new DomainPackError(name, `poet: domain pack ${JSON.stringify(name)}: ${what}`)
    }
    if (!NAME.test(name)) fail('the name must be lower-case words of [a-z0-9_], a child named "<parent>:<child>".')
    if (this.#packs.has(name)) fail(BUILTIN_PACKS.some((b) => b.name === name) ? 'a builtin pack has this name; extend it instead with parent and a name like "' + name + ':custom".' : 'defined twice.')
    unknownKeys(input, PACK_KEYS, fail, '')
    if (typeof input.version !== 'string' || input.version === '') fail('has no version: set version (e.g. "1.0.0") and bump it when its rules change, so locks regenerate.')
    if (input.description !== undefined && typeof input.description !== 'string') fail(`description must be a string, got ${kindOf(input.description)}.`)
    const parent = input.parent ?? (name.includes(':') ? name.slice(0, name.lastIndexOf(':')) : undefined)
    if (parent !== undefined && (typeof parent !== 'string' || !name.startsWith(parent + ':') || name.length === parent.length + 1 || name.slice(parent.length + 1).includes(':'))) {
      fail(`a pack extending ${JSON.stringify(parent)} must be named "${String(parent)}:<child>", one level below it.`)
    }
    if (input.policy !== undefined) checkPolicy(input.policy, fail)
    for (const phase of ['perceive', 'enforce'] as const) {
      const rules = input[phase]
      if (rules === undefined) continue
      if (!Array.isArray(rules)) fail(`${phase} must be an array of rules, got ${kindOf(rules)}.`)
      ;(rules as unknown[]).forEach((r, i) => checkRule(r, `${phase}[${i}]`, name, fail))
    }
    if (input.helpers !== undefined && typeof input.helpers !== 'string') fail(`helpers must be a string of module-level JS, got ${kindOf(input.helpers)}.`)
    if (input.neverInEvents !== undefined) {
      if (!Array.isArray(input.neverInEvents)) fail(`neverInEvents must be an array of ${EVENT_FIELDS.join(', ')}.`)
      for (const f of input.neverInEvents as unknown[]) {
        if (!EVENT_FIELDS.includes(f as EventField)) fail(`neverInEvents: ${JSON.stringify(f)} is not one of ${EVENT_FIELDS.join(', ')}.`)
      }
    }
    const pack = { description: '', ...input, ...(parent ? { parent } : {}) } as DomainPack
    this.#packs.set(name, pack)
    return pack
  }

  #checkParent(pack: DomainPack): void {
    if (pack.parent === undefined || this.#packs.has(pack.parent)) return
    const others = this.names().filter((n) => n !== pack.name)
    const hint = closest(pack.parent, others)
    throw new DomainPackError(
      pack.name,
      `poet: domain pack ${JSON.stringify(pack.name)} extends unknown pack ${JSON.stringify(pack.parent)}${hint ? ` — did you mean ${JSON.stringify(hint)}?` : '.'} Known domains: ${others.join(', ')}.`,
    )
  }
}

function closest(name: string, candidates: string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-\s]/g, '_')
  const wanted = norm(name)
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const known = norm(candidate)
    const d = wanted.length >= 3 && known.startsWith(wanted) ? Math.min(1, distance(wanted, known)) : distance(wanted, known)
    if (d < bestDistance) [best, bestDistance] = [candidate, d]
  }
  const tolerance = Math.max(2, Math.floor(wanted.length / 3))
  return best !== undefined && bestDistance <= tolerance ? best : undefined
}

function merge(parent: ResolvedDomainPack | undefined, child: DomainPack): ResolvedDomainPack {
  const rules = (inherited: CodeRule[] = [], own: CodeRule[] = []) => {
    // A child rule with an inherited id replaces that rule where it stood: overriding keeps rule order stable.
    const out = inherited.map((r) => own.find((o) => o.id === r.id) ?? r)
    return out.concat(own.filter((o) => !inherited.some((r) => r.id === o.id)))
  }
  const policy = { ...parent?.policy, ...child.policy }
  return {
    ...child,
    chain: [...(parent?.chain ?? []), child.name],
    version: parent ? `${parent.version}+${child.version}` : child.version,
    policy,
    perceive: rules(parent?.perceive, child.perceive),
    enforce: rules(parent?.enforce, child.enforce),
    helpers: [parent?.helpers, child.helpers].filter(Boolean).join('\n\n') || undefined,
    neverInEvents: [...new Set([...(parent?.neverInEvents ?? []), ...(child.neverInEvents ?? [])])],
    // Only builtin packs declare learnable thresholds (custom packs cannot: see PACK_KEYS); a child keeps its parent's.
    ...(child.learned ?? parent?.learned ? { learned: child.learned ?? parent?.learned } : {}),
  }
}

function policyText(p: DomainRow['policy']): string {
  const ms = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000} s` : `${n} ms`)
  const b = p.backoff
  const parts = [
    p.attempts !== undefined && `${p.attempts} attempt${p.attempts === 1 ? '' : 's'}`,
    p.timeout !== undefined && `timeout ${ms(p.timeout)}`,
    p.retryOn !== undefined && `retry on ${p.retryOn}`,
    b && `backoff ${ms(b.initial)} → ${ms(b.max)}, ×${b.factor}${b.jitter ? ', jittered' : ''}`,
  ].filter((x): x is string => typeof x === 'string')
  return parts.length ? parts.join('<br>') : 'global defaults'
}

function checkPolicy(policy: unknown, fail: (what: string) => never): void {
  if (!isRecord(policy)) fail(`policy must be an object, got ${kindOf(policy)}.`)
  const p = policy as Record<string, unknown>
  unknownKeys(p, POLICY_KEYS, fail, 'policy.')
  // The range poet() options have: a sync function is retried at once, so a huge number is a loop without end.
  if (p.attempts !== undefined && !(Number.isInteger(p.attempts) && (p.attempts as number) >= 1 && (p.attempts as number) <= 100)) fail(`policy.attempts must be an integer from 1 to 100 (1 = no retry), got ${show(p.attempts)}.`)
  if (p.timeout !== undefined && !(typeof p.timeout === 'number' && Number.isFinite(p.timeout) && p.timeout > 0)) fail(`policy.timeout must be a positive number of milliseconds, got ${show(p.timeout)}.`)
  if (p.retryOn !== undefined && p.retryOn !== 'transient' && p.retryOn !== 'any') fail(`policy.retryOn must be "transient" or "any", got ${show(p.retryOn)}.`)
  if (p.backoff !== undefined) {
    if (!isRecord(p.backoff)) fail(`policy.backoff must be an object, got ${kindOf(p.backoff)}.`)
    const b = p.backoff as Record<string, unknown>
    unknownKeys(b, BACKOFF_KEYS, fail, 'policy.backoff.')
    // A pack's backoff is whole: half of one merged into the parent's would be hard to read from the pack alone.
    const missing = BACKOFF_KEYS.filter((k) => b[k] === undefined)
    if (missing.length) fail(`policy.backoff needs all of ${BACKOFF_KEYS.join(', ')}; missing ${missing.join(', ')}.`)
    for (const k of ['initial', 'max', 'factor'] as const) {
      if (!(typeof b[k] === 'number' && Number.isFinite(b[k]) && b[k] >= 0)) fail(`policy.backoff.${k} must be a number ≥ 0, got ${show(b[k])}.`)
    }
    if (typeof b.jitter !== 'boolean') fail(`policy.backoff.jitter must be true or false, got ${show(b.jitter)}.`)
  }
}

function checkRule(rule: unknown, where: string, pack: string, fail: (what: string) => never): void {
  if (!isRecord(rule)) fail(`${where} must be a rule object, got ${kindOf(rule)}.`)
  const r = rule as Record<string, unknown>
  unknownKeys(r, RULE_KEYS, fail, `${where}.`)
  // Ids name their pack (or an ancestor, to replace its rule) so an issue's rule always says where it came from.
  const ancestors = pack.split(':').map((_, i, parts) => parts.slice(0, i + 1).join(':'))
  if (typeof r.id !== 'string' || !ancestors.some((a) => (r.id as string).startsWith(a + '.') && (r.id as string).length > a.length + 1)) {
    fail(`${where}.id must be "${pack}.<rule>" (or an inherited rule's id, to replace it), got ${show(r.id)}.`)
  }
  if (typeof r.description !== 'string' || r.description === '') fail(`${where} (${String(r.id)}) needs a one-line description: it is shown in \`poet domains\` and the docs.`)
  for (const k of ['check', 'coerce', 'whole'] as const) {
    if (r[k] !== undefined && typeof r[k] !== 'function') fail(`${where}.${k} must be a function returning code, got ${kindOf(r[k])}.`)
  }
}

function unknownKeys(obj: Record<string, unknown>, known: string[], fail: (what: string) => never, prefix: string): void {
  for (const k of Object.keys(obj)) {
    if (known.includes(k)) continue
    const close = known.find((c) => distance(k.toLowerCase(), c.toLowerCase()) <= 2)
    fail(`unknown key ${prefix}${k}${close ? ` — did you mean ${prefix}${close}?` : ''} Allowed: ${known.join(', ')}.`)
  }
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`ml_montioring`). */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : kindOf(v)
}

/** Markers around the table in any other Markdown file (the README) that `scripts/domains-table.mjs` keeps current. */
export const TABLE_START = '<!-- poet:domains:start (generated from the domain registry) -->'
export const TABLE_END = '<!-- poet:domains:end -->'

/** `text` with the part between the table markers replaced by the current table; unchanged when it has no markers. */
export function withDomainsTable(text: string, registry: DomainRegistry = new DomainRegistry()): string {
  const start = text.indexOf(TABLE_START)
  const end = text.indexOf(TABLE_END)
  if (start < 0 || end < start) return text
  return `${text.slice(0, start + TABLE_START.length)}\n\n${registry.markdownTable()}\n${text.slice(end)}`
}

/** The whole of `docs/domains.md`: generated from the registry so the docs cannot drift from the code. */
export function domainsDocument(registry: DomainRegistry = new DomainRegistry()): string {
  return `# Domain packs

<!-- Generated from the domain registry (src/generators/builtin/domains). Do not edit: run \`node scripts/domains-table.mjs\`. -->

\`poet({ domain })\` adds a pack's rules to the generated perceive (arguments) and enforce (result) phases, and its
policy defaults under the function's own options. Rules match on TypeScript types and on key names (a parameter or
property called \`amount\`, \`currency\`, \`heartRate\` …); every issue names its rule. With \`repair: true\` some
rules normalise instead of rejecting, and record each change (path, action, rule) in the execution event.
Events never carry argument or result values unless the function's options allow it; the last column lists what a
pack forbids whatever the options say.

${registry.markdownTable()}
## Custom packs

Pass packs to the plugin's \`domains\` option. A pack extends another by naming it \`<parent>:<child>\`
(\`parent\` is then implied, or set it explicitly): its policy overrides the parent's key by key, its rules run after
the parent's (a rule reusing an inherited id replaces that rule), helpers are concatenated, event limits are joined,
and its version is combined with the parent's, so a parent's update regenerates every child's phases.

\`\`\`ts
import type { DomainPack } from 'unplugin-poet'

const payments: DomainPack = {
  name: 'financial_services:payments',
  version: '1.0.0',
  description: 'Card payments up to 10 000.',
  policy: { attempts: 1 },
  perceive: [{
    id: 'financial_services:payments.max_amount',
    description: 'amounts at most 10 000',
    check: (site) => site.key === 'amount'
      ? \`if (typeof \${site.value} === 'number' && \${site.value} > 10000) issues = add(issues, \${site.path}, "amount ≤ 10000", \${site.value}, "financial_services:payments.max_amount")\`
      : undefined,
  }],
}
\`\`\`

A pack that cannot be used (no name or version, an unknown parent, a bad policy, a rule id outside its pack) stops
the build with an error naming the pack and the fix; an unknown \`domain\` suggests the closest name.
`
}
