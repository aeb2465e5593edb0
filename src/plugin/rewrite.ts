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
 * In place (`how.inPlace`), no line or column of the user's code moves at all: see {@link RewriteOptions.inPlace}.
 */
export function rewriteModule(code: string, ast: t.File, planned: PlannedSite[], how: RewriteOptions = {}): MagicString {
  const s = how.into ?? new MagicString(code)
  const methods: LoweredMethod[] = []
  const declarations: string[] = []
  for (const p of planned) {
    const { site } = p
    if (site.kind === 'decorator' && site.alone) {
      methods.push({ site, phases: p.phases, options: p.options })
      continue
    }
    const { callee } = site.call
    const calleeText = code.slice(callee.start!, callee.end!)
    const name = how.inPlace && !/[\r\n\u2028\u2029]/.test(calleeText) ? freshName(calleeText.length, how.inPlace.taken) : undefined
    if (name) {
      s.overwrite(callee.start!, callee.end!, name)
      // `o = {}`, not `o`: a type-checking TS step after the plugin accepts it under noImplicitAny, and poet() takes `{}`
      // as it takes no options.
      declarations.push(`function ${name}(o = {}) { return ${calleeText}(o, ${p.phases}) }`)
      continue
    }
    const last = site.call.arguments[site.call.arguments.length - 1]
    if (last) s.appendLeft(last.end!, `, ${p.phases}`)
    else s.appendLeft(site.call.end! - 1, `undefined, ${p.phases}`)
  }
  lowerPoetDecorators(s, code, methods, { blank: !!how.inPlace })

  const imports = planned.map((p) => `import ${p.phases} from '${VIRTUAL_PREFIX}${p.key}';`)
  const { body } = ast.program
  if (how.inPlace) {
    // After the last statement, where nothing of the user's but a comment can follow on its line. Imports are hoisted
    // and function declarations too, so they serve the calls above them.
    s.appendLeft(body[body.length - 1]!.end!, `; ${[...imports, ...declarations].join(' ')}`)
    return s
  }
  // Right before the first statement: after a hashbang, directives and the comments that lead the file, where
  // TypeScript alone reads pragmas (`@jsx`, `@jsxImportSource`) and triple-slash references. A scanned module has
  // one statement at least, its runtime import.
  s.appendLeft(body[0]!.start!, imports.join('\n') + '\n')
  return s
}

/**
 * An identifier of exactly `length` characters that is not in `taken` (which it joins): `_poet<n>` or `_p<n>` padded
 * with `_` where it fits, else the first free one of that length: a letter or `_` alone, or `_` and letters or digits
 * (never a keyword). Undefined when every one is taken. Never `$…`: Svelte reads a name starting with `$` as a store
 * subscription.
 */
function freshName(length: number, taken: Set<string>): string | undefined {
  const free = (name: string) => !taken.has(name) && (taken.add(name), true)
  for (const prefix of ['_poet', '_p']) {
    for (let n = 0; `${prefix}${n}`.length <= length; n++) {
      const name = `${prefix}${n}`.padEnd(length, '_')
      if (free(name)) return name
    }
  }
  const chars = '_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  if (length === 1) return [...chars.slice(0, -10)].find(free)
  // Ends at the first name not taken, so after as many tries as there are names taken at most.
  for (let i = 0; i < chars.length ** (length - 1); i++) {
    let name = ''
    for (let n = i, k = 1; k < length; k++, n = Math.floor(n / chars.length)) name = chars[n % chars.length] + name
    if (free(`_${name}`)) return `_${name}`
  }
  return undefined
}

export interface RewriteOptions {
  /**
   * The MagicString to rewrite into: a component's script blocks are rewritten one after the other into the one of
   * the whole component (`code` is then the component with only the block kept). @default a new one of `code`
   */
  into?: MagicString
  /**
   * Rewrite without moving any line or column of the user's code, for a component: Vue's and Svelte's compilers report
   * their own errors at lines of the code they are given, and neither maps its output through this rewrite's map (Vue
   * maps a script block against the text it was given; Svelte's Vite plugin folds the map in, and Vite then applies it
   * a second time). So a call's callee is overwritten with a name of the same length, declared after the block's last
   * statement as a function that passes the phases on, beside the imports; a `@poet` alone on its method is blanked.
   * `taken`: every identifier of the component and every name given so far, so that no two blocks declare the same.
   */
  inPlace?: { taken: Set<string> }
}
