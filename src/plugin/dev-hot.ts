// Vite dev: makes a poet function's body hot-swappable — one stable function per id across edits, and a module of poet functions accepts its own updates.
import type * as t from '@babel/types'
import type { SourceMapJSON } from './cache'
import { insertWithMap, type Insertion } from './dev-sourcemap'
import { decodeKey, VIRTUAL_PREFIX } from './ids'
import { unwrap } from './poet-options'
import { PHASES_BINDING_PREFIX, parseModule } from './scan'
import { DEV_HOT_KEY } from './virtual'

const HOT = '__poet_hot'

/** A transformed poet module made hot-swappable, and what its importers hold of it (see {@link hotExports}). */
export interface HotModule {
  code: string
  map: SourceMapJSON
  exports: string | undefined
}

/**
 * Wraps each rewritten `poet(opts, __poet_phases_N)` of a transformed module as
 * `__poet_hot(import.meta.hot, "<key>", poet(opts, __poet_phases_N))`, which hands out the same function for `<key>`
 * at every evaluation of the module and points it at the newest body. When every export of the module is such a
 * function, the module also accepts its own updates: an edit of a body re-runs this module alone, and the modules
 * that imported it earlier keep working functions that now run the new body. Anything else the module exports could
 * go stale in its importers, so such a module is left to Vite's normal update.
 */
export function hotSwappable(code: string, map: SourceMapJSON, file: string): HotModule {
  const ast = parseModule(code, { file, displayPath: file, code })
  const calls = rewrittenCalls(ast)
  if (calls.size === 0) return { code, map, exports: undefined }
  const insertions: Insertion[] = []
  for (const [call, key] of calls) {
    insertions.push({ at: call.start!, text: `${HOT}(import.meta.hot, ${JSON.stringify(key)}, ` }, { at: call.end!, text: ')' })
  }
  const out = insertWithMap(code, map, insertions)
  const exports = poetExports(ast, calls)
  // Appended: imports are hoisted anyway, and lines after the last one need nothing from the source map. The accept
  // call is written out literally, because that is how Vite tells a module that accepts its own updates.
  const tail =
    `\nimport { hot as ${HOT} } from ${JSON.stringify(VIRTUAL_PREFIX + DEV_HOT_KEY)}\n` +
    (exports ? 'if (import.meta.hot) import.meta.hot.accept()\n' : '')
  return { code: out.code + tail, map: out.map, exports }
}

/**
 * What the importers of a transformed poet module hold, when that is only poet functions: its export names with the
 * id of the function each one is bound to, as one string. Undefined when the module exports anything else. An edit
 * may hot-swap the module only while this stays the same: the stable functions its importers hold then stand for
 * exactly the functions the new module exports.
 */
export function hotExports(code: string, file: string): string | undefined {
  const ast = parseModule(code, { file, displayPath: file, code })
  const calls = rewrittenCalls(ast)
  return calls.size ? poetExports(ast, calls) : undefined
}

/** Why an edit ends the hot swap of a module, in words, from what {@link hotExports} said before and after it. */
export function hotExportsChange(before: string, after: string | undefined): string {
  if (after === undefined) return 'it now exports something other than poet functions'
  const parse = (list: string) => new Map(list.split(' ').map((pair) => pair.split('=') as [string, string]))
  const [was, is] = [parse(before), parse(after)]
  const gone = [...was.keys()].filter((name) => !is.has(name))
  const added = [...is.keys()].filter((name) => !was.has(name))
  const moved = [...is.keys()].filter((name) => was.has(name) && was.get(name) !== is.get(name))
  return [
    gone.length ? `it no longer exports ${gone.join(', ')}` : '',
    added.length ? `it now exports ${added.join(', ')}` : '',
    ...moved.map((name) => `${name} is now ${decodeKey(is.get(name)!)}`),
  ]
    .filter(Boolean)
    .join('; ')
}

/** Every `poet(opts, __poet_phases_N)` the transform wrote, with its phase-module key. */
function rewrittenCalls(ast: t.File): Map<t.CallExpression, string> {
  const keys = phaseKeys(ast)
  const calls = new Map<t.CallExpression, string>()
  walk(ast.program, (node) => {
    if (node.type !== 'CallExpression' || node.arguments.length !== 2) return
    const phases = node.arguments[1]!
    const key = phases.type === 'Identifier' ? keys.get(phases.name) : undefined
    if (key !== undefined) calls.set(node, key)
  })
  return calls
}

/** `__poet_phases_N` → the key of the phase module it is imported from. */
function phaseKeys(ast: t.File): Map<string, string> {
  const keys = new Map<string, string>()
  for (const stmt of ast.program.body) {
    if (stmt.type !== 'ImportDeclaration' || !stmt.source.value.startsWith(VIRTUAL_PREFIX)) continue
    for (const spec of stmt.specifiers) {
      if (spec.type === 'ImportDefaultSpecifier' && spec.local.name.startsWith(PHASES_BINDING_PREFIX)) {
        keys.set(spec.local.name, stmt.source.value.slice(VIRTUAL_PREFIX.length))
      }
    }
  }
  return keys
}

/**
 * `name=<key>` for each export of the module, sorted and joined, when each one is a `const` bound to a poet function
 * of this module (a rewritten call applied to a function); undefined when the module exports anything else, or
 * nothing. Type-only exports vanish in the JS and do not count.
 */
function poetExports(ast: t.File, calls: Map<t.CallExpression, string>): string | undefined {
  const keyOf = (node: t.Node | null | undefined): string | undefined => {
    const n = node && unwrap(node)
    return n?.type === 'CallExpression' ? calls.get(unwrap(n.callee) as t.CallExpression) : undefined
  }
  const poetConsts = new Map<string, string>()
  const types = new Set<string>()
  for (const stmt of ast.program.body) {
    const decl = stmt.type === 'ExportNamedDeclaration' ? stmt.declaration : stmt
    if (decl?.type === 'VariableDeclaration' && decl.kind === 'const') {
      for (const d of decl.declarations) {
        const key = keyOf(d.init)
        if (d.id.type === 'Identifier' && key !== undefined) poetConsts.set(d.id.name, key)
      }
    } else if (decl?.type === 'TSInterfaceDeclaration' || decl?.type === 'TSTypeAliasDeclaration') types.add(decl.id.name)
  }
  const exported: string[] = []
  for (const stmt of ast.program.body) {
    switch (stmt.type) {
      case 'ExportNamedDeclaration': {
        if (stmt.exportKind === 'type') break
        const decl = stmt.declaration
        if (decl) {
          if (decl.type === 'VariableDeclaration') {
            for (const d of decl.declarations) {
              const key = d.id.type === 'Identifier' ? poetConsts.get(d.id.name) : undefined
              if (key === undefined) return undefined
              exported.push(`${(d.id as t.Identifier).name}=${key}`)
            }
          } else if (!isTypeOnly(decl)) return undefined
          break
        }
        if (stmt.source) return undefined
        for (const spec of stmt.specifiers) {
          if (spec.type !== 'ExportSpecifier') return undefined
          if (spec.exportKind === 'type' || types.has(spec.local.name)) continue
          const key = poetConsts.get(spec.local.name)
          if (key === undefined) return undefined
          exported.push(`${spec.exported.type === 'Identifier' ? spec.exported.name : spec.exported.value}=${key}`)
        }
        break
      }
      case 'ExportDefaultDeclaration': {
        const decl = stmt.declaration
        const key = keyOf(decl) ?? (decl.type === 'Identifier' ? poetConsts.get(decl.name) : undefined)
        if (key === undefined) return undefined
        exported.push(`default=${key}`)
        break
      }
      case 'ExportAllDeclaration':
        if (stmt.exportKind !== 'type') return undefined
        break
      case 'TSExportAssignment':
        return undefined
    }
  }
  return exported.length ? exported.sort().join(' ') : undefined
}

function isTypeOnly(decl: t.Declaration): boolean {
  switch (decl.type) {
    case 'TSInterfaceDeclaration':
    case 'TSTypeAliasDeclaration':
    case 'TSDeclareFunction':
      return true
    case 'TSModuleDeclaration':
    case 'TSEnumDeclaration':
    case 'VariableDeclaration':
    case 'ClassDeclaration':
      return !!decl.declare
  }
  return false
}

/** Keys that never hold runtime code. */
const SKIP = new Set(['type', 'start', 'end', 'loc', 'range', 'extra', 'typeAnnotation', 'returnType', 'typeParameters', 'typeArguments'])

function walk(node: t.Node, visit: (node: t.Node) => void): void {
  visit(node)
  const record = node as unknown as Record<string, unknown>
  for (const k in record) {
    if (SKIP.has(k)) continue
    const v = record[k]
    if (Array.isArray(v)) {
      for (const child of v) if (isNode(child)) walk(child, visit)
    } else if (isNode(v)) walk(v, visit)
  }
}

function isNode(v: unknown): v is t.Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string'
}

/**
 * `virtual:poet/~~hot`, run in the page (and in each module runner). Its registry lives in `import.meta.hot.data`,
 * which Vite keeps per module and per environment across its evaluations, and which a page reload starts afresh.
 */
export function hotModule(): string {
  return `// unplugin-poet, Vite dev only: one stable function per poet function, whose body follows the module's edits.
const REGISTRY = 'unplugin-poet:functions'

export function hot(meta, key, decorate) {
  if (!meta) return decorate
  const entries = (meta.data[REGISTRY] ??= new Map())
  const swap = (fn) => {
    const latest = decorate(fn)
    const entry = entries.get(key)
    if (entry) {
      entry.latest = latest
      return entry.stable
    }
    const created = { latest }
    // Named like the function it stands for, as poet's own wrapper is, for stack traces and logs.
    created.stable = { [latest.name]: function (...args) { return created.latest.apply(this, args) } }[latest.name]
    entries.set(key, created)
    return created.stable
  }
  // The same three forms as poet's decorator: a function, a standard method decorator, a legacy one.
  return function (fn, _context, descriptor) {
    if (!descriptor) return swap(fn)
    descriptor.value = swap(descriptor.value)
    return descriptor
  }
}
`
}
