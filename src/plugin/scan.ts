// Finds the functions marked with `poet(...)` in one module: one babel parse, one walk, imports and scopes respected.
import { parse, type ParserPlugin } from '../generators/parser'
import type * as t from '@babel/types'
import { buildError, type ErrorSite, type PoetBuildError } from './errors'
import { fileOf, PACKAGE_ID, RUNTIME_ID, VIRTUAL_PREFIX } from './ids'
import { unwrap } from './poet-options'
import type { ScriptLang } from './sfc'

// Defined beside the virtual-module ids, so the plugin's startup reads them without loading the scanner.
export { POET_CODE_FILTER, RUNTIME_ID } from './ids'

export const PHASES_BINDING_PREFIX = '__poet_phases_'

export type FunctionNode = t.FunctionDeclaration | t.FunctionExpression | t.ArrowFunctionExpression | t.ClassMethod

interface SiteBase {
  /** The `poet(...)` call: `poet(opts)` itself, not the call that applies it. */
  call: t.CallExpression
  /** The name part of the function id, before any `@<line>` disambiguation. */
  name: string
  /**
   * The name is the place that holds an unnamed function (`makeLoader.return`, `Button.onClick`), not a name written
   * for it: several such in one file are told apart by their order (`handlers.1`), not by line.
   */
  fromContext?: boolean
  /** Nothing names the function: its id is `anonymous`, told apart from others like it only by line. */
  unnamed?: boolean
}

/** `poet(opts)(fn)`, or a `poet(opts)` that is not applied to a function of this file (`fn` undefined). */
export interface CallSite extends SiteBase {
  kind: 'call'
  fn?: t.FunctionDeclaration | t.FunctionExpression | t.ArrowFunctionExpression
}

/** `@poet(opts)` on a class method. */
export interface DecoratorSite extends SiteBase {
  kind: 'decorator'
  decorator: t.Decorator
  fn: t.ClassMethod
  classBody: t.ClassBody
  /** The method's property key, as a string. */
  key: string
  static: boolean
  /**
   * `@poet` is the method's only decorator, so the plugin lowers it. Beside other decorators it stays a decorator
   * (given its phases like a call): whatever lowers the others then applies all of them in the order written.
   */
  alone: boolean
}

/** A misuse found while scanning, thrown when the transform reaches it (sites are handled in source order). */
export interface RejectedSite {
  kind: 'rejected'
  error: PoetBuildError
}

/**
 * `poet` used other than called (`const reliable = poet`, `export { poet }`, passed as an argument), or re-exported
 * from the runtime: what is marked through it elsewhere gets no phases, so the transform warns here.
 */
export interface EscapeSite {
  kind: 'escape'
  at: { line: number; column: number }
  reason: string
}

export type PoetSite = CallSite | DecoratorSite | RejectedSite | EscapeSite

export interface ScanResult {
  ast: t.File
  /** Marked functions in source order, not yet rewritten; calls a previous pass rewrote are left out. */
  sites: PoetSite[]
  /** Highest N of an existing `__poet_phases_N` binding, -1 when none: new bindings start above it. */
  lastPhaseIndex: number
  /** The names `poet` is bound to here: imported (or inherited) as, and namespaces it is reached through (`ns.poet`). */
  names: string[]
  namespaces: string[]
}

/**
 * `poet` as another script block of the same component imports it: Vue's <script setup> sees the imports of its
 * <script>, Svelte's instance script those of its module script.
 */
export type PoetBindings = Pick<ScanResult, 'names' | 'namespaces'>

/**
 * Parses `code` and finds every `poet` imported from the runtime (or `inherited`) that is used to mark a function.
 * Returns undefined when the module does not import `poet` from the runtime at all.
 */
export function scanPoetCalls(code: string, where: ErrorSite, lang?: ScriptLang, inherited?: PoetBindings): ScanResult | undefined {
  const ast = parseModule(code, where, lang)
  const names = new Set<string>(inherited?.names)
  const namespaces = new Set<string>(inherited?.namespaces)
  const phases = new Set<string>()
  let lastPhaseIndex = -1
  const reexports: EscapeSite[] = []
  let staticMentions = 0
  for (const stmt of ast.program.body) {
    if ((stmt.type === 'ImportDeclaration' || stmt.type === 'ExportNamedDeclaration' || stmt.type === 'ExportAllDeclaration') && stmt.source?.value === RUNTIME_ID) staticMentions++
    const reexported = reexportOfPoet(stmt)
    if (reexported) reexports.push({ kind: 'escape', at: start(reexported), reason: REEXPORT_REASON })
    if (stmt.type !== 'ImportDeclaration' || stmt.importKind === 'type') continue
    const from = stmt.source.value
    for (const spec of stmt.specifiers) {
      if (from === RUNTIME_ID) {
        if (spec.type === 'ImportDefaultSpecifier' || (spec.type === 'ImportSpecifier' && exportedName(spec) === 'default')) {
          // Every bundler fails on it too, but some only when the code runs (webpack: "….default is not a function").
          throw buildError(
            where,
            'POET_WRONG_IMPORT',
            `'unplugin-poet/runtime' has no default export. Write: import { poet } from 'unplugin-poet/runtime'`,
            spec.loc!.start,
          )
        }
        if (spec.type === 'ImportNamespaceSpecifier') namespaces.add(spec.local.name)
        else if (spec.type === 'ImportSpecifier' && spec.importKind !== 'type' && exportedName(spec) === 'poet') {
          names.add(spec.local.name)
        }
      } else if (from === PACKAGE_ID && spec.type === 'ImportSpecifier' && spec.importKind !== 'type' && exportedName(spec) === 'poet') {
        throw buildError(
          where,
          'POET_WRONG_IMPORT',
          "poet() comes from 'unplugin-poet/runtime'; 'unplugin-poet' itself is the bundler plugin, for your bundler config. " +
            "Write: import { poet } from 'unplugin-poet/runtime'",
          spec.loc!.start,
        )
      } else if (from.startsWith(VIRTUAL_PREFIX) && spec.type === 'ImportDefaultSpecifier') {
        phases.add(spec.local.name)
        const n = spec.local.name.startsWith(PHASES_BINDING_PREFIX)
          ? Number(spec.local.name.slice(PHASES_BINDING_PREFIX.length))
          : NaN
        if (Number.isInteger(n)) lastPhaseIndex = Math.max(lastPhaseIndex, n)
      } else if (BUILT_CHUNK.test(from) && spec.type !== 'ImportNamespaceSpecifier') {
        // A library's build that kept its modules apart (`preserveModules`) imports each phase module from its own chunk.
        phases.add(spec.local.name)
      }
    }
  }
  // A library built with the plugin ships its calls rewritten, each phase module inlined as an object beside it: an app
  // whose build reaches that output (a workspace package's dist/, outside node_modules) must leave it as it is.
  // esbuild names the module's default export apart (`var poet_src_2fa_default = phases`): aliases are followed.
  const declarators = ast.program.body.flatMap((stmt) => {
    const declaration = stmt.type === 'ExportNamedDeclaration' ? stmt.declaration : stmt
    return declaration?.type === 'VariableDeclaration' ? declaration.declarations : []
  })
  for (let grew = true; grew; ) {
    grew = false
    for (const d of declarators) {
      if (d.id.type !== 'Identifier' || !d.init || phases.has(d.id.name)) continue
      if (isPhaseModule(d.init) || (d.init.type === 'Identifier' && phases.has(d.init.name))) {
        phases.add(d.id.name)
        grew = true
      }
    }
  }
  // The runtime named anywhere else (`await import(…)`, `require(…)`) is rare: only then is the whole tree searched.
  if (code.split(RUNTIME_ID).length - 1 > staticMentions) reexports.push(...dynamicLoadsOfPoet(ast))
  if (names.size === 0 && namespaces.size === 0) return reexports.length ? { ast, sites: reexports, lastPhaseIndex, names: [], namespaces: [] } : undefined

  const scanner = new Scanner(code, where, names, namespaces, phases)
  scanner.visit(ast.program, null, '')
  return { ast, sites: [...reexports, ...scanner.resolve()], lastPhaseIndex, names: [...names], namespaces: [...namespaces] }
}

const WHY_NO_PHASES =
  "The plugin generates phases only for poet(options)(fn) and @poet(options) in the module that imports poet from 'unplugin-poet/runtime'."

const REEXPORT_REASON =
  'this module re-exports poet: functions that other modules mark with it get no generated phases, so no input or ' +
  `output validation, only the runtime policy. ${WHY_NO_PHASES} Import it from there in each module that marks functions.`

const ESCAPE_REASON =
  'poet is used here as a value, not called on a function: what is marked through it (here or in another module) gets ' +
  `no generated phases, so no input or output validation, only the runtime policy. ${WHY_NO_PHASES} ` +
  "Call poet(...) on each function directly; an alias (import { poet as reliable } from 'unplugin-poet/runtime') is fine."

const DYNAMIC_REASON =
  "poet loaded with import() is not recognised: the functions marked with it get no generated phases, so no input or output validation, only the runtime policy. " +
  `${WHY_NO_PHASES} Import it statically: import { poet } from 'unplugin-poet/runtime'.`

const REQUIRE_REASON =
  "poet loaded with require() is not recognised: the functions marked with it get no generated phases, so no input or output validation, only the runtime policy. " +
  `${WHY_NO_PHASES} Import it statically: import { poet } from 'unplugin-poet/runtime' (a CommonJS module cannot: make it an ES module, or, for a library, build it with the plugin, whose output holds the phases).`

/**
 * `const { poet } = await import('unplugin-poet/runtime')`, `require('unplugin-poet/runtime').poet` and the like, at the
 * `poet`. None in a library's build output (a phase module inlined anywhere in it): a CommonJS build that minifies
 * `(0, require('unplugin-poet/runtime').poet)(opts, { id, version, … })` already hands every call its phases.
 */
function dynamicLoadsOfPoet(ast: t.File): EscapeSite[] {
  const found: EscapeSite[] = []
  let built = false
  const visit = (node: t.Node, parents: t.Node[]): void => {
    if (isPhaseModule(node)) built = true
    if (node.type === 'CallExpression' && loadsRuntime(node)) {
      let i = parents.length - 1
      while (parents[i]?.type === 'AwaitExpression') i--
      const holder = parents[i]
      const at =
        holder?.type === 'VariableDeclarator' && holder.id.type === 'ObjectPattern'
          ? holder.id.properties.find((p) => p.type === 'ObjectProperty' && propertyName(p.key, p.computed) === 'poet')
          : (holder?.type === 'MemberExpression' || holder?.type === 'OptionalMemberExpression') && propertyName(holder.property, holder.computed) === 'poet'
            ? holder.property
            : undefined
      if (at) found.push({ kind: 'escape', at: start(at), reason: node.callee.type === 'Import' ? DYNAMIC_REASON : REQUIRE_REASON })
    }
    parents.push(node)
    const record = node as unknown as Record<string, unknown>
    for (const k in record) {
      if (SKIP_KEYS.has(k)) continue
      const v = record[k]
      if (Array.isArray(v)) {
        for (const child of v) if (isNode(child)) visit(child, parents)
      } else if (isNode(v)) visit(v, parents)
    }
    parents.pop()
  }
  visit(ast.program, [])
  return built ? [] : found
}

function loadsRuntime(call: t.CallExpression): boolean {
  const [arg] = call.arguments
  const loader = call.callee.type === 'Import' || (call.callee.type === 'Identifier' && call.callee.name === 'require')
  return loader && arg?.type === 'StringLiteral' && arg.value === RUNTIME_ID
}

/** The specifier of `export { poet } from 'unplugin-poet/runtime'`, `export * from …` or `export * as ns from …`. */
function reexportOfPoet(stmt: t.Statement): t.Node | undefined {
  if (stmt.type === 'ExportAllDeclaration') return stmt.source.value === RUNTIME_ID && stmt.exportKind !== 'type' ? stmt : undefined
  if (stmt.type !== 'ExportNamedDeclaration' || stmt.source?.value !== RUNTIME_ID || stmt.exportKind === 'type') return undefined
  return stmt.specifiers.find(
    (sp) =>
      sp.type === 'ExportNamespaceSpecifier' ||
      (sp.type === 'ExportSpecifier' && sp.exportKind !== 'type' && sp.local.name === 'poet'),
  )
}

/** A relative import of built output: a chunk of the same build, which names its files with their extension. */
const BUILT_CHUNK = /^\.\.?\/.*\.[cm]?js$/

/**
 * A phase module's default export as a bundler inlines it (`{ id: "src/a.ts#f", version: "…", … }`): the object the
 * runtime takes as poet()'s second argument, which nothing but the plugin's rewrite puts there.
 */
function isPhaseModule(node: t.Node): boolean {
  if (node.type !== 'ObjectExpression') return false
  const value = (name: string) => {
    const p = node.properties.find((q) => q.type === 'ObjectProperty' && !q.computed && propertyName(q.key, false) === name)
    if (p?.type !== 'ObjectProperty') return undefined
    // Rolldown's minifier writes strings as template literals (id:`src/a.ts#f`).
    if (p.value.type === 'TemplateLiteral' && p.value.expressions.length === 0) return p.value.quasis[0]?.value.cooked ?? undefined
    return p.value.type === 'StringLiteral' ? p.value.value : undefined
  }
  return value('id')?.includes('#') === true && value('version') !== undefined && value('generator') !== undefined
}

function exportedName(spec: t.ImportSpecifier): string {
  return spec.imported.type === 'Identifier' ? spec.imported.name : spec.imported.value
}

/**
 * Parses with TypeScript (or plain JS), JSX where the extension (or a component's script block, `lang`) allows it,
 * and standard then legacy decorators.
 */
export function parseModule(code: string, where: ErrorSite, lang?: ScriptLang): t.File {
  const ext = lang ?? /\.([cm]?[jt]sx?)$/.exec(fileOf(where.file))?.[1]
  const syntax: ParserPlugin[] =
    ext === undefined
      ? ['typescript', 'jsx']
      : ext.includes('t')
        ? ext.endsWith('x')
          ? ['typescript', 'jsx']
          : ['typescript']
        : ['jsx']
  const attempt = (decorators: ParserPlugin) =>
    parse(code, {
      sourceType: 'module',
      errorRecovery: false,
      allowAwaitOutsideFunction: true,
      attachComment: false,
      // `accessor` fields (TypeScript 4.9, standard decorators) parse beside either kind of decorators.
      plugins: [...syntax, decorators, 'decoratorAutoAccessors', 'importAttributes', 'explicitResourceManagement'],
    })
  try {
    return attempt('decorators')
  } catch (standard) {
    try {
      return attempt('decorators-legacy')
    } catch {
      const err = standard as Error & { loc?: { line: number; column: number } }
      throw buildError(
        where,
        'POET_PARSE_ERROR',
        `cannot parse this module to find poet() calls: ${err.message.replace(/\s*\(\d+:\d+\)$/, '').replace(/\.$/, '')}.`,
        err.loc ?? { line: 1, column: 0 },
      )
    }
  }
}

/** Keys that never hold runtime code (types, positions, comments), so the walk skips them. */
const SKIP_KEYS = new Set([
  'type',
  'start',
  'end',
  'loc',
  'range',
  'extra',
  'leadingComments',
  'trailingComments',
  'innerComments',
  'typeAnnotation',
  'returnType',
  'typeParameters',
  'typeArguments',
  'superTypeParameters',
  'implements',
  'predicate',
])

const SKIP_TYPES = new Set([
  'ImportDeclaration',
  'TSInterfaceDeclaration',
  'TSTypeAliasDeclaration',
  'TSDeclareFunction',
])

type Scope = t.Node

interface Candidate {
  site: PoetSite
  /** The binding the callee refers to: it must not be shadowed anywhere in `scopes`. */
  binding: string
  scopes: Scope[]
  /** `poet(opts)(someName)`: resolved against same-file function declarations when the walk is done. */
  target?: t.Identifier
}

class Scanner {
  private readonly scopes: Scope[] = []
  private readonly ancestors: t.Node[] = []
  /** Declarations of the tracked names, by the scope that owns them. */
  private readonly shadows = new Map<Scope, Set<string>>()
  /** Named functions (declarations and `const f = () => …`), for `poet(opts)(f)`. */
  private readonly functions = new Map<string, { owner: Scope; fn: NonNullable<CallSite['fn']> }[]>()
  private readonly candidates: Candidate[] = []
  /** Sorted start offsets of every whole-word occurrence of a tracked name in the code. */
  private readonly occurrences: number[] = []

  constructor(
    private readonly code: string,
    private readonly where: ErrorSite,
    private readonly names: Set<string>,
    private readonly namespaces: Set<string>,
    private readonly phases: Set<string>,
  ) {
    const words = [...names, ...namespaces].map((n) => n.replace(/\$/g, '\\$'))
    const re = new RegExp(`(?<![\\w$])(?:${words.join('|')})(?![\\w$])`, 'g')
    for (const m of code.matchAll(re)) this.occurrences.push(m.index)
  }

  /** Whether a tracked name occurs in code[start, end). */
  private mentions(start: number, end: number): boolean {
    const occ = this.occurrences
    let lo = 0
    let hi = occ.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (occ[mid]! < start) lo = mid + 1
      else hi = mid
    }
    return lo < occ.length && occ[lo]! < end
  }

  visit(node: t.Node, parent: t.Node | null, key: string): void {
    if (SKIP_TYPES.has(node.type)) return
    this.enter(node, parent, key)
    // A subtree whose text never mentions a tracked name holds no poet call and no shadowing declaration:
    // its own declarations were recorded by enter(), the rest of it is skipped (most of a module, usually).
    if (!this.mentions(node.start!, node.end!)) {
      // `export function f` / `export const f = …` stay targets for `poet(opts)(f)` elsewhere in the module.
      if ((node.type === 'ExportNamedDeclaration' || node.type === 'ExportDefaultDeclaration') && node.declaration) {
        this.enter(node.declaration, node, 'declaration')
      }
      return
    }
    const scoped = isScope(node)
    if (scoped) this.scopes.push(node)
    this.ancestors.push(node)
    const record = node as unknown as Record<string, unknown>
    for (const k in record) {
      if (SKIP_KEYS.has(k)) continue
      const v = record[k]
      if (Array.isArray(v)) {
        for (const child of v) if (isNode(child)) this.visit(child, node, k)
      } else if (isNode(v)) this.visit(v, node, k)
    }
    this.ancestors.pop()
    if (scoped) this.scopes.pop()
  }

  /** Candidates whose callee is really the runtime's `poet`, with identifier targets resolved. */
  resolve(): PoetSite[] {
    const out: PoetSite[] = []
    for (const c of this.candidates) {
      if (c.scopes.some((s) => this.shadows.get(s)?.has(c.binding))) continue
      if (c.target && c.site.kind === 'call') {
        const name = c.target.name
        const decls = this.functions.get(name)
        for (let i = c.scopes.length - 1; i >= 0 && decls && !c.site.fn; i--) {
          c.site.fn = decls.find((d) => d.owner === c.scopes[i])?.fn
        }
      }
      out.push(c.site)
    }
    return out
  }

  private enter(node: t.Node, parent: t.Node | null, key: string): void {
    switch (node.type) {
      case 'VariableDeclaration': {
        // Recorded here, not per declarator, so `const f = () => …` counts even when the walk skips its subtree.
        const owner = node.kind === 'var' ? this.functionScope() : this.top()
        for (const d of node.declarations) {
          this.declarePattern(d.id, owner)
          const init = d.init && unwrap(d.init)
          if (d.id.type === 'Identifier' && (init?.type === 'ArrowFunctionExpression' || init?.type === 'FunctionExpression')) {
            this.addFunction(d.id.name, owner, init)
          }
        }
        break
      }
      case 'FunctionDeclaration':
        if (node.id) {
          this.declare(node.id.name, this.top())
          this.addFunction(node.id.name, this.top(), node)
        }
        this.declareParams(node)
        break
      case 'FunctionExpression':
        if (node.id) this.declare(node.id.name, node)
        this.declareParams(node)
        break
      case 'ArrowFunctionExpression':
      case 'ObjectMethod':
      case 'ClassMethod':
      case 'ClassPrivateMethod':
        this.declareParams(node)
        break
      case 'ClassDeclaration':
        if (node.id) this.declare(node.id.name, this.top())
        break
      case 'ClassExpression':
        if (node.id) this.declare(node.id.name, node)
        break
      case 'CatchClause':
        if (node.param) this.declarePattern(node.param, node)
        break
      case 'TSEnumDeclaration':
        this.declare(node.id.name, this.top())
        break
      case 'TSModuleDeclaration':
        if (node.id.type === 'Identifier') this.declare(node.id.name, this.top())
        break
      case 'CallExpression':
        if (parent?.type !== 'Decorator') this.onCall(node, parent, key)
        break
      case 'Identifier':
        if ((this.names.has(node.name) && isValueUse(parent, key)) || (this.namespaces.has(node.name) && handsOnPoet(parent, key))) {
          this.escape(node, node.name)
        }
        break
      case 'MemberExpression':
      case 'OptionalMemberExpression': {
        const binding = this.poetBinding(node)
        if (binding !== undefined && isValueUse(parent, key)) this.escape(node, binding)
        break
      }
      case 'Decorator':
        this.onDecorator(node, parent)
        break
    }
  }

  private onCall(call: t.CallExpression, parent: t.Node | null, key: string): void {
    const binding = this.poetBinding(call.callee)
    if (binding === undefined) return
    if (this.rewritten(call)) return
    const args = call.arguments
    const applied = parent?.type === 'CallExpression' && key === 'callee' ? parent : undefined
    if (args.length > 1) {
      const error = buildError(
        this.where,
        'POET_TOO_MANY_ARGUMENTS',
        'poet() takes one argument, its options object; the plugin adds the second itself.',
        start(args[1]!),
      )
      this.candidates.push({ site: { kind: 'rejected', error }, binding, scopes: this.scopes.slice() })
      return
    }
    const site: CallSite = { kind: 'call', call, name: 'anonymous' }
    let target: t.Identifier | undefined
    const arg = applied?.arguments[0] && unwrap(applied.arguments[0])
    if (arg?.type === 'FunctionExpression' || arg?.type === 'ArrowFunctionExpression') site.fn = arg
    else if (arg?.type === 'Identifier') target = arg
    // `parent` is the last ancestor; the applied call's own holder is one above it.
    const named = applied
      ? this.bindingName(applied, this.ancestors.length - 2)
      : this.bindingName(call, this.ancestors.length - 1)
    const ownName = site.fn?.type === 'FunctionExpression' ? site.fn.id?.name : undefined
    const given = named ?? ownName ?? target?.name
    const context = given === undefined && applied ? this.contextName(applied, this.ancestors.length - 2) : undefined
    site.name = given ?? context ?? 'anonymous'
    if (context !== undefined) site.fromContext = true
    else if (given === undefined) site.unnamed = true
    this.candidates.push({ site, binding, scopes: this.scopes.slice(), target })
  }

  private onDecorator(decorator: t.Decorator, parent: t.Node | null): void {
    const expr = decorator.expression
    const called = expr.type === 'CallExpression' ? expr : undefined
    const binding = this.poetBinding(called ? called.callee : expr)
    if (binding === undefined || (called && this.rewritten(called))) return
    const member = parent
    const classBody = this.ancestors[this.ancestors.length - 2]
    const klass = this.ancestors[this.ancestors.length - 3]
    const fail = (reason: string, at: t.Node = decorator) =>
      buildError(this.where, 'POET_UNSUPPORTED_DECORATOR_TARGET', reason, start(at))
    let error: PoetBuildError | undefined
    let key: string | undefined
    if (!called) {
      const text = this.code.slice(expr.start!, expr.end!)
      error = buildError(
        this.where,
        'POET_DECORATOR_NOT_CALLED',
        `write @${text}() with parentheses: ${text}(options?) returns the decorator.`,
        start(decorator),
      )
    } else if (member?.type === 'ClassMethod' && classBody?.type === 'ClassBody') {
      if (member.kind === 'get' || member.kind === 'set') {
        error = fail(`@poet() cannot decorate a ${member.kind === 'get' ? 'getter' : 'setter'}; put it on a method.`)
      } else if (member.kind === 'constructor') {
        error = fail('@poet() cannot decorate a constructor; put it on a method.')
      } else {
        key = methodKey(member)
        if (key === undefined) {
          error = fail(
            '@poet() needs the method name at build time: a computed key must be a string literal, e.g. ["quote"]().',
            member.key,
          )
        }
      }
    } else if (member?.type === 'ClassPrivateMethod') {
      error = fail(
        '@poet() cannot decorate a #private method: the plugin wraps methods through the class prototype, which ' +
          'cannot reach #private ones. Use a regular method (TypeScript `private` is fine).',
      )
    } else if (
      member?.type === 'ClassProperty' ||
      member?.type === 'ClassPrivateProperty' ||
      member?.type === 'ClassAccessorProperty'
    ) {
      error = fail('@poet() decorates methods, not fields; to wrap a function in a field write `field = poet(options)(fn)`.')
    } else if (member?.type === 'ClassDeclaration' || member?.type === 'ClassExpression') {
      error = fail('@poet() decorates methods, not classes; put it on each method to wrap.')
    } else if (member?.type === 'TSDeclareMethod') {
      error = fail('@poet() needs a method with a body; put it on the implementation, not an overload or abstract signature.')
    } else {
      error = fail('@poet() decorates class methods only.')
    }
    const site: PoetSite =
      error || !called || member?.type !== 'ClassMethod' || key === undefined
        ? { kind: 'rejected', error: error! }
        : {
            kind: 'decorator',
            call: called,
            decorator,
            fn: member,
            classBody: classBody as t.ClassBody,
            key,
            static: member.static,
            alone: member.decorators!.length === 1,
            name: `${this.className(klass!, this.ancestors.length - 4)}.${key}`,
          }
    // A member decorator is evaluated in the class's scope, not the method's: the method's own parameters and
    // `var`s (a parameter named poet) do not shadow it.
    const scopes = this.scopes[this.scopes.length - 1] === member ? this.scopes.slice(0, -1) : this.scopes.slice()
    this.candidates.push({ site, binding, scopes })
  }

  private escape(node: t.Node, binding: string): void {
    this.candidates.push({ site: { kind: 'escape', at: start(node), reason: ESCAPE_REASON }, binding, scopes: this.scopes.slice() })
  }

  /** `poet(opts, __poet_phases_N)`: an earlier pass (or a library's build, its phases bundled) already rewrote it. */
  private rewritten(call: t.CallExpression): boolean {
    const second = call.arguments[1]
    if (call.arguments.length !== 2 || !second) return false
    return (second.type === 'Identifier' && this.phases.has(second.name)) || isPhaseModule(second)
  }

  /** The binding a `poet` callee refers to (`poet`, an alias, or a namespace), else undefined. */
  private poetBinding(callee: t.Node): string | undefined {
    if (callee.type === 'Identifier') return this.names.has(callee.name) ? callee.name : undefined
    if (
      (callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') &&
      callee.object.type === 'Identifier' &&
      this.namespaces.has(callee.object.name)
    ) {
      const p = callee.property
      const name = callee.computed ? (p.type === 'StringLiteral' ? p.value : undefined) : p.type === 'Identifier' ? p.name : undefined
      return name === 'poet' ? callee.object.name : undefined
    }
    return undefined
  }

  /** The name `child` (held by `ancestors[holderIndex]`) is bound to: variable, export default, assignment, property. */
  private bindingName(child: t.Node, holderIndex: number): string | undefined {
    let i = holderIndex
    let holder = this.ancestors[i]
    while (holder && isTransparent(holder)) {
      child = holder
      holder = this.ancestors[--i]
    }
    if (!holder) return undefined
    switch (holder.type) {
      case 'VariableDeclarator':
        return holder.init === child && holder.id.type === 'Identifier' ? holder.id.name : undefined
      case 'ExportDefaultDeclaration':
        return 'default'
      case 'AssignmentExpression':
        if (holder.right !== child) return undefined
        if (holder.left.type === 'Identifier') return holder.left.name
        if (holder.left.type === 'MemberExpression') return propertyName(holder.left.property, holder.left.computed)
        return undefined
      case 'ObjectProperty':
        return holder.value === child ? propertyName(holder.key, holder.computed) : undefined
      case 'ClassProperty':
      case 'ClassAccessorProperty':
      case 'ClassPrivateProperty': {
        // `#name` is named without its `#`: ids are split into file and name at their last `#`.
        const key = holder.type === 'ClassPrivateProperty' ? holder.key.id.name : propertyName(holder.key, holder.computed)
        const klass = this.ancestors[i - 2]
        return key && klass ? `${this.className(klass, i - 3)}.${key}` : undefined
      }
    }
    return undefined
  }

  /**
   * A name for an unnamed function from where it stands, so that its id does not change with its line: the slot that
   * holds it (`return`, a JSX attribute, the function it is passed to, the variable or property its array or ternary
   * is bound to), after the name of the function it is written in (`makeLoader.return`, `Button.onClick`,
   * `Button.map`). Undefined where nothing names it (`void poet()(…)`).
   */
  private contextName(child: t.Node, holderIndex: number): string | undefined {
    let i = holderIndex
    let holder = this.ancestors[i]
    while (holder && passesName(holder, child)) {
      child = holder
      holder = this.ancestors[--i]
    }
    if (!holder) return undefined
    let slot: string | undefined
    let ownerFrom = i - 1
    switch (holder.type) {
      case 'ReturnStatement':
        slot = 'return'
        break
      case 'ArrowFunctionExpression':
        // `() => poet()(…)`: the arrow's body is what it returns, and the arrow is the function it is written in.
        if (holder.body === child) slot = 'return'
        ownerFrom = i
        break
      case 'JSXAttribute':
        slot = holder.name.type === 'JSXIdentifier' ? holder.name.name : `${holder.name.namespace.name}:${holder.name.name.name}`
        break
      case 'CallExpression':
      case 'OptionalCallExpression':
      case 'NewExpression':
        // `const onSave = useCallback(poet()(…), [])` is `onSave`; `items.map(poet()(…))`, bound to nothing, `map`.
        if (holder.callee !== child) slot = this.boundThroughCalls(child, i) ?? calleeName(holder.callee)
        break
      default:
        slot = this.bindingName(child, i)
    }
    if (slot === undefined) return undefined
    const owner = this.enclosingFunctionName(ownerFrom)
    return owner === undefined ? slot : `${owner}.${slot}`
  }

  /** The name of the nearest function at or above `ancestors[from]` that has one (a callback has none: it is passed over). */
  private enclosingFunctionName(from: number): string | undefined {
    for (let i = from; i > 0; i--) {
      const fn = this.ancestors[i]!
      let name: string | undefined
      switch (fn.type) {
        case 'FunctionDeclaration':
        case 'FunctionExpression':
        case 'ArrowFunctionExpression':
          // `const Button = memo(() => …)`: a component or callback wrapped in a call is named by what the call is bound to.
          name = (fn.type !== 'ArrowFunctionExpression' ? fn.id?.name : undefined) ?? this.boundThroughCalls(fn, i - 1)
          break
        case 'ObjectMethod':
          name = propertyName(fn.key, fn.computed)
          break
        case 'ClassMethod':
        case 'ClassPrivateMethod': {
          const key = fn.type === 'ClassPrivateMethod' ? fn.key.id.name : propertyName(fn.key, fn.computed)
          const klass = this.ancestors[i - 2]
          name = key && klass ? `${this.className(klass, i - 3)}.${key}` : undefined
          break
        }
      }
      if (name !== undefined) return name
    }
    return undefined
  }

  /** The name `child` (held by `ancestors[holderIndex]`) is bound to, passing over the calls it is an argument of. */
  private boundThroughCalls(child: t.Node, holderIndex: number): string | undefined {
    let i = holderIndex
    for (let holder = this.ancestors[i]; holder; holder = this.ancestors[--i]) {
      const argument =
        (holder.type === 'CallExpression' || holder.type === 'OptionalCallExpression' || holder.type === 'NewExpression') && holder.callee !== child
      if (!argument && holder.type !== 'AwaitExpression' && !isTransparent(holder)) break
      child = holder
    }
    return this.bindingName(child, i)
  }

  /** A class's name: its own, else what it is bound to, `default` for `export default class {}`. */
  private className(klass: t.Node, parentIndex: number): string {
    if ((klass.type === 'ClassDeclaration' || klass.type === 'ClassExpression') && klass.id) return klass.id.name
    if (this.ancestors[parentIndex]?.type === 'ExportDefaultDeclaration') return 'default'
    return this.bindingName(klass, parentIndex) ?? 'anonymous'
  }

  private declareParams(fn: t.Function): void {
    for (const p of fn.params) this.declarePattern(p, fn)
  }

  private declarePattern(p: t.Node, owner: Scope): void {
    switch (p.type) {
      case 'Identifier':
        this.declare(p.name, owner)
        break
      case 'AssignmentPattern':
        this.declarePattern(p.left, owner)
        break
      case 'RestElement':
        this.declarePattern(p.argument, owner)
        break
      case 'ArrayPattern':
        for (const el of p.elements) if (el) this.declarePattern(el, owner)
        break
      case 'ObjectPattern':
        for (const prop of p.properties) this.declarePattern(prop.type === 'RestElement' ? prop : prop.value, owner)
        break
      case 'TSParameterProperty':
        this.declarePattern(p.parameter, owner)
        break
    }
  }

  private declare(name: string, owner: Scope): void {
    if (!this.names.has(name) && !this.namespaces.has(name)) return
    let set = this.shadows.get(owner)
    if (!set) this.shadows.set(owner, (set = new Set()))
    set.add(name)
  }

  private addFunction(name: string, owner: Scope, fn: NonNullable<CallSite['fn']>): void {
    let list = this.functions.get(name)
    if (!list) this.functions.set(name, (list = []))
    list.push({ owner, fn })
  }

  private top(): Scope {
    return this.scopes[this.scopes.length - 1]!
  }

  private functionScope(): Scope {
    for (let i = this.scopes.length - 1; i > 0; i--) if (isFunction(this.scopes[i]!)) return this.scopes[i]!
    return this.scopes[0]!
  }
}

function isNode(v: unknown): v is t.Node {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string'
}

function isFunction(node: t.Node): boolean {
  switch (node.type) {
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ObjectMethod':
    case 'ClassMethod':
    case 'ClassPrivateMethod':
      return true
  }
  return false
}

/** Nodes that open a scope in which a name can shadow the module's `poet` import. */
function isScope(node: t.Node): boolean {
  switch (node.type) {
    case 'Program':
    case 'BlockStatement':
    case 'StaticBlock':
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement':
    case 'CatchClause':
    case 'SwitchStatement':
    case 'ClassDeclaration':
    case 'ClassExpression':
    case 'TSModuleBlock':
      return true
  }
  return isFunction(node)
}

/**
 * Whether an identifier or member expression at `parent[key]` reads the value it names, other than as the callee of
 * a call or a decorator (handled as marks) or as a `typeof` operand (which marks nothing). Names that only label
 * (property keys, export aliases, labels) are not reads; declarations are, but shadow the import, so they drop out.
 */
function isValueUse(parent: t.Node | null, key: string): boolean {
  if (!parent) return false
  switch (parent.type) {
    case 'CallExpression':
    case 'Decorator':
      return key !== 'callee' && key !== 'expression'
    case 'MemberExpression':
    case 'OptionalMemberExpression':
      return key !== 'property' || parent.computed
    case 'ObjectProperty':
    case 'ObjectMethod':
    case 'ClassMethod':
    case 'ClassPrivateMethod':
    case 'ClassProperty':
    case 'ClassAccessorProperty':
    case 'TSDeclareMethod':
      return key !== 'key' || !!parent.computed
    case 'ExportSpecifier':
      return key === 'local'
    case 'UnaryExpression':
      return parent.operator !== 'typeof'
    case 'ExportNamespaceSpecifier':
    case 'ExportDefaultSpecifier':
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'PrivateName':
    case 'MetaProperty':
    case 'TSEnumMember':
    case 'TSModuleDeclaration':
      return false
  }
  return true
}

/**
 * Whether a namespace import at `parent[key]` hands its `poet` on: exported (`export { rt }`, `export default rt`) or
 * destructured (`const { poet } = rt`). Other uses of a namespace (`spyOn(rt, 'feedback')`) are about the rest of it.
 */
function handsOnPoet(parent: t.Node | null, key: string): boolean {
  if (parent?.type === 'ExportSpecifier') return key === 'local'
  if (parent?.type === 'ExportDefaultDeclaration' || parent?.type === 'TSExportAssignment') return true
  if (parent?.type === 'VariableDeclarator' && key === 'init' && parent.id.type === 'ObjectPattern') {
    return parent.id.properties.some((p) => p.type === 'RestElement' || propertyName(p.key, p.computed) === 'poet')
  }
  return false
}

/** Wrappers that do not change which name an expression is bound to. */
function isTransparent(node: t.Node): boolean {
  return (
    node.type === 'TSAsExpression' ||
    node.type === 'TSSatisfiesExpression' ||
    node.type === 'TSTypeAssertion' ||
    node.type === 'TSNonNullExpression' ||
    node.type === 'ParenthesizedExpression'
  )
}

/**
 * Whether `holder` leaves the name of its `child` to what holds it in turn: a ternary's branch, either side of `??`,
 * an array's element, an awaited or spread value, a JSX expression, a type assertion.
 */
function passesName(holder: t.Node, child: t.Node): boolean {
  switch (holder.type) {
    case 'ConditionalExpression':
      return holder.test !== child
    case 'LogicalExpression':
    case 'SequenceExpression':
    case 'ArrayExpression':
    case 'AwaitExpression':
    case 'SpreadElement':
    case 'JSXExpressionContainer':
      return true
  }
  return isTransparent(holder)
}

/** `map` of `items.map(…)`, `useCallback` of `useCallback(…)`: the last name of a callee, if it has one. */
function calleeName(callee: t.Node): string | undefined {
  if (callee.type === 'Identifier') return callee.name
  if (callee.type === 'MemberExpression' || callee.type === 'OptionalMemberExpression') return propertyName(callee.property, callee.computed)
  return undefined
}

function propertyName(key: t.Node, computed: boolean): string | undefined {
  if (key.type === 'StringLiteral') return key.value
  if (computed) return undefined
  if (key.type === 'Identifier') return key.name
  if (key.type === 'NumericLiteral') return String(key.value)
  return undefined
}

function methodKey(m: t.ClassMethod): string | undefined {
  return propertyName(m.key, m.computed)
}

function start(node: t.Node): { line: number; column: number } {
  return { line: node.loc!.start.line, column: node.loc!.start.column }
}
