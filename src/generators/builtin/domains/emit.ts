// Small build-time helpers the domain packs share: reading key names and types, and emitting issue/repair code.
import type { FunctionSpec, TypeIR } from '../../spec'

/** `unitPrice`, `unit_price`, `Unit-Price2` → `['unit', 'price', '2']`: rules match on words, not on raw keys. */
export function words(key: string | undefined): string[] {
  if (!key) return []
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+|(?<=[A-Za-z])(?=[0-9])/)
    .filter(Boolean)
    .map((w) => w.toLowerCase())
}

/** Whether `key` contains one of `want` as a word and none of `unless`. */
export function keyHas(key: string | undefined, want: ReadonlySet<string>, unless?: ReadonlySet<string>): boolean {
  const ws = words(key)
  return ws.some((w) => want.has(w)) && !(unless && ws.some((w) => unless.has(w)))
}

/** Strips `null`/`undefined` members so `T | undefined` and optional values are matched as `T`. */
export function core(type: TypeIR, types?: Record<string, TypeIR>, depth = 0): TypeIR {
  if (type.kind === 'ref' && types && depth < 8) {
    const target = types[type.name]
    return target ? core(target, types, depth + 1) : type
  }
  if (type.kind === 'union') {
    const rest = type.types.filter((t) => t.kind !== 'null' && t.kind !== 'undefined')
    if (rest.length === 1) return core(rest[0]!, types, depth + 1)
    return rest.length === type.types.length ? type : { kind: 'union', types: rest }
  }
  return type
}

/**
 * Whether the type holds values of `kind` (literals of that primitive count): `'some'` when any union member does,
 * `'every'` when all non-nullish members do.
 */
function isPrimitive(type: TypeIR, kind: 'number' | 'string', types: Record<string, TypeIR> | undefined, mode: 'some' | 'every'): boolean {
  const t = core(type, types)
  if (t.kind === kind) return true
  if (t.kind === 'literal') return typeof t.value === kind
  if (kind === 'string' && t.kind === 'template') return true
  if (t.kind === 'enum') return t.members[mode]((m) => typeof m.value === kind)
  if (t.kind === 'union') return t.types[mode]((m) => isPrimitive(m, kind, types, mode))
  return false
}

/** The type may hold a number (`number`, `1 | 2`, `number | string` …): checks emitted for it guard with `typeof`. */
export const isNumber = (type: TypeIR, types?: Record<string, TypeIR>): boolean => isPrimitive(type, 'number', types, 'some')
/** The type may hold a string. */
export const isString = (type: TypeIR, types?: Record<string, TypeIR>): boolean => isPrimitive(type, 'string', types, 'some')
/** The type holds numbers only (nullish aside): what code that computes with the value needs. */
export const isOnlyNumber = (type: TypeIR, types?: Record<string, TypeIR>): boolean => isPrimitive(type, 'number', types, 'every')

/** The element type when the type is an array (or readonly array) of something, else undefined. */
export function elementOf(type: TypeIR, types?: Record<string, TypeIR>): TypeIR | undefined {
  const t = core(type, types)
  return t.kind === 'array' ? t.element : undefined
}

export function isNumberArray(type: TypeIR, types?: Record<string, TypeIR>): boolean {
  const el = elementOf(type, types)
  return el !== undefined && isOnlyNumber(el, types)
}

const URL_WORDS = new Set(['url', 'uri', 'endpoint', 'href', 'webhook', 'callback'])
/** `url`, `baseUrl`, `webhook_uri`, `callbackUrl` — not `urlTemplate` or `urlPattern`. */
export const isUrlKey = (key: string | undefined): boolean => keyHas(key, URL_WORDS, new Set(['path', 'template', 'pattern']))

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** JS expression for a property of the value expression `value`. */
export function propValue(value: string, name: string): string {
  return IDENT.test(name) ? `${value}.${name}` : `${value}[${JSON.stringify(name)}]`
}

/** JS expression for the path of a property under the path expression `path` (`args[0].amount`). */
export function propPath(path: string, name: string): string {
  return `${path} + ${JSON.stringify(IDENT.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`)}`
}

/** Code that records one issue through the phase module's `add` helper (see the conventions in domain.ts). */
export function issue(path: string, expected: string, value: string, rule: string): string {
  return issueExpr(path, JSON.stringify(expected), value, rule)
}

/** Like `issue`, with `expected` a JS expression (e.g. one that names a length known only at run time). */
export function issueExpr(path: string, expected: string, value: string, rule: string): string {
  return `issues = add(issues, ${path}, ${expected}, ${value}, ${JSON.stringify(rule)})`
}

/** Like `issueExpr`, with `received` a JS expression describing what was there (`"3 elements"`), never the value. */
export function issueReceived(path: string, expected: string, received: string, rule: string): string {
  return `issues = addReceived(issues, ${path}, ${expected}, ${received}, ${JSON.stringify(rule)})`
}

/** Code that records one repair; never the value itself. */
export function repaired(path: string, action: string, rule: string): string {
  return `(ctx.repairs ??= []).push({ path: ${path}, action: ${JSON.stringify(action)}, rule: ${JSON.stringify(rule)} })`
}

/** The parameters of a spec with their value and path expressions (a rest parameter's value is the rest of `args`). */
export function paramSites(spec: FunctionSpec): { name: string; type: TypeIR; value: string; path: string }[] {
  return spec.params.map((p, i) => ({
    name: p.name,
    type: p.type,
    value: p.rest ? `args.slice(${i})` : `args[${i}]`,
    path: JSON.stringify(p.rest ? `args[${i}..]` : `args[${i}]`),
  }))
}

/** Indents emitted lines by two spaces per level, so generated modules stay readable. */
export function block(lines: (string | undefined | false)[], level = 1): string {
  const pad = '  '.repeat(level)
  return lines
    .filter((l): l is string => typeof l === 'string')
    .flatMap((l) => l.split('\n'))
    .map((l) => (l ? pad + l : l))
    .join('\n')
}
