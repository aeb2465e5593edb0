// Build-time check of the `poet({...})` literal: the option table (keys, types, docs) and a reader that rejects anything else.
import type * as t from '@babel/types'
import type { PoetOptions } from '../runtime/types'
import { buildError, type ErrorSite } from './errors'
import { closest, didYouMean } from './suggest'

type Rule =
  | { type: 'string' }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] }
  /** A finite number in [min, max]; `integer` also requires a whole number. */
  | { type: 'number'; min: number; max?: number; integer?: boolean }
  | { type: 'object'; fields: Record<string, OptionSpec> }

interface OptionSpec {
  rule: Rule
  /** One line for docs and for errors ("what this option is"). */
  doc: string
}

/**
 * The single source of truth for `poet()` options: the key list the scanner accepts, the type each key must
 * have, and its one-line doc. `satisfies` keeps it in step with `PoetOptions` in src/runtime/types.ts.
 */
export const POET_OPTIONS = {
  domain: { rule: { type: 'string' }, doc: 'the domain pack name' },
  optimizeFor: {
    rule: { type: 'string' },
    doc: 'metric Train improves: accuracy, latency, cost, quality, or a custom feedback metric name',
  },
  // Bounded: a sync function is retried at once, so a huge number is a loop that never ends.
  attempts: { rule: { type: 'number', min: 1, max: 100, integer: true }, doc: 'total tries, 1 = no retry' },
  // 0 is no timeout, as in the runtime (Infinity cannot be written to the lock's JSON).
  timeout: { rule: { type: 'number', min: 0 }, doc: 'milliseconds per attempt, async functions only; 0 = none' },
  backoff: {
    rule: {
      type: 'object',
      fields: {
        initial: { rule: { type: 'number', min: 0 }, doc: 'delay before the second attempt, ms' },
        max: { rule: { type: 'number', min: 0 }, doc: 'upper bound of any delay, ms' },
        factor: { rule: { type: 'number', min: 1 }, doc: 'growth per attempt' },
        jitter: { rule: { type: 'boolean' }, doc: 'full jitter: each delay drawn uniformly from [0, delay]' },
      },
    },
    doc: 'delays between attempts',
  },
  retryOn: {
    rule: { type: 'enum', values: ['transient', 'any'] },
    doc: 'which failures are retried',
  },
  repair: { rule: { type: 'boolean' }, doc: 'let perceive/enforce normalise values instead of rejecting' },
  sample: { rule: { type: 'number', min: 0, max: 1 }, doc: 'fraction of executions that emit events' },
} as const satisfies { [K in keyof Required<PoetOptions>]: OptionSpec }

export const POET_OPTION_KEYS = Object.keys(POET_OPTIONS) as (keyof PoetOptions)[]

/** The domain registry as the scanner sees it. */
export interface DomainNames {
  has(name: string): boolean
  names(): string[]
  /** The closest known name, if one is close enough: the one "did you mean" for domains. */
  suggest(name: string): string | undefined
  /** The sentence for a name it does not know, with that suggestion and the known names. */
  unknownMessage(name: string): string
}

/** A 1-based line and 0-based column, as babel reports them. */
export interface Position {
  line: number
  column: number
}

export interface ReadOptions {
  options: PoetOptions
  /** Where each top-level key was written, for warnings that point at it. */
  keys: Partial<Record<keyof PoetOptions, Position>>
}

/**
 * Reads the options argument of a `poet(...)` call at build time. `arg` is undefined for `poet()`.
 * Throws a PoetBuildError at the first problem in source order.
 */
export function readPoetOptions(arg: t.Node | undefined, site: ErrorSite, domains: DomainNames): ReadOptions {
  const keys: ReadOptions['keys'] = {}
  if (!arg) return { options: {}, keys }
  const node = unwrap(arg)
  if (node.type === 'Identifier' && node.name === 'undefined') return { options: {}, keys }
  if (node.type !== 'ObjectExpression') {
    const value = staticValue(node, site, 'the options argument')
    throw buildError(
      site,
      'POET_INVALID_OPTION',
      `poet() takes an options object, e.g. poet({ attempts: 3 }), but received ${describe(value)}.`,
      start(node),
    )
  }
  const options = readObject(node, POET_OPTIONS, site, 'poet()', '', keys) as PoetOptions
  if (options.domain !== undefined && !domains.has(options.domain)) {
    const valueNode = propertyValue(node, 'domain')!
    const parent = options.domain.includes(':') ? options.domain.slice(0, options.domain.lastIndexOf(':')) : undefined
    // The registry's own sentence (its suggestion, its list), so the build, `poet domains` and the registry agree;
    // the build error places it at file:line:column itself. A child of a known pack, unless it is a typo of another
    // registered child, is a custom pack that was not passed to the plugin.
    const hint = domains.suggest(options.domain)
    const reason =
      parent && domains.has(parent) && (hint === undefined || hint === parent)
        ? `unknown domain ${JSON.stringify(options.domain)}. A custom pack extending ${JSON.stringify(parent)} must be passed to the plugin's \`domains\` option.`
        : domains.unknownMessage(options.domain).replace(/^poet: /, '')
    throw buildError(site, 'POET_UNKNOWN_DOMAIN', reason, start(valueNode))
  }
  return { options, keys }
}

function readObject(
  node: t.ObjectExpression,
  fields: Record<string, OptionSpec>,
  site: ErrorSite,
  owner: string,
  prefix: string,
  keys?: ReadOptions['keys'],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const prop of node.properties) {
    if (prop.type === 'SpreadElement') throw nonLiteral(site, prop, `the options of ${owner}`, 'a spread (...)')
    if (prop.type === 'ObjectMethod') {
      throw nonLiteral(site, prop, `the options of ${owner}`, 'a method')
    }
    const key = propertyKey(prop)
    if (key === undefined) throw nonLiteral(site, prop.key, `a key in the options of ${owner}`, 'a computed key')
    const path = prefix + key
    const spec = Object.hasOwn(fields, key) ? fields[key] : undefined
    if (!spec) {
      const noun = prefix ? `${prefix.slice(0, -1)} option` : 'poet() option'
      throw buildError(
        site,
        'POET_UNKNOWN_OPTION',
        `unknown ${noun} '${key}'.${didYouMean(key, Object.keys(fields))}`,
        start(prop.key),
      )
    }
    if (seen.has(key)) {
      throw buildError(site, 'POET_DUPLICATE_OPTION', `option '${path}' is set twice; keep one.`, start(prop.key))
    }
    seen.add(key)
    const valueNode = unwrap(prop.value)
    if (prop.shorthand) throw nonLiteral(site, prop.value, `option '${path}'`, `the variable '${key}' (shorthand)`)
    if (valueNode.type === 'Identifier' && valueNode.name === 'undefined') continue
    if (spec.rule.type === 'object' && valueNode.type === 'ObjectExpression') {
      out[key] = readObject(valueNode, spec.rule.fields, site, `'${path}'`, path + '.')
    } else {
      const value = staticValue(valueNode, site, `option '${path}'`)
      const expected = check(spec.rule, value)
      if (expected) {
        const hint =
          spec.rule.type === 'enum' && typeof value === 'string' ? closest(value, spec.rule.values) : undefined
        throw buildError(
          site,
          'POET_INVALID_OPTION',
          `option '${path}' (${spec.doc}) must be ${expected}, but received ${describe(value)}.` +
            (hint ? ` Did you mean '${hint}'?` : ''),
          start(valueNode),
        )
      }
      out[key] = value
    }
    if (keys) keys[key as keyof PoetOptions] = start(prop.key)
  }
  return out
}

/** What `value` should have been, or undefined when it satisfies `rule`. */
function check(rule: Rule, value: unknown): string | undefined {
  switch (rule.type) {
    case 'string':
      return typeof value === 'string' && value.length > 0 ? undefined : 'a non-empty string'
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false'
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value)
        ? undefined
        : rule.values.map((v) => `'${v}'`).join(' or ')
    case 'number': {
      const ok =
        typeof value === 'number' &&
        Number.isFinite(value) &&
        value >= rule.min &&
        (rule.max === undefined || value <= rule.max) &&
        (!rule.integer || Number.isInteger(value))
      if (ok) return undefined
      const noun = rule.integer ? 'an integer' : 'a number'
      if (rule.max !== undefined) return `${noun} from ${rule.min} to ${rule.max}`
      return `${noun} ≥ ${rule.min}`
    }
    case 'object':
      return `an object like { ${Object.keys(rule.fields).join(', ')} }`
  }
}

/** Evaluates a static literal, or throws POET_NON_LITERAL_OPTION at the first part that is not one. */
function staticValue(input: t.Node, site: ErrorSite, what: string): unknown {
  const node = unwrap(input)
  switch (node.type) {
    case 'StringLiteral':
    case 'NumericLiteral':
    case 'BooleanLiteral':
      return node.value
    case 'NullLiteral':
      return null
    case 'TemplateLiteral':
      if (node.expressions.length === 0) return node.quasis[0]!.value.cooked ?? node.quasis[0]!.value.raw
      throw nonLiteral(site, node.expressions[0]!, what, 'a template literal with ${…} expressions')
    case 'UnaryExpression':
      if (node.operator === '-' || node.operator === '+') {
        const n = numberConstant(unwrap(node.argument))
        if (n !== undefined) return node.operator === '-' ? -n : n
      }
      break
    case 'Identifier':
      if (node.name === 'undefined') return undefined
      // Read as the numbers they are, so the option's own range is what the error says ("received Infinity").
      if (node.name === 'Infinity' || node.name === 'NaN') return numberConstant(node)
      throw nonLiteral(site, node, what, `the variable '${node.name}'`)
    case 'ArrayExpression':
      return node.elements.map((el) => {
        if (el === null) throw nonLiteral(site, node, what, 'an array with holes')
        if (el.type === 'SpreadElement') throw nonLiteral(site, el, what, 'a spread (...)')
        return staticValue(el, site, what)
      })
    case 'ObjectExpression': {
      const out: Record<string, unknown> = {}
      for (const prop of node.properties) {
        if (prop.type === 'SpreadElement') throw nonLiteral(site, prop, what, 'a spread (...)')
        if (prop.type === 'ObjectMethod') throw nonLiteral(site, prop, what, 'a method')
        const key = propertyKey(prop)
        if (key === undefined) throw nonLiteral(site, prop.key, what, 'a computed key')
        if (prop.shorthand) throw nonLiteral(site, prop.value, what, `the variable '${key}' (shorthand)`)
        out[key] = staticValue(prop.value, site, what)
      }
      return out
    }
  }
  throw nonLiteral(site, node, what, describeNode(node))
}

function numberConstant(node: t.Node): number | undefined {
  if (node.type === 'NumericLiteral') return node.value
  if (node.type === 'Identifier' && node.name === 'Infinity') return Infinity
  if (node.type === 'Identifier' && node.name === 'NaN') return NaN
  return undefined
}

function nonLiteral(site: ErrorSite, node: t.Node, what: string, found: string) {
  return buildError(
    site,
    'POET_NON_LITERAL_OPTION',
    `${what} must be a static literal, but here it is ${found}. The plugin reads poet() options at build time: ` +
      'write the value itself (strings, numbers, booleans, arrays and nested objects).',
    start(node),
  )
}

function describeNode(node: t.Node): string {
  switch (node.type) {
    case 'CallExpression':
    case 'OptionalCallExpression':
      return 'a function call'
    case 'NewExpression':
      return 'a `new` expression'
    case 'MemberExpression':
    case 'OptionalMemberExpression':
      return 'a property access'
    case 'ArrowFunctionExpression':
    case 'FunctionExpression':
      return 'a function'
    case 'BinaryExpression':
    case 'LogicalExpression':
    case 'ConditionalExpression':
    case 'UnaryExpression':
      return 'a computed expression'
    case 'RegExpLiteral':
      return 'a regular expression'
    case 'SpreadElement':
      return 'a spread (...)'
    default:
      return `an expression (${node.type})`
  }
}

/** A value as an error message shows it: its kind and, for primitives, the value itself. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return `the string '${value}'`
    case 'number':
    case 'boolean':
      return String(value)
    case 'undefined':
      return 'undefined'
    default:
      return 'an object'
  }
}

/** The key of a non-computed property (or a computed string literal), else undefined. */
function propertyKey(prop: t.ObjectProperty): string | undefined {
  const k = prop.key
  if (prop.computed) return k.type === 'StringLiteral' ? k.value : undefined
  if (k.type === 'Identifier') return k.name
  if (k.type === 'StringLiteral') return k.value
  if (k.type === 'NumericLiteral') return String(k.value)
  return undefined
}

function propertyValue(node: t.ObjectExpression, key: string): t.Node | undefined {
  for (const p of node.properties) if (p.type === 'ObjectProperty' && propertyKey(p) === key) return unwrap(p.value)
  return undefined
}

/** Looks through type-only wrappers: `{…} as const`, `satisfies PoetOptions`, `<T>x`, `x!`. */
export function unwrap(node: t.Node): t.Node {
  let n = node
  while (
    n.type === 'TSAsExpression' ||
    n.type === 'TSSatisfiesExpression' ||
    n.type === 'TSTypeAssertion' ||
    n.type === 'TSNonNullExpression' ||
    n.type === 'ParenthesizedExpression'
  ) {
    n = n.expression
  }
  return n
}

function start(node: t.Node): Position {
  return { line: node.loc!.start.line, column: node.loc!.start.column }
}
