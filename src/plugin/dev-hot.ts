// Vite dev: makes a poet function's body hot-swappable — one stable function per id across edits, and a module of poet functions accepts its own updates.
import type * as t from '@babel/types'
import type { SourceMapJSON } from './cache'
import { insertWithMap, type Insertion } from './dev-sourcemap'
import { VIRTUAL_PREFIX } from './ids'
import { unwrap } from './poet-options'
import { PHASES_BINDING_PREFIX, parseModule } from './scan'
import { DEV_HOT_KEY } from './virtual'

const HOT = '__poet_hot'
const ACCEPT = '__poet_accept'

/**
 * Wraps each rewritten `poet(opts, __poet_phases_N)` of a transformed module as
 * `__poet_hot(import.meta.hot, "<key>", poet(opts, __poet_phases_N))`, which hands out the same function for `<key>`
 * at every evaluation of the module and points it at the newest body. When every export of the module is such a
 * function, the module also accepts its own updates: an edit of a body re-runs this module alone, and the modules
 * that imported it earlier keep working functions that now run the new body. Anything else the module exports could
 * go stale in its importers, so such a module is left to Vite's normal update.
 */
export function hotSwappable(code: string, map: SourceMapJSON, file: string): { code: string; map: SourceMapJSON } {
  const ast = parseModule(code, { file, displayPath: file, code })
  const keys = phaseKeys(ast)
  const calls = new Set<t.CallExpression>()
  walk(ast.program, (node) => {
    if (node.type !== 'CallExpression' || node.arguments.length !== 2) return
    const phases = node.arguments[1]!
    if (phases.type === 'Identifier' && keys.has(phases.name)) calls.add(node)
  })
  if (calls.size === 0) return { code, map }
  const insertions: Insertion[] = []
  for (const call of calls) {
    const key = keys.get((call.arguments[1] as t.Identifier).name)!
    insertions.push({ at: call.start!, text: `${HOT}(import.meta.hot, ${JSON.stringify(key)}, ` }, { at: call.end!, text: ')' })
  }
  const out = insertWithMap(code, map, insertions)
  const names = poetExports(ast, calls)
  const hotModule = JSON.stringify(VIRTUAL_PREFIX + DEV_HOT_KEY)
  // Appended: imports are hoisted anyway, and lines after the last one need nothing from the source map. The accept
  // call is written out literally, because that is how Vite tells a module that accepts its own updates.
  const tail = names
    ? `\nimport { hot as ${HOT}, accept as ${ACCEPT} } from ${hotModule}\n` +
      `if (import.meta.hot) import.meta.hot.accept(${ACCEPT}(import.meta.hot, ${JSON.stringify(names)}))\n`
    : `\nimport { hot as ${HOT} } from ${hotModule}\n`
  return { code: out.code + tail, map: out.map }
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
 * The module's export names, sorted, when each one is a `const` bound to a poet function of this module (`calls`
 * applied to a function); undefined when the module exports anything else, or nothing. Type-only exports vanish in
 * the JS and do not count.
 */
function poetExports(ast: t.File, calls: Set<t.CallExpression>): string[] | undefined {
  const isPoet = (node: t.Node | null | undefined): boolean => {
    const n = node && unwrap(node)
    return n?.type === 'CallExpression' && calls.has(unwrap(n.callee) as t.CallExpression)
  }
  const poetConsts = new Set<string>()
  const types = new Set<string>()
  for (const stmt of ast.program.body) {
    const decl = stmt.type === 'ExportNamedDeclaration' ? stmt.declaration : stmt
    if (decl?.type === 'VariableDeclaration' && decl.kind === 'const') {
      for (const d of decl.declarations) if (d.id.type === 'Identifier' && isPoet(d.init)) poetConsts.add(d.id.name)
    } else if (decl?.type === 'TSInterfaceDeclaration' || decl?.type === 'TSTypeAliasDeclaration') types.add(decl.id.name)
  }
  const names: string[] = []
  for (const stmt of ast.program.body) {
    switch (stmt.type) {
      case 'ExportNamedDeclaration': {
        if (stmt.exportKind === 'type') break
        const decl = stmt.declaration
        if (decl) {
          if (decl.type === 'VariableDeclaration') {
            for (const d of decl.declarations) {
              if (d.id.type !== 'Identifier' || !poetConsts.has(d.id.name)) return undefined
              names.push(d.id.name)
            }
          } else if (!isTypeOnly(decl)) return undefined
          break
        }
        if (stmt.source) return undefined
        for (const spec of stmt.specifiers) {
          if (spec.type !== 'ExportSpecifier') return undefined
          if (spec.exportKind === 'type' || types.has(spec.local.name)) continue
          if (!poetConsts.has(spec.local.name)) return undefined
          names.push(spec.exported.type === 'Identifier' ? spec.exported.name : spec.exported.value)
        }
        break
      }
      case 'ExportDefaultDeclaration': {
        const decl = stmt.declaration
        if (!isPoet(decl) && !(decl.type === 'Identifier' && poetConsts.has(decl.name))) return undefined
        names.push('default')
        break
      }
      case 'ExportAllDeclaration':
        if (stmt.exportKind !== 'type') return undefined
        break
      case 'TSExportAssignment':
        return undefined
    }
  }
  return names.length ? names.sort() : undefined
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
 * `virtual:poet/~~hot`, run in the page (and in each module runner). Registries live in `import.meta.hot.data`, which
 * Vite keeps per module and per environment across its evaluations, and which a page reload starts afresh.
 */
export function hotModule(): string {
  return `// unplugin-poet, Vite dev only: one stable function per poet function, whose body follows the module's edits.
const REGISTRY = 'unplugin-poet:functions'
// The stable functions each evaluation of a module handed out, by its import.meta.hot (a new one per evaluation).
const handedOut = new WeakMap()

export function hot(meta, key, decorate) {
  if (!meta) return decorate
  const entries = (meta.data[REGISTRY] ??= new Map())
  let handed = handedOut.get(meta)
  if (!handed) handedOut.set(meta, (handed = new Set()))
  const swap = (fn) => {
    const latest = decorate(fn)
    let entry = entries.get(key)
    if (entry) entry.latest = latest
    else {
      const e = { latest }
      // Named like the function it stands for, as poet's own wrapper is, for stack traces and logs.
      const stable = { [latest.name]: function (...args) { return e.latest.apply(this, args) } }[latest.name]
      entries.set(key, (entry = Object.assign(e, { stable })))
    }
    handed.add(entry.stable)
    return entry.stable
  }
  // The same three forms as poet's decorator: a function, a standard method decorator, a legacy one.
  return function (fn, _context, descriptor) {
    if (!descriptor) return swap(fn)
    descriptor.value = swap(descriptor.value)
    return descriptor
  }
}

// Runs in the old evaluation with the new module: its importers still hold the old exports, which stay right only
// while the new module exports the same names, bound to the same stable functions. Otherwise they must update too.
export function accept(meta, names) {
  const handed = handedOut.get(meta) ?? new Set()
  return (next) => {
    if (!next) return
    const now = Object.keys(next)
    const gone = names.filter((n) => !now.includes(n))
    const added = now.filter((n) => !names.includes(n))
    const moved = now.filter((n) => names.includes(n) && !handed.has(next[n]))
    const why = [
      gone.length ? 'no longer exports ' + gone.join(', ') : '',
      added.length ? 'now exports ' + added.join(', ') : '',
      moved.length ? moved.join(', ') + ' got a new poet function id' : '',
    ].filter(Boolean)
    if (why.length) meta.invalidate('[unplugin-poet] ' + why.join('; ') + ': its importers update too')
  }
}
`
}
