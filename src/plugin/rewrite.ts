// Rewrites a scanned module with magic-string: phases passed into each poet() call, one import per function, a source map.
import MagicString from 'magic-string'
import type * as t from '@babel/types'
import type { PoetOptions } from '../runtime/types'
import { VIRTUAL_PREFIX } from './ids'
import { lowerPoetDecorators, type LoweredMethod } from './lower-decorators'
import type { CallSite, DecoratorSite } from './scan'

export interface PlannedSite {
  site: CallSite | DecoratorSite
  /** Local name of the phase module's default import, `__poet_phases_N`. */
  phases: string
  /** Virtual-module key (`encodeKey(id)`). */
  key: string
  options: PoetOptions
}

/**
 * `poet(opts)` → `poet(opts, __poet_phases_N)`, `poet()` → `poet(undefined, __poet_phases_N)` (a `@poet(...)` beside
 * other decorators too), a `@poet(...)` alone on its method lowered,
 * and `import __poet_phases_N from 'virtual:poet/<key>'` before the first statement.
 * Only insertions and removals: everything the user wrote keeps its position in the source map.
 */
export function rewriteModule(code: string, ast: t.File, planned: PlannedSite[], how: RewriteOptions = {}): MagicString {
  const s = how.into ?? new MagicString(code)
  const methods: LoweredMethod[] = []
  for (const p of planned) {
    const { site } = p
    if (site.kind === 'decorator' && site.alone) {
      methods.push({ site, phases: p.phases, options: p.options })
      continue
    }
    const last = site.call.arguments[site.call.arguments.length - 1]
    if (last) s.appendLeft(last.end!, `, ${p.phases}`)
    else s.appendLeft(site.call.end! - 1, `undefined, ${p.phases}`)
  }
  lowerPoetDecorators(s, code, methods)

  const imports = planned.map((p) => `import ${p.phases} from '${VIRTUAL_PREFIX}${p.key}';`)
  // Right before the first statement: after a hashbang, directives and the comments that lead the file, where
  // TypeScript alone reads pragmas (`@jsx`, `@jsxImportSource`) and triple-slash references. A scanned module has
  // one statement at least, its runtime import.
  const separator = how.oneLine ? ' ' : '\n'
  s.appendLeft(ast.program.body[0]!.start!, imports.join(separator) + separator)
  return s
}

export interface RewriteOptions {
  /**
   * The MagicString to rewrite into: a component's script blocks are rewritten one after the other into the one of
   * the whole component (`code` is then the component with only the block kept). @default a new one of `code`
   */
  into?: MagicString
  /**
   * Put the imports on the line of the first statement: Vue's and Svelte's compilers report their own errors at lines
   * of the code they are given, which then stay the lines of the component.
   */
  oneLine?: boolean
}
