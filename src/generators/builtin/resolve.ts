// Resolves a function's TypeScript signature syntactically (no type checker) into TypeIR, following declarations across relative imports.
import { dirname, relative, resolve as resolvePath, sep } from 'node:path'
import { parse } from '../parser'
import type * as t from '@babel/types'
import { mapSubpathImport } from './subpath-imports'
import { findExactOptional, findPathMapping, mapSpecifier, type PathMapping } from './tsconfig-paths'
import { findReferencedProjects, sourcesOf, type ReferencedProjects } from './project-references'
import { mapWorkspacePackage } from './workspace-packages'
import { derefType, type ParamSpec, type PropertyIR, type TupleElementIR, type TypeIR, type UnresolvedType } from '../spec'
import { COMPONENT_FILE, componentParts, keepOnly } from '../../plugin/sfc'
import { readFileOrUndefined } from '../read-file'

export type FunctionNode =
  | t.FunctionExpression
  | t.ArrowFunctionExpression
  | t.FunctionDeclaration
  | t.ClassMethod
  | t.ClassPrivateMethod
  | t.ObjectMethod

export interface ResolveInput {
  /** Absolute path of the file that holds the function. */
  file: string
  /** That file's source. */
  code: string
  /** The whole file, parsed by @babel/parser with the typescript (+jsx, decorators) plugins. */
  ast: t.File
  fn: FunctionNode
  /** Reads another file of the project; `undefined` when it does not exist. Defaults to the file system. */
  readFile?: (path: string) => string | undefined
  /**
   * The project root: reasons name files relative to it, and the search for the package.json whose `imports` map `#`
   * specifiers stops there (the one for tsconfig.json goes on up, as TypeScript's).
   */
  root?: string
  /** tsconfig.json lookups to share with the other signatures of the same file, read with the same `readFile`. */
  configs?: ConfigLookups
}

/** What the tsconfig.json governing a directory says, by directory (null: nothing); the same for every signature. */
export interface ConfigLookups {
  /** The tsconfig `paths` in force. */
  mappings: Map<string, PathMapping | null>
  /** The projects the governing tsconfig.json references. */
  references: Map<string, ReferencedProjects | null>
  /** `exactOptionalPropertyTypes`. */
  exact: Map<string, { exact: boolean; files: string[] } | null>
}

export function configLookups(): ConfigLookups {
  return { mappings: new Map(), references: new Map(), exact: new Map() }
}

export interface ResolvedSignature {
  params: ParamSpec[]
  /** The return type; the awaited type when the function is async or returns `Promise<T>`. */
  returns: TypeIR
  async: boolean
  /** Named declarations that `ref` types point to. */
  types: Record<string, TypeIR>
  unresolved: UnresolvedType[]
  /** The signature as written, e.g. `(a: number[], b: number[]): Report`. */
  signature: string
  /** Other files read to resolve the types (absolute paths): a change to any of them changes the spec. */
  dependencies: string[]
}

type Decl = t.TSInterfaceDeclaration | t.TSTypeAliasDeclaration | t.TSEnumDeclaration | t.ClassDeclaration

interface ModuleInfo {
  file: string
  code: string
  /** Top-level declarations by local name (interfaces may merge, so a list). */
  decls: Map<string, Decl[]>
  /** Top-level `const` declarations by name: the values `typeof` may ask about. */
  values: Map<string, t.VariableDeclarator>
  /** Local name → where it is imported from (`imported` is `*` for namespace imports). */
  imports: Map<string, { source: string; imported: string }>
  /** Exported name → local name, or a re-export from another module. */
  exports: Map<string, { local: string } | { source: string; imported: string }>
  /** `export * from '…'` sources. */
  starExports: string[]
}

/** Type parameters in scope: bound to a resolved argument, or `null` when unbound (a generic). */
type Env = Map<string, TypeIR | null>

const MAX_INSTANTIATION_DEPTH = 20

export function resolveSignature(input: ResolveInput): ResolvedSignature {
  return new Resolver(input).run()
}

class Resolver {
  private readonly modules = new Map<string, ModuleInfo | undefined>()
  private readonly types: Record<string, TypeIR> = {}
  /** `<file>\0<name>\0<args>` → key in `types`. */
  private readonly keys = new Map<string, string>()
  private readonly unresolved: UnresolvedType[] = []
  private readonly dependencies = new Set<string>()
  private readonly readFile: (path: string) => string | undefined
  /** By directory of the importing file. */
  private readonly configs: ConfigLookups
  private instantiationDepth = 0
  /** `exactOptionalPropertyTypes` of the function's project (one program's option, whichever file declares a type). */
  private exactOption: boolean | undefined

  constructor(private readonly input: ResolveInput) {
    this.readFile = input.readFile ?? readFileOrUndefined
    this.configs = input.configs ?? configLookups()
    this.modules.set(input.file, collectModule(input.file, input.code, input.ast))
  }

  /** Looked up at the first optional property or element: a signature without any reads no tsconfig.json for it. */
  private get exact(): boolean {
    return (this.exactOption ??= this.nearestConfig(this.configs.exact, this.input.file, findExactOptional)?.exact ?? false)
  }

  run(): ResolvedSignature {
    const { fn, code, file } = this.input
    const mod = this.modules.get(file)!
    const env: Env = new Map()
    const typeParams = enclosingTypeParams(this.input.ast, fn)
    for (const p of typeParams) env.set(p.name, null)
    // A value of a type parameter is a value of its constraint (`T extends Order`), whatever the caller's T: checking
    // the constraint rejects nothing valid. One that resolves only partly is left a generic.
    for (const p of typeParams) {
      if (!p.constraint) continue
      const reported = this.unresolved.length
      const bound = this.type(p.constraint, mod, env, p.name)
      if (this.unresolved.length === reported && !(bound.kind === 'unknown' && bound.reason)) env.set(p.name, bound)
      else this.unresolved.length = reported
    }

    const params: ParamSpec[] = []
    let index = 0
    for (const raw of fn.params) {
      const p = raw.type === 'TSParameterProperty' ? raw.parameter : raw
      if (p.type === 'Identifier' && p.name === 'this') continue
      const path = `args[${index}]`
      const spec = this.param(p, mod, env, path, code, index)
      params.push(spec)
      index++
    }

    // An async generator returns its iterator synchronously: only a plain async function gives a promise.
    const isAsync = !!fn.async && !fn.generator
    let returns: TypeIR = { kind: 'unknown', reason: 'no return type annotation' }
    let returnsPromise = false
    const rt = fn.returnType && fn.returnType.type === 'TSTypeAnnotation' ? fn.returnType.typeAnnotation : undefined
    if (rt) {
      const awaited = promiseArgument(rt, mod)
      if (awaited !== undefined) {
        returnsPromise = true
        returns = awaited === null ? { kind: 'unknown', reason: 'Promise without a type argument' } : this.type(awaited, mod, env, 'result')
      } else {
        returns = this.type(rt, mod, env, 'result')
      }
    }
    if (!rt && fn.generator) returns = { kind: 'unknown', reason: 'generator function' }
    // A declared `unknown` is a choice, not a gap: only unknowns with a reason are reported.
    if (returns.kind === 'unknown' && returns.reason) this.report('result', rt ? code.slice(rt.start!, rt.end!) : '', returns.reason)
    // Callers see only the overloads; an implementation typed `any` to cover them all would check nothing, unsaid.
    if (hasOverloads(this.input.ast, fn)) {
      params.forEach((p, i) => {
        if (p.type.kind === 'any') this.report(`args[${i}]`, 'any', 'an overloaded function is checked against its implementation signature, not its overloads')
      })
      if (returns.kind === 'any') this.report('result', 'any', 'an overloaded function is checked against its implementation signature, not its overloads')
    }

    const paramText = fn.params.map((p) => code.slice(p.start!, p.end!)).join(', ')
    const rtText = fn.returnType ? code.slice(fn.returnType.start!, fn.returnType.end!) : ''
    return {
      params,
      returns,
      async: isAsync || returnsPromise,
      types: this.types,
      unresolved: this.unresolved,
      signature: `(${paramText})${rtText}`,
      dependencies: [...this.dependencies].sort(),
    }
  }

  private param(p: t.Node, mod: ModuleInfo, env: Env, path: string, code: string, index: number): ParamSpec {
    let optional = false
    let rest = false
    let node: t.Node = p
    let defaultValue: t.Node | undefined
    if (node.type === 'AssignmentPattern') {
      optional = true
      defaultValue = node.right
      node = node.left
    }
    if (node.type === 'RestElement') rest = true
    if (node.type === 'Identifier' && node.optional) optional = true
    const name = node.type === 'Identifier' ? node.name : node.type === 'RestElement' && node.argument.type === 'Identifier' ? node.argument.name : `arg${index}`
    const annotation = 'typeAnnotation' in node && node.typeAnnotation?.type === 'TSTypeAnnotation' ? node.typeAnnotation.typeAnnotation : undefined
    let type: TypeIR
    if (annotation) type = this.type(annotation, mod, env, path)
    else if (defaultValue && inferLiteral(defaultValue)) type = inferLiteral(defaultValue)!
    else {
      type = { kind: 'unknown', reason: 'no type annotation' }
      this.report(path, code.slice(p.start!, p.end!), 'no type annotation')
    }
    const restKind = this.deref(type).kind
    if (rest && restKind !== 'array' && restKind !== 'unknown' && restKind !== 'any') {
      this.report(path, code.slice(p.start!, p.end!), 'rest parameters are checked only when typed as arrays')
    }
    return { name, type, optional, rest }
  }

  private report(path: string, text: string, reason: string, brief?: string): void {
    if (this.unresolved.some((u) => u.path === path && u.reason === reason)) return
    this.unresolved.push(brief === undefined ? { path, text, reason } : { path, text, reason, brief })
  }

  private unknown(node: t.Node, mod: ModuleInfo, path: string, reason: string, brief?: string): TypeIR {
    const text = mod.code.slice(node.start!, node.end!)
    this.report(path, text, reason, brief)
    return { kind: 'unknown', reason, text }
  }

  /** Resolves one type annotation. `path` names where it sits, for the unresolved report. */
  type(node: t.TSType, mod: ModuleInfo, env: Env, path: string): TypeIR {
    switch (node.type) {
      case 'TSStringKeyword':
        return { kind: 'string' }
      case 'TSNumberKeyword':
        return { kind: 'number' }
      case 'TSBooleanKeyword':
        return { kind: 'boolean' }
      case 'TSBigIntKeyword':
        return { kind: 'bigint' }
      case 'TSSymbolKeyword':
        return { kind: 'symbol' }
      case 'TSNullKeyword':
        return { kind: 'null' }
      case 'TSUndefinedKeyword':
        return { kind: 'undefined' }
      case 'TSVoidKeyword':
        return { kind: 'void' }
      case 'TSAnyKeyword':
        return { kind: 'any' }
      case 'TSUnknownKeyword':
        return { kind: 'unknown' }
      case 'TSNeverKeyword':
        return { kind: 'never' }
      case 'TSObjectKeyword':
        return { kind: 'object' }
      case 'TSFunctionType':
      case 'TSConstructorType':
        return { kind: 'function' }
      case 'TSParenthesizedType':
        return this.type(node.typeAnnotation, mod, env, path)
      case 'TSOptionalType':
      case 'TSRestType':
        return this.type(node.typeAnnotation, mod, env, path)
      case 'TSLiteralType':
        return this.literal(node, mod, env, path)
      case 'TSArrayType':
        return { kind: 'array', element: this.type(node.elementType, mod, env, `${path}[]`) }
      case 'TSTupleType':
        return this.tuple(node, mod, env, path)
      case 'TSUnionType':
        return union(node.types.map((m) => this.type(m, mod, env, path)))
      case 'TSIntersectionType':
        return this.intersection(node.types.map((m) => this.type(m, mod, env, path)), node, mod, path)
      case 'TSTypeLiteral':
        return this.members(node.members, mod, env, path)
      case 'TSTypeOperator':
        if (node.operator === 'readonly') {
          const inner = this.type(node.typeAnnotation, mod, env, path)
          return inner.kind === 'array' || inner.kind === 'tuple' ? { ...inner, readonly: true } : inner
        }
        if (node.operator === 'unique') return { kind: 'symbol' }
        return this.keyof(node, mod, env, path)
      case 'TSIndexedAccessType':
        return this.indexedAccess(node, mod, env, path)
      case 'TSTypeReference':
        return this.reference(node, mod, env, path)
      case 'TSTypeQuery':
        return this.typeQuery(node, mod, env, path)
      case 'TSConditionalType':
        return this.unknown(node, mod, path, 'conditional types are not resolved')
      case 'TSMappedType':
        return this.unknown(node, mod, path, 'mapped types are not resolved (only Partial, Required, Readonly, Pick, Omit, Record)')
      case 'TSImportType':
        return this.unknown(node, mod, path, '`import()` types are not resolved')
      case 'TSThisType':
        return this.unknown(node, mod, path, '`this` types are not resolved')
      default:
        return this.unknown(node, mod, path, `${node.type.replace(/^TS/, '')} is not resolved`)
    }
  }

  private literal(node: t.TSLiteralType, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const lit = node.literal
    switch (lit.type) {
      case 'StringLiteral':
      case 'NumericLiteral':
      case 'BooleanLiteral':
        return { kind: 'literal', value: lit.value }
      case 'BigIntLiteral':
        return { kind: 'literal', value: BigInt(lit.value) }
      case 'UnaryExpression':
        if (lit.argument.type === 'NumericLiteral') return { kind: 'literal', value: -lit.argument.value }
        if (lit.argument.type === 'BigIntLiteral') return { kind: 'literal', value: -BigInt(lit.argument.value) }
        return this.unknown(node, mod, path, 'unsupported literal type')
      case 'TemplateLiteral':
        return this.template(lit, node, mod, env, path)
    }
  }

  /**
   * Template literal types, normalised as TypeScript does: finite placeholders (literals, booleans, enums,
   * unions of them) are distributed into a union of templates; what remains are `string`/`number`/`bigint`
   * holes between literal texts, matched at run time the way TypeScript matches them.
   */
  private template(lit: t.TemplateLiteral, node: t.TSType, mod: ModuleInfo, env: Env, path: string): TypeIR {
    let acc: TemplateParts[] = [{ texts: [lit.quasis[0]!.value.cooked ?? ''], holes: [] }]
    for (let i = 0; i < lit.expressions.length; i++) {
      const alternatives = this.templateAlternatives(this.type(lit.expressions[i] as t.TSType, mod, env, path), 0)
      if (!alternatives) return this.unknown(node, mod, path, 'template literal placeholder is not string, number, bigint, boolean, a literal or a template')
      const tail: TemplateParts = { texts: [lit.quasis[i + 1]!.value.cooked ?? ''], holes: [] }
      acc = acc.flatMap((a) => alternatives.map((b) => concatParts(concatParts(a, b), tail)))
      if (acc.length > MAX_TEMPLATE_EXPANSION) return this.unknown(node, mod, path, `template literal type expands to more than ${MAX_TEMPLATE_EXPANSION} members`)
    }
    const text = mod.code.slice(node.start!, node.end!)
    return union(
      acc.map((p): TypeIR =>
        p.holes.length === 0 ? { kind: 'literal', value: p.texts[0]! } : { kind: 'template', pattern: templatePattern(p), text: acc.length === 1 ? text : templateText(p), parts: p },
      ),
    )
  }

  /** What a placeholder can stand for: finite texts, holes, or nested templates (undefined when it cannot be a placeholder). */
  private templateAlternatives(ir: TypeIR, depth: number): TemplateParts[] | undefined {
    if (depth > 10) return undefined
    const d = this.deref(ir)
    const text = (s: string): TemplateParts[] => [{ texts: [s], holes: [] }]
    const hole = (h: TemplateHole): TemplateParts[] => [{ texts: ['', ''], holes: [h] }]
    switch (d.kind) {
      case 'string':
      case 'number':
      case 'bigint':
        return hole(d.kind)
      case 'boolean':
        return [...text('true'), ...text('false')]
      case 'null':
      case 'undefined':
        return text(d.kind)
      case 'literal':
        return text(String(d.value))
      case 'enum':
        return d.members.flatMap((m) => text(String(m.value)))
      case 'template':
        return d.parts ? [d.parts] : undefined
      case 'union': {
        const all: TemplateParts[] = []
        for (const m of d.types) {
          const alt = this.templateAlternatives(m, depth + 1)
          if (!alt) return undefined
          all.push(...alt)
        }
        return all
      }
      default:
        return undefined
    }
  }

  private tuple(node: t.TSTupleType, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const elements: TupleElementIR[] = []
    node.elementTypes.forEach((raw, i) => {
      let el: t.Node = raw
      let optional = false
      let rest = false
      let name: string | undefined
      if (el.type === 'TSRestType') {
        rest = true
        el = el.typeAnnotation
      }
      if (el.type === 'TSNamedTupleMember') {
        name = el.label.name
        optional = el.optional
        el = el.elementType
      }
      if (el.type === 'TSOptionalType') {
        optional = true
        el = el.typeAnnotation
      }
      const type = this.type(el as t.TSType, mod, env, `${path}[${i}]`)
      // A spread tuple (`[...Head, T]`) stands for its elements, as TypeScript normalises it.
      const spread = rest ? this.deref(type) : undefined
      if (spread?.kind === 'tuple') elements.push(...spread.elements)
      else elements.push({ type, ...(optional ? { optional, ...(this.exact ? { exact: true } : {}) } : {}), ...(rest ? { rest } : {}), ...(name ? { name } : {}) })
    })
    return { kind: 'tuple', elements }
  }

  private members(members: t.TSTypeElement[], mod: ModuleInfo, env: Env, path: string, name?: string): TypeIR {
    const { object, callable } = this.membersOf(members, mod, env, path, name)
    return callable ? callableWith(object) : object
  }

  /** The object type the members declare, and whether they declare a call or construct signature too. */
  private membersOf(members: t.TSTypeElement[], mod: ModuleInfo, env: Env, path: string, name?: string): { object: Extract<TypeIR, { kind: 'objectType' }>; callable: boolean } {
    const properties: PropertyIR[] = []
    const indexSignatures: { key: TypeIR; value: TypeIR }[] = []
    let callable = false
    for (const m of members) {
      if (m.type === 'TSPropertySignature' || m.type === 'TSMethodSignature') {
        const key = propertyName(m.key, !!m.computed)
        if (key === undefined) {
          this.unknown(m, mod, path, 'computed property keys are not resolved')
          continue
        }
        const propPath = `${path}${formatKey(key)}`
        // `get x(): T` and `set x(v: T)` declare a property `x: T`, not a method.
        const accessor = m.type === 'TSMethodSignature' && (m.kind === 'get' || m.kind === 'set') ? m.kind : undefined
        let type: TypeIR
        if (m.type === 'TSMethodSignature' && !accessor) type = { kind: 'function' }
        else {
          const param = accessor === 'set' && m.type === 'TSMethodSignature' ? m.parameters[0] : undefined
          const annotation = accessor === 'set' ? (param && 'typeAnnotation' in param && param.typeAnnotation?.type === 'TSTypeAnnotation' ? param.typeAnnotation : undefined) : m.typeAnnotation
          type = annotation ? this.type(annotation.typeAnnotation, mod, env, propPath) : { kind: 'any' }
        }
        const existing = properties.findIndex((p) => p.name === key)
        // With both accessors declared, the getter's type is what reading the property gives, and it can be written.
        if (accessor === 'set' && existing >= 0) {
          const { readonly: _readonly, ...writable } = properties[existing]!
          properties[existing] = writable
          continue
        }
        const readonly = (m.type === 'TSPropertySignature' && m.readonly) || (accessor === 'get' && existing < 0)
        const prop: PropertyIR = { name: key, type, optional: !!m.optional, ...(m.optional && this.exact ? { exact: true } : {}), ...(readonly ? { readonly: true } : {}), ...(m.key.type === 'NumericLiteral' && !m.computed ? { numeric: true } : {}) }
        if (existing >= 0) properties[existing] = prop
        else properties.push(prop)
      } else if (m.type === 'TSIndexSignature') {
        const param = m.parameters[0]
        const keyAnn = param?.typeAnnotation?.type === 'TSTypeAnnotation' ? param.typeAnnotation.typeAnnotation : undefined
        if (!keyAnn || !m.typeAnnotation) continue
        indexSignatures.push({ key: this.type(keyAnn, mod, env, path), value: this.type(m.typeAnnotation.typeAnnotation, mod, env, `${path}[string]`) })
      } else if (m.type === 'TSCallSignatureDeclaration' || m.type === 'TSConstructSignatureDeclaration') {
        callable = true
      }
    }
    return { object: { kind: 'objectType', properties, ...(indexSignatures.length ? { indexSignatures } : {}), ...(name ? { name } : {}) }, callable }
  }

  private intersection(types: TypeIR[], node: t.Node, mod: ModuleInfo, path: string): TypeIR {
    const flat = types.flatMap((x) => (x.kind === 'intersection' ? x.types : [x]))
    if (flat.some((x) => x.kind === 'never')) return { kind: 'never' }
    // `{}` takes every value but null and undefined, so it adds nothing to another part: `string & {}` is a string.
    const empty = (x: TypeIR) => {
      const d = this.deref(x)
      return d.kind === 'objectType' && d.properties.length === 0 && !d.indexSignatures
    }
    const checked = flat.filter((x) => x.kind !== 'unknown' || x.reason !== undefined)
    const informative = checked.filter((x) => !empty(x))
    const kept = informative.length ? informative : checked.slice(0, 1)
    const primitive = kept.filter((x) => this.isPrimitive(x))
    // A brand (`string & { __brand: 'UserId' }`): its object part exists only for the compiler, and every value of the
    // type is a primitive that has none of it, so the primitive part is all a value can be checked against.
    // null and undefined have no properties at all: beside an object part they are never.
    if (primitive.length && primitive.length < kept.length) {
      const values = primitive.map((x) => this.withoutNullish(x))
      return values.length === 1 ? values[0]! : { kind: 'intersection', types: values }
    }
    if (kept.length === 1) return kept[0]!
    if (kept.length === 0) return { kind: 'unknown' }
    return { kind: 'intersection', types: kept }
  }

  /** A primitive type, or a union of them (`(string | number) & { __brand: 'Id' }` is a brand too). */
  private isPrimitive(t: TypeIR, depth = 0): boolean {
    const d = this.deref(t)
    if (d.kind === 'union' && depth < 10) return d.types.every((x) => this.isPrimitive(x, depth + 1))
    return isPrimitiveKind(d.kind)
  }

  /** The members of a union, through aliases (a union of aliased unions is flattened). */
  private unionMembers(t: TypeIR, depth = 0): TypeIR[] {
    const d = this.deref(t)
    return d.kind === 'union' && depth < 10 ? d.types.flatMap((x) => this.unionMembers(x, depth + 1)) : [t]
  }

  private withoutNullish(t: TypeIR): TypeIR {
    const d = this.deref(t)
    if (d.kind === 'null' || d.kind === 'undefined') return { kind: 'never' }
    return d.kind === 'union' ? union(d.types.map((x) => this.withoutNullish(x))) : t
  }

  /** `typeof X`: the type TypeScript infers for a `const` (annotated, a literal, `as const` or not), or an enum's object. */
  private typeQuery(node: t.TSTypeQuery, mod: ModuleInfo, env: Env, path: string): TypeIR {
    if (node.exprName.type !== 'Identifier' || node.typeParameters) return this.unknown(node, mod, path, '`typeof` is resolved only for a plain name')
    const name = node.exprName.name
    const found = this.lookup(mod, name, 'value')
    if (!found) return this.unknown(node, mod, path, `${name} is not a const of this file or a relative import`)
    if ('package' in found) return this.fromPackage(node, mod, path, found.package)
    if ('missing' in found) return this.unknown(node, mod, path, found.missing, found.brief)
    if ('decl' in found) {
      const first = found.decls[0]!
      if (first.type !== 'TSEnumDeclaration') return this.unknown(node, mod, path, `typeof the class ${name} is not checked`)
      // The enum's object: one property per member (a numeric enum's reverse mapping is no key of keyof typeof).
      const members = this.enumOf(first, found.mod).members
      return { kind: 'objectType', properties: members.map((m) => ({ name: m.name, type: { kind: 'literal', value: m.value }, optional: false, readonly: true })) }
    }
    const d = found.value
    if (d.id.type === 'Identifier' && d.id.typeAnnotation?.type === 'TSTypeAnnotation') return this.type(d.id.typeAnnotation.typeAnnotation, found.mod, new Map(), path)
    const inferred = d.init ? this.valueType(d.init, found.mod, env, path, false, true) : undefined
    return inferred ?? this.unknown(node, mod, path, `the value of ${name} is not a literal (typeof needs the type checker)`)
  }

  /**
   * The type TypeScript infers for a literal expression: literal types under `as const` (readonly, tuples) and at the
   * top of a const declaration, widened to their primitives inside a mutable object or array. Undefined for anything
   * else (a call, a variable, a spread, a function).
   */
  private valueType(e: t.Node, mod: ModuleInfo, env: Env, path: string, asConst: boolean, top = false): TypeIR | undefined {
    const keep = asConst || top
    const lit = (value: string | number | boolean | bigint): TypeIR => (keep ? { kind: 'literal', value } : { kind: typeof value as 'string' | 'number' | 'boolean' | 'bigint' })
    switch (e.type) {
      case 'TSAsExpression':
        if (e.typeAnnotation.type === 'TSTypeReference' && e.typeAnnotation.typeName.type === 'Identifier' && e.typeAnnotation.typeName.name === 'const') return this.valueType(e.expression, mod, env, path, true)
        return this.type(e.typeAnnotation, mod, env, path)
      case 'TSSatisfiesExpression':
        // `satisfies` keeps the literal types its target asks for: only `as const satisfies T` is known without it.
        return e.expression.type === 'TSAsExpression' ? this.valueType(e.expression, mod, env, path, asConst, top) : undefined
      case 'ParenthesizedExpression':
        return this.valueType(e.expression, mod, env, path, asConst, top)
      case 'StringLiteral':
        return lit(e.value)
      case 'NumericLiteral':
        return lit(e.value)
      case 'BooleanLiteral':
        return lit(e.value)
      case 'BigIntLiteral':
        return lit(BigInt(e.value))
      case 'UnaryExpression':
        return e.operator === '-' && e.argument.type === 'NumericLiteral' ? lit(-e.argument.value) : undefined
      case 'TemplateLiteral':
        return e.expressions.length === 0 ? lit(e.quasis[0]!.value.cooked ?? '') : undefined
      case 'NullLiteral':
        return { kind: 'null' }
      case 'ArrowFunctionExpression':
      case 'FunctionExpression':
        return { kind: 'function' }
      case 'Identifier':
        return e.name === 'undefined' ? { kind: 'undefined' } : undefined
      case 'ArrayExpression': {
        const items: TypeIR[] = []
        for (const el of e.elements) {
          const x = el && el.type !== 'SpreadElement' ? this.valueType(el, mod, env, path, asConst) : undefined
          if (!x) return undefined
          items.push(x)
        }
        if (asConst) return { kind: 'tuple', elements: items.map((type) => ({ type })), readonly: true }
        return items.length ? { kind: 'array', element: union(items) } : undefined
      }
      case 'ObjectExpression': {
        const properties: PropertyIR[] = []
        for (const p of e.properties) {
          // A method (`onClick() {}`) is a property holding a function; a getter or setter, a spread or a shorthand is not known here.
          const method = p.type === 'ObjectMethod' && p.kind === 'method'
          if ((p.type !== 'ObjectProperty' && !method) || p.computed || (p.type === 'ObjectProperty' && p.shorthand)) return undefined
          const key = p.key.type === 'Identifier' ? p.key.name : p.key.type === 'StringLiteral' ? p.key.value : p.key.type === 'NumericLiteral' ? String(p.key.value) : undefined
          const type = key === undefined ? undefined : p.type === 'ObjectMethod' ? { kind: 'function' as const } : this.valueType(p.value, mod, env, path, asConst)
          if (key === undefined || !type) return undefined
          const prop: PropertyIR = { name: key, type, optional: false, ...(asConst ? { readonly: true } : {}), ...(p.key.type === 'NumericLiteral' ? { numeric: true } : {}) }
          const i = properties.findIndex((x) => x.name === key)
          if (i >= 0) properties[i] = prop
          else properties.push(prop)
        }
        return { kind: 'objectType', properties }
      }
      default:
        return undefined
    }
  }

  private keyof(node: t.TSTypeOperator, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const target = this.objectOf(this.type(node.typeAnnotation, mod, env, path))
    if (!target) return this.unknown(node, mod, path, '`keyof` of a type that is not a resolvable object type')
    const keys: TypeIR[] = target.properties.map((p) => ({ kind: 'literal', value: p.numeric ? Number(p.name) : p.name }))
    for (const s of target.indexSignatures ?? []) {
      const k = this.deref(s.key)
      if (k.kind === 'string') keys.push({ kind: 'string' }, { kind: 'number' })
      else keys.push(s.key)
    }
    return union(keys)
  }

  private indexedAccess(node: t.TSIndexedAccessType, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const objectIR = this.type(node.objectType, mod, env, path)
    const index = this.deref(this.type(node.indexType, mod, env, path))
    const target = this.deref(objectIR)
    if ((target.kind === 'array' || target.kind === 'tuple') && index.kind === 'number') {
      return target.kind === 'array' ? target.element : union(target.elements.map((e) => (e.rest ? this.elementOf(e.type) : e.type)))
    }
    // On a union of object types (`Action['type']`) the property is read from every member, as tsc does.
    const single = this.objectOf(objectIR)
    const objects = single ? [single] : target.kind === 'union' ? this.unionMembers(objectIR).map((m) => this.objectOf(m)) : []
    const names = literalStrings(index, (x) => this.deref(x))
    if (objects.length && objects.every((o) => o) && names) {
      const picked: TypeIR[] = []
      for (const obj of objects) {
        for (const n of names) {
          const prop = obj!.properties.find((p) => p.name === n)
          if (!prop) return this.unknown(node, mod, path, `property "${n}" does not exist on the indexed type`)
          picked.push(prop.optional ? union([prop.type, { kind: 'undefined' }]) : prop.type)
        }
      }
      return union(picked)
    }
    return this.unknown(node, mod, path, 'indexed access on a type that is not resolvable')
  }

  private elementOf(t: TypeIR): TypeIR {
    const d = this.deref(t)
    return d.kind === 'array' ? d.element : { kind: 'unknown' }
  }

  private reference(node: t.TSTypeReference, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const args = node.typeParameters?.params ?? []
    if (node.typeName.type === 'TSQualifiedName') return this.qualified(node, node.typeName, mod, env, path)
    const name = node.typeName.name
    if (env.has(name)) {
      const bound = env.get(name)
      return bound ?? this.unknown(node, mod, path, `generic type parameter ${name}`)
    }
    const found = this.lookup(mod, name)
    if (found && 'decl' in found) return this.declaration(found.decls, found.mod, args, mod, env, node, path)
    if (found && 'package' in found) return this.fromPackage(node, mod, path, found.package)
    if (found && 'missing' in found) return this.unknown(node, mod, path, found.missing, found.brief)
    return this.builtin(name, args, node, mod, env, path)
  }

  private qualified(node: t.TSTypeReference, q: t.TSQualifiedName, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const right = q.right.name
    // `ns.Order`, `ns.models.Order`: a namespace import, or a namespace a module re-exports (`export * as models from`).
    const ns = this.namespace(mod, q.left, 0)
    if (ns && 'package' in ns) return this.fromPackage(node, mod, path, ns.package)
    if (ns && 'missing' in ns) return this.unknown(node, mod, path, ns.missing, ns.brief)
    if (ns) {
      const found = this.exported(ns.mod, right, new Set())
      if (found && 'decl' in found) return this.declaration(found.decls, found.mod, node.typeParameters?.params ?? [], mod, env, node, path)
      return this.unknown(node, mod, path, `"${right}" is not exported by ${mod.code.slice(q.left.start!, q.left.end!)}`)
    }
    if (q.left.type !== 'Identifier') return this.unknown(node, mod, path, 'deeply qualified names are not resolved')
    const left = q.left.name
    const found = this.lookup(mod, left)
    if (found && 'decl' in found) {
      const decl = found.decls[0]!
      if (decl.type === 'TSEnumDeclaration') {
        const e = this.enumOf(decl, found.mod)
        const member = e.members.find((m) => m.name === right)
        if (member) return { kind: 'literal', value: member.value }
        return this.unknown(node, mod, path, `enum ${left} has no member ${right}`)
      }
    }
    if (found && 'package' in found) return this.fromPackage(node, mod, path, found.package)
    return this.unknown(node, mod, path, 'namespaces are not resolved')
  }

  /** Global types TypeScript ships, recognised only when no declaration of the same name shadows them. */
  private builtin(name: string, args: t.TSType[], node: t.TSTypeReference, mod: ModuleInfo, env: Env, path: string): TypeIR {
    const arg = (i: number, p = path) => (args[i] ? this.type(args[i]!, mod, env, p) : undefined)
    switch (name) {
      case 'Date':
        return { kind: 'date' }
      case 'String':
        return { kind: 'string' }
      case 'Number':
        return { kind: 'number' }
      case 'Boolean':
        return { kind: 'boolean' }
      case 'Function':
        return { kind: 'function' }
      case 'Object':
        return { kind: 'objectType', properties: [] }
      case 'Array':
      case 'ReadonlyArray': {
        const el = arg(0, `${path}[]`)
        if (!el) return this.unknown(node, mod, path, `${name} without a type argument`)
        return { kind: 'array', element: el, ...(name === 'ReadonlyArray' ? { readonly: true } : {}) }
      }
      case 'Record': {
        const k = arg(0)
        const v = arg(1, `${path}[string]`)
        if (!k || !v) return this.unknown(node, mod, path, 'Record needs two type arguments')
        return this.record(k, v, node, mod, path)
      }
      case 'Partial':
      case 'Required':
      case 'Readonly': {
        const target = arg(0)
        if (!target) return this.unknown(node, mod, path, `${name} needs a type argument`)
        const d = this.deref(target)
        if (name === 'Readonly' && (d.kind === 'array' || d.kind === 'tuple')) return { ...d, readonly: true }
        const obj = this.objectOf(target)
        if (!obj) return this.unknown(node, mod, path, `${name} of a type that is not a resolvable object type`)
        return {
          ...obj,
          name: undefined,
          properties: obj.properties.map((p) =>
            name === 'Partial' ? { ...p, optional: true, ...(this.exact ? { exact: true } : {}) } : name === 'Required' ? withoutOptional(p) : { ...p, readonly: true },
          ),
          // `?` on a mapped index signature adds undefined to its values.
          ...(name === 'Partial' && obj.indexSignatures ? { indexSignatures: obj.indexSignatures.map((s) => ({ ...s, value: union([s.value, { kind: 'undefined' }]) })) } : {}),
        }
      }
      case 'Pick':
      case 'Omit': {
        const target = arg(0)
        const keys = arg(1)
        const obj = target && this.objectOf(target)
        const names = keys && literalStrings(keys, (x) => this.deref(x))
        if (!obj || !names) return this.unknown(node, mod, path, `${name} of a type that is not a resolvable object type with literal keys`)
        // Omit<T, K> is Pick<T, Exclude<keyof T, K>>: with a string index signature keyof T is string | number, which
        // Exclude leaves whole, so only the index signatures remain and the declared properties are gone.
        const stringIndexed = name === 'Omit' && (obj.indexSignatures ?? []).some((s) => this.deref(s.key).kind === 'string')
        const properties = stringIndexed ? [] : obj.properties.filter((p) => (name === 'Pick' ? names.includes(p.name) : !names.includes(p.name)))
        return { kind: 'objectType', properties, ...(name === 'Omit' && obj.indexSignatures ? { indexSignatures: obj.indexSignatures } : {}) }
      }
      case 'NonNullable': {
        const target = arg(0)
        if (!target) return this.unknown(node, mod, path, 'NonNullable needs a type argument')
        const d = this.deref(target)
        if (d.kind === 'union') return union(d.types.filter((x) => x.kind !== 'null' && x.kind !== 'undefined'))
        return target
      }
      case 'Exclude':
      case 'Extract': {
        const from = arg(0)
        const what = arg(1)
        if (!from || !what) return this.unknown(node, mod, path, `${name} needs two type arguments`)
        const targets = this.unionMembers(what).map((x) => this.deref(x))
        // A conditional type distributes over the members of a union (boolean being true | false); an aliased union
        // kept whole keeps its name, for messages.
        const distribute = (t: TypeIR, depth: number): TypeIR[] | undefined => {
          const d = this.deref(t)
          const parts: TypeIR[] | undefined = d.kind === 'union' && depth < 10 ? d.types : d.kind === 'boolean' ? [{ kind: 'literal', value: true }, { kind: 'literal', value: false }] : undefined
          if (!parts) {
            const fits = assignableTo(d, targets)
            return fits === undefined ? undefined : fits === (name === 'Extract') ? [t] : []
          }
          const kept: TypeIR[] = []
          for (const part of parts) {
            const k = distribute(part, depth + 1)
            if (!k) return undefined
            kept.push(...k)
          }
          return kept.length === parts.length && kept.every((k, i) => k === parts[i]) ? [t] : kept
        }
        const kept = distribute(from, 0)
        if (!kept) return this.unknown(node, mod, path, `${name} is resolved only over literals, primitives and object types told apart from primitives`)
        return union(kept)
      }
      case 'Promise':
      case 'PromiseLike':
        return this.unknown(node, mod, path, 'a Promise inside a value is not checked')
      default:
        // A class the platform ships is a type to TypeScript like any other, checked by its members (a class of your
        // own that implements Map is a Map to it): no instanceof test can say the same, so it is left unchecked.
        if (LIB_CLASSES.has(name)) return this.unknown(node, mod, path, `${name} is a built-in class, which is not checked (TypeScript checks it by its members)`, `built-in ${name} not checked`)
        return this.unknown(node, mod, path, `${name} is not declared in this file or a relative import`)
    }
  }

  private record(k: TypeIR, v: TypeIR, node: t.Node, mod: ModuleInfo, path: string): TypeIR {
    const key = this.deref(k)
    const names = literalStrings(key, (x) => this.deref(x))
    if (names) {
      const numbers = new Set(literalStrings(key, (x) => this.deref(x), 'number'))
      return { kind: 'objectType', properties: names.map((name) => ({ name, type: v, optional: false, ...(numbers.has(name) ? { numeric: true } : {}) })) }
    }
    const parts = key.kind === 'union' ? key.types.map((x) => this.deref(x)) : [key]
    if (parts.every((p) => p.kind === 'string' || p.kind === 'number' || p.kind === 'template' || p.kind === 'symbol')) return { kind: 'record', key: k, value: v }
    return this.unknown(node, mod, path, 'Record key is not string, number, a template or a union of literals')
  }

  /** A named declaration as a `ref` into `types` (instantiated per type-argument list for generics). */
  private declaration(decls: Decl[], declMod: ModuleInfo, argNodes: t.TSType[], useMod: ModuleInfo, useEnv: Env, node: t.Node, path: string): TypeIR {
    const first = decls[0]!
    const name = first.id!.name
    if (first.type === 'ClassDeclaration' && decls.length > 1) return this.unknown(node, useMod, path, `class ${name} merged with an interface is not checked structurally`)
    if (first.type === 'TSEnumDeclaration') return this.ref(declMod, name, '', () => this.enumOf(first, declMod))

    const tp = first.typeParameters
    const params = tp && tp.type === 'TSTypeParameterDeclaration' ? tp.params : []
    const args = argNodes.map((a) => this.type(a, useMod, useEnv, path))
    const env: Env = new Map()
    params.forEach((p, i) => {
      const given = args[i]
      const fallback = p.default ? this.type(p.default, declMod, env, path) : null
      env.set(p.name, given ?? fallback)
    })
    const unbound = [...env].filter(([, v]) => v === null).map(([k]) => k)
    if (unbound.length) return this.unknown(node, useMod, path, `generic ${name} used without type arguments for ${unbound.join(', ')}`)
    const argText = params.length ? `<${args.map((a) => this.describeShort(a)).join(', ')}>` : ''
    if (this.instantiationDepth > MAX_INSTANTIATION_DEPTH) return this.unknown(node, useMod, path, `instantiation of ${name} is too deep`)
    return this.ref(declMod, name, argText, () => {
      this.instantiationDepth++
      try {
        if (first.type === 'TSTypeAliasDeclaration') return this.type(first.typeAnnotation, declMod, env, name)
        if (first.type === 'ClassDeclaration') return this.classOf(first, declMod, env, name + argText, node, useMod, path)
        return this.interfaceOf(decls as t.TSInterfaceDeclaration[], declMod, env, name + argText)
      } finally {
        this.instantiationDepth--
      }
    })
  }

  private ref(mod: ModuleInfo, name: string, argText: string, build: () => TypeIR): TypeIR {
    const id = `${mod.file}\0${name}\0${argText}`
    let key = this.keys.get(id)
    if (key === undefined) {
      key = name + argText
      for (let n = 2; key in this.types; n++) key = `${name}${argText}#${n}`
      this.keys.set(id, key)
      this.types[key] = { kind: 'unknown', reason: 'resolving' }
      const built = build()
      this.types[key] = built.kind === 'objectType' && built.name === undefined ? { ...built, name: key } : built
    }
    return { kind: 'ref', name: key }
  }

  private interfaceOf(decls: t.TSInterfaceDeclaration[], mod: ModuleInfo, env: Env, name: string): TypeIR {
    const properties: PropertyIR[] = []
    const indexSignatures: { key: TypeIR; value: TypeIR }[] = []
    let callable = false
    const add = (obj: Extract<TypeIR, { kind: 'objectType' }>) => {
      for (const p of obj.properties) {
        const i = properties.findIndex((q) => q.name === p.name)
        if (i >= 0) properties[i] = p
        else properties.push(p)
      }
      indexSignatures.push(...(obj.indexSignatures ?? []))
    }
    for (const decl of decls) {
      for (const h of decl.extends ?? []) {
        const base = h.expression
        const ref: t.TSTypeReference = {
          type: 'TSTypeReference',
          typeName: base.type === 'Identifier' ? base : (base as t.TSQualifiedName),
          typeParameters: h.typeParameters ?? null,
          start: h.start,
          end: h.end,
        } as t.TSTypeReference
        const resolved = this.type(ref, mod, env, name)
        // A callable base (see callableWith) passes its call signature on with its properties.
        const d = this.deref(resolved)
        const parts = d.kind === 'intersection' ? d.types.map((x) => this.deref(x)) : [d]
        const fn = parts.some((p) => p.kind === 'function')
        if (fn) callable = true
        const rest = parts.filter((p) => p.kind !== 'function')
        const obj = !fn ? this.objectOf(resolved) : rest.length === 0 ? { kind: 'objectType' as const, properties: [] } : rest.length === 1 ? this.objectOf(rest[0]!) : undefined
        if (obj) add(obj)
        else this.report(name, mod.code.slice(h.start!, h.end!), 'base interface is not a resolvable object type')
      }
    }
    for (const decl of decls) {
      const own = this.membersOf(decl.body.body, mod, env, name)
      add(own.object)
      callable ||= own.callable
    }
    const object: Extract<TypeIR, { kind: 'objectType' }> = { kind: 'objectType', properties, ...(indexSignatures.length ? { indexSignatures } : {}), name }
    return callable ? callableWith(object) : object
  }

  /**
   * A class as TypeScript checks a value against it: by its public instance members (fields, parameter properties,
   * accessors, methods), its base class's included. Private, protected and #private members make tsc ask for an
   * instance of the class itself, which a phase module cannot name: those are not checked.
   */
  private classOf(decl: t.ClassDeclaration, mod: ModuleInfo, env: Env, name: string, node: t.Node, useMod: ModuleInfo, path: string): TypeIR {
    const properties: PropertyIR[] = []
    const add = (p: PropertyIR) => {
      const i = properties.findIndex((q) => q.name === p.name)
      if (i >= 0) properties[i] = p
      else properties.push(p)
    }
    if (decl.superClass) {
      if (decl.superClass.type !== 'Identifier') return this.unknown(node, useMod, path, `the base class of ${decl.id!.name} is not a plain name`)
      const base = this.objectOf(this.type({ type: 'TSTypeReference', typeName: decl.superClass, typeParameters: decl.superTypeParameters ?? null, start: decl.superClass.start, end: decl.superClass.end } as t.TSTypeReference, mod, env, name))
      if (!base) return this.unknown(node, useMod, path, `the base class of ${decl.id!.name} is not resolvable`)
      base.properties.forEach(add)
    }
    const annotated = (a: t.Node | null | undefined): TypeIR | undefined => (a?.type === 'TSTypeAnnotation' ? this.type(a.typeAnnotation, mod, env, name) : undefined)
    const hidden = (m: { accessibility?: string | null; static?: boolean | null }) => !!m.static || m.accessibility === 'private' || m.accessibility === 'protected'
    for (const m of decl.body.body) {
      if (m.type === 'ClassProperty' || m.type === 'ClassAccessorProperty' || m.type === 'ClassMethod' || m.type === 'TSDeclareMethod') {
        if (hidden(m)) continue
        const key = m.key.type === 'PrivateName' ? undefined : propertyName(m.key, !!m.computed)
        if (m.type === 'ClassMethod' && m.kind === 'constructor') {
          for (const p of m.params) {
            if (p.type !== 'TSParameterProperty' || p.accessibility === 'private' || p.accessibility === 'protected') continue
            const id = p.parameter.type === 'AssignmentPattern' ? p.parameter.left : p.parameter
            if (id.type !== 'Identifier') continue
            add({ name: id.name, type: annotated(id.typeAnnotation) ?? { kind: 'any' }, optional: !!id.optional, ...(p.readonly ? { readonly: true } : {}) })
          }
          continue
        }
        if (key === undefined) return this.unknown(node, useMod, path, `class ${decl.id!.name} has a computed member`)
        let type: TypeIR
        if (m.type === 'ClassProperty' || m.type === 'ClassAccessorProperty') {
          // An initializer gives the type tsc infers: a literal's own for a readonly field, its primitive otherwise.
          type = annotated(m.typeAnnotation) ?? (m.value ? this.valueType(m.value, mod, env, name, false, m.type === 'ClassProperty' && !!m.readonly) : undefined) ?? { kind: 'any' }
        } else if (m.kind === 'get') type = annotated(m.returnType) ?? { kind: 'any' }
        else if (m.kind === 'set') {
          if (properties.some((p) => p.name === key)) continue
          const param = m.params[0]
          type = (param && param.type === 'Identifier' ? annotated(param.typeAnnotation) : undefined) ?? { kind: 'any' }
        } else type = { kind: 'function' }
        // A field with no initializer that may hold undefined need not be there at all: a `declare` field, or any field
        // compiled without useDefineForClassFields, is not defined on the instance until something assigns it.
        const unset = (m.type === 'ClassProperty' || m.type === 'ClassAccessorProperty') && !m.value && this.mayBeUndefined(type)
        add({ name: key, type, optional: !!m.optional || unset })
      }
    }
    return { kind: 'objectType', properties, name }
  }

  private mayBeUndefined(t: TypeIR, depth = 0): boolean {
    const d = this.deref(t)
    if (['undefined', 'void', 'any', 'unknown'].includes(d.kind)) return true
    return d.kind === 'union' && depth < 10 && d.types.some((x) => this.mayBeUndefined(x, depth + 1))
  }

  private enumOf(decl: t.TSEnumDeclaration, mod: ModuleInfo): Extract<TypeIR, { kind: 'enum' }> {
    const members: { name: string; value: string | number }[] = []
    let next: number | undefined = 0
    const all = enumMembers(decl)
    for (const m of all) {
      const name = m.id.type === 'Identifier' ? m.id.name : m.id.value
      let value: string | number | undefined
      if (m.initializer) value = evalEnum(m.initializer, members)
      else value = next
      if (value === undefined) {
        this.report(decl.id.name, mod.code.slice(m.start!, m.end!), `enum member ${name} has a computed value`)
        next = undefined
        continue
      }
      members.push({ name, value })
      next = typeof value === 'number' ? value + 1 : undefined
    }
    return { kind: 'enum', name: decl.id.name, members }
  }

  /** Follows `ref`s to the declaration they point to. */
  deref(t: TypeIR): TypeIR {
    return derefType(this.types, t)
  }

  /** The type as one object type, when it is one (or an intersection of them). */
  private objectOf(t: TypeIR): Extract<TypeIR, { kind: 'objectType' }> | undefined {
    const d = this.deref(t)
    if (d.kind === 'objectType') return d
    if (d.kind === 'intersection') {
      const parts = d.types.map((x) => this.objectOf(x))
      if (parts.some((p) => !p)) return undefined
      const properties: PropertyIR[] = []
      const indexSignatures: { key: TypeIR; value: TypeIR }[] = []
      for (const part of parts) {
        for (const p of part!.properties) {
          const i = properties.findIndex((q) => q.name === p.name)
          if (i < 0) properties.push(p)
          else {
            const prev = properties[i]!
            properties[i] = { name: p.name, type: { kind: 'intersection', types: [prev.type, p.type] }, optional: prev.optional && p.optional, ...(prev.optional && p.optional && prev.exact && p.exact ? { exact: true } : {}), ...(prev.numeric ? { numeric: true } : {}) }
          }
        }
        indexSignatures.push(...(part!.indexSignatures ?? []))
      }
      return { kind: 'objectType', properties, ...(indexSignatures.length ? { indexSignatures } : {}) }
    }
    return undefined
  }

  private describeShort(t: TypeIR): string {
    switch (t.kind) {
      case 'ref':
        return t.name
      case 'literal':
        return typeof t.value === 'string' ? JSON.stringify(t.value) : String(t.value)
      case 'array':
        return `${this.describeShort(t.element)}[]`
      case 'union':
        return t.types.map((x) => this.describeShort(x)).join(' | ')
      case 'objectType':
        return t.name ?? 'object'
      default:
        return t.kind
    }
  }

  /** What `name` means in `mod`: a declaration (possibly imported), a package import, or a missing export. */
  /**
   * What a name stands for in `mod`, through imports and re-exports. Types and values have separate names in
   * TypeScript: in the value space (what `typeof` asks about) a name is a `const`, or an enum or class.
   */
  private lookup(mod: ModuleInfo, name: string, space: 'type' | 'value' = 'type'): { decl: true; decls: Decl[]; mod: ModuleInfo } | { value: t.VariableDeclarator; mod: ModuleInfo } | { package: string } | Missing | undefined {
    const value = space === 'value' ? mod.values.get(name) : undefined
    if (value) return { value, mod }
    const local = mod.decls.get(name)?.filter((d) => space === 'type' || d.type === 'TSEnumDeclaration' || d.type === 'ClassDeclaration')
    if (local?.length) return { decl: true, decls: local, mod }
    const imp = mod.imports.get(name)
    if (!imp) return undefined
    const target = this.importTarget(mod.file, imp.source)
    if (!('mod' in target)) return target
    return this.exported(target.mod, imp.imported, new Set(), space) ?? { missing: `"${imp.imported}" is not exported by "${imp.source}"` }
  }

  private exported(mod: ModuleInfo, name: string, seen: Set<string>, space: 'type' | 'value' = 'type'): ReturnType<Resolver['lookup']> {
    const key = `${mod.file}\0${name}`
    if (seen.has(key)) return undefined
    seen.add(key)
    const e = mod.exports.get(name)
    if (e && 'local' in e) return this.lookup(mod, e.local, space)
    if (e && 'source' in e) {
      const target = this.importTarget(mod.file, e.source)
      return 'mod' in target ? this.exported(target.mod, e.imported, seen, space) : target
    }
    for (const source of mod.starExports) {
      const target = this.importTarget(mod.file, source)
      const found = 'mod' in target && this.exported(target.mod, name, seen, space)
      if (found) return found
    }
    return undefined
  }

  /** The module a namespace name stands for in `mod` (`import * as ns`, or one re-exported as a namespace); undefined when it is none. */
  private namespace(mod: ModuleInfo, entity: t.TSEntityName, depth: number): ReturnType<Resolver['importTarget']> | undefined {
    if (depth > 20) return undefined
    if (entity.type === 'TSQualifiedName') {
      const outer = this.namespace(mod, entity.left, depth + 1)
      return outer && 'mod' in outer ? this.exportedNamespace(outer.mod, entity.right.name, depth + 1) : outer
    }
    if (entity.type !== 'Identifier') return undefined
    const imp = mod.imports.get(entity.name)
    if (!imp) return undefined
    const target = this.importTarget(mod.file, imp.source)
    if (imp.imported === '*' || !('mod' in target)) return target
    return this.exportedNamespace(target.mod, imp.imported, depth + 1)
  }

  /** The module `mod` exports as `name`, when that export is a namespace (`export * as name from`, `export { ns as name }`). */
  private exportedNamespace(mod: ModuleInfo, name: string, depth: number): ReturnType<Resolver['importTarget']> | undefined {
    if (depth > 20) return undefined
    const e = mod.exports.get(name)
    if (e && 'local' in e) return this.namespace(mod, { type: 'Identifier', name: e.local } as t.Identifier, depth + 1)
    if (e && 'source' in e) {
      const target = this.importTarget(mod.file, e.source)
      return e.imported === '*' || !('mod' in target) ? target : this.exportedNamespace(target.mod, e.imported, depth + 1)
    }
    for (const source of mod.starExports) {
      const target = this.importTarget(mod.file, source)
      const found = 'mod' in target ? this.exportedNamespace(target.mod, name, depth + 1) : undefined
      if (found) return found
    }
    return undefined
  }

  /**
   * The module a specifier names, as TypeScript finds it: relative to the importing file, or through the `paths` and
   * `baseUrl` of the tsconfig.json that governs it; a specifier neither maps is a package's.
   */
  private importTarget(from: string, specifier: string): { mod: ModuleInfo } | { package: string } | Missing {
    if (isRelative(specifier)) {
      const mod = this.load(resolvePath(dirname(from), specifier))
      return mod ? { mod } : { missing: `cannot find module "${specifier}" from ${this.shown(from)}` }
    }
    const mapped = this.mapping(from)
    const to = mapped && mapSpecifier(mapped, specifier)
    // tsconfig `paths` come first, as in TypeScript; a `#` specifier they do not map is a package.json subpath import.
    if (specifier.startsWith('#') && !to?.pattern) return this.subpathImport(from, specifier)
    if (!to) return this.workspacePackage(from, specifier)
    for (const base of to.paths) {
      const mod = this.load(base)
      if (mod) return { mod }
    }
    // Under `baseUrl` every package name maps too: only a `paths` pattern that matched tells of a missing file.
    if (!to.pattern) return this.workspacePackage(from, specifier)
    return { missing: `cannot find module "${specifier}" (tsconfig.json "paths" entry "${to.pattern}" maps it to ${to.paths.map((p) => this.shown(p)).join(', ')})` }
  }

  /**
   * A package of the repository's own workspace (linked into node_modules, its real path outside them) is the
   * project's code: its types are read from where its package.json points TypeScript. Any other package's are not.
   */
  private workspacePackage(from: string, specifier: string): ReturnType<Resolver['importTarget']> {
    const mapped = mapWorkspacePackage(from, specifier, this.readFile)
    if (!mapped) return { package: specifier }
    this.dependencies.add(mapped.pkg)
    // A package whose project the tsconfig.json references is read from its sources, built or not, as TypeScript's
    // editors read it: its `types` point at declarations that only `tsc -b` writes.
    const projects = mapped.paths.length ? this.referencedProjects(from) : undefined
    for (const base of mapped.paths) {
      for (const source of projects ? sourcesOf(projects, base) : []) {
        const mod = this.load(source)
        if (mod) return { mod }
      }
      const mod = this.load(base)
      if (mod) return { mod }
    }
    const where = mapped.paths.map((p) => this.shown(p)).join(', ') || 'nothing'
    const packageDir = dirname(mapped.pkg)
    const inPackage = mapped.paths.map((p) => relative(packageDir, p).split(sep).join('/')).join(', ')
    return {
      missing: `cannot find the types of "${specifier}": the package.json of the workspace package (${this.shown(mapped.pkg)}) points to ${where}, not there (build that package, or point its "types" at its sources)`,
      brief: !inPackage
        ? `${this.shown(packageDir)} has no types for "${specifier}" in its package.json`
        : mapped.paths.some((p) => BUILT_FILE.test(p))
          ? `${this.shown(packageDir)} not built (${inPackage} missing)`
          : `${this.shown(packageDir)}: ${inPackage} missing`,
    }
  }

  /** `#…` names an entry of the `imports` of the package.json the file belongs to (Node's subpath imports). */
  private subpathImport(from: string, specifier: string): ReturnType<Resolver['importTarget']> {
    const mapped = mapSubpathImport(from, specifier, this.readFile, this.input.root)
    for (const f of mapped?.files ?? []) this.dependencies.add(f)
    if (!mapped) return { missing: `"${specifier}" is not an entry of the "imports" of the package.json above ${this.shown(from)}` }
    for (const base of mapped.paths) {
      const mod = this.load(base)
      if (mod) return { mod }
    }
    return { missing: `cannot find module "${specifier}" (the "imports" of ${this.shown(mapped.pkg)} map it to ${mapped.paths.map((p) => this.shown(p)).join(', ') || 'nothing here'})` }
  }

  /**
   * A file as a reason names it: relative to the project root when there is one, since reasons are part of the
   * resolved types and so of the lock's input hashes, which must not depend on where the project is checked out.
   */
  private shown(file: string): string {
    const { root } = this.input
    return root ? relative(root, file).split(sep).join('/') : file
  }

  /**
   * A type from a package is accepted unchecked. An alias no tsconfig.json maps is named as one in the report; the
   * type keeps the package reason, on which the input hashes of existing lock entries rest.
   */
  private fromPackage(node: t.Node, mod: ModuleInfo, path: string, specifier: string): TypeIR {
    const reason = `type from package "${specifier}"`
    if (!/^(?:@\/|[~$])/.test(specifier)) return this.unknown(node, mod, path, reason)
    this.report(
      path,
      mod.code.slice(node.start!, node.end!),
      `"${specifier}" is an alias no tsconfig.json "paths" entry maps (a bundler alias alone is not followed): add it to "paths", or import the type relatively`,
      `alias "${specifier}" not in tsconfig.json "paths"`,
    )
    return { kind: 'unknown', reason, text: mod.code.slice(node.start!, node.end!) }
  }

  private mapping(from: string): PathMapping | undefined {
    return this.nearestConfig(this.configs.mappings, from, findPathMapping)
  }

  private referencedProjects(from: string): ReferencedProjects | undefined {
    return this.nearestConfig(this.configs.references, from, findReferencedProjects)
  }

  /** What `find` reads from the tsconfig.json governing `from`, once per directory; the files it read are dependencies. */
  private nearestConfig<T extends { files: string[] }>(
    cache: Map<string, T | null>,
    from: string,
    find: (file: string, read: (path: string) => string | undefined) => T | undefined,
  ): T | undefined {
    const dir = dirname(from)
    let found = cache.get(dir)
    if (found === undefined) {
      found = find(from, this.readFile) ?? null
      cache.set(dir, found)
    }
    for (const f of found?.files ?? []) this.dependencies.add(f)
    return found ?? undefined
  }

  private load(base: string): ModuleInfo | undefined {
    for (const candidate of candidates(base)) {
      if (this.modules.has(candidate)) {
        const cached = this.modules.get(candidate)
        if (cached) return cached
        continue
      }
      const code = this.readFile(candidate)
      if (code === undefined) {
        this.modules.set(candidate, undefined)
        continue
      }
      this.dependencies.add(candidate)
      const info = parsedModule(candidate, code)
      this.modules.set(candidate, info)
      if (info) return info
    }
    return undefined
  }
}

type TemplateParts = NonNullable<Extract<TypeIR, { kind: 'template' }>['parts']>
type TemplateHole = TemplateParts['holes'][number]

const MAX_TEMPLATE_EXPANSION = 64

/**
 * Regular-expression sources for template holes. They over-approximate (TypeScript's `number` is "`+s` is finite",
 * which overflow escapes); the compiled check uses the exact rule, these serve tools that want one pattern.
 */
export const HOLE_PATTERNS: Record<TemplateHole, string> = {
  string: '[\\s\\S]*',
  number: '(?:\\s+|\\s*(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)\\s*)',
  bigint: '-?(?:0|[1-9]\\d*|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)',
}

function concatParts(a: TemplateParts, b: TemplateParts): TemplateParts {
  return {
    texts: [...a.texts.slice(0, -1), a.texts[a.texts.length - 1]! + b.texts[0]!, ...b.texts.slice(1)],
    holes: [...a.holes, ...b.holes],
  }
}

function templatePattern(p: TemplateParts): string {
  return `^${p.texts.map((t, i) => escapeRegExp(t) + (i < p.holes.length ? HOLE_PATTERNS[p.holes[i]!] : '')).join('')}$`
}

function templateText(p: TemplateParts): string {
  return `\`${p.texts.map((t, i) => t.replace(/[`\\$]/g, '\\$&') + (i < p.holes.length ? `\${${p.holes[i]}}` : '')).join('')}\``
}

/** Parsed declaration files, reused across functions and builds while their text is unchanged. */
const parsed = new Map<string, { code: string; info: ModuleInfo | undefined }>()
const MAX_PARSED = 1000

function parsedModule(file: string, code: string): ModuleInfo | undefined {
  const hit = parsed.get(file)
  if (hit && hit.code === code) return hit.info
  let info: ModuleInfo | undefined
  try {
    // A Vue or Svelte component (`import type { Props } from './Child.vue'`): its script blocks, at their own positions.
    const scripts = COMPONENT_FILE.test(file) ? componentParts(code, file).scripts : undefined
    const text = scripts ? keepOnly(code, scripts) : code
    const jsx = scripts ? scripts.some((b) => b.lang.endsWith('x')) : /\.[cm]?tsx$/.test(file)
    const ast = parse(text, {
      sourceType: 'module',
      plugins: [['typescript', { dts: file.endsWith('.d.ts') }], 'decorators', 'decoratorAutoAccessors', ...(jsx ? (['jsx'] as const) : [])],
      errorRecovery: true,
    })
    info = collectModule(file, text, ast)
  } catch {
    info = undefined
  }
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!)
  parsed.set(file, { code, info })
  return info
}

function collectModule(file: string, code: string, ast: t.File): ModuleInfo {
  const info: ModuleInfo = { file, code, decls: new Map(), values: new Map(), imports: new Map(), exports: new Map(), starExports: [] }
  const declare = (d: t.Node | null | undefined, exportedAs?: string) => {
    if (!d) return
    if (d.type === 'VariableDeclaration' && d.kind === 'const') {
      for (const v of d.declarations) {
        if (v.id.type !== 'Identifier') continue
        info.values.set(v.id.name, v)
        if (exportedAs) info.exports.set(v.id.name, { local: v.id.name })
      }
      return
    }
    if (d.type === 'TSInterfaceDeclaration' || d.type === 'TSTypeAliasDeclaration' || d.type === 'TSEnumDeclaration' || (d.type === 'ClassDeclaration' && d.id)) {
      const name = d.id!.name
      const list = info.decls.get(name) ?? []
      list.push(d)
      info.decls.set(name, list)
      if (exportedAs) info.exports.set(exportedAs === '*self' ? name : exportedAs, { local: name })
    }
  }
  for (const s of ast.program.body) {
    if (s.type === 'ImportDeclaration') {
      for (const sp of s.specifiers) {
        const imported = sp.type === 'ImportDefaultSpecifier' ? 'default' : sp.type === 'ImportNamespaceSpecifier' ? '*' : sp.imported.type === 'Identifier' ? sp.imported.name : sp.imported.value
        info.imports.set(sp.local.name, { source: s.source.value, imported })
      }
    } else if (s.type === 'ExportNamedDeclaration') {
      if (s.declaration) declare(s.declaration, '*self')
      for (const sp of s.specifiers) {
        const exported = sp.exported.type === 'Identifier' ? sp.exported.name : sp.exported.value
        if (sp.type === 'ExportSpecifier') {
          if (s.source) info.exports.set(exported, { source: s.source.value, imported: sp.local.name })
          else info.exports.set(exported, { local: sp.local.name })
        } else if (sp.type === 'ExportNamespaceSpecifier' && s.source) {
          info.imports.set(exported, { source: s.source.value, imported: '*' })
          info.exports.set(exported, { source: s.source.value, imported: '*' })
        }
      }
    } else if (s.type === 'ExportDefaultDeclaration') {
      const d = s.declaration
      if ((d as t.Node).type === 'TSInterfaceDeclaration' || (d.type === 'ClassDeclaration' && d.id)) declare(d, 'default')
      else if (d.type === 'Identifier') info.exports.set('default', { local: d.name })
    } else if (s.type === 'ExportAllDeclaration') {
      info.starExports.push(s.source.value)
    } else {
      declare(s)
    }
  }
  return info
}

/** Type parameters in scope at `fn`: its own and those of enclosing classes and functions (all generics here). */
function enclosingTypeParams(ast: t.File, fn: FunctionNode): t.TSTypeParameter[] {
  const names: t.TSTypeParameter[] = []
  const visit = (node: t.Node, scope: t.TSTypeParameter[]): boolean => {
    const tp = 'typeParameters' in node ? (node.typeParameters as t.Node | null | undefined) : undefined
    const here = tp && tp.type === 'TSTypeParameterDeclaration' ? [...scope, ...tp.params] : scope
    if (node === fn) {
      names.push(...here)
      return true
    }
    for (const key of Object.keys(node) as (keyof typeof node)[]) {
      if (key === 'loc' || key === 'leadingComments' || key === 'trailingComments' || key === 'innerComments') continue
      const child = node[key] as unknown
      const children = Array.isArray(child) ? child : [child]
      for (const c of children) {
        // Only nodes whose range holds the function can enclose it.
        if (!c || typeof c !== 'object' || typeof (c as t.Node).type !== 'string') continue
        const n = c as t.Node
        if (n.start != null && n.end != null && (n.start > fn.start! || n.end < fn.end!)) continue
        if (visit(n, here)) return true
      }
    }
    return false
  }
  visit(ast.program, [])
  return names
}

/** Whether `fn` is the implementation of overload signatures written beside it (functions and class methods). */
function hasOverloads(ast: t.File, fn: FunctionNode): boolean {
  const name = fn.type === 'FunctionDeclaration' ? fn.id?.name : fn.type === 'ClassMethod' && !fn.computed && fn.key.type === 'Identifier' ? fn.key.name : undefined
  if (name === undefined) return false
  const unwrap = (n: t.Node): t.Node => (n.type === 'ExportNamedDeclaration' || n.type === 'ExportDefaultDeclaration') && n.declaration ? n.declaration : n
  const isSignature = (n: t.Node): boolean => {
    const d = unwrap(n)
    if (fn.type === 'FunctionDeclaration') return d.type === 'TSDeclareFunction' && d.id?.name === name
    return d.type === 'TSDeclareMethod' && !d.computed && d.key.type === 'Identifier' && d.key.name === name && !!d.static === !!(fn as t.ClassMethod).static
  }
  let found = false
  const visit = (node: t.Node): void => {
    if (found || node.start! > fn.start! || node.end! < fn.end!) return
    for (const key of Object.keys(node) as (keyof typeof node)[]) {
      if (key === 'loc' || key === 'leadingComments' || key === 'trailingComments' || key === 'innerComments') continue
      const child = node[key] as unknown
      if (Array.isArray(child)) {
        if (child.some((c) => c && unwrap(c as t.Node) === fn)) {
          found = child.some((c) => c && isSignature(c as t.Node))
          return
        }
        for (const c of child) if (c && typeof (c as t.Node).type === 'string') visit(c as t.Node)
      } else if (child && typeof (child as t.Node).type === 'string') visit(child as t.Node)
    }
  }
  visit(ast.program)
  return found
}

/** The `T` of a `Promise<T>`/`PromiseLike<T>` annotation (`null` without a type argument), `undefined` when not a promise. */
function promiseArgument(node: t.TSType, mod: ModuleInfo): t.TSType | null | undefined {
  if (node.type !== 'TSTypeReference' || node.typeName.type !== 'Identifier') return undefined
  const name = node.typeName.name
  if ((name !== 'Promise' && name !== 'PromiseLike') || mod.decls.has(name) || mod.imports.has(name)) return undefined
  return node.typeParameters?.params[0] ?? null
}

function inferLiteral(node: t.Node): TypeIR | undefined {
  switch (node.type) {
    case 'StringLiteral':
    case 'TemplateLiteral':
      return { kind: 'string' }
    case 'NumericLiteral':
      return { kind: 'number' }
    case 'BooleanLiteral':
      return { kind: 'boolean' }
    case 'BigIntLiteral':
      return { kind: 'bigint' }
    case 'UnaryExpression':
      return node.operator === '-' && node.argument.type === 'NumericLiteral' ? { kind: 'number' } : undefined
    default:
      return undefined
  }
}

function propertyName(key: t.Node, computed: boolean): string | undefined {
  if (key.type === 'Identifier' && !computed) return key.name
  if (key.type === 'StringLiteral') return key.value
  if (key.type === 'NumericLiteral') return String(key.value)
  return undefined
}

/** How a property appears in a path: `.name` for identifiers, `["odd key"]` otherwise. */
export function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** Flattens and de-duplicates a union; a single member stands for itself. */
export function union(types: TypeIR[]): TypeIR {
  const flat: TypeIR[] = []
  const seen = new Set<string>()
  for (const x of types.flatMap((m) => (m.kind === 'union' ? m.types : [m]))) {
    if (x.kind === 'never') continue
    // Anything unchecked absorbs the union: the union accepts at least what it accepts.
    if (x.kind === 'any' || x.kind === 'unknown') return x
    const key = JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))
    if (seen.has(key)) continue
    seen.add(key)
    flat.push(x)
  }
  const hasTrue = flat.some((x) => x.kind === 'literal' && x.value === true)
  const hasFalse = flat.some((x) => x.kind === 'literal' && x.value === false)
  const merged = hasTrue && hasFalse ? [...flat.filter((x) => !(x.kind === 'literal' && typeof x.value === 'boolean')), { kind: 'boolean' } as TypeIR] : flat
  if (merged.length === 0) return { kind: 'never' }
  if (merged.length === 1) return merged[0]!
  return { kind: 'union', types: merged }
}

function isPrimitiveKind(kind: TypeIR['kind']): boolean {
  return ['string', 'number', 'boolean', 'bigint', 'symbol', 'null', 'undefined', 'literal', 'template', 'enum'].includes(kind)
}

const OBJECTISH: TypeIR['kind'][] = ['objectType', 'record', 'array', 'tuple', 'date', 'function', 'object']
const PRIMITIVE_TARGETS: TypeIR['kind'][] = ['string', 'number', 'boolean', 'bigint', 'symbol', 'null', 'undefined', 'literal', 'template']

/**
 * Whether a member of `Exclude`/`Extract`'s first argument is assignable to one of the second's (both dereferenced):
 * decided for literals and primitives against literals and primitives, and for object-like types against primitives
 * (never) or `object` (always); undefined where it would take the type checker (objects against objects, enums,
 * template types against templates).
 */
function assignableTo(m: TypeIR, targets: TypeIR[]): boolean | undefined {
  if (targets.some((w) => w.kind === 'unknown' || w.kind === 'any')) return true
  if (OBJECTISH.includes(m.kind)) {
    if (targets.some((w) => w.kind === 'object')) return true
    return targets.every((w) => PRIMITIVE_TARGETS.includes(w.kind)) ? false : undefined
  }
  if (!PRIMITIVE_TARGETS.includes(m.kind)) return undefined
  const stringy = m.kind === 'string' || m.kind === 'template' || (m.kind === 'literal' && typeof m.value === 'string')
  let fits = false
  for (const w of targets) {
    if (w.kind === m.kind && m.kind !== 'literal' && m.kind !== 'template') fits = true
    else if (m.kind === 'literal' && ((w.kind === 'literal' && Object.is(m.value, w.value)) || w.kind === typeof m.value)) fits = true
    else if (m.kind === 'template' && w.kind === 'string') fits = true
    // A string against a template, anything against an enum, a primitive against an object type (a string has a
    // length): questions for the type checker. The other object-like types take no primitive.
    else if ((w.kind === 'template' && stringy) || w.kind === 'enum' || w.kind === 'objectType' || w.kind === 'record') return undefined
  }
  return fits
}

/** The property names a literal (union) denotes; numbers become their string form, as keys do (only the numbers' with `only`). */
function literalStrings(t: TypeIR, deref: (t: TypeIR) => TypeIR, only?: 'number'): string[] | undefined {
  const flat = (x: TypeIR, depth: number): TypeIR[] => {
    const d = deref(x)
    return d.kind === 'union' && depth < 10 ? d.types.flatMap((m) => flat(m, depth + 1)) : [d]
  }
  const out: string[] = []
  for (const p of flat(t, 0)) {
    if (p.kind === 'literal' && (typeof p.value === 'string' || typeof p.value === 'number')) {
      if (!only || typeof p.value === only) out.push(String(p.value))
    } else if (p.kind === 'enum') out.push(...p.members.filter((m) => !only || typeof m.value === only).map((m) => String(m.value)))
    else return undefined
  }
  return out
}

/**
 * A callable type (`{ (x: number): string; label: string }`): a function, which must have the required properties
 * too; optional ones and index signatures ask nothing of a function that lacks them.
 */
function callableWith(object: Extract<TypeIR, { kind: 'objectType' }>): TypeIR {
  if (!object.properties.some((p) => !p.optional)) return { kind: 'function' }
  const { indexSignatures: _ignored, ...properties } = object
  return { kind: 'intersection', types: [{ kind: 'function' }, properties] }
}

function withoutOptional(p: PropertyIR): PropertyIR {
  const { exact, ...required } = p
  // Under exactOptionalPropertyTypes `?` added no undefined, so `-?` takes none away.
  return { ...required, optional: false, type: exact ? p.type : withoutUndefinedIfOptional(p) }
}

function withoutUndefinedIfOptional(p: PropertyIR): TypeIR {
  // `-?` takes undefined out of the type, leaving nothing of an optional property typed only undefined.
  if (p.optional && p.type.kind === 'undefined') return { kind: 'never' }
  if (!p.optional || p.type.kind !== 'union') return p.type
  return union(p.type.types.filter((x) => x.kind !== 'undefined'))
}

function enumMembers(decl: t.TSEnumDeclaration): t.TSEnumMember[] {
  const withBody = decl as t.TSEnumDeclaration & { body?: { members: t.TSEnumMember[] } }
  return withBody.members ?? withBody.body?.members ?? []
}

/** Constant-folds an enum initializer (literals, earlier members, unary and binary arithmetic). */
function evalEnum(node: t.Node, earlier: { name: string; value: string | number }[]): string | number | undefined {
  switch (node.type) {
    case 'NumericLiteral':
    case 'StringLiteral':
      return node.value
    case 'TemplateLiteral':
      return node.expressions.length === 0 ? node.quasis[0]!.value.cooked ?? undefined : undefined
    case 'Identifier':
      return earlier.find((m) => m.name === node.name)?.value
    case 'ParenthesizedExpression':
      return evalEnum(node.expression, earlier)
    case 'UnaryExpression': {
      const v = evalEnum(node.argument, earlier)
      if (typeof v !== 'number') return undefined
      return node.operator === '-' ? -v : node.operator === '+' ? v : node.operator === '~' ? ~v : undefined
    }
    case 'BinaryExpression': {
      const a = evalEnum(node.left, earlier)
      const b = evalEnum(node.right, earlier)
      if (a === undefined || b === undefined) return undefined
      if (node.operator === '+') return typeof a === 'string' || typeof b === 'string' ? String(a) + String(b) : a + b
      if (typeof a !== 'number' || typeof b !== 'number') return undefined
      switch (node.operator) {
        case '-': return a - b
        case '*': return a * b
        case '/': return a / b
        case '%': return a % b
        case '**': return a ** b
        case '<<': return a << b
        case '>>': return a >> b
        case '>>>': return a >>> b
        case '|': return a | b
        case '&': return a & b
        case '^': return a ^ b
        default: return undefined
      }
    }
    default:
      return undefined
  }
}

function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..'
}

/** Files a relative specifier may name: `.js` specifiers map to their TypeScript sources, bare ones try extensions and index files. */
/** A module the resolver looked for and did not find; `brief` says it in a few words where `missing` is long. */
type Missing = { missing: string; brief?: string }

/** Classes and interfaces of the standard library and the web platform that a signature commonly names. */
const LIB_CLASSES = new Set([
  'Map', 'Set', 'WeakMap', 'WeakSet', 'ReadonlyMap', 'ReadonlySet', 'RegExp', 'Error', 'TypeError', 'RangeError', 'SyntaxError',
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Iterable', 'AsyncIterable',
  'Iterator', 'AsyncIterator', 'IterableIterator', 'Generator', 'AsyncGenerator', 'URL', 'URLSearchParams', 'Blob', 'File',
  'FormData', 'Headers', 'Request', 'Response', 'ReadableStream', 'WritableStream', 'AbortSignal', 'AbortController',
  'Event', 'EventTarget', 'HTMLElement', 'Element', 'Node', 'Document', 'Window', 'Buffer',
])

/** Build output: declarations or JavaScript, which a package's build writes. */
const BUILT_FILE = /\.(?:d\.[cm]?ts|[cm]?js)$/

function candidates(base: string): string[] {
  const js = /\.(m|c)?jsx?$/.exec(base)
  if (js) {
    const stem = base.slice(0, -js[0].length)
    const m = js[1] ?? ''
    return [`${stem}.${m}ts`, `${stem}.${m}tsx`, `${stem}.d.${m}ts`, base]
  }
  if (/\.(m|c)?tsx?$/.test(base) || COMPONENT_FILE.test(base)) return [base]
  return [`${base}.ts`, `${base}.tsx`, `${base}.d.ts`, `${base}/index.ts`, `${base}/index.tsx`, `${base}/index.d.ts`]
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
}
