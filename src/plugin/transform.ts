// The transform core: finds poet()-marked functions in a module, checks their options, builds their specs, rewrites the module.
import type * as t from '@babel/types'
import MagicString, { type SourceMap } from 'magic-string'
import type { FunctionSpec } from '../generators/spec'
import { configLookups, resolveSignature } from '../generators/builtin/resolve'
import { buildError, PoetBuildError, warningAt, type ErrorSite, type WarningSite } from './errors'
import { encodeKey, fileOf, functionId, projectPath } from './ids'
import { readPoetOptions, type DomainNames, type Position } from './poet-options'
import { rewriteModule, type PlannedSite } from './rewrite'
import { parseModule, PHASES_BINDING_PREFIX, POET_CODE_FILTER, scanPoetCalls, type CallSite, type DecoratorSite, type PoetBindings, type ScanResult } from './scan'
import { COMPONENT_FILE, componentParts, keepOnly, type ScriptLang } from './sfc'

export { POET_CODE_FILTER, RUNTIME_ID } from './scan'

/** A site the transform generates phases for: a call applied to a function of this file, or a method. */
type MarkedSite = (CallSite & { fn: NonNullable<CallSite['fn']> }) | DecoratorSite

export interface TransformContext {
  /** Project root: ids are paths relative to it. */
  root: string
  domains: DomainNames
  /** Reads another file of the project (for types imported from it); undefined when it does not exist. */
  readFile?(abs: string): string | undefined
  /** `message` names its place; `at` gives it apart, when the warning has one. */
  warn(message: string, at?: WarningSite): void
}

export interface TransformResult {
  code: string
  map: SourceMap
  /** One spec per marked function, in source order. */
  specs: FunctionSpec[]
  /** Other files whose contents the specs depend on (imported types): watch them. */
  dependencies: string[]
}

/**
 * Rewrites one module. Returns null when it is unchanged: no runtime import, no `poet` from the runtime,
 * or only calls an earlier pass already rewrote. Throws a PoetBuildError on any misuse of `poet(...)`.
 */
export function transformPoet(code: string, file: string, ctx: TransformContext): TransformResult | null {
  if (!POET_CODE_FILTER.test(code)) return null
  const path = fileOf(file)
  const displayPath = projectPath(ctx.root, path)
  const where: ErrorSite = { file: path, displayPath, code }
  const component = COMPONENT_FILE.test(path) ? componentModules(code, where, ctx) : undefined
  const modules: ModuleText[] = component?.modules ?? [{ code, lang: undefined, inner: false, imports: true }]

  const marked: { site: MarkedSite; options: PlannedSite['options']; timeoutAt?: Position; scan: ScanResult; module: ModuleText }[] = []
  const scans: ScanResult[] = []
  const scanned = new Map<ModuleText, t.File>()
  const outer: PoetBindings = { names: [], namespaces: [] }
  for (const module of modules) {
    const inherited = module.inner && outer.names.length + outer.namespaces.length > 0 ? outer : undefined
    if (!module.imports && !inherited) continue
    const scan = module.imports ? scanPoetCalls(module.code, where, module.lang, inherited) : scanInherited(module, where, inherited)
    if (!scan) continue
    scans.push(scan)
    scanned.set(module, scan.ast)
    if (!module.inner) {
      outer.names.push(...scan.names)
      outer.namespaces.push(...scan.namespaces)
    }
    for (const site of scan.sites) {
      if (site.kind === 'rejected') throw site.error
      if (site.kind === 'escape') {
        ctx.warn(...warningAt(where, site.reason, site.at))
        continue
      }
      const { options, keys } = readOptions(site, where, ctx.domains)
      if (site.kind === 'call' && !site.fn) {
        const at = site.call.loc!.start
        ctx.warn(
          ...warningAt(
            where,
            'poet(...) is not applied directly to a function defined in this file, so no phases are generated for it: ' +
              'it runs with the runtime policy only, without generated validation. Write poet(options)(fn) around the function ' +
              'where it is defined; a wrapper or factory that returns poet(...) for others to apply gives them no phases.',
            at,
          ),
        )
        continue
      }
      marked.push({ site: site as MarkedSite, options, timeoutAt: keys.timeout, scan, module })
    }
  }
  if (component) warnInMarkup(component.markup, scans, where, ctx)
  if (marked.length === 0) return null

  // A component's types are read from all its script blocks at once: Vue's <script> may declare what <script setup> uses.
  const types = component ? component.types(scanned) : { code, ast: scans[0]!.ast }
  const names = disambiguate(marked.map((m) => m.site))
  const lineBound = marked.flatMap(({ site }, i) => (site.unnamed && names[i]!.includes('@') ? [i] : []))
  if (lineBound.length) {
    warnLineIds(lineBound.map((i) => functionId(displayPath, names[i]!)), marked[lineBound[0]!]!.site.call.loc!.start, where, ctx)
  }
  const lastPhaseIndex = Math.max(...scans.map((scan) => scan.lastPhaseIndex))
  const planned = new Map<ScanResult, PlannedSite[]>()
  const specs: FunctionSpec[] = []
  const dependencies = new Set<string>()
  // The module's signatures are governed by the same tsconfig.json: looked up (up to the root) and parsed once.
  const configs = configLookups()
  marked.forEach(({ site, options, timeoutAt, scan }, i) => {
    const id = functionId(displayPath, names[i]!)
    const sig = resolveSignature({ file: path, code: types.code, ast: types.ast, fn: site.fn, readFile: ctx.readFile, root: ctx.root, configs })
    for (const d of sig.dependencies) dependencies.add(d)
    if (timeoutAt && !sig.async) {
      ctx.warn(
        ...warningAt(
          where,
          site.fn.generator
            ? `'timeout' has no effect on ${id}: a generator function returns its iterator at once, and the values it ` +
                'yields later are not timed. Remove timeout, or time the work inside the generator.'
            : `'timeout' has no effect on ${id}: the function is synchronous (not async and not returning a Promise), and ` +
                'a running synchronous call cannot be interrupted. Remove timeout, or make the function async.',
          timeoutAt,
        ),
      )
    }
    specs.push({
      id,
      file: path,
      name: names[i]!,
      kind: site.kind === 'decorator' ? 'method' : 'function',
      async: sig.async,
      params: sig.params,
      returns: sig.returns,
      types: sig.types,
      options,
      source: functionSource(code, site.fn),
      signature: sig.signature,
      unresolved: sig.unresolved,
    })
    const list = planned.get(scan) ?? []
    list.push({ site, phases: PHASES_BINDING_PREFIX + (lastPhaseIndex + 1 + i), key: encodeKey(id), options })
    planned.set(scan, list)
  })

  // Every block is rewritten into one MagicString of the whole file, so the map is the component's own.
  const s = new MagicString(code)
  const inPlace = component && { taken: new Set(code.match(/[\p{ID_Continue}$\u200c\u200d]+/gu)) }
  for (const { scan, module } of marked) {
    const list = planned.get(scan)
    if (!list) continue
    planned.delete(scan)
    rewriteModule(module.code, scan.ast, list, { into: s, inPlace })
  }
  return {
    code: s.toString(),
    map: s.generateMap({ hires: true, source: file, includeContent: true }),
    specs,
    dependencies: [...dependencies],
  }
}

/** A module to scan: a whole file, or a component with only one script block kept (positions unchanged). */
interface ModuleText {
  code: string
  lang: ScriptLang | undefined
  /** A component's <script setup> (Vue) or instance script (Svelte): it sees the imports of the other block. */
  inner: boolean
  /** Whether its text passes the code filter: a block that does not, and inherits no `poet`, is not parsed. */
  imports: boolean
}

/**
 * The script blocks of a Vue or Svelte component, each as a module of its own (Svelte's module and instance scripts
 * are two scopes, and Svelte refuses an import in both), the outer block first; its markup; and the types of all its
 * blocks together.
 */
function componentModules(code: string, where: ErrorSite, ctx: TransformContext) {
  const parts = componentParts(code, where.file)
  for (const block of parts.foreign) {
    if (!POET_CODE_FILTER.test(code.slice(block.start, block.end))) continue
    ctx.warn(
      ...warningAt(
        where,
        `this <script lang="${block.lang}"> block is not scanned for poet(): only TypeScript and JavaScript blocks ` +
          '(lang "ts", "tsx", "js", "jsx", or none) are. Its poet functions run with the runtime policy only, without generated validation.',
        positionAt(code, block.start),
      ),
    )
  }
  const blocks = [...parts.scripts].sort((a, b) => Number(a.inner) - Number(b.inner))
  const modules: ModuleText[] = blocks.map((b) => ({
    code: keepOnly(code, [b]),
    lang: b.lang,
    inner: b.inner,
    imports: POET_CODE_FILTER.test(code.slice(b.start, b.end)),
  }))
  // A component's types are read from all its script blocks at once: Vue's <script> may declare what <script setup>
  // uses, and Svelte's instance script sees the types of its module script.
  const types = (scanned: Map<ModuleText, t.File>) => {
    const bodies: t.Statement[] = []
    let first: t.File | undefined
    for (const module of modules) {
      let ast = scanned.get(module)
      if (!ast) {
        try {
          ast = parseModule(module.code, where, module.lang)
        } catch {
          // A block that does not parse gives no types; the framework's compiler reports its error.
          continue
        }
      }
      first ??= ast
      bodies.push(...ast.program.body)
    }
    bodies.sort((a, b) => a.start! - b.start!)
    return { code: keepOnly(code, blocks), ast: { ...first!, program: { ...first!.program, body: bodies } } }
  }
  return { modules, markup: parts.markup, types }
}

/**
 * A block scanned only for the `poet` of another block. It may be no module at all (a `<script>` inside Svelte's
 * `<svelte:head>` is a page script): one that does not parse is the framework's to report, not a poet error.
 */
function scanInherited(module: ModuleText, where: ErrorSite, inherited: PoetBindings | undefined): ScanResult | undefined {
  try {
    return scanPoetCalls(module.code, where, module.lang, inherited)
  } catch (e) {
    if (e instanceof PoetBuildError && e.code === 'POET_PARSE_ERROR') return undefined
    throw e
  }
}

/**
 * A poet() call in a Vue template or Svelte markup is compiled by the framework, after this plugin ran: it would run
 * without phases, silently. Said once, at the first one.
 */
function warnInMarkup(markup: string, scans: ScanResult[], where: ErrorSite, ctx: TransformContext): void {
  const escape = (name: string) => name.replace(/\$/g, '\\$')
  const callees = [
    ...scans.flatMap((scan) => scan.names.map(escape)),
    ...scans.flatMap((scan) => scan.namespaces.map((ns) => `${escape(ns)}\\s*\\.\\s*poet`)),
  ]
  if (callees.length === 0) return
  const expressions = expressionRanges(markup)
  const call = new RegExp(`(?<![\\w$.])(?:${callees.join('|')})\\s*\\(`, 'g')
  const found = [...markup.matchAll(call)].find((m) => expressions.some(([from, to]) => m.index >= from && m.index < to))
  if (!found) return
  ctx.warn(
    ...warningAt(
      where,
      'poet() in a template or markup expression is not transformed: the framework compiles it after this plugin ' +
        'ran, so it would run with the runtime policy only, without generated validation. Mark the function with ' +
        'poet() in the script block and call it from here.',
      positionAt(markup, found.index),
    ),
  )
}

/**
 * Where a template or markup holds code, so that prose ("a poet (1795–1821)") is not taken for a call: inside braces
 * (Vue's `{{ }}`, Svelte's `{ }`), and the values of Vue's directives (`:title`, `@click`, `v-if`, `#item`).
 */
function expressionRanges(markup: string): [number, number][] {
  const ranges: [number, number][] = []
  let depth = 0
  let from = 0
  for (let i = 0; i < markup.length; i++) {
    if (markup[i] === '{' && depth++ === 0) from = i
    else if (markup[i] === '}' && depth > 0 && --depth === 0) ranges.push([from, i])
  }
  if (depth > 0) ranges.push([from, markup.length])
  for (const m of markup.matchAll(/\s(?::|@|v-|#)[^\s=>/"']*\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const value = m[1] ?? m[2] ?? ''
    const end = m.index + m[0].length - 1
    ranges.push([end - value.length, end])
  }
  return ranges
}

/** Babel's position (line 1-based, column 0-based) of an offset. */
function positionAt(code: string, offset: number): Position {
  const before = code.slice(0, offset).split(/\r\n|[\r\n\u2028\u2029]/)
  return { line: before.length, column: before[before.length - 1]!.length }
}

/**
 * The site's options. Options made at run time, in a `poet(...)` not applied to a function here, are most likely a
 * wrapper that fills in defaults: the error says that a wrapper cannot give what it marks phases anyway.
 */
function readOptions(site: CallSite | DecoratorSite, where: ErrorSite, domains: DomainNames): ReturnType<typeof readPoetOptions> {
  try {
    return readPoetOptions(site.call.arguments[0], where, domains)
  } catch (e) {
    if (!(site.kind === 'call' && !site.fn && e instanceof PoetBuildError && e.code === 'POET_NON_LITERAL_OPTION')) throw e
    throw buildError(
      where,
      e.code,
      `${e.reason} This poet(...) is not applied to a function either, as in a wrapper that fills in defaults ` +
        '(`const reliable = (o) => poet({ attempts: 3, ...o })`): what a wrapper marks gets no generated phases in any case, ' +
        'only the runtime policy. Write poet({ attempts: 3 })(fn) on each function instead.',
      e.loc,
    )
  }
}

/**
 * Names taken from a function's place (`handlers`, `makeLoader.return`) and shared get their order among those sharing
 * them: the first keeps the bare name, the next ones `.1`, `.2`… (no character a shell would expand, unlike `[1]`), so
 * adding one after them changes no other id. Other names shared by several functions in one file get `@<line>` (and
 * `:<column>` if they share a line too).
 */
function disambiguate(sites: MarkedSite[]): string[] {
  // A name the code gives keeps its id: one from a place steps aside (`handlers.1`) rather than share it.
  const given = new Set(sites.filter((s) => !s.fromContext).map((s) => s.name))
  const next = new Map<string, number>()
  const ordered = sites.map((s) => {
    if (!s.fromContext) return s.name
    let n = next.get(s.name) ?? 0
    while (given.has(n === 0 ? s.name : `${s.name}.${n}`)) n++
    next.set(s.name, n + 1)
    return n === 0 ? s.name : `${s.name}.${n}`
  })
  const count = new Map<string, number>()
  for (const n of ordered) count.set(n, (count.get(n) ?? 0) + 1)
  const withLine = ordered.map((n, i) => (count.get(n)! > 1 ? `${n}@${sites[i]!.call.loc!.start.line}` : n))
  const again = new Map<string, number>()
  for (const n of withLine) again.set(n, (again.get(n) ?? 0) + 1)
  return withLine.map((n, i) => (again.get(n)! > 1 ? `${n}:${sites[i]!.call.loc!.start.column + 1}` : n))
}

/**
 * Once per module: the ids that nothing but their line tells apart, which change whenever an edit moves them (their
 * lock entry goes stale, their Train history and A/B test are left behind), and how to give them a name instead.
 */
function warnLineIds(ids: string[], at: Position, where: ErrorSite, ctx: TransformContext): void {
  const one = ids.length === 1
  const list = one ? ids[0]! : `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1]}`
  ctx.warn(
    ...warningAt(
      where,
      `${list} ${one ? 'is' : 'are'} told apart only by line, as nothing around ${one ? 'it' : 'them'} gives a name: ` +
        `an edit that moves ${one ? 'it' : 'one'} changes its id, so its lock entry goes stale and its Train history and ` +
        'A/B test stay with the old id. Name the function (poet()(function name(…) { … })) or bind it (const name = poet()(…)).',
      at,
    ),
  )
}

/** The function's own text; for a decorated method, from its first token after the decorators. */
function functionSource(code: string, fn: MarkedSite['fn']): string {
  let from = fn.start!
  for (const d of (fn.type === 'ClassMethod' && fn.decorators) || []) from = Math.max(from, d.end!)
  return code.slice(from, fn.end!).trimStart()
}
