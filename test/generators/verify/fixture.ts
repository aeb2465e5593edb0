// A hand-written function spec with builtin-style baseline parts and a good model reply, shared by the verify and LLM tests.
import type { FunctionSpec, PhaseParts } from '../../../src/generators/spec'

export const scaleSpec: FunctionSpec = {
  id: 'src/scale.ts#scale',
  file: '/project/src/scale.ts',
  name: 'scale',
  kind: 'function',
  async: false,
  params: [
    { name: 'values', type: { kind: 'array', element: { kind: 'number' } }, optional: false, rest: false },
    { name: 'factor', type: { kind: 'number' }, optional: false, rest: false },
  ],
  returns: { kind: 'array', element: { kind: 'number' } },
  types: {},
  options: {},
  source: 'function scale(values: number[], factor: number): number[] {\n  return values.map((v) => v * factor)\n}',
  signature: '(values: number[], factor: number): number[]',
  unresolved: [],
}

/**
 * The source of `scaleSpec` as a project holds it (src/scale.ts), for tests that generate it with the scripted model.
 * `options` goes into `poet(...)`; the module re-exports PoetInputError so a bundle of it can be checked for rejections.
 */
export function scaleSource(options = ''): string {
  return `import { poet } from 'unplugin-poet/runtime'
export { PoetInputError } from 'unplugin-poet/runtime'

export const scale = poet(${options})(function scale(values: number[], factor: number): number[] {
  return values.map((v) => v * factor)
})
`
}

/** Written the way the builtin generator writes: `let issues`, `add(...)`, `return issues`. */
export const scaleBaseline: PhaseParts = {
  generator: 'builtin',
  policy: { attempts: 3, timeout: 30000, backoff: { initial: 100, max: 5000, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
  helpers: [
    'function describe(v) {',
    '  if (v === null) return "null"',
    '  if (Array.isArray(v)) return "array"',
    '  if (typeof v === "number" && v !== v) return "NaN"',
    '  return typeof v',
    '}',
    'function add(issues, path, expected, value, rule) {',
    '  const list = issues || []',
    '  if (list.length < 20) list.push(rule ? { path, expected, received: describe(value), rule } : { path, expected, received: describe(value) })',
    '  return list',
    '}',
  ].join('\n'),
  perceive: [
    'let issues',
    'const p0 = args[0]',
    'if (!Array.isArray(p0)) issues = add(issues, "args[0]", "array", p0)',
    'else for (let i = 0; i < p0.length; i++) if (typeof p0[i] !== "number" || !Number.isFinite(p0[i])) issues = add(issues, "args[0][" + i + "]", "finite number", p0[i])',
    'const p1 = args[1]',
    'if (typeof p1 !== "number" || !Number.isFinite(p1)) issues = add(issues, "args[1]", "finite number", p1)',
    'return issues',
  ].join('\n'),
  enforce: [
    'let issues',
    'if (!Array.isArray(result)) issues = add(issues, "result", "array", result)',
    'else for (let i = 0; i < result.length; i++) if (typeof result[i] !== "number" || !Number.isFinite(result[i])) issues = add(issues, "result[" + i + "]", "finite number", result[i])',
    'return issues',
  ].join('\n'),
}

/** A model answer that keeps the type checks, adds a domain-style rule with a name, and records input statistics. */
export const goodReply = {
  perceive: [
    '// GOOD-REPLY-MARKER: checks each value, records the sample size',
    'let issues',
    'const values = args[0]',
    'if (!Array.isArray(values)) issues = add(issues, "args[0]", "array of finite numbers", values)',
    'else {',
    '  for (let i = 0; i < values.length; i++) {',
    '    if (typeof values[i] !== "number" || !Number.isFinite(values[i])) issues = add(issues, "args[0][" + i + "]", "finite number", values[i])',
    '  }',
    '  ctx.stats = { n: values.length }',
    '}',
    'if (!isFiniteNumber(args[1])) issues = add(issues, "args[1]", "finite number", args[1])',
    'else if (args[1] > 1e6) issues = add(issues, "args[1]", "factor at most 1e6", args[1], "scale.reasonable_factor")',
    'return issues',
  ].join('\n'),
  enforce: [
    'let issues',
    'if (!Array.isArray(result)) return add(issues, "result", "array", result)',
    'for (let i = 0; i < result.length; i++) if (!isFiniteNumber(result[i])) issues = add(issues, "result[" + i + "]", "finite number", result[i])',
    'return issues',
  ].join('\n'),
  helpers: 'function isFiniteNumber(v) {\n  return typeof v === "number" && Number.isFinite(v)\n}',
  policy: { attempts: 2, timeout: null, retryOn: null },
  argExamples: [
    { json: '[[1, 2, 3], 2]', valid: true, why: 'numbers and a factor' },
    { json: '[[], 0.5]', valid: true, why: 'empty input is fine' },
    { json: '[[1, "2"], 2]', valid: false, why: 'a string element' },
    { json: '[[1], 2000000]', valid: false, why: 'unreasonable factor' },
  ],
  resultExamples: [
    { json: '[2, 4, 6]', valid: true, why: 'numbers' },
    { json: '[null]', valid: false, why: 'null is not a number' },
  ],
  variants: null,
  notes: 'Kept the type checks, added a factor bound and sample size statistics.',
}
