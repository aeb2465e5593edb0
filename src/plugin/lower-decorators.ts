// Lowers `@poet(...)` on class methods to plain code (a static block that wraps the method), leaving other decorators as written.
import type MagicString from 'magic-string'
import type * as t from '@babel/types'
import type { PoetOptions } from '../runtime/types'
import type { DecoratorSite } from './scan'

export interface LoweredMethod {
  site: DecoratorSite
  /** Local name of the phase module's default import. */
  phases: string
  options: PoetOptions
}

/**
 * Vite 8 and Rolldown emit standard decorators untouched and Node 20 cannot run them, so `@poet(...)` never
 * reaches the bundler: the decorator is cut out and each class gets one `static { … }` block, first in its body,
 * that redefines the method with its descriptor and the wrapped function as value. Placed first, it runs before any
 * static field initializer could call the method; methods are already on the class by then. Only a `@poet` that is
 * its method's sole decorator comes here: beside others it must compose in the order written, which only the tool
 * that lowers the others can do (see `DecoratorSite.alone`). Options are a
 * validated static literal, so they are written back as JSON on one line and no original line moves.
 */
export function lowerPoetDecorators(s: MagicString, code: string, methods: LoweredMethod[], how: { blank?: boolean } = {}): void {
  const byClass = new Map<t.ClassBody, string[]>()
  for (const { site, phases, options } of methods) {
    const { decorator, call } = site
    // Blanked, in a component: its line breaks stay, so no line of the component moves (see RewriteOptions.inPlace).
    if (how.blank) s.overwrite(decorator.start!, decorator.end!, code.slice(decorator.start!, decorator.end!).replace(/[^\r\n\u2028\u2029]/g, ' '))
    else s.remove(decorator.start!, skipSpace(code, decorator.end!))
    const target = site.static ? 'this' : 'this.prototype'
    const key = JSON.stringify(site.key)
    const callee = code.slice(call.callee.start!, call.callee.end!)
    const opts = Object.keys(options).length ? JSON.stringify(options) : 'undefined'
    const stmts = byClass.get(site.classBody) ?? []
    // Written so that strict TypeScript accepts it too: a type-checking TS step after the plugin (ts-loader,
    // rollup-plugin-typescript2) sees this code, and a descriptor read into a variable is possibly undefined to it.
    stmts.push(
      `Object.defineProperty(${target}, ${key}, { ...Object.getOwnPropertyDescriptor(${target}, ${key}), ` +
        `value: ${callee}(${opts}, ${phases})(${target}[${key}]) });`,
    )
    byClass.set(site.classBody, stmts)
  }
  for (const [body, stmts] of byClass) s.appendLeft(body.start! + 1, ` static { ${stmts.join(' ')} }`)
}

/** The first non-whitespace position at or after `i`, so removing a decorator also removes its line break. */
function skipSpace(code: string, i: number): number {
  while (i < code.length && /\s/.test(code[i]!)) i++
  return i
}
