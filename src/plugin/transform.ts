// The transform core: finds poet()-marked functions in a module, checks their options, builds their specs, rewrites the module.
import type { SourceMap } from 'magic-string'
import type { FunctionSpec } from '../generators/spec'
import { resolveSignature } from '../generators/builtin/resolve'
import { buildError, PoetBuildError, warningAt, type ErrorSite, type WarningSite } from './errors'
import { encodeKey, fileOf, functionId, projectPath } from './ids'
import { readPoetOptions, type DomainNames, type Position } from './poet-options'
import { rewriteModule, type PlannedSite } from './rewrite'
import { PHASES_BINDING_PREFIX, POET_CODE_FILTER, scanPoetCalls, type CallSite, type DecoratorSite } from './scan'

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
  const scan = scanPoetCalls(code, where)
  if (!scan || scan.sites.length === 0) return null

  const marked: { site: MarkedSite; options: PlannedSite['options']; timeoutAt?: Position }[] = []
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
    marked.push({ site: site as MarkedSite, options, timeoutAt: keys.timeout })
  }
  if (marked.length === 0) return null

  const names = disambiguate(marked.map((m) => m.site))
  const planned: PlannedSite[] = []
  const specs: FunctionSpec[] = []
  const dependencies = new Set<string>()
  marked.forEach(({ site, options, timeoutAt }, i) => {
    const id = functionId(displayPath, names[i]!)
    const sig = resolveSignature({ file: path, code, ast: scan.ast, fn: site.fn, readFile: ctx.readFile, root: ctx.root })
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
    planned.push({ site, phases: PHASES_BINDING_PREFIX + (scan.lastPhaseIndex + 1 + i), key: encodeKey(id), options })
  })

  const s = rewriteModule(code, scan.ast, planned)
  return {
    code: s.toString(),
    map: s.generateMap({ hires: true, source: file, includeContent: true }),
    specs,
    dependencies: [...dependencies],
  }
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

/** Names shared by several functions in one file get `@<line>` (and `:<column>` if they share a line too). */
function disambiguate(sites: MarkedSite[]): string[] {
  const count = new Map<string, number>()
  for (const s of sites) count.set(s.name, (count.get(s.name) ?? 0) + 1)
  const withLine = sites.map((s) => (count.get(s.name)! > 1 ? `${s.name}@${s.call.loc!.start.line}` : s.name))
  const again = new Map<string, number>()
  for (const n of withLine) again.set(n, (again.get(n) ?? 0) + 1)
  return withLine.map((n, i) => (again.get(n)! > 1 ? `${n}:${sites[i]!.call.loc!.start.column + 1}` : n))
}

/** The function's own text; for a decorated method, from its first token after the decorators. */
function functionSource(code: string, fn: MarkedSite['fn']): string {
  let from = fn.start!
  for (const d of (fn.type === 'ClassMethod' && fn.decorators) || []) from = Math.max(from, d.end!)
  return code.slice(from, fn.end!).trimStart()
}
