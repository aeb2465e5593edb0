// The verify gate's static half: parses generated code and admits only a small, documented subset of JavaScript.
import { parse } from '../parser'
import type * as t from '@babel/types'

/**
 * Globals generated code may name, and how. Everything else that is not declared in the code itself, a
 * phase parameter (`args`, `result`, `ctx`) or a trusted builtin helper (`add` …) is rejected.
 * - `member`: only these members may be read (`Number.isFinite`); `call`: the global itself may be called (`String(x)`).
 * - `new`: may be constructed (`new Set([...])`); `instanceof`: may appear on the right of `instanceof`.
 */
export const ALLOWED_GLOBALS: Record<string, { members?: readonly string[] | '*'; call?: boolean; new?: boolean; instanceof?: boolean }> = {
  // Not `random`: a phase that decides by chance passes any number of examples and then fails a call now and then.
  Math: {
    members: [
      'abs', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'cbrt', 'ceil', 'clz32', 'cos', 'cosh', 'exp', 'expm1', 'floor',
      'fround', 'hypot', 'imul', 'log', 'log10', 'log1p', 'log2', 'max', 'min', 'pow', 'round', 'sign', 'sin', 'sinh', 'sqrt', 'tan', 'tanh',
      'trunc', 'E', 'LN10', 'LN2', 'LOG10E', 'LOG2E', 'PI', 'SQRT1_2', 'SQRT2',
    ],
  },
  Number: { members: ['isFinite', 'isInteger', 'isNaN', 'isSafeInteger', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER', 'EPSILON'], call: true },
  String: { call: true },
  Boolean: { call: true },
  Array: { members: ['isArray'], instanceof: true },
  // `Object(x)` is `x`, or a primitive boxed as property access would box it: `"key" in Object(x)` tests any value.
  Object: { members: ['keys', 'values', 'entries', 'hasOwn'], call: true },
  Date: { instanceof: true },
  Set: { new: true, instanceof: true },
  Map: { new: true, instanceof: true },
  undefined: {},
  NaN: {},
  Infinity: {},
  isFinite: { call: true },
  isNaN: { call: true },
}

/** Names that lead out of a value to its prototype chain, the global object or the caller: never written, read or spelled. */
export const FORBIDDEN_NAMES = new Set([
  'constructor', 'prototype', '__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__',
  '__lookupSetter__', 'caller', 'callee', 'arguments', 'call', 'apply', 'bind',
  'eval', 'Function', 'AsyncFunction', 'GeneratorFunction', 'globalThis', 'global', 'window', 'self', 'frames',
  'process', 'require', 'module', 'exports', 'import', 'fetch', 'XMLHttpRequest', 'WebSocket', 'importScripts',
  'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'requestAnimationFrame', 'Reflect', 'Proxy',
  'Symbol', 'WeakRef', 'FinalizationRegistry', 'Atomics', 'SharedArrayBuffer', 'WebAssembly', 'Buffer',
  'document', 'navigator', 'location', 'localStorage', 'Deno', 'Bun', 'console', 'defineProperty',
  'defineProperties', 'setPrototypeOf', 'getPrototypeOf', 'assign', 'valueOf', 'toString', 'toJSON',
])

/** Top-level names the rendered phase module declares (src/generators/render.ts): helpers may not take them. */
const MODULE_NAMES = new Set(['perceive', 'enforce', 'phases', 'served'])

/** Size and complexity bounds for one part (a phase body or the helpers). */
export const LIMITS = {
  sourceChars: 20_000,
  astNodes: 6_000,
  loopNesting: 3,
  functionNesting: 3,
  regexChars: 200,
} as const

export type PartName = 'perceive' | 'enforce' | 'helpers' | `variant ${string}`

export interface StaticInput {
  /** Names declared by trusted code the candidate may call (the builtin helpers: `add` …). */
  trusted: readonly string[]
  /** Whether the function repairs: only then may phases write into `args`, `result` or `ctx.result`. */
  repair?: boolean
  helpers?: string
  perceive?: string
  enforce?: string
}

/** Reasons a candidate fails the static gate; empty when it passes. Each reason names the part and the line. */
export function checkStatic(input: StaticInput): string[] {
  const reasons: string[] = []
  const helperNames: string[] = []
  if (input.helpers) {
    const program = parseProgram('helpers', input.helpers, reasons)
    if (program) {
      for (const stmt of program.body) {
        if (stmt.type === 'FunctionDeclaration' && stmt.id) helperNames.push(stmt.id.name)
        else if (stmt.type === 'VariableDeclaration' && stmt.kind === 'const') helperNames.push(...stmt.declarations.flatMap((d) => bindingNames(d.id)))
        else if (BANNED_NODES[stmt.type]) reasons.push(`helpers line ${line(stmt)}: not allowed: ${BANNED_NODES[stmt.type]}`)
        else reasons.push(`helpers line ${line(stmt)}: only function declarations and \`const\` declarations are allowed at the top level, found ${stmt.type}`)
      }
      for (const name of helperNames) {
        if (input.trusted.includes(name)) reasons.push(`helpers: \`${name}\` is a builtin helper and cannot be redeclared`)
        if (name.startsWith('__poet')) reasons.push(`helpers: the \`__poet\` prefix is reserved`)
        if (MODULE_NAMES.has(name)) reasons.push(`helpers: \`${name}\` is declared by the phase module itself`)
      }
      if (!reasons.length) checkTree('helpers', program, [...input.trusted, ...helperNames], reasons, 0, input.trusted, input.repair)
    }
  }
  const declared = [...input.trusted, ...helperNames]
  for (const [part, params] of [['perceive', ['args', 'ctx']], ['enforce', ['result', 'ctx']]] as const) {
    const body = input[part]
    if (body !== undefined) checkFunctionBody(part, body, params, declared, reasons, input.trusted, input.repair)
  }
  return [...new Set(reasons)]
}

/** Checks one function body wrapped as `function <part>(<params>) { body }`, e.g. an operate variant. */
export function checkFunctionBody(part: PartName, body: string, params: readonly string[], declared: readonly string[], reasons: string[], trusted: readonly string[] = [], repair = false): void {
  const name = part.replace(/\W/g, '_')
  const prefix = `function ${name}(${params.join(', ')}) {\n`
  const program = parseProgram(part, prefix + body + '\n}', reasons, -1)
  if (!program) return
  // A body that closes the wrapper early (`} evil(); function x() {`) parses as several top-level statements.
  if (program.body.length !== 1 || program.body[0]!.type !== 'FunctionDeclaration') {
    reasons.push(`${part}: the body must stay inside its function (it closes the wrapper and adds top-level code)`)
    return
  }
  checkTree(part, program, declared, reasons, -1, trusted, repair, params.includes('ctx'))
}

function parseProgram(part: PartName, code: string, reasons: string[], lineOffset = 0): t.Program | undefined {
  if (code.length > LIMITS.sourceChars) {
    reasons.push(`${part}: ${code.length} characters, over the limit of ${LIMITS.sourceChars}`)
    return undefined
  }
  // Scripts read `<!--` and `-->` as comments and modules do not: code hidden from one reading must not exist.
  if (/<!--|-->/.test(code)) {
    reasons.push(`${part}: HTML-like comments (\`<!--\`, \`-->\`) are not allowed`)
    return undefined
  }
  try {
    // Parsed as what it becomes: part of an ES module (strict, `await` reserved).
    return parse(code, { sourceType: 'module', errorRecovery: false, ranges: false }).program
  } catch (e) {
    const err = e as Error & { loc?: { line: number; column: number } }
    const where = err.loc ? ` line ${err.loc.line + lineOffset}` : ''
    reasons.push(`${part}${where}: does not parse: ${err.message.replace(/\s*\(\d+:\d+\)$/, '')}`)
    return undefined
  }
}

interface Scope {
  names: Set<string>
  /** Identifiers known to hold a loop counter (`for (let i = 0; …; i++)`): safe computed keys. */
  counters: Set<string>
  /**
   * Identifiers holding an own key of a value (`for (const k of Object.keys(v))`), with the value's name and the scope
   * that declares it: safe to read that value with, never another (`{}[k]` is `Object` when the input has a
   * `constructor` key), and never to write with.
   */
  keys: Map<string, { subject: string; at: Scope | undefined }>
  /** The phase function's own scope, whose `ctx` is the runtime's execution (see CTX_MEMBERS). */
  phase?: boolean
  parent?: Scope
}

/**
 * What a phase may do with its `ctx`: read these members, write the last three. At run time `ctx` is the execution
 * itself, which also holds the decorated function, its `this` and the phases every later call runs: reaching those
 * would let a phase call the user's code, or swap out the checks the sandbox verified. Not its ids: the sandbox has
 * none to give (a phase could tell it from a real call by them), and an execution id is random, a coin to toss.
 */
const CTX_MEMBERS = new Set(['repair', 'repairs', 'stats', 'result'])
const CTX_WRITABLE = new Set(['repairs', 'stats', 'result'])

/** Whether `name` resolves, in its nearest declaring scope, to a declaration (or a counter, or a key). */
function lookup(scope: Scope | undefined, name: string, field: 'names' | 'counters' | 'keys'): boolean {
  const s = declaring(scope, name)
  return !!s && s[field].has(name)
}

/** A new, empty scope inside `parent`. */
function childScope(parent: Scope): Scope {
  return { names: new Set(), counters: new Set(), keys: new Map(), parent }
}

/** The scope that declares `name`, as seen from `scope`. */
function declaring(scope: Scope | undefined, name: string): Scope | undefined {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return s
  return undefined
}

/** How an allowed global may be used, or undefined when `name` is not one (own keys only: `'constructor' in {}` is true). */
function globalRule(name: string): (typeof ALLOWED_GLOBALS)[string] | undefined {
  return Object.hasOwn(ALLOWED_GLOBALS, name) ? ALLOWED_GLOBALS[name] : undefined
}

const BANNED_NODES: Record<string, string> = {
  ImportDeclaration: 'imports',
  ImportExpression: 'dynamic import',
  Import: 'dynamic import',
  ExportNamedDeclaration: 'exports',
  ExportDefaultDeclaration: 'exports',
  ExportAllDeclaration: 'exports',
  MetaProperty: '`import.meta` / `new.target`',
  WithStatement: '`with` statements',
  ThisExpression: '`this`',
  Super: '`super`',
  ClassDeclaration: 'classes',
  ClassExpression: 'classes',
  TaggedTemplateExpression: 'tagged templates',
  YieldExpression: 'generators',
  AwaitExpression: '`await`',
  DebuggerStatement: '`debugger`',
  LabeledStatement: 'labels',
  WhileStatement: '`while` loops (use a bounded `for`)',
  DoWhileStatement: '`do … while` loops (use a bounded `for`)',
  SequenceExpression: 'comma expressions',
  FunctionExpression: 'function expressions (use a named function declaration)',
  BigIntLiteral: 'bigint literals (but in `===` and `!==`)',
  V8IntrinsicIdentifier: 'V8 intrinsics',
}

/** Array methods that change the array they are called on. */
const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'add', 'clear'])
/** Where a phase's input lives: written only under repair. */
const INPUT_ROOTS = new Set(['args', 'result'])

function checkTree(part: PartName, program: t.Program, declared: readonly string[], reasons: string[], lineOffset = 0, trustedHelpers: readonly string[] = [], repair = false, phase = false): void {
  const before = reasons.length
  const fail = (node: t.Node, msg: string): void => {
    if (reasons.length - before < 8) reasons.push(`${part} line ${line(node) + lineOffset}: ${msg}`)
  }
  let nodes = 0
  const assigned = assignedNames(program)
  const root: Scope = { names: new Set(declared), counters: new Set(), keys: new Map() }

  const walk = (node: t.Node | null | undefined, scope: Scope, loops: number, fns: number): void => {
    if (!node) return
    if (++nodes > LIMITS.astNodes) {
      if (nodes === LIMITS.astNodes + 1) fail(node, `more than ${LIMITS.astNodes} syntax nodes`)
      return
    }
    const banned = BANNED_NODES[node.type]
    if (banned) return fail(node, `not allowed: ${banned}`)
    switch (node.type) {
      case 'Program':
        hoist(node.body, scope)
        for (const s of node.body) walk(s, scope, loops, fns)
        return
      case 'FunctionDeclaration':
      case 'ArrowFunctionExpression': {
        if (node.async || node.generator) return fail(node, 'async functions and generators are not allowed')
        if (fns + 1 > LIMITS.functionNesting) return fail(node, `functions nested deeper than ${LIMITS.functionNesting}`)
        if (node.type === 'FunctionDeclaration' && node.id) checkName(node.id, node.id.name)
        const inner: Scope = { ...childScope(scope), ...(phase && scope === root ? { phase: true } : {}) }
        for (const p of node.params) {
          for (const n of bindingNames(p)) inner.names.add(n)
          walkPattern(p, inner, loops, fns + 1)
        }
        if (node.body.type !== 'BlockStatement') return walk(node.body, inner, loops, fns + 1)
        hoistVars(node.body, inner)
        hoist(node.body.body, inner)
        for (const s of node.body.body) walk(s, inner, loops, fns + 1)
        return
      }
      case 'BlockStatement': {
        const inner = childScope(scope)
        hoist(node.body, inner)
        for (const s of node.body) walk(s, inner, loops, fns)
        return
      }
      case 'VariableDeclaration':
        for (const d of node.declarations) {
          walkPattern(d.id, scope, loops, fns)
          walk(d.init, scope, loops, fns)
        }
        return
      case 'ForStatement': {
        if (loops + 1 > LIMITS.loopNesting) return fail(node, `loops nested deeper than ${LIMITS.loopNesting}`)
        const inner = childScope(scope)
        const counter = boundedCounter(node, (e) => numericIndex(e, scope))
        if (!counter) return fail(node, '`for` loops must count a `let` variable from a number with `++`, `--`, `+=` or `-=` and test it against a bound the way it counts (`i < n` up, `i >= 0` down)')
        if (node.init?.type === 'VariableDeclaration') for (const d of node.init.declarations) for (const n of bindingNames(d.id)) inner.names.add(n)
        inner.counters.add(counter)
        walk(node.init, inner, loops, fns)
        walk(node.test, inner, loops, fns)
        walk(node.update, inner, loops, fns)
        if (assigns(node.body, counter) || (node.test && assigns(node.test, counter))) return fail(node, `the loop counter \`${counter}\` is assigned inside the loop`)
        walk(node.body, inner, loops + 1, fns)
        return
      }
      case 'ForOfStatement':
      case 'ForInStatement': {
        if (loops + 1 > LIMITS.loopNesting) return fail(node, `loops nested deeper than ${LIMITS.loopNesting}`)
        if (node.type === 'ForOfStatement' && node.await) return fail(node, '`for await` is not allowed')
        const inner = childScope(scope)
        if (node.left.type !== 'VariableDeclaration') return fail(node, 'loop variables must be declared with `const` or `let`')
        for (const d of node.left.declarations) for (const n of bindingNames(d.id)) inner.names.add(n)
        const single = node.left.declarations[0]?.id
        const subject = node.type === 'ForInStatement' ? node.right : isObjectKeysCall(node.right) ? node.right.arguments[0] : undefined
        if (node.left.kind === 'const' && single?.type === 'Identifier' && subject?.type === 'Identifier') {
          inner.keys.set(single.name, { subject: subject.name, at: declaring(scope, subject.name) })
        }
        walkPattern(node.left.declarations[0]!.id, inner, loops, fns)
        if (!(node.type === 'ForOfStatement' && isTrustedValue(node.right, scope))) walk(node.right, scope, loops, fns)
        walk(node.body, inner, loops + 1, fns)
        return
      }
      case 'CatchClause': {
        const inner = childScope(scope)
        if (node.param) for (const n of bindingNames(node.param)) inner.names.add(n)
        walk(node.body, inner, loops, fns)
        return
      }
      case 'Identifier':
        if (isPhaseCtx(node, scope)) return fail(node, `\`ctx\` may only be used as \`ctx.<member>\` (${[...CTX_MEMBERS].join(', ')})`)
        if (isTrustedValue(node, scope)) return fail(node, `\`${(node as t.Identifier).name}\` belongs to the builtin helpers: call it, read from it, or hand it to another builtin helper`)
        if (!checkName(node, node.name)) return
        if (!lookup(scope, node.name, 'names')) {
          const g = globalRule(node.name)
          if (!g) fail(node, `\`${node.name}\` is not declared; generated code may only use ${allowedList(declared)}`)
          else if (g.members || g.call || g.new || g.instanceof) fail(node, `\`${node.name}\` may only be used as ${usage(node.name)}`)
        }
        return
      case 'MemberExpression':
      case 'OptionalMemberExpression':
        return member(node, scope, loops, fns, false)
      case 'CallExpression':
      case 'OptionalCallExpression': {
        const callee = node.callee
        if (callee.type === 'Identifier' && globalRule(callee.name)?.call && !lookup(scope, callee.name, 'names')) checkName(callee, callee.name)
        else if (!isTrustedCall(callee, scope) && !isTrustedValue(callee, scope)) {
          const method = callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' ? callee.property.name : undefined
          if (!repair && method && MUTATORS.has(method) && writesInput((callee as t.MemberExpression).object)) {
            return fail(node, `\`.${method}()\` changes its input, but repair is off (copy it first)`)
          }
          // The builtin helpers' sets, arrays and regexes outlive the call: changing one would change every later check.
          if (method && (MUTATORS.has(method) || method === 'delete') && trustedRoot((callee as t.MemberExpression).object, scope)) {
            return fail(node, `\`.${method}()\` would change \`${trustedRoot((callee as t.MemberExpression).object, scope)}\`, which belongs to the builtin helpers`)
          }
          const refused = method && (MUTATORS.has(method) || method === 'delete') ? changeRefusal((callee as t.MemberExpression).object, scope, `\`.${method}()\``) : undefined
          if (refused) return fail(node, refused)
          walk(callee, scope, loops, fns)
        }
        // The recursive checkers the builtin generator declares take the context along, and are trusted with it.
        const checker = callee.type === 'Identifier' && callee.name.startsWith('check_') && trustedHelpers.includes(callee.name) && !shadowed(scope, callee.name)
        const toTrusted = isTrustedValue(callee, scope)
        for (const a of node.arguments) if (!(checker && isPhaseCtx(a, scope)) && !(toTrusted && isTrustedValue(a, scope))) walk(a, scope, loops, fns)
        return
      }
      case 'NewExpression': {
        const callee = node.callee
        if (callee.type !== 'Identifier' || !globalRule(callee.name)?.new || lookup(scope, callee.name, 'names')) {
          return fail(node, '`new` is only allowed for `Set` and `Map`')
        }
        for (const a of node.arguments) walk(a, scope, loops, fns)
        return
      }
      case 'BinaryExpression':
        // A bigint literal only to compare with (`v === 2n`, as a literal type is checked), never to compute with:
        // bigint arithmetic has no bound on its cost.
        if ((node.operator === '===' || node.operator === '!==') && (node.left.type === 'BigIntLiteral' || node.right.type === 'BigIntLiteral')) {
          if (node.left.type !== 'BigIntLiteral') walk(node.left, scope, loops, fns)
          if (node.right.type !== 'BigIntLiteral') walk(node.right, scope, loops, fns)
          return
        }
        if (node.operator === 'instanceof' && node.right.type === 'Identifier' && globalRule(node.right.name)?.instanceof && !lookup(scope, node.right.name, 'names')) {
          walk(node.left, scope, loops, fns)
          return
        }
        walk(node.left, scope, loops, fns)
        walk(node.right, scope, loops, fns)
        return
      case 'UnaryExpression':
        if (node.operator === 'delete') return fail(node, '`delete` is not allowed')
        walk(node.argument, scope, loops, fns)
        return
      case 'AssignmentExpression':
        // What the phase then adds to them must not land in an object of its input.
        if (!repair && isStatsOrRepairs(node.left, scope) && !isFreshValue(node.right) && !(node.right.type === 'Identifier' && isFresh(node.right.name))) {
          return fail(node, `\`${memberPath(node.left)}\` takes a new object or array (\`{ … }\`, \`[]\`), or one the phase made itself`)
        }
        assignTarget(node.left, scope, loops, fns)
        walk(node.right, scope, loops, fns)
        return
      case 'UpdateExpression':
        assignTarget(node.argument, scope, loops, fns)
        return
      case 'ObjectExpression':
        for (const p of node.properties) {
          if (p.type === 'ObjectMethod') return fail(p, 'object methods, getters and setters are not allowed')
          if (p.type === 'SpreadElement') {
            walk(p.argument, scope, loops, fns)
            continue
          }
          if (p.computed) return fail(p, 'computed object keys are not allowed')
          propertyKey(p.key)
          walk(p.value, scope, loops, fns)
        }
        return
      case 'StringLiteral':
        // Spelled out, these names only serve to reach a prototype; other forbidden names may appear in messages.
        if (['constructor', 'prototype', '__proto__'].includes(node.value)) fail(node, `the string "${node.value}" is not allowed`)
        return
      case 'TemplateLiteral':
        for (const q of node.quasis) if (/constructor|prototype|__proto__/.test(q.value.cooked ?? q.value.raw)) fail(q, 'template text may not spell `constructor`, `prototype` or `__proto__`')
        for (const e of node.expressions) walk(e, scope, loops, fns)
        return
      case 'RegExpLiteral': {
        const problem = regexProblem(node.pattern)
        if (problem) fail(node, `regular expression /${node.pattern.slice(0, 40)}/: ${problem}`)
        return
      }
      case 'Directive':
      case 'DirectiveLiteral':
      case 'NumericLiteral':
      case 'BooleanLiteral':
      case 'NullLiteral':
      case 'EmptyStatement':
      case 'BreakStatement':
      case 'ContinueStatement':
        return
      case 'ExpressionStatement':
      case 'ReturnStatement':
      case 'ThrowStatement':
      case 'IfStatement':
      case 'ConditionalExpression':
      case 'LogicalExpression':
      case 'ArrayExpression':
      case 'SpreadElement':
      case 'SwitchStatement':
      case 'SwitchCase':
      case 'TryStatement':
      case 'TemplateElement':
        for (const child of children(node)) walk(child, scope, loops, fns)
        return
      default:
        return fail(node, `${node.type} is not allowed`)
    }
  }

  /** False (after recording why) when the name itself is forbidden. */
  const checkName = (node: t.Node, name: string): boolean => {
    if (FORBIDDEN_NAMES.has(name)) fail(node, `\`${name}\` is not allowed`)
    else if (name.startsWith('__poet')) fail(node, 'the `__poet` prefix is reserved')
    else return true
    return false
  }

  const propertyKey = (key: t.Node): void => {
    if (key.type === 'Identifier') checkName(key, key.name)
    else if (key.type === 'StringLiteral') checkName(key, key.value)
    else if (key.type !== 'NumericLiteral') fail(key, 'object keys must be names, strings or numbers')
  }

  const walkPattern = (p: t.Node, scope: Scope, loops: number, fns: number): void => {
    switch (p.type) {
      case 'Identifier':
        checkName(p, p.name)
        return
      case 'AssignmentPattern':
        walkPattern(p.left, scope, loops, fns)
        return walk(p.right, scope, loops, fns)
      case 'RestElement':
        return walkPattern(p.argument, scope, loops, fns)
      case 'ArrayPattern':
        for (const e of p.elements) if (e) walkPattern(e, scope, loops, fns)
        return
      case 'ObjectPattern':
        for (const prop of p.properties) {
          if (prop.type === 'RestElement') walkPattern(prop.argument, scope, loops, fns)
          else if (prop.computed) fail(prop, 'computed keys in destructuring are not allowed')
          else {
            propertyKey(prop.key)
            walkPattern(prop.value, scope, loops, fns)
          }
        }
        return
      default:
        return fail(p, `${p.type} is not allowed in a declaration`)
    }
  }

  const member = (node: t.MemberExpression | t.OptionalMemberExpression, scope: Scope, loops: number, fns: number, writing: boolean): void => {
    const obj = node.object
    // A computed key on `ctx` goes on below, where `ctx` itself, as a bare value, is refused.
    if (!node.computed && isPhaseCtx(obj, scope)) {
      const name = node.property.type === 'Identifier' ? node.property.name : undefined
      if (!name || !CTX_MEMBERS.has(name)) return fail(node, `\`ctx\` has only ${[...CTX_MEMBERS].map((m) => `\`ctx.${m}\``).join(', ')}`)
      if (writing && !CTX_WRITABLE.has(name)) return fail(node, `\`ctx.${name}\` cannot be assigned`)
      return
    }
    if (!node.computed) {
      const prop = node.property as t.Identifier | t.PrivateName
      if (prop.type !== 'Identifier') return fail(node, 'private names are not allowed')
      checkName(prop, prop.name)
      if (obj.type === 'Identifier' && globalRule(obj.name) && !lookup(scope, obj.name, 'names')) {
        const members = globalRule(obj.name)!.members
        if (writing) return fail(node, `\`${obj.name}\` cannot be modified`)
        if (members !== '*' && !members?.includes(prop.name)) return fail(node, `\`${obj.name}.${prop.name}\` is not allowed; ${obj.name} may only be used as ${usage(obj.name)}`)
        return
      }
      if (isTrustedValue(obj, scope)) return writing ? fail(node, `\`${(obj as t.Identifier).name}\` belongs to the builtin helpers and cannot be modified`) : undefined
      return walk(obj, scope, loops, fns)
    }
    if (obj.type === 'Identifier' && globalRule(obj.name) && !lookup(scope, obj.name, 'names')) return fail(node, `computed access on \`${obj.name}\` is not allowed`)
    if (isTrustedValue(obj, scope)) {
      if (writing) return fail(node, `\`${(obj as t.Identifier).name}\` belongs to the builtin helpers and cannot be modified`)
      const key = node.property as t.Expression
      if (!safeIndex(key, scope, false, obj)) return fail(node, `computed access \`[…]\` must use a number, a plain string, or a loop counter (it could spell \`constructor\` or \`__proto__\`)`)
      if (key.type !== 'StringLiteral' && key.type !== 'NumericLiteral') walk(key, scope, loops, fns)
      return
    }
    walk(obj, scope, loops, fns)
    const key = node.property as t.Expression
    if (!safeIndex(key, scope, writing, obj)) {
      return fail(node, `computed access \`[…]\` must use a number, a plain string, or a loop counter${writing ? '' : ' or, on that object itself, a key from `Object.keys`'} (it could spell \`constructor\` or \`__proto__\`)`)
    }
    if (key.type !== 'StringLiteral' && key.type !== 'NumericLiteral') walk(key, scope, loops, fns)
    else if (key.type === 'StringLiteral') checkName(key, key.value)
  }

  const safeIndex = (key: t.Expression, scope: Scope, writing: boolean, obj: t.Node): boolean => {
    switch (key.type) {
      case 'StringLiteral':
        return !FORBIDDEN_NAMES.has(key.value)
      case 'Identifier': {
        if (lookup(scope, key.name, 'counters')) return true
        const own = declaring(scope, key.name)?.keys.get(key.name)
        // The key read on the very object it came from (the same binding, never reassigned) is one of its own.
        return !writing && !!own && obj.type === 'Identifier' && obj.name === own.subject && declaring(scope, obj.name) === own.at && !!own.at && !assigned.has(obj.name)
      }
      default:
        return numericIndex(key, scope)
    }
  }

  /**
   * An expression that is a number whatever the values in it: `.length` of an object can be any string (an input's
   * `{"length": "constructor"}`), so it counts only under `-` and `*`, which make a number of anything, never `+`.
   */
  const numericIndex = (e: t.Expression, scope: Scope): boolean => {
    if (e.type === 'NumericLiteral') return true
    if (e.type === 'Identifier') return lookup(scope, e.name, 'counters')
    if (e.type !== 'BinaryExpression') return false
    const left = e.left as t.Expression
    if (e.operator === '+') return numericIndex(left, scope) && numericIndex(e.right, scope)
    const operand = (x: t.Expression) => numericIndex(x, scope) || isLength(x)
    return (e.operator === '-' || e.operator === '*') && operand(left) && operand(e.right)
  }

  const assignTarget = (target: t.Node, scope: Scope, loops: number, fns: number): void => {
    if (target.type === 'Identifier') {
      if (!checkName(target, target.name)) return
      if (!lookup(scope, target.name, 'names')) return fail(target, `\`${target.name}\` is not a local variable and cannot be assigned`)
      if (scope.parent === undefined || isTrustedName(target.name)) return fail(target, `\`${target.name}\` cannot be reassigned`)
      return
    }
    if (target.type === 'MemberExpression') {
      if (!repair && writesInput(target)) return fail(target, 'writes into its input, but repair is off (phases must leave arguments and results as they are)')
      const owner = trustedRoot(target, scope)
      if (owner) return fail(target, `\`${owner}\` belongs to the builtin helpers and cannot be modified`)
      const refused = changeRefusal(target.object, scope, 'this assignment')
      if (refused) return fail(target, refused)
      return member(target, scope, loops, fns, true)
    }
    if (target.type === 'ObjectPattern' || target.type === 'ArrayPattern') return fail(target, 'destructuring assignment is not allowed')
    fail(target, `cannot assign to ${target.type}`)
  }

  const isTrustedName = (name: string): boolean => declared.includes(name)

  /**
   * Why changing the object `obj` (assigning one of its members, or calling a mutating method on it) is refused, if it
   * is. What the module declares outlives the call: a phase that changes it (a counter, a map of what it saw) behaves
   * differently from one call to the next, and passes every example before it turns. And without repair, a phase
   * changes only what it made itself: an alias (`const a = args[0]`), a loop variable over its input or a helper's
   * parameter may be the caller's value, which no rule about `args` alone would see.
   */
  const changeRefusal = (obj: t.Node, scope: Scope, what: string): string | undefined => {
    const base = chainRoot(obj)
    // A global (`Math.max = …`) or an undeclared name: the walk refuses it, saying which.
    if (base.type === 'Identifier' && !declaring(scope, base.name)) return undefined
    if (base.type === 'Identifier' && declaring(scope, base.name) === root && !isPhaseCtx(base, scope)) {
      return `${what} changes \`${base.name}\`, which the module keeps from one call to the next: a phase must behave the same at every call (record what it saw in \`ctx.stats\`)`
    }
    if (repair) return undefined
    if (obj.type === 'Identifier' && (isPhaseCtx(obj, scope) || isFresh(obj.name))) return undefined
    if (isStatsOrRepairs(obj, scope) || (obj.type === 'Identifier' && phase && ctxBindings === 1 && isAlias(obj.name, isStatsOrRepairsValue))) return undefined
    if (obj.type === 'AssignmentExpression' && isStatsOrRepairs(obj.left, scope) && isFreshValue(obj.right)) return undefined
    return `${what} changes \`${memberPath(obj) ?? 'a value'}\`, which may be (part of) its input, but repair is off: a phase writes only into objects it made itself (\`{}\`, \`[]\`, \`new Map()\`) and into \`ctx.stats\` and \`ctx.repairs\``
  }

  /** `ctx.stats` or `ctx.repairs` of the phase's own `ctx`. */
  const isStatsOrRepairs = (n: t.Node, scope: Scope): boolean =>
    n.type === 'MemberExpression' && !n.computed && n.property.type === 'Identifier' && (n.property.name === 'stats' || n.property.name === 'repairs') && isPhaseCtx(n.object, scope)

  /** The same, judged without a scope where the program binds `ctx` only as the phase's parameter: `ctx.stats`, `(ctx.stats ??= {})`. */
  const isStatsOrRepairsValue = (v: t.Node): boolean => {
    const n = v.type === 'AssignmentExpression' && v.left.type === 'MemberExpression' && isFreshValue(v.right) ? v.left : v
    return n.type === 'MemberExpression' && !n.computed && n.property.type === 'Identifier' && (n.property.name === 'stats' || n.property.name === 'repairs') && n.object.type === 'Identifier' && n.object.name === 'ctx'
  }

  const isFreshValue = (v: t.Node): boolean => v.type === 'ObjectExpression' || v.type === 'ArrayExpression' || v.type === 'NewExpression'

  /** Every value any binding of `name` in the program takes is one `ok` admits (through other such names too). */
  const isAlias = (name: string, ok: (v: t.Node) => boolean, seen = new Set<string>()): boolean => {
    const values = bound.get(name)
    if (!values) return false
    if (seen.has(name)) return true
    seen.add(name)
    return values.every((v) => {
      if (v === NO_VALUE) return true
      if (ok(v)) return true
      if (v.type === 'Identifier') return isAlias(v.name, ok, seen)
      if (v.type === 'ConditionalExpression') return [v.consequent, v.alternate].every((x) => ok(x) || (x.type === 'Identifier' && isAlias(x.name, ok, seen)))
      if (v.type === 'LogicalExpression') return [v.left, v.right].every((x) => ok(x) || (x.type === 'Identifier' && isAlias(x.name, ok, seen)))
      return false
    })
  }
  const isFresh = (name: string): boolean => isAlias(name, isFreshValue)
  const bound = boundValues(program)
  const ctxBindings = bindingCount(program, 'ctx')

  /** A name the trusted builtin helpers declare, as the code at hand sees it (not shadowed by one of its own). */
  const isTrustedValue = (node: t.Node, scope: Scope): boolean =>
    node.type === 'Identifier' && trustedHelpers.includes(node.name) && declaring(scope, node.name) === root

  /** The builtin helper a member chain (`SETS.x.y`) starts from, if any. */
  const trustedRoot = (node: t.Node, scope: Scope): string | undefined => {
    let n = node
    while (n.type === 'MemberExpression' || n.type === 'OptionalMemberExpression') n = n.object
    return isTrustedValue(n, scope) ? (n as t.Identifier).name : undefined
  }

  /** The phase's own `ctx` parameter (not a helper's parameter or a local of that name). */
  const isPhaseCtx = (node: t.Node, scope: Scope): boolean => node.type === 'Identifier' && node.name === 'ctx' && !!declaring(scope, 'ctx')?.phase

  /**
   * `.call` on a trusted helper (`hasOwn.call(v, k)`), or the idiom `Object.prototype.hasOwnProperty.call(v, k)`:
   * the builtin generator writes both, so a model that keeps the baseline's checks must be able to keep them.
   */
  const isTrustedCall = (callee: t.Node, scope: Scope): boolean => {
    if (callee.type !== 'MemberExpression' || callee.computed || callee.property.type !== 'Identifier' || callee.property.name !== 'call') return false
    const target = callee.object
    if (target.type === 'Identifier') return trustedHelpers.includes(target.name) && !shadowed(scope, target.name)
    return memberPath(target) === 'Object.prototype.hasOwnProperty' && !lookup(scope, 'Object', 'names')
  }

  const shadowed = (scope: Scope, name: string): boolean => {
    for (let s: Scope | undefined = scope; s && s !== root; s = s.parent) if (s.names.has(name)) return true
    return false
  }

  walk(program, root, 0, 0)
}

/** Stands for "no value yet" (`let x`) or a primitive one (`x += 1`): neither lets a later write reach another object. */
const NO_VALUE: t.Node = { type: 'NullLiteral' }

/**
 * The values bound to each name anywhere in `program`, whatever its scope: initialisers and assigned values. A name
 * also bound where its value cannot be known (a parameter, a loop variable, a catch clause, a destructuring, a
 * function) is left out, as is one never bound here (a global, a helper of the module).
 */
function boundValues(program: t.Node): Map<string, t.Node[]> {
  const values = new Map<string, t.Node[]>()
  const opaque = new Set<string>()
  const add = (name: string, v: t.Node) => values.set(name, [...(values.get(name) ?? []), v])
  const visit = (node: t.Node): void => {
    switch (node.type) {
      case 'VariableDeclarator':
        if (node.id.type === 'Identifier') add(node.id.name, node.init ?? NO_VALUE)
        else for (const n of bindingNames(node.id)) opaque.add(n)
        break
      case 'FunctionDeclaration':
      case 'ArrowFunctionExpression':
        if (node.type === 'FunctionDeclaration' && node.id) opaque.add(node.id.name)
        for (const p of node.params) for (const n of bindingNames(p)) opaque.add(n)
        break
      case 'ForOfStatement':
      case 'ForInStatement':
        if (node.left.type === 'VariableDeclaration') for (const d of node.left.declarations) for (const n of bindingNames(d.id)) opaque.add(n)
        for (const c of children(node)) if (c !== node.left) visit(c)
        return
      case 'CatchClause':
        if (node.param) for (const n of bindingNames(node.param)) opaque.add(n)
        break
      case 'AssignmentExpression':
        if (node.left.type === 'Identifier') add(node.left.name, ['=', '??=', '||=', '&&='].includes(node.operator) ? node.right : NO_VALUE)
        break
    }
    for (const c of children(node)) visit(c)
  }
  visit(program)
  for (const n of opaque) values.delete(n)
  return values
}

/** How many declarations (variables, parameters, functions, catch clauses) bind `name` in `program`. */
function bindingCount(program: t.Node, name: string): number {
  let n = 0
  const visit = (node: t.Node): void => {
    if (node.type === 'VariableDeclarator' || node.type === 'CatchClause') n += bindingNames((node.type === 'VariableDeclarator' ? node.id : node.param) ?? NO_VALUE).filter((x) => x === name).length
    if (node.type === 'FunctionDeclaration' || node.type === 'ArrowFunctionExpression') {
      if (node.type === 'FunctionDeclaration' && node.id?.name === name) n++
      for (const p of node.params) n += bindingNames(p).filter((x) => x === name).length
    }
    for (const c of children(node)) visit(c)
  }
  visit(program)
  return n
}

/** The node a member chain (`a.b[c].d`) starts from. */
function chainRoot(node: t.Node): t.Node {
  let n = node
  while (n.type === 'MemberExpression' || n.type === 'OptionalMemberExpression') n = n.object
  return n
}

/** Whether an expression reaches into the phase's input: `args…`, `result…` or `ctx.result…`. */
function writesInput(node: t.Node): boolean {
  let n = node
  while (n.type === 'MemberExpression') {
    if (n.object.type === 'Identifier' && n.object.name === 'ctx' && !n.computed && n.property.type === 'Identifier' && n.property.name === 'result') return true
    n = n.object
  }
  return n.type === 'Identifier' && INPUT_ROOTS.has(n.name)
}

/** `x.length`, of anything. */
function isLength(e: t.Node): boolean {
  return e.type === 'MemberExpression' && !e.computed && e.property.type === 'Identifier' && e.property.name === 'length'
}

/** Every name assigned (`x = …`, `x++`) anywhere in the tree, whatever scope it is in. */
function assignedNames(node: t.Node, out = new Set<string>()): Set<string> {
  if (node.type === 'AssignmentExpression' && node.left.type === 'Identifier') out.add(node.left.name)
  if (node.type === 'UpdateExpression' && node.argument.type === 'Identifier') out.add(node.argument.name)
  for (const c of children(node)) assignedNames(c, out)
  return out
}

/** `a.b.c` for a chain of plain (non-computed) member reads on an identifier, else undefined. */
function memberPath(node: t.Node): string | undefined {
  if (node.type === 'Identifier') return node.name
  if (node.type !== 'MemberExpression' || node.computed || node.property.type !== 'Identifier') return undefined
  const left = memberPath(node.object)
  return left && `${left}.${node.property.name}`
}

/** The counter of `for (let i = <number>; <test>; i++ | i-- | i += n | i -= n)`, else undefined. */
function boundedCounter(node: t.ForStatement, numeric: (e: t.Expression) => boolean): string | undefined {
  const init = node.init
  if (!init || init.type !== 'VariableDeclaration' || init.kind !== 'let' || !node.test || !node.update) return undefined
  const first = init.declarations[0]
  if (!first || first.id.type !== 'Identifier' || !first.init || !numeric(first.init)) return undefined
  const name = first.id.name
  const u = node.update
  const up =
    (u.type === 'UpdateExpression' && u.argument.type === 'Identifier' && u.argument.name === name && u.operator === '++') ||
    (u.type === 'AssignmentExpression' && u.operator === '+=' && u.left.type === 'Identifier' && u.left.name === name && u.right.type === 'NumericLiteral' && u.right.value > 0)
  const down =
    (u.type === 'UpdateExpression' && u.argument.type === 'Identifier' && u.argument.name === name && u.operator === '--') ||
    (u.type === 'AssignmentExpression' && u.operator === '-=' && u.left.type === 'Identifier' && u.left.name === name && u.right.type === 'NumericLiteral' && u.right.value > 0)
  if (!up && !down) return undefined
  return bounds(node.test, name, up ? 'up' : 'down') ? name : undefined
}

/**
 * Whether the loop test ends the loop as the counter moves: `i < n` or `i <= n` counting up, `i > n` or `i >= n`
 * counting down (either side), alone or under `&&`. `i !== n` can be stepped over, and `i < n` counting down never ends.
 */
function bounds(test: t.Node, counter: string, direction: 'up' | 'down'): boolean {
  if (test.type === 'LogicalExpression') return test.operator === '&&' && (bounds(test.left, counter, direction) || bounds(test.right, counter, direction))
  if (test.type !== 'BinaryExpression') return false
  const isCounter = (e: t.Node) => e.type === 'Identifier' && e.name === counter
  const below = test.operator === '<' || test.operator === '<='
  const above = test.operator === '>' || test.operator === '>='
  if (isCounter(test.left)) return direction === 'up' ? below : above
  if (isCounter(test.right)) return direction === 'up' ? above : below
  return false
}

function isObjectKeysCall(e: t.Expression): e is t.CallExpression {
  return (
    e.type === 'CallExpression' &&
    e.callee.type === 'MemberExpression' &&
    e.callee.object.type === 'Identifier' &&
    e.callee.object.name === 'Object' &&
    e.callee.property.type === 'Identifier' &&
    e.callee.property.name === 'keys'
  )
}

function assigns(node: t.Node, name: string): boolean {
  if ((node.type === 'AssignmentExpression' && node.left.type === 'Identifier' && node.left.name === name) || (node.type === 'UpdateExpression' && node.argument.type === 'Identifier' && node.argument.name === name)) return true
  return children(node).some((c) => assigns(c, name))
}

/** Declarations visible in the whole block: function declarations and let/const at this level. */
function hoist(body: t.Statement[], scope: Scope): void {
  for (const s of body) {
    if (s.type === 'FunctionDeclaration' && s.id) scope.names.add(s.id.name)
    if (s.type === 'VariableDeclaration') for (const d of s.declarations) for (const n of bindingNames(d.id)) scope.names.add(n)
  }
}

/** `var` declarations anywhere in a function body (outside nested functions) belong to the function scope. */
function hoistVars(node: t.Node, scope: Scope): void {
  for (const c of children(node)) {
    if (c.type === 'FunctionDeclaration') continue
    if (c.type === 'VariableDeclaration' && c.kind === 'var') for (const d of c.declarations) for (const n of bindingNames(d.id)) scope.names.add(n)
    hoistVars(c, scope)
  }
}

export function bindingNames(p: t.Node): string[] {
  switch (p.type) {
    case 'Identifier':
      return [p.name]
    case 'AssignmentPattern':
      return bindingNames(p.left)
    case 'RestElement':
      return bindingNames(p.argument)
    case 'ArrayPattern':
      return p.elements.flatMap((e) => (e ? bindingNames(e) : []))
    case 'ObjectPattern':
      return p.properties.flatMap((prop) => (prop.type === 'RestElement' ? bindingNames(prop.argument) : bindingNames(prop.value)))
    default:
      return []
  }
}

const SKIP_KEYS = new Set(['loc', 'start', 'end', 'extra', 'leadingComments', 'trailingComments', 'innerComments', 'range'])

function children(node: t.Node): t.Node[] {
  const out: t.Node[] = []
  for (const [k, v] of Object.entries(node)) {
    if (SKIP_KEYS.has(k)) continue
    if (Array.isArray(v)) for (const x of v) if (x && typeof x.type === 'string') out.push(x)
    if (v && typeof v === 'object' && typeof (v as t.Node).type === 'string') out.push(v as t.Node)
  }
  return out
}

/** Catastrophic-backtracking shapes and other costly patterns, judged from the source of a regex literal. */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > LIMITS.regexChars) return `longer than ${LIMITS.regexChars} characters`
  if (/\\[1-9]|\\k</.test(pattern)) return 'backreferences are not allowed'
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround is not allowed'
  // A quantified group that itself contains a quantifier, e.g. (a+)+ or (\w*)*, or an alternation, e.g. (a|ab)*:
  // exponential backtracking on a long enough input.
  const stack: { quantifier: boolean; alternation: boolean }[] = []
  let unbounded = 0
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') {
      i++
      continue
    }
    if (ch === '[') {
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1
      continue
    }
    const top = stack[stack.length - 1]
    if (ch === '(') stack.push({ quantifier: false, alternation: false })
    else if (ch === '|' && top) top.alternation = true
    else if (ch === ')') {
      const inner = stack.pop() ?? { quantifier: false, alternation: false }
      const next = pattern[i + 1]
      const quantified = next === '*' || next === '+' || next === '{'
      if (quantified && inner.quantifier) return 'nested quantifiers (catastrophic backtracking)'
      if (quantified && inner.alternation) return 'a repeated alternation (catastrophic backtracking)'
      const parent = stack[stack.length - 1]
      if (parent && (inner.quantifier || quantified)) parent.quantifier = true
    } else if (ch === '*' || ch === '+' || ch === '{') {
      if (ch !== '{') unbounded++
      if (top) top.quantifier = true
    }
  }
  if (unbounded > 4) return `${unbounded} unbounded repetitions (at most 4)`
  return undefined
}

function line(node: t.Node): number {
  return node.loc?.start.line ?? 0
}

function usage(name: string): string {
  const g = ALLOWED_GLOBALS[name]!
  const forms: string[] = []
  if (g.members === '*') forms.push(`\`${name}.<member>\``)
  else if (g.members) forms.push(...g.members.map((m) => `\`${name}.${m}\``))
  if (g.call) forms.push(`\`${name}(x)\``)
  if (g.new) forms.push(`\`new ${name}(…)\``)
  if (g.instanceof) forms.push(`\`x instanceof ${name}\``)
  return forms.join(', ')
}

function allowedList(declared: readonly string[]): string {
  return [...new Set([...declared, ...Object.keys(ALLOWED_GLOBALS)])].map((n) => `\`${n}\``).join(', ') + ' and names it declares'
}
