// Compiles TypeIR into straight-line JavaScript validators (ajv-standalone/typia style) that list every issue with its path.
import type { CodeRule, RuleSite } from './domain'
import { derefType, type PropertyIR, type TupleElementIR, type TypeIR } from '../spec'
import { formatKey, HOLE_PATTERNS } from './resolve'
import { MAX_ISSUES } from '../../runtime/validate'
import { MAX_LIST_ITEMS } from '../../runtime/limits'
import { comment } from '../render'

/** Deeper than this, a recursive value is rejected instead of overflowing the stack. */
export const MAX_DEPTH = 2000

/**
 * The helpers every validator may call. `add` and `describe` are the contract domain rules use (see domain.ts). The
 * ones in RUNTIME_HELPERS are imported from `unplugin-poet/runtime` (src/runtime/validate.ts) under these local names,
 * so a phase module holds only its own checks; the rest are declared in the module when the compiled code needs them.
 */
const RUNTIME_HELPERS: Record<string, string> = {
  describe: 'describeValue',
  addReceived: 'addIssueReceived',
  add: 'addIssue',
  collapse: 'collapseIssues',
  literal: 'literalText',
  unreadable: 'addUnreadable',
}

const CORE_HELPERS: Record<string, { deps?: string[]; code: string }> = {
  // The runtime's helpers as module code, for a phase module that must stand alone (see inlineRuntimeHelpers).
  describe: {
    code: `// What a value is, without revealing it.
function describe(v) {
  if (v === null) return "null"
  switch (typeof v) {
    case "number": return v !== v ? "NaN" : v === Infinity ? "Infinity" : v === -Infinity ? "-Infinity" : "number"
    case "object":
      try {
        if (Array.isArray(v)) return "array"
      } catch {
        return "revoked Proxy"
      }
      try {
        const tag = Object.prototype.toString.call(v).slice(8, -1)
        if (tag === "Date") {
          const t = Date.prototype.getTime.call(v)
          return t !== t ? "invalid Date" : "Date"
        }
        if (tag === "Map" || tag === "Set" || ArrayBuffer.isView(v)) return tag
      } catch {}
      return "object"
    default: return typeof v
  }
}`,
  },
  unreadable: {
    deps: ['describe', 'addReceived'],
    code: `// Records that a check could not read the value at \`path\` (a getter or a Proxy trap threw, or the Proxy was revoked).
function unreadable(issues, path, expected, value, error) {
  const what = describe(value)
  let text
  try {
    const m = error !== null && typeof error === "object" && error.message
    text = typeof m === "string" ? String(error.name) + ": " + m : typeof error === "string" ? JSON.stringify(error) : describe(error)
  } catch {
    text = describe(error)
  }
  if (text.length > 100) text = text.slice(0, 99) + "…"
  return addReceived(issues, path, expected, what === "revoked Proxy" ? what : what + " that threw when read (" + text + ")")
}`,
  },
  add: {
    deps: ['describe', 'addReceived'],
    code: `// Records one issue (the first ${MAX_ISSUES} are listed, the others counted in \`more\`).
function add(issues, path, expected, value, rule) {
  return addReceived(issues, path, expected, describe(value), rule)
}`,
  },
  addReceived: {
    code: `function addReceived(issues, path, expected, received, rule) {
  if (issues === undefined) issues = []
  if (issues.length < ${MAX_ISSUES}) issues.push(rule === undefined ? { path, expected, received } : { path, expected, received, rule })
  else issues.more = (issues.more || 0) + 1
  return issues
}`,
  },
  literal: {
    deps: ['describe'],
    code: `// Names a mismatching literal-like value (short strings are shown, quoted), so "expected "a" | "b", received "c"" reads well.
function literal(v) {
  if (typeof v === "string") return v.length <= 32 ? JSON.stringify(v) : "a string of " + v.length + " characters"
  if (typeof v === "boolean" || (typeof v === "number" && v === v && v !== Infinity && v !== -Infinity)) return String(v)
  if (typeof v === "bigint") return v + "n"
  return describe(v)
}`,
  },
  collapse: {
    deps: ['add'],
    code: `// Replaces the issues found inside a value since \`from\` (how many there were before it, listed or counted in \`more\`)
// with one issue about the value itself.
function collapse(issues, from, path, expected, value) {
  issues.length = Math.min(from, ${MAX_ISSUES})
  if (from > ${MAX_ISSUES}) issues.more = from - ${MAX_ISSUES}
  else delete issues.more
  return add(from === 0 ? undefined : issues, path, expected, value)
}`,
  },
  nest: {
    code: `// Adds the issues a nested check reported, prefixing their relative paths; those past the list are counted.
function nest(issues, prefix, inner) {
  if (issues === undefined) issues = []
  let i = 0
  for (; i < inner.length && issues.length < ${MAX_ISSUES}; i++) {
    const it = inner[i]
    issues.push({ ...it, path: prefix + it.path })
  }
  const more = inner.length - i + (inner.more || 0)
  if (more) issues.more = (issues.more || 0) + more
  return issues
}`,
  },
  key: {
    code: `// A key of the value in a path: quoted unless it reads as an identifier, and cut past 100 characters (a key is user
// data, of any length, and a path goes into every message and event).
function key(k) {
  if (k.length > 100) k = k.slice(0, 99) + "…"
  return /^[A-Za-z_$][\\w$]*$/.test(k) ? "." + k : "[" + JSON.stringify(k) + "]"
}`,
  },
  closer: {
    code: `// Which failed union member is nearer the value: fewer issues, and on a tie, issues inside it beat one about the value itself.
function closer(a, b, path) {
  const score = (list) => list.length + (list.more || 0) + (list.some((it) => it.path === path) ? 0.5 : 0)
  return score(a) < score(b)
}`,
  },
  hasOwn: {
    code: `const hasOwn = Object.prototype.hasOwnProperty`,
  },
  foreignDate: {
    code: `// A Date from another realm (an iframe, a vm context) is no instance of this realm's Date, yet a Date to TypeScript:
// only a real Date has the internal slot getTime reads, whatever its prototype or Symbol.toStringTag say.
const getTime = Date.prototype.getTime
function foreignDate(v) {
  if (typeof v !== "object" || v === null) return false
  try {
    getTime.call(v)
    return true
  } catch {
    return false
  }
}`,
  },
  assigned: {
    code: `// Whether a repair could write its value: a frozen or read-only input is checked as it is, never a TypeError.
function assigned(write) {
  try {
    write()
    return true
  } catch {
    return false
  }
}`,
  },
  deep: {
    code: `// The objects a recursive check is inside of, each with its checker: a cycle is accepted when it comes round again to
// the same object for the same type (the same object reached as another type is checked as that type too).
const within = []
function deep(check, v, d, ctx) {
  for (let i = 0; i < within.length; i += 2) if (within[i] === v && within[i + 1] === check) return undefined
  if (d > ${MAX_DEPTH}) return [{ path: "", expected: "at most ${MAX_DEPTH} levels of nesting", received: "deeper nesting" }]
  within.push(v, check)
  try {
    return check(v, d, ctx)
  } catch (e) {
    // A wide type, or a caller already deep in its own stack, runs out of stack before ${MAX_DEPTH} levels: a RangeError
    // in V8 and JavaScriptCore, an InternalError in SpiderMonkey and QuickJS. Anything else, a RangeError thrown by a
    // getter of the value included, is the value's own error, for the caller to see. (No regex here: with no stack
    // left, compiling one fails with a SyntaxError.)
    const m = (e instanceof RangeError || e?.name === "InternalError") && e.message
    if (typeof m === "string" && (m.includes("stack") || m.includes("recursion"))) return [{ path: "", expected: "nesting the stack can hold", received: "deeper nesting" }]
    throw e
  } finally {
    within.length -= 2
  }
}`,
  },
}

/** Kinds whose checks compare or test `typeof` alone: no read of the value can throw in them. */
const READS_NOTHING = new Set<TypeIR['kind']>(['unknown', 'any', 'never', 'string', 'number', 'boolean', 'bigint', 'symbol', 'null', 'undefined', 'void', 'literal', 'enum', 'template'])

/** A path in generated code: static text, or a JS expression evaluated only when an issue is recorded. */
type Segment = { text: string } | { expr: string }

interface Site {
  /** A local identifier holding the value (cheap to read again). */
  v: string
  path: Segment[]
  /** Assignable expression for the value, for repairs. */
  target?: string
  /** Property or parameter name. */
  key?: string
  /** The variable collecting issues here (`issues`, or a union branch's own). */
  iss: string
  /** JS expression for the recursion depth. */
  depth: string
  /** Name of the declaration this value was reached through, for messages. */
  label?: string
  /** The object this value is a property of (domain rules may read siblings). */
  parent?: { value: string; type: TypeIR }
  /** Domain coercions were already emitted for this value (a ref or union re-checks the same site). */
  coerced?: boolean
  /** The value already passed this type's shape test (a union chose the member by it): do not test again. */
  guarded?: boolean
}

export interface CompilerOptions {
  /** Named declarations `ref` types point to. */
  types: Record<string, TypeIR>
  /** Domain rules invoked at every value site (`check`) of this phase. */
  rules?: { perceive?: CodeRule[]; enforce?: CodeRule[] }
  /** Whether the function runs with `repair: true` (passed to rules). */
  repair?: boolean
}

/**
 * Compiles the checks of one function's phases. One compiler serves both phases of a module so
 * helpers (recursive checkers, patterns, sets) are declared once.
 */
export class ValidatorCompiler {
  private counter = 0
  private readonly used = new Set<string>(['add'])
  private readonly declarations: string[] = []
  private readonly refFunctions = new Map<string, string>()
  private readonly recursive = new Map<string, boolean>()
  private readonly constants = new Map<string, string>()
  private readonly templates = new Map<string, string>()
  private phase: 'perceive' | 'enforce' = 'perceive'

  constructor(private readonly options: CompilerOptions) {}

  /** Statements checking `args` against the parameters; issues go to `issues`. */
  params(params: { name: string; type: TypeIR; optional: boolean; rest: boolean }[]): string {
    this.phase = 'perceive'
    const out: string[] = []
    params.forEach((p, i) => {
      if (p.rest) {
        const el = this.deref(p.type)
        if (el.kind !== 'array') {
          out.push(comment(`...${p.name}: not checked (rest parameters are checked only when typed as arrays)`))
          return
        }
        const idx = this.name('i')
        const v = this.name('a')
        out.push(comment(`...${p.name}: ${this.describe(p.type)}`))
        out.push(`for (let ${idx} = ${i}; ${idx} < args.length; ${idx}++) {`)
        const path: Segment[] = [{ text: 'args[' }, { expr: idx }, { text: ']' }]
        const code = this.check(el.element, { v, path, target: `args[${idx}]`, key: p.name, iss: 'issues', depth: '0' })
        out.push(indent(`const ${v} = args[${idx}]\n${this.readable(code, v, path, el.element)}`))
        out.push('}')
        return
      }
      const v = this.name('a')
      const path: Segment[] = [{ text: `args[${i}]` }]
      const site: Site = { v, path, target: `args[${i}]`, key: p.name, iss: 'issues', depth: '0' }
      const code = this.check(p.type, site)
      if (!code) return
      out.push(comment(`args[${i}] (${p.name}${p.optional ? '?' : ''}): ${this.describe(p.type)}`))
      out.push(`const ${v} = args[${i}]`)
      const checked = this.readable(code, v, path, p.type)
      out.push(p.optional ? `if (${v} !== undefined) {\n${indent(checked)}\n}` : checked)
    })
    return out.join('\n')
  }

  /** Statements checking `result` (the awaited return value) against `type`. */
  result(type: TypeIR, path = 'result'): string {
    this.phase = 'enforce'
    const at: Segment[] = [{ text: path }]
    const code = this.check(type, { v: 'result', path: at, target: 'ctx.result', iss: 'issues', depth: '0' })
    return code ? `${comment(`${path}: ${this.describe(type)}`)}\n${this.readable(code, 'result', at, type)}` : ''
  }

  /**
   * `code`, the checks of one parameter or the result, made to report a value they cannot read (a getter or a Proxy
   * trap that throws, a revoked Proxy) as an issue at its path, rather than throw from inside a check: the caller gets
   * a PoetInputError or PoetOutputError that says where. Checks of a primitive type read nothing and stay as they are.
   */
  private readable(code: string, v: string, path: Segment[], type: TypeIR): string {
    if (READS_NOTHING.has(this.deref(type).kind) && !this.options.rules?.[this.phase]?.length) return code
    this.used.add('unreadable')
    const e = this.name('e')
    return `try {\n${indent(code)}\n} catch (${e}) {\n  issues = unreadable(issues, ${renderPath(path)}, ${JSON.stringify(this.describe(type))}, ${v}, ${e})\n}`
  }

  /** The helpers the compiled checks call, in declaration order (dependencies first). */
  private helperNames(): string[] {
    const names = new Set<string>()
    const visit = (n: string) => {
      if (names.has(n)) return
      for (const d of CORE_HELPERS[n]!.deps ?? []) visit(d)
      names.add(n)
    }
    for (const n of this.used) visit(n)
    return [...names]
  }

  /** The import of the runtime's helpers the compiled checks call (always `add` and what it needs: domain rules may call them). */
  imports(): string {
    const names = this.helperNames().filter((n) => n in RUNTIME_HELPERS)
    return `import { ${names.map((n) => `${RUNTIME_HELPERS[n]} as ${n}`).join(', ')} } from "unplugin-poet/runtime"`
  }

  /** Module-level declarations the compiled checks use, beside the imported helpers. */
  helpers(): string {
    const own = this.helperNames().filter((n) => !(n in RUNTIME_HELPERS))
    return [...own.map((n) => CORE_HELPERS[n]!.code), ...this.declarations].join('\n\n')
  }

  /** Checks for one value; empty when the type accepts everything and no rule applies. */
  private check(type: TypeIR, site: Site): string {
    const coerce = this.coerce(type, site)
    if (coerce) {
      // Repairs replace the value at its target, so the checks below read it again into a fresh local.
      const v = this.name('c')
      return `${coerce}\nconst ${v} = ${site.target}\n${this.check(type, { ...site, v, coerced: true })}`
    }
    const t = type
    switch (t.kind) {
      case 'unknown':
      case 'any':
      case 'void':
        return this.rules(t, site)
      case 'ref':
        return this.ref(t.name, site)
      case 'objectType':
        return this.object(t, site)
      case 'record':
        return this.record(t, site)
      case 'array':
        return this.array(t, site)
      case 'tuple':
        return this.tuple(t, site)
      case 'union':
        return this.union(t, site)
      case 'intersection':
        return this.intersection(t, site)
      case 'number':
        if (this.options.repair && site.target && site.iss === 'issues') return this.repairNumber(site)
        return this.ifElse(`!(typeof ${site.v} === "number")`, this.fail(t, site), this.rules(t, site))
      default: {
        const cond = this.simple(t, site.v)!
        return this.ifElse(`!(${cond})`, this.fail(t, site), this.rules(t, site))
      }
    }
  }

  /** Under `repair: true`, a numeric string where a number belongs is converted in place, and the repair recorded. */
  private repairNumber(site: Site): string {
    const t: TypeIR = { kind: 'number' }
    const repaired = [
      // Kept like issues: a huge array of numeric strings would otherwise hold one repair per element for the call.
      `if ((ctx.repairs ??= []).length < ${MAX_LIST_ITEMS}) ctx.repairs.push({ path: ${renderPath(site.path)}, action: "numeric string → number" })`,
      this.rules(t, { ...site, v: site.target! }),
    ]
    this.used.add('assigned')
    return [
      `if (ctx.repair && typeof ${site.v} === "string" && ${site.v}.trim() !== "" && isFinite(+${site.v}) && assigned(() => { ${site.target} = +${site.v} })) {`,
      indent(repaired.filter(Boolean).join('\n')),
      `} else ${this.ifElse(`!(typeof ${site.v} === "number")`, this.fail(t, site), this.rules(t, site))}`,
    ].join('\n')
  }

  /** A one-expression test for types that need no nested issues; undefined for the others. */
  private simple(t: TypeIR, v: string, seen = 0): string | undefined {
    switch (t.kind) {
      case 'unknown':
      case 'any':
      case 'void':
        return 'true'
      case 'never':
        return 'false'
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'symbol':
      case 'function':
        return `typeof ${v} === "${t.kind}"`
      case 'null':
        return `${v} === null`
      case 'undefined':
        return `${v} === undefined`
      case 'object':
        return `((typeof ${v} === "object" && ${v} !== null) || typeof ${v} === "function")`
      case 'literal':
        return `${v} === ${jsLiteral(t.value)}`
      case 'date':
        this.used.add('foreignDate')
        return `(${v} instanceof Date || foreignDate(${v}))`
      case 'enum': {
        if (t.members.length <= 6) return `(${t.members.map((m) => `${v} === ${jsLiteral(m.value)}`).join(' || ')})`
        const set = this.constant(`enum_${t.name}`, `new Set(${JSON.stringify(t.members.map((m) => m.value))})`)
        return `${set}.has(${v})`
      }
      case 'template': {
        if (t.parts) return `(typeof ${v} === "string" && ${this.templateFunction(t.text, t.parts)}(${v}))`
        const re = this.constant('pattern', `/${t.pattern}/`)
        return `(typeof ${v} === "string" && ${re}.test(${v}))`
      }
      case 'ref': {
        if (seen > 8 || this.isRecursive(t.name)) return undefined
        return this.simple(this.options.types[t.name] ?? { kind: 'unknown' }, v, seen + 1)
      }
      case 'union': {
        const parts = t.types.map((x) => this.simple(x, v, seen + 1))
        if (parts.some((p) => p === undefined)) return undefined
        return `(${parts.join(' || ')})`
      }
      default:
        return undefined
    }
  }

  /** A shallow test that the value is of the right kind to be this type (used to choose union branches). */
  private guard(t: TypeIR, v: string, seen = 0): string {
    const d = seen > 8 ? ({ kind: 'unknown' } as TypeIR) : this.deref(t)
    switch (d.kind) {
      case 'objectType':
        if (d.properties.length === 0 && !d.indexSignatures) return `(${v} !== null && ${v} !== undefined)`
        if (isStructural(d)) return structuralGuard(v)
        return this.shapeGuard(d, v)
      case 'record':
        return this.shapeGuard(d, v)
      case 'array':
      case 'tuple':
        return `Array.isArray(${v})`
      case 'union':
        return `(${d.types.map((x) => this.guard(x, v, seen + 1)).join(' || ')})`
      case 'intersection':
        return `(${d.types.map((x) => this.guard(x, v, seen + 1)).join(' && ')})`
      default:
        return this.simple(d, v) ?? 'true'
    }
  }

  /**
   * Plain objects: not null, not arrays (unless numerically indexed), not Dates (whose methods TypeScript sees as
   * properties), not Maps or Sets (whose entries are no properties: a Map passed for a record would pass as empty).
   */
  private objectGuard(v: string, arraysToo: boolean): string {
    return `(typeof ${v} === "object" && ${v} !== null${arraysToo ? '' : ` && !Array.isArray(${v})`} && !(${v} instanceof Date) && !(${v} instanceof Map) && !(${v} instanceof Set))`
  }

  /**
   * The shape test of an object type checked by its index signatures (or a weak type), as TypeScript relates values to
   * it: a string index signature of type `any` takes every non-primitive (arrays, Dates and functions too); a numeric
   * one takes arrays, and strings when nothing is required and the signature's values may be strings.
   */
  private shapeGuard(t: Extract<TypeIR, { kind: 'objectType' | 'record' }>, v: string): string {
    if (t.kind === 'objectType' && isWeak(t)) return weakGuard(t.properties, v, this.objectGuard(v, false))
    const signatures = t.kind === 'record' ? [t] : (t.indexSignatures ?? [])
    if (this.anyObject(signatures)) return anyObjectGuard(v)
    const guard = this.objectGuard(v, signatures.some((s) => this.deref(s.key).kind === 'number'))
    return this.stringsFit(t.kind === 'record' ? [] : t.properties, signatures) ? `(typeof ${v} === "string" || ${guard})` : guard
  }

  /** Whether a string index signature of type `any` is among these: TypeScript then relates any non-primitive to the type. */
  private anyObject(signatures: { key: TypeIR; value: TypeIR }[]): boolean {
    const stringKey = (k: TypeIR): boolean => {
      const d = this.deref(k)
      return d.kind === 'string' || (d.kind === 'union' && d.types.some((x) => this.deref(x).kind === 'string'))
    }
    return signatures.some((s) => stringKey(s.key) && this.deref(s.value).kind === 'any')
  }

  /**
   * A matcher for one template literal type, unrolled: like TypeScript, each hole takes the text up to the first
   * occurrence of the literal text after it (one character when that text is empty), the last hole takes the rest.
   */
  private templateFunction(text: string, parts: NonNullable<Extract<TypeIR, { kind: 'template' }>['parts']>): string {
    const key = JSON.stringify(parts)
    const existing = this.templates.get(key)
    if (existing) return existing
    const fn = this.constantName('template')
    this.templates.set(key, fn)
    const first = parts.texts[0]!
    const last = parts.texts[parts.texts.length - 1]!
    const lines = [comment(text), `function ${fn}(s) {`]
    const lengthTest = first.length + last.length > 0 ? `s.length < ${first.length + last.length} || ` : ''
    const ends = [first ? `!s.startsWith(${JSON.stringify(first)})` : '', last ? `!s.endsWith(${JSON.stringify(last)})` : ''].filter(Boolean)
    if (lengthTest || ends.length) lines.push(`  if (${lengthTest}${ends.join(' || ') || 'false'}) return false`)
    lines.push(last ? `  const body = s.slice(0, s.length - ${last.length})` : `  const body = s`)
    lines.push(`  let p = ${first.length}, n, h`)
    parts.holes.forEach((hole, i) => {
      const after = parts.texts[i + 1]!
      const isLast = i === parts.holes.length - 1
      if (isLast) lines.push(`  h = body.slice(p)`)
      else if (after) {
        lines.push(`  n = body.indexOf(${JSON.stringify(after)}, p)`, `  if (n < 0) return false`, `  h = body.slice(p, n)`)
      } else lines.push(`  if (p >= body.length) return false`, `  h = body[p]`)
      const test = holeTest(hole, this)
      if (test) lines.push(`  if (${test}) return false`)
      if (!isLast) lines.push(after ? `  p = n + ${after.length}` : `  p = p + 1`)
    })
    lines.push('  return true', '}')
    this.declarations.push(lines.join('\n'))
    return fn
  }

  private ref(name: string, site: Site): string {
    const declared = this.options.types[name] ?? { kind: 'unknown' }
    if (!this.isRecursive(name)) {
      // Objects and unions of them read best by their declared name: `expected Order, received string`.
      const named = ['objectType', 'record', 'intersection', 'union'].includes(declared.kind) && !isLiteralish(declared, this)
      return this.check(declared, { ...site, label: site.label ?? (named ? name : undefined) })
    }
    const fn = this.refFunction(name)
    this.used.add('nest')
    const r = this.name('r')
    const call = `const ${r} = ${fn}(${site.v}, ${site.depth === '0' ? '1' : `${site.depth} + 1`}, ctx)\nif (${r} !== undefined) ${site.iss} = nest(${site.iss}, ${renderPath(site.path)}, ${r})`
    if (!this.options.repair) return `{\n${indent(call)}\n}`
    // Repairs inside the named checker have paths relative to its value, like its issues: prefix them the same way.
    const n = this.name('n')
    const j = this.name('j')
    return [
      `{`,
      `  const ${n} = ctx.repairs ? ctx.repairs.length : 0`,
      indent(call),
      `  if (ctx.repairs) for (let ${j} = ${n}; ${j} < ctx.repairs.length; ${j}++) ctx.repairs[${j}] = { ...ctx.repairs[${j}], path: ${renderPath(site.path)} + ctx.repairs[${j}].path }`,
      `}`,
    ].join('\n')
  }

  /** A named checker for a recursive declaration: `(value, depth, ctx) → issues with paths relative to the value`. */
  private refFunction(name: string): string {
    // Rules differ between the phases, so with rules each phase gets its own checker.
    const perPhase = !!(this.options.rules?.perceive?.length || this.options.rules?.enforce?.length)
    const key = perPhase ? `${name}@${this.phase}` : name
    const existing = this.refFunctions.get(key)
    if (existing) return existing
    const fn = this.constantName(perPhase ? `check_${name}_${this.phase}` : `check_${name}`)
    this.refFunctions.set(key, fn)
    this.used.add('deep')
    const body = this.check(this.options.types[name]!, { v: 'v', path: [{ text: '' }], iss: 'issues', depth: 'd', label: name })
    this.declarations.push(
      [
        comment(`${name} (recursive): ${this.describe(this.options.types[name]!, true)}`),
        `function ${fn}(v, d, ctx) {`,
        `  return typeof v === "object" && v !== null ? deep(${fn}_body, v, d, ctx) : ${fn}_body(v, d, ctx)`,
        `}`,
        `function ${fn}_body(v, d, ctx) {`,
        `  let issues`,
        indent(body),
        `  return issues`,
        `}`,
      ].join('\n'),
    )
    return fn
  }

  private object(t: Extract<TypeIR, { kind: 'objectType' }>, site: Site): string {
    if (t.properties.length === 0 && !t.indexSignatures) {
      return this.ifElse(`${site.v} === null || ${site.v} === undefined`, this.failWith(site, '{}', site.v), this.rules(t, site))
    }
    const expected = site.label ?? t.name ?? 'object'
    if (isStructural(t)) return this.structural(site, expected, [this.objectBody(t, site)], this.rules(t, site))
    const rules = this.rules(t, site)
    // A weak type takes a primitive that shares a property; domain rules written for objects never see one.
    const guarded = rules && isWeak(t) ? `if (typeof ${site.v} === "object" || typeof ${site.v} === "function") {\n${indent(rules)}\n}` : rules
    return this.shaped(site, `!${this.shapeGuard(t, site.v)}`, expected, [this.objectBody(t, site), guarded])
  }

  /**
   * An object type checked by its properties alone, as TypeScript does: arrays, Dates, functions and even primitives
   * (`"abc"` has a `length`) pass when they have them. When such a value lacks them, one issue at the value
   * ("expected Point, received array") reads better than one per missing property.
   */
  private structural(site: Site, expected: string, bodies: string[], rules: string): string {
    const n = this.name('n')
    const { iss, v } = site
    this.used.add('collapse')
    const body = [
      // Issues found so far, the ones counted past the list too: a full list still collapses what the value added.
      `const ${n} = ${iss} === undefined ? 0 : ${iss}.length + (${iss}.more || 0)`,
      ...bodies,
      `if (${iss} !== undefined && ${iss}.length + (${iss}.more || 0) > ${n} && (typeof ${v} !== "object" || Array.isArray(${v}) || ${v} instanceof Date)) ${iss} = collapse(${iss}, ${n}, ${renderPath(site.path)}, ${JSON.stringify(expected)}, ${v})`,
      // Domain rules written for objects never see a primitive that happened to fit.
      rules ? `if (typeof ${v} === "object" || typeof ${v} === "function") {\n${indent(rules)}\n}` : '',
    ]
    return this.shaped(site, `!${structuralGuard(v)}`, expected, body)
  }

  /** Property and index-signature checks of an object already known to be a non-null object. */
  private objectBody(t: Extract<TypeIR, { kind: 'objectType' }>, site: Site): string {
    const out: string[] = []
    for (const p of t.properties) out.push(this.property(p, site, t))
    for (const sig of t.indexSignatures ?? []) out.push(this.indexSignature(sig.key, sig.value, t.properties, site))
    return out.filter(Boolean).join('\n')
  }

  private property(p: PropertyIR, site: Site, owner: TypeIR): string {
    const v = this.name('v')
    const access = `${site.v}${/^[A-Za-z_$][\w$]*$/.test(p.name) ? `.${p.name}` : `[${JSON.stringify(p.name)}]`}`
    const child: Site = { v, path: [...site.path, { text: formatKey(p.name) }], target: access, key: p.name, iss: site.iss, depth: site.depth, parent: { value: site.v, type: owner } }
    const code = this.check(p.type, child)
    const header = comment(`${formatKey(p.name).replace(/^\./, '')}${p.optional ? '?' : ''}: ${this.describe(p.type)}`)
    const missing = `if (!(${JSON.stringify(p.name)} in Object(${site.v}))) ${site.iss} = addReceived(${site.iss}, ${renderPath(child.path)}, ${JSON.stringify(this.describe(p.type))}, "missing")`
    if (!code) {
      if (p.optional) return ''
      // A required property of type any or unknown may hold anything, undefined included, but it must be there.
      this.used.add('addReceived')
      return `${header}\n${missing}`
    }
    // Under exactOptionalPropertyTypes a property that is there holds its type: an explicit undefined is checked too.
    if (p.optional && p.exact) return `${header}\nconst ${v} = ${access}\nif (${v} !== undefined || ${JSON.stringify(p.name)} in Object(${site.v})) {\n${indent(code)}\n}`
    if (p.optional) return `${header}\nconst ${v} = ${access}\nif (${v} !== undefined) {\n${indent(code)}\n}`
    if (this.admitsUndefined(p.type)) {
      this.used.add('addReceived')
      return `${header}\n${missing}\nelse {\n  const ${v} = ${access}\n${indent(code)}\n}`
    }
    return `${header}\nconst ${v} = ${access}\n${code}`
  }

  private indexSignature(keyType: TypeIR, value: TypeIR, declared: PropertyIR[], site: Site): string {
    const k = this.name('k')
    const v = this.name('v')
    const child: Site = { v, path: [...site.path, { expr: `key(${k})` }], target: `${site.v}[${k}]`, iss: site.iss, depth: site.depth }
    const code = this.check(value, child)
    if (!code) return ''
    this.used.add('key')
    this.used.add('hasOwn')
    const applies = this.keyTest(keyType, k)
    const skip = declared.length ? `if (${declared.map((p) => `${k} === ${JSON.stringify(p.name)}`).join(' || ')}) continue\n  ` : ''
    return [
      comment(`[key: ${this.describe(keyType)}]: ${this.describe(value)}`),
      `for (const ${k} in ${site.v}) {`,
      `  if (!hasOwn.call(${site.v}, ${k})${applies === 'true' ? '' : ` || !(${applies})`}) continue`,
      `  ${skip}const ${v} = ${site.v}[${k}]`,
      indent(code),
      `}`,
    ].join('\n')
  }

  /** Whether an own string key falls under an index signature's key type. */
  private keyTest(keyType: TypeIR, k: string): string {
    const d = this.deref(keyType)
    switch (d.kind) {
      case 'string':
        return 'true'
      case 'number':
        // TypeScript's numeric property names: the key is what a number prints as.
        return `String(+${k}) === ${k}`
      case 'template':
      case 'literal':
      case 'enum':
        return this.simple(d, k) ?? 'false'
      case 'union':
        return d.types.map((x) => `(${this.keyTest(x, k)})`).join(' || ')
      default:
        return 'false'
    }
  }

  private record(t: Extract<TypeIR, { kind: 'record' }>, site: Site): string {
    const body = this.indexSignature(t.key, t.value, [], site)
    return this.shaped(site, `!${this.shapeGuard(t, site.v)}`, site.label ?? this.describe(t), [body, this.rules(t, site)])
  }

  private array(t: Extract<TypeIR, { kind: 'array' }>, site: Site): string {
    const i = this.name('i')
    const v = this.name('v')
    const child: Site = { v, path: [...site.path, { text: '[' }, { expr: i }, { text: ']' }], target: `${site.v}[${i}]`, iss: site.iss, depth: site.depth }
    const code = this.check(t.element, child)
    // A hole (`new Array<number>(3)`, `delete xs[0]`) is no element at all, and TypeScript types such arrays as T[].
    const hole = this.admitsUndefined(t.element) ? '' : `  if (${v} === undefined && !(${i} in ${site.v})) continue\n`
    const loop = code ? `for (let ${i} = 0; ${i} < ${site.v}.length; ${i}++) {\n  const ${v} = ${site.v}[${i}]\n${hole}${indent(code)}\n}` : ''
    return this.shaped(site, `!Array.isArray(${site.v})`, site.label ?? this.describe(t), [loop, this.rules(t, site)])
  }

  private tuple(t: Extract<TypeIR, { kind: 'tuple' }>, site: Site): string {
    const restAt = t.elements.findIndex((e) => e.rest)
    const head = restAt < 0 ? t.elements : t.elements.slice(0, restAt)
    const tail = restAt < 0 ? [] : t.elements.slice(restAt + 1)
    const rest = restAt < 0 ? undefined : t.elements[restAt]!
    const min = head.filter((e) => !e.optional).length + tail.length
    const max = rest ? Infinity : head.length
    const a = site.v
    const expected = site.label ?? this.describe(t)
    this.used.add('addReceived')
    const lengthTest = max === Infinity ? `${a}.length < ${min}` : min === max ? `${a}.length !== ${min}` : `${a}.length < ${min} || ${a}.length > ${max}`
    const body: string[] = []
    const element = (e: TupleElementIR, index: string, pathIndex: Segment[]) => {
      const v = this.name('v')
      const child: Site = { v, path: [...site.path, { text: '[' }, ...pathIndex, { text: ']' }], target: `${a}[${index}]`, iss: site.iss, depth: site.depth }
      const code = this.check(e.type, child)
      if (!code) return
      body.push(`const ${v} = ${a}[${index}]`)
      body.push(e.optional ? `if (${v} !== undefined${e.exact ? ` || ${index} in ${a}` : ''}) {\n${indent(code)}\n}` : code)
    }
    head.forEach((e, i) => element(e, String(i), [{ text: String(i) }]))
    if (rest) {
      const restType = this.deref(rest.type)
      if (restType.kind === 'array') {
        const i = this.name('i')
        const v = this.name('v')
        const child: Site = { v, path: [...site.path, { text: '[' }, { expr: i }, { text: ']' }], target: `${a}[${i}]`, iss: site.iss, depth: site.depth }
        const code = this.check(restType.element, child)
        const end = tail.length ? `${a}.length - ${tail.length}` : `${a}.length`
        if (code) body.push(`for (let ${i} = ${head.length}; ${i} < ${end}; ${i}++) {\n  const ${v} = ${a}[${i}]\n${indent(code)}\n}`)
      }
      tail.forEach((e, j) => {
        const index = `${a}.length - ${tail.length - j}`
        element(e, index, [{ expr: `(${index})` }])
      })
    }
    const lengthFail = `${site.iss} = addReceived(${site.iss}, ${renderPath(site.path)}, ${JSON.stringify(expected)}, ${a}.length + " elements")`
    const inner = this.ifElse(lengthTest, lengthFail, [body.join('\n'), this.rules(t, site)].filter(Boolean).join('\n'))
    return this.shaped(site, `!Array.isArray(${a})`, expected, [inner])
  }

  private union(t: Extract<TypeIR, { kind: 'union' }>, site: Site): string {
    const expected = this.describe(t)
    const simple = this.simple(t, site.v)
    if (simple) return this.ifElse(`!${simple}`, this.fail(t, site, expected), this.rules(t, site))

    // `T | null | undefined`: the nullish values pass, everything else is checked as T (with its rules).
    const nullish = t.types.filter((x) => x.kind === 'null' || x.kind === 'undefined')
    const rest = t.types.filter((x) => x.kind !== 'null' && x.kind !== 'undefined')
    if (nullish.length && rest.length === 1) {
      const inner = this.check(rest[0]!, { ...site, label: expected })
      const test = nullish.map((x) => `${site.v} === ${x.kind}`).join(' || ')
      return inner ? `if (!(${test})) {\n${indent(inner)}\n}` : ''
    }
    const discriminated = this.discriminant(rest)
    if (discriminated && nullish.length === 0) return this.discriminatedUnion(t, discriminated, site)
    return this.anyOf(t, site, expected)
  }

  /** A property every member has, with literal values no two members share: one test picks the member. */
  private discriminant(members: TypeIR[]): { name: string; branches: { values: (string | number | boolean | bigint)[]; type: TypeIR }[] } | undefined {
    const objects = members.map((m) => this.objectOf(m))
    if (objects.length < 2 || objects.some((o) => !o)) return undefined
    for (const p of objects[0]!.properties) {
      const branches: { values: (string | number | boolean | bigint)[]; type: TypeIR }[] = []
      const taken = new Set<string>()
      let ok = true
      for (let i = 0; i < objects.length && ok; i++) {
        const prop = objects[i]!.properties.find((q) => q.name === p.name)
        const values = prop && !prop.optional ? literalValues(this.deref(prop.type)) : undefined
        if (!values) ok = false
        else {
          for (const v of values) {
            const k = `${typeof v}:${String(v)}`
            if (taken.has(k)) ok = false
            taken.add(k)
          }
          branches.push({ values: values, type: members[i]! })
        }
      }
      if (ok) return { name: p.name, branches }
    }
    return undefined
  }

  private discriminatedUnion(t: TypeIR, d: NonNullable<ReturnType<ValidatorCompiler['discriminant']>>, site: Site): string {
    const tag = this.name('tag')
    const access = `${site.v}${/^[A-Za-z_$][\w$]*$/.test(d.name) ? `.${d.name}` : `[${JSON.stringify(d.name)}]`}`
    const all = d.branches.flatMap((b) => b.values)
    const chain: string[] = []
    d.branches.forEach((b, i) => {
      const test = b.values.map((v) => `${tag} === ${jsLiteral(v)}`).join(' || ')
      const code = this.check(b.type, { ...site, label: undefined, guarded: true })
      chain.push(`${i === 0 ? 'if' : 'else if'} (${test}) {\n${indent(code || '// accepted')}\n}`)
    })
    this.used.add('addReceived')
    this.used.add('literal')
    const tagPath = renderPath([...site.path, { text: formatKey(d.name) }])
    chain.push(`else ${site.iss} = addReceived(${site.iss}, ${tagPath}, ${JSON.stringify(all.map(literalText).join(' | '))}, literal(${tag}))`)
    const body = `const ${tag} = ${access}\n${chain.join('\n')}`
    // Members checked by their properties alone take arrays and functions that have them, as in TypeScript.
    const structural = d.branches.every((b) => this.checkedByProperties(b.type))
    const guard = structural ? anyObjectGuard(site.v) : this.objectGuard(site.v, false)
    return `${comment(`discriminated by ${d.name}`)}\n${this.shaped(site, `!${guard}`, site.label ?? this.describe(t), [body])}`
  }

  /**
   * A general union: members whose shape fits are tried in turn, each collecting its own issues.
   * None fits → one issue naming the union; some fit but all fail → the issues of the closest one (see `closer`).
   */
  private anyOf(t: Extract<TypeIR, { kind: 'union' }>, site: Site, expected: string): string {
    const matched = this.name('matched')
    const best = this.name('best')
    // With domain rules, `matched` says which member matched (1-based), so its rules can run once it is known.
    const ruled = site.iss === 'issues' && !!this.options.rules?.[this.phase]?.length
    const mark = (i: number) => (ruled ? String(i + 1) : 'true')
    const out = [`let ${matched} = ${ruled ? '0' : 'false'}, ${best}`]
    t.types.forEach((member, i) => {
      const prefix = i === 0 ? '' : `!${matched} && `
      const simple = this.simple(member, site.v)
      if (simple) {
        out.push(`if (${prefix}${simple}) ${matched} = ${mark(i)}`)
        return
      }
      const u = this.name('u')
      const code = this.check(member, { ...site, iss: u, label: undefined, target: undefined, guarded: true })
      const guard = this.guard(member, site.v)
      if (!code) {
        out.push(`if (${prefix}${guard}) ${matched} = ${mark(i)}`)
        return
      }
      out.push(
        `if (${prefix}${guard}) {`,
        `  let ${u}`,
        indent(code),
        `  if (${u} === undefined) ${matched} = ${mark(i)}`,
        `  else if (${best} === undefined || closer(${u}, ${best}, ${renderPath(site.path)})) ${best} = ${u}`,
        `}`,
      )
    })
    this.used.add('nest')
    this.used.add('closer')
    // When the closest member only has one issue about the value itself, the union's own name reads better.
    const whole = `${best} === undefined || (${best}.length === 1 && ${best}[0].path === ${renderPath(site.path)})`
    out.push(`if (!${matched}) ${site.iss} = ${whole} ? ${this.failExpr(t, site, expected)} : nest(${site.iss}, "", ${best})`)
    if (ruled) {
      // The members were tried with issues of their own, where rules do not run: the matched one's rules run now.
      t.types.forEach((member, i) => {
        const code = this.check(member, { ...site, label: undefined, guarded: true })
        if (/^\s*\/\/ (rule|repair) /m.test(code)) out.push(`else if (${matched} === ${i + 1}) {\n${indent(code)}\n}`)
      })
    }
    return `{\n${indent(out.join('\n'))}\n}`
  }


  private intersection(t: Extract<TypeIR, { kind: 'intersection' }>, site: Site): string {
    const parts = t.types.map((x) => this.deref(x))
    const objects = parts.filter((p) => p.kind === 'objectType')
    if (objects.length === parts.length && isStructural({ kind: 'objectType', properties: objects.flatMap((o) => o.properties), ...(objects.some((o) => o.indexSignatures) ? { indexSignatures: [] } : {}) })) {
      const bodies = objects.map((o) => this.objectBody(o, { ...site, label: undefined }))
      return this.structural(site, site.label ?? this.describe(t), bodies, this.rules(t, site))
    }
    if (parts.every((p) => p.kind === 'objectType' || p.kind === 'record')) {
      // The value must fit the shape of every part. Only an intersection made entirely of weak types (nothing
      // required, no index signature) is weak to tsc: beside any other part, a weak part asks nothing of the shape.
      // All weak, the value must share one property with any part (tsc takes their properties together).
      const allWeak = parts.every(isWeak)
      const shaping = parts.filter((p) => !isWeak(p))
      const guards = [...new Set(shaping.map((p) => (p.kind === 'objectType' && isStructural(p) ? structuralGuard(site.v) : this.shapeGuard(p, site.v))))]
      const shapes = guards.length > 1 ? guards.filter((g) => g !== structuralGuard(site.v)) : guards
      const guard = allWeak
        ? weakGuard(parts.flatMap((p) => (p.kind === 'objectType' ? p.properties : [])), site.v, this.objectGuard(site.v, false))
        : shapes.length > 1
          ? `(${shapes.join(' && ')})`
          : shapes[0]!
      const bodies = parts.map((p) =>
        p.kind === 'objectType' ? this.objectBody(p, { ...site, label: undefined }) : this.indexSignature(p.key, p.value, [], site),
      )
      return this.shaped(site, `!${guard}`, site.label ?? this.describe(t), [...bodies, this.rules(t, site)])
    }
    return t.types.map((x) => this.check(x, { ...site, label: undefined })).filter(Boolean).join('\n')
  }

  /** Domain rules at this site, each in its own block (rules run only where issues go to the phase's list). */
  private rules(type: TypeIR, site: Site): string {
    const rules = this.options.rules?.[this.phase]
    if (!rules?.length || site.iss !== 'issues') return ''
    const ruleSite: RuleSite = {
      type,
      value: site.v,
      ...(site.target ? { target: site.target } : {}),
      path: renderPath(site.path),
      ...(site.key !== undefined ? { key: site.key } : {}),
      ...(site.parent ? { parent: site.parent } : {}),
      phase: this.phase,
      repair: !!this.options.repair,
    }
    const out: string[] = []
    for (const rule of rules) {
      const code = rule.check?.(ruleSite)
      if (code) out.push(`${comment(`rule ${rule.id}`)}\n{\n${indent(code)}\n}`)
    }
    return out.join('\n')
  }

  /** Domain repairs that run before the type check of a value (repair on, assignable, not inside a union branch). */
  private coerce(type: TypeIR, site: Site): string {
    const rules = this.options.rules?.[this.phase]
    if (site.coerced || !this.options.repair || !site.target || site.iss !== 'issues' || !rules?.length) return ''
    const ruleSite: RuleSite = {
      type: this.deref(type),
      value: site.v,
      target: site.target,
      path: renderPath(site.path),
      ...(site.key !== undefined ? { key: site.key } : {}),
      ...(site.parent ? { parent: site.parent } : {}),
      phase: this.phase,
      repair: true,
    }
    const out: string[] = []
    for (const rule of rules) {
      const code = rule.coerce?.(ruleSite)
      // A frozen or read-only input cannot take the repair: the checks that follow report the value as it is.
      if (code) out.push(`${comment(`repair ${rule.id}`)}\ntry {\n${indent(code)}\n} catch {}`)
    }
    return out.join('\n')
  }

  /** The statement recording a type mismatch at this site. */
  private fail(t: TypeIR, site: Site, expected = this.describe(t)): string {
    return `${site.iss} = ${this.failExpr(t, site, expected)}`
  }

  private failExpr(t: TypeIR, site: Site, expected: string): string {
    if (isLiteralish(t, this)) {
      this.used.add('addReceived')
      this.used.add('literal')
      return `addReceived(${site.iss}, ${renderPath(site.path)}, ${JSON.stringify(expected)}, literal(${site.v}))`
    }
    return `add(${site.iss}, ${renderPath(site.path)}, ${JSON.stringify(expected)}, ${site.v})`
  }

  private failWith(site: Site, expected: string, v: string): string {
    return `${site.iss} = add(${site.iss}, ${renderPath(site.path)}, ${JSON.stringify(expected)}, ${v})`
  }

  /** The shape test of a composite type, then its body; only the body when a union already tested the shape. */
  private shaped(site: Site, failCond: string, expected: string, body: string[]): string {
    const code = body.filter(Boolean).join('\n')
    if (site.guarded) return code
    return this.ifElse(failCond, this.failWith(site, expected, site.v), code)
  }

  private ifElse(cond: string, then: string, otherwise: string): string {
    return otherwise ? `if (${cond}) ${then}\nelse {\n${indent(otherwise)}\n}` : `if (${cond}) ${then}`
  }

  /**
   * Whether a string is a valid value of an object type: TypeScript sees a string's characters as a numeric
   * index signature, so `{ [i: number]: string }` (with nothing required) accepts one.
   */
  private stringsFit(properties: PropertyIR[], signatures: { key: TypeIR; value: TypeIR }[]): boolean {
    if (properties.some((p) => !p.optional) || signatures.length === 0) return false
    return signatures.every((s) => this.deref(s.key).kind === 'number' && this.admits(s.value, 'string'))
  }

  private admits(t: TypeIR, kind: 'string', seen = 0): boolean {
    if (seen > 8) return false
    const d = this.deref(t)
    if (d.kind === kind || d.kind === 'unknown' || d.kind === 'any') return true
    // `{}` takes every value but null and undefined.
    if (d.kind === 'objectType' && d.properties.length === 0 && !d.indexSignatures) return true
    return d.kind === 'union' && d.types.some((x) => this.admits(x, kind, seen + 1))
  }

  /** Whether `undefined` is a valid value of the type (then a required property must still be present). */
  private admitsUndefined(t: TypeIR, seen = 0): boolean {
    if (seen > 8) return false
    const d = this.deref(t)
    if (d.kind === 'undefined' || d.kind === 'void' || d.kind === 'unknown' || d.kind === 'any') return true
    if (d.kind === 'union') return d.types.some((x) => this.admitsUndefined(x, seen + 1))
    return false
  }

  deref(t: TypeIR): TypeIR {
    return derefType(this.options.types, t)
  }

  private objectOf(t: TypeIR): Extract<TypeIR, { kind: 'objectType' }> | undefined {
    const d = this.deref(t)
    if (d.kind === 'objectType') return d
    if (d.kind === 'intersection') {
      const parts = d.types.map((x) => this.objectOf(x))
      if (parts.some((p) => !p)) return undefined
      return { kind: 'objectType', properties: parts.flatMap((p) => p!.properties) }
    }
    return undefined
  }

  /** An object type (or an intersection of them) with a required property and no index signature: see isStructural. */
  private checkedByProperties(t: TypeIR): boolean {
    const d = this.deref(t)
    if (d.kind === 'objectType') return isStructural(d)
    if (d.kind !== 'intersection') return false
    const parts = d.types.map((x) => this.deref(x))
    return parts.every((p) => p.kind === 'objectType' && !p.indexSignatures) && parts.some((p) => p.kind === 'objectType' && isStructural(p))
  }

  /** Whether a declaration refers back to itself (then it is checked by a named function, not inlined). */
  private isRecursive(name: string): boolean {
    const known = this.recursive.get(name)
    if (known !== undefined) return known
    const seen = new Set<string>()
    const stack = [this.options.types[name]]
    let found = false
    while (stack.length && !found) {
      const t = stack.pop()
      if (!t) continue
      for (const r of refsIn(t)) {
        if (r === name) found = true
        else if (!seen.has(r)) {
          seen.add(r)
          stack.push(this.options.types[r])
        }
      }
    }
    this.recursive.set(name, found)
    return found
  }

  /** How a type reads in messages and comments: `string | number`, `"a" | "b"`, `Item[]`, `Order`. */
  describe(t: TypeIR, expand = false): string {
    switch (t.kind) {
      case 'unknown':
      case 'any':
      case 'void':
      case 'never':
      case 'string':
      case 'number':
      case 'boolean':
      case 'bigint':
      case 'symbol':
      case 'null':
      case 'undefined':
      case 'object':
        return t.kind
      case 'function':
        return 'function'
      case 'date':
        return 'Date'
      case 'literal':
        return literalText(t.value)
      case 'array': {
        const el = this.describe(t.element)
        return /[|&\s]/.test(el) && !/^[\w<>]+$/.test(el) ? `(${el})[]` : `${el}[]`
      }
      case 'tuple':
        return `[${t.elements.map((e) => (e.rest ? `...${this.describe(e.type)}` : `${this.describe(e.type)}${e.optional ? '?' : ''}`)).join(', ')}]`
      case 'objectType':
        if (t.name && !expand) return t.name
        return t.properties.length === 0 && !t.indexSignatures ? '{}' : 'object'
      case 'record':
        return `Record<${this.describe(t.key)}, ${this.describe(t.value)}>`
      case 'union':
        return t.types.map((x) => this.describe(x)).join(' | ')
      case 'intersection':
        return t.types.map((x) => this.describe(x)).join(' & ')
      case 'enum':
        return `${t.name} (${t.members.map((m) => literalText(m.value)).join(' | ')})`
      case 'template':
        return t.text
      case 'ref': {
        const d = this.options.types[t.name]
        return d && (expand || isLiteralish(d, this)) && !this.isRecursive(t.name) ? this.describe(d, false) : t.name
      }
    }
  }

  private name(prefix: string): string {
    return `${prefix}${++this.counter}`
  }

  private constantName(base: string): string {
    const clean = base.replace(/[^\w$]/g, '_')
    let n = clean
    const taken = (x: string) => this.constants.has(x) || [...this.refFunctions.values(), ...this.templates.values()].includes(x)
    for (let i = 2; taken(n); i++) n = `${clean}_${i}`
    return n
  }

  constantFor(base: string, value: string): string {
    return this.constant(base, value)
  }

  /** A module-level constant (regex, set), declared once per distinct value. */
  private constant(base: string, value: string): string {
    for (const [n, v] of this.constants) if (v === value) return n
    const n = this.constantName(base)
    this.constants.set(n, value)
    this.declarations.push(`const ${n} = ${value}`)
    return n
  }
}

/** The condition under which a template hole's text `h` is NOT valid (TypeScript's isValidNumberString / bigint rule); empty when any text is. */
function holeTest(hole: 'string' | 'number' | 'bigint', c: { constantFor(base: string, value: string): string }): string {
  switch (hole) {
    case 'string':
      return ''
    case 'number':
      return `h === "" || !isFinite(+h)`
    case 'bigint':
      return `!${c.constantFor('bigintText', `/^${HOLE_PATTERNS.bigint}$/`)}.test(h)`
  }
}

/**
 * An object type with a required property and no index signature: TypeScript checks any value against it by its
 * properties alone (arrays, Dates, functions and primitives included), so only null and undefined fail the shape test.
 * Weak types (all optional) and index signatures are stricter in TypeScript, and keep the plain-object test.
 */
function isStructural(t: Extract<TypeIR, { kind: 'objectType' }>): boolean {
  return !t.indexSignatures && t.properties.some((p) => !p.optional)
}

/** A weak type (properties, all optional, no index signature): tsc asks a value to share one of its properties. */
function isWeak(t: TypeIR): boolean {
  return t.kind === 'objectType' && !t.indexSignatures && t.properties.length > 0 && t.properties.every((p) => p.optional)
}

/**
 * A plain object passes a weak type (its static type, which tsc judges, is unknown here); any other value but a function
 * passes when it has one of the properties, as tsc sees a Map's size, a Date's getTime or a string's length (a
 * function type has none of its own to tsc). The properties are checked after.
 */
function weakGuard(properties: PropertyIR[], v: string, plain: string): string {
  const shared = [...new Set(properties.map((p) => `${JSON.stringify(p.name)} in Object(${v})`))].join(' || ')
  return `(${plain} || (${v} !== null && ${v} !== undefined && typeof ${v} !== "function" && (${shared})))`
}

function structuralGuard(v: string): string {
  return `(${v} !== null && ${v} !== undefined)`
}

function anyObjectGuard(v: string): string {
  return `((typeof ${v} === "object" && ${v} !== null) || typeof ${v} === "function")`
}

/** Literal-valued types report the value they got (`received "triangle"`) rather than its kind. */
function isLiteralish(t: TypeIR, c: ValidatorCompiler, seen = 0): boolean {
  if (seen > 8) return false
  const d = c.deref(t)
  if (d.kind === 'literal' || d.kind === 'enum' || d.kind === 'template') return true
  if (d.kind === 'union') return d.types.some((x) => { const k = c.deref(x).kind; return k === 'literal' || k === 'enum' || k === 'template' }) && d.types.every((x) => isLiteralish(x, c, seen + 1) || ['null', 'undefined', 'string', 'number', 'boolean'].includes(c.deref(x).kind))
  return false
}

function literalValues(t: TypeIR): (string | number | boolean | bigint)[] | undefined {
  if (t.kind === 'literal') return [t.value]
  if (t.kind === 'enum') return t.members.map((m) => m.value)
  if (t.kind === 'union' && t.types.every((x) => x.kind === 'literal')) return t.types.map((x) => (x as { value: string | number | boolean | bigint }).value)
  return undefined
}

function refsIn(t: TypeIR): string[] {
  switch (t.kind) {
    case 'ref':
      return [t.name]
    case 'array':
      return refsIn(t.element)
    case 'tuple':
      return t.elements.flatMap((e) => refsIn(e.type))
    case 'objectType':
      return [...t.properties.flatMap((p) => refsIn(p.type)), ...(t.indexSignatures ?? []).flatMap((s) => refsIn(s.value))]
    case 'record':
      return refsIn(t.value)
    case 'union':
    case 'intersection':
      return t.types.flatMap(refsIn)
    default:
      return []
  }
}

function literalText(v: string | number | boolean | bigint): string {
  return typeof v === 'string' ? JSON.stringify(v) : typeof v === 'bigint' ? `${v}n` : String(v)
}

function jsLiteral(v: string | number | boolean | bigint): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number' && Object.is(v, -0)) return '0'
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

/** A path as a JS expression: adjacent static parts merged, dynamic parts concatenated. */
function renderPath(path: Segment[]): string {
  const parts: string[] = []
  let text = ''
  for (const s of path) {
    if ('text' in s) text += s.text
    else {
      if (text) parts.push(JSON.stringify(text))
      text = ''
      parts.push(s.expr)
    }
  }
  if (text || parts.length === 0) parts.push(JSON.stringify(text))
  return parts.join(' + ')
}

function indent(code: string): string {
  return code
    .split('\n')
    .map((l) => (l ? '  ' + l : l))
    .join('\n')
}

/** Compiles one value check on its own (the value in `result`, `ctx` in scope): for tools and the benchmark. */
export function compileValidator(type: TypeIR, options: CompilerOptions & { path?: string }): { body: string; helpers: string } {
  const c = new ValidatorCompiler(options)
  const body = c.result(type, options.path)
  return { body, helpers: [c.imports(), c.helpers()].filter(Boolean).join('\n\n') }
}

const RUNTIME_IMPORT = /^import \{([^}]*)\} from "unplugin-poet\/runtime"\n*/m

/**
 * Module helpers with the runtime import replaced by the same helpers declared in place: for code that must stand
 * alone, like the LLM generator's baseline, which its verifier runs as a script in a sandbox with no imports.
 */
export function inlineRuntimeHelpers(helpers: string): string {
  const m = RUNTIME_IMPORT.exec(helpers)
  if (!m) return helpers
  const local = new Map(Object.entries(RUNTIME_HELPERS).map(([name, exported]) => [exported, name]))
  const names = m[1]!.split(',').map((spec) => {
    const [exported, as] = spec.trim().split(/\s+as\s+/)
    const name = local.get(exported!)
    if (!name || (as ?? exported) !== name) throw new Error(`inlineRuntimeHelpers: unknown runtime helper import "${spec.trim()}"`)
    return name
  })
  const code = names.map((n) => CORE_HELPERS[n]!.code).join('\n\n')
  return helpers.replace(RUNTIME_IMPORT, code + '\n\n').trimEnd()
}
