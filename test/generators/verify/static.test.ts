import { describe, expect, it } from 'vitest'
import { checkStatic, regexProblem } from '../../../src/generators/verify/static'
import { poet } from '../../../src/runtime'
import type { PhaseModule } from '../../../src/runtime/types'

const trusted = ['add', 'describe', 'hasOwn']
const perceive = (body: string, repair = false) => checkStatic({ trusted, repair, perceive: `let issues\n${body}\nreturn issues` })

describe('checkStatic admits the code a validator needs', () => {
  it.each([
    ['array checks with arrows', 'if (!Array.isArray(args[0]) || !args[0].every((x) => typeof x === "number")) issues = add(issues, "args[0]", "number[]", args[0])'],
    ['a counted loop with template paths', 'const xs = args[0]\nfor (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) issues = add(issues, `args[0][${i}]`, "finite number", xs[i])'],
    ['own keys of a record', 'const r = args[0]\nfor (const k of Object.keys(r)) if (typeof r[k] !== "boolean") issues = add(issues, "args[0]." + k, "boolean", r[k])'],
    ['the last element', 'const xs = args[0]\nif (xs.length && xs[xs.length - 1] < 0) issues = add(issues, "args[0]", "ends non-negative", xs, "d.rule")'],
    ['sets, dates, regexes, switch', 'const CODES = new Set(["USD", "EUR"])\nconst d = args[1]\nif (!(d instanceof Date) || Number.isNaN(d.getTime())) issues = add(issues, "args[1]", "Date", d)\nif (!/^[A-Z]{3}$/.test(String(args[0])) || !CODES.has(args[0])) issues = add(issues, "args[0]", "currency", args[0], "fin.iso4217")\nswitch (typeof args[2]) {\n  case "string": break\n  default: issues = add(issues, "args[2]", "string", args[2])\n}'],
    ['statistics and a helper call', 'const xs = args[0]\nlet sum = 0\nfor (const x of xs) sum += x\nctx.stats = { n: xs.length, mean: xs.length ? sum / xs.length : 0, max: Math.max(...xs) }\nif (!hasOwn.call(args, 0)) issues = add(issues, "args[0]", "present", undefined)'],
    ['a local helper function', 'function positive(v) { return typeof v === "number" && v > 0 }\nif (!positive(args[0])) issues = add(issues, "args[0]", "positive number", args[0])'],
    ['a property of any value, and a bigint literal type', 'if (!("key" in Object(args[0]))) issues = add(issues, "args[0].key", "present", undefined)\nif (args[1] !== 1n && 2n !== args[1]) issues = add(issues, "args[1]", "1n | 2n", args[1])'],
  ])('%s', (_name, body) => {
    expect(perceive(body)).toEqual([])
  })

  it('lets a repairing phase write into its input and record it', () => {
    const body = 'if (typeof args[0] === "string") {\n  args[0] = Number(args[0])\n  ;(ctx.repairs ??= []).push({ path: "args[0]", action: "numeric string → number" })\n}'
    expect(perceive(body, true)).toEqual([])
    expect(perceive(body, false)).toEqual(['perceive line 3: writes into its input, but repair is off (phases must leave arguments and results as they are)'])
  })
})

describe('checkStatic explains what it rejects, with the line', () => {
  it.each([
    ['let issues\nconst g = globalThis\nreturn issues', 'perceive line 2: `globalThis` is not allowed'],
    ['let issues\nconst j = JSON.stringify(args)\nreturn issues', 'perceive line 2: `JSON` is not declared; generated code may only use `add`, `describe`, `hasOwn`, `Math`, `Number`, `String`, `Boolean`, `Array`, `Object`, `Date`, `Set`, `Map`, `undefined`, `NaN`, `Infinity`, `isFinite`, `isNaN` and names it declares'],
    ['let issues\nconst k = "x"\nconst v = args[k]\nreturn issues', 'perceive line 3: computed access `[…]` must use a number, a plain string, or a loop counter or, on that object itself, a key from `Object.keys` (it could spell `constructor` or `__proto__`)'],
    ['let issues\nconst n = Number.parseFloat("1")\nreturn issues', 'perceive line 2: `Number.parseFloat` is not allowed; Number may only be used as `Number.isFinite`, `Number.isInteger`, `Number.isNaN`, `Number.isSafeInteger`, `Number.MAX_SAFE_INTEGER`, `Number.MIN_SAFE_INTEGER`, `Number.EPSILON`, `Number(x)`'],
    ['let issues\nfor (const x of args) { for (const y of args) { for (const z of args) { for (const w of args) {} } } }\nreturn issues', 'perceive line 2: loops nested deeper than 3'],
    ['let issues\nMath.max = null\nreturn issues', 'perceive line 2: `Math` cannot be modified'],
    ['let issues\nadd = null\nreturn issues', 'perceive line 2: `add` cannot be reassigned'],
    ['let issues\nconst b = 2n ** 4000000n\nreturn issues', 'perceive line 2: not allowed: bigint literals (but in `===` and `!==`)'],
  ])('%#', (body, reason) => {
    expect(checkStatic({ trusted, perceive: body })[0]).toBe(reason)
  })

  it('bounds size: source length and syntax nodes', () => {
    expect(checkStatic({ trusted, perceive: `let issues\n${'issues = issues\n'.repeat(2000)}return issues` })[0]).toMatch(/^perceive: \d+ characters, over the limit of 20000$/)
    expect(checkStatic({ trusted, perceive: `let issues\nconst a = [${'1,'.repeat(6500)}]\nreturn issues` })[0]).toBe('perceive line 2: more than 6000 syntax nodes')
  })

  it('keeps helpers to declarations and away from the reserved prefix', () => {
    expect(checkStatic({ trusted, helpers: 'function __poet_run() {}' })).toEqual(['helpers: the `__poet` prefix is reserved'])
    expect(checkStatic({ trusted, helpers: 'function phases() {}\nconst perceive = 1' })).toEqual([
      'helpers: `phases` is declared by the phase module itself',
      'helpers: `perceive` is declared by the phase module itself',
    ])
  })
})

describe('checkStatic keeps computed keys from spelling a way to Function', () => {
  // Each would reach `Function` at run time: `""["constructor"]` is `String`, and its `constructor` is `Function`.
  const input = () => [JSON.parse('{"constructor": 1, "length": "constructor"}')]
  it.each([
    ['two `.length`s added up', 'const a = { length: "constr" }\nconst b = { length: "uctor" }\nconst s = ""[a.length + b.length]\nissues = s[a.length + b.length]("return 42")()'],
    ['an input\'s `.length`', 'const s = ""[args[0].length]\nissues = s[args[0].length]("return 42")()'],
    ['a counter counted from a `.length`', 'for (let i = args[0].length; i !== 0; i--) {\n  issues = ""[i][i]("return 42")()\n  break\n}'],
    ['a key of the input read on another object', 'const o = {}\nfor (const k in args[0]) {\n  const c = o[k]\n  issues = c[k]("return 42")()\n  break\n}'],
    ['a key from `Object.keys` read on another object', 'const o = []\nfor (const k of Object.keys(args[0])) {\n  issues = o[k][k]("return 42")()\n  break\n}'],
    ['a key read on its object after it was reassigned', 'let v = args[0]\nfor (const k in v) {\n  v = {}\n  issues = v[k][k]("return 42")()\n  break\n}'],
    ['a key read on a shadowing binding', 'const v = args[0]\nfor (const k in v) {\n  const v = {}\n  issues = v[k][k]("return 42")()\n  break\n}'],
  ])('%s', (_name, body) => {
    const code = `let issues\n${body}\nreturn issues`
    expect(new Function('args', 'ctx', code)(input(), {})).toBe(42)
    expect(perceive(body)[0]).toMatch(/computed access|`for` loops must count/)
  })

  it('still reads a key on the object it came from, and the last element by its length', () => {
    expect(perceive('const v = args[0]\nfor (const k in v) if (hasOwn.call(v, k) && typeof v[k] !== "number") issues = add(issues, "args[0]", "numbers", v)')).toEqual([])
    expect(perceive('const xs = args[0]\nfor (let i = xs.length - 1; i >= 0; i--) if (xs[i] < xs[xs.length - 1]) issues = add(issues, "args[0]", "sorted", xs)')).toEqual([])
  })
})

describe('checkStatic keeps a phase to its own part of ctx', () => {
  // At run time `ctx` is the execution: it holds the decorated function, its `this`, and the phases later calls run.
  const disarm = 'if (ctx.t !== undefined) ctx.t.phases.perceive = undefined\nif (typeof args[0] !== "number") issues = add(issues, "args[0]", "number", args[0])'

  it('would otherwise let a phase that passed the sandbox (where ctx has no `t`) switch off every later check', () => {
    const perceive = new Function('args', 'ctx', `const add = (l, path, expected) => [...(l ?? []), { path, expected, received: "?" }]\nlet issues\n${disarm}\nreturn issues`)
    const phases = { id: 'src/a.ts#f', version: 'v1', generator: 'openai:m', policy: { attempts: 1, timeout: 1000, retryOn: 'any', repair: false, backoff: { initial: 1, max: 1, factor: 2, jitter: false } }, perceive } as unknown as PhaseModule
    const f = poet({}, phases)((n: number) => n)
    expect(() => f('one' as unknown as number)).toThrow(/expected number/)
    expect(f('two' as unknown as number)).toBe('two')
  })

  it.each([
    ['the runtime internals', disarm],
    ['the user function', 'ctx.t.fn(1)'],
    ['the caller\'s `this`', 'const me = ctx.self'],
    ['ctx as a value', 'const c = ctx\nc.t.fn(1)'],
    ['ctx spread', 'const c = { ...ctx }'],
    ['ctx handed to a local function', 'function h(c) { return c.t }\nh(ctx)'],
    ['ctx handed to a helper that calls back', 'function h(v, d, c) { return c.t }\ndeep(h, args, 0, ctx)'],
    ['a computed member', 'const t = ctx["t"]'],
    ['a member it may read, but not write', 'ctx.repair = true'],
  ])('rejects %s', (_name, body) => {
    expect(checkStatic({ trusted: [...trusted, 'deep'], perceive: `let issues\n${body}\nreturn issues` }).join('\n')).toMatch(/ctx/)
  })

  it('admits what phases do with ctx: statistics, repairs, the result, and the recursive checkers', () => {
    const body = 'ctx.stats = { n: args.length }\nif (ctx.repair) (ctx.repairs ??= []).push({ path: "args", action: "none" })\nconst r = check_Tree(args[0], 1, ctx)\nif (r !== undefined) issues = r'
    expect(checkStatic({ trusted: [...trusted, 'check_Tree'], perceive: `let issues\n${body}\nreturn issues` })).toEqual([])
    expect(checkStatic({ trusted, repair: true, enforce: 'if (typeof ctx.result === "string") ctx.result = ctx.result.trim()\nreturn undefined' })).toEqual([])
  })
})

describe('checkStatic keeps the builtin helpers as they are', () => {
  // Module-level: a change made during one call weakens every later call, and the sandbox runs each candidate once.
  const helpers = [...trusted, 'SEC_POLLUTING', 'enum_Color', 'within', 'deep', 'check_Tree', 'pattern']
  const check = (body: string) => checkStatic({ trusted: helpers, perceive: `let issues\n${body}\nreturn issues` })

  it.each([
    ['emptying an array', 'SEC_POLLUTING.length = 0'],
    ['overwriting an element', 'SEC_POLLUTING[0] = "x"'],
    ['a mutating method', 'SEC_POLLUTING.splice(0, 3)'],
    ['adding to an enum set', 'enum_Color.add(args[0])'],
    ['deleting from an enum set', 'enum_Color.delete("red")'],
    ['marking a value as already checked', 'within.push(args[0])'],
    ['a regex\'s state', 'pattern.lastIndex = 3'],
    ['an alias', 'const s = enum_Color\ns.add(args[0])'],
    ['handing one to its own function', 'function grow(s) { s.add(args[0]) }\ngrow(enum_Color)'],
  ])('rejects %s', (_name, body) => {
    expect(check(body).join('\n')).toMatch(/belongs to the builtin helpers/)
  })

  it('admits calling, reading and iterating them', () => {
    const body = 'if (!enum_Color.has(args[0])) issues = add(issues, "args[0]", "Color", args[0])\nfor (const k of SEC_POLLUTING) if (hasOwn.call(args, k)) issues = add(issues, "args", k, args)\nif (SEC_POLLUTING.length > 3 || !pattern.test(String(args[1]))) issues = add(issues, "args[1]", "text", args[1])\nconst r = check_Tree(args[2], 1, ctx)\nif (r !== undefined) issues = r'
    expect(check(body)).toEqual([])
  })
})

describe('checkStatic admits only loops that end', () => {
  it.each([
    ['counting down against an upper bound', 'for (let i = 0; i < 10; i--) issues = undefined'],
    ['counting up against a lower bound', 'for (let i = 10; i >= 0; i++) issues = undefined'],
    ['a step that can jump over `!==`', 'for (let i = 0; i !== 10; i += 3) issues = undefined'],
    ['a bound only under `||`', 'for (let i = 0; i < 10 || args.length > 0; i++) issues = undefined'],
  ])('rejects %s', (_name, body) => {
    expect(perceive(body)[0]).toMatch(/`for` loops must count .* the way it counts/)
  })

  it.each([
    ['up', 'for (let i = 0; i < args.length; i++) issues = undefined'],
    ['down', 'for (let i = args.length - 1; i >= 0; i--) issues = undefined'],
    ['by steps, the bound on the left', 'for (let i = 0; 10 > i; i += 2) issues = undefined'],
    ['with a second condition', 'for (let i = 0; i < args.length && issues === undefined; i++) issues = undefined'],
  ])('admits counting %s', (_name, body) => {
    expect(perceive(body)).toEqual([])
  })
})

describe('regexProblem', () => {
  it.each([
    ['^[A-Z]{3}$', undefined],
    ['^\\d+(\\.\\d+)?$', undefined],
    ['^(USD|EUR)$', undefined],
    ['^(a+)+$', 'nested quantifiers (catastrophic backtracking)'],
    ['^(\\w*\\s?)*$', 'nested quantifiers (catastrophic backtracking)'],
    ['^(a|ab)*$', 'a repeated alternation (catastrophic backtracking)'],
    ['(a)\\1', 'backreferences are not allowed'],
    ['a(?=b)', 'lookaround is not allowed'],
    ['a*b*c*d*e*', '5 unbounded repetitions (at most 4)'],
  ])('/%s/', (pattern, problem) => {
    expect(regexProblem(pattern)).toBe(problem)
  })
})
