// Property tests of the poet() option table: every valid literal is read back exactly, every wrong value is a build error.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DomainRegistry } from '../../src/generators/builtin/domains'
import type { PoetOptions } from '../../src/runtime/types'
import { PoetBuildError } from '../../src/plugin/errors'
import { POET_OPTION_KEYS } from '../../src/plugin/poet-options'
import { transformPoet } from '../../src/plugin/transform'
import { context } from './fixtures'

const root = '/project'
const file = '/project/src/f.ts'
const domains = new DomainRegistry().names()

/** A module marking one function with `options` written as a literal on line 2. */
const moduleWith = (literal: string) =>
  `import { poet } from 'unplugin-poet/runtime'\nexport const f = poet(${literal})(async (x: number) => x)\n`

// `+ 0` turns -0 into 0: JSON writes both as 0.
const unit = fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x + 0)
const validOptions: fc.Arbitrary<PoetOptions> = fc.record(
  {
    domain: fc.constantFrom(...domains),
    optimizeFor: fc.oneof(fc.constantFrom('accuracy', 'latency', 'cost', 'quality'), fc.string({ minLength: 1 })),
    attempts: fc.integer({ min: 1, max: 20 }),
    timeout: fc.double({ min: 0.5, max: 1e7, noNaN: true }),
    backoff: fc.record(
      {
        initial: fc.nat(10_000),
        max: fc.nat(100_000),
        factor: fc.double({ min: 1, max: 10, noNaN: true }),
        jitter: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    retryOn: fc.constantFrom('transient' as const, 'any' as const),
    repair: fc.boolean(),
    sample: unit,
  },
  { requiredKeys: [] },
)

describe('poet() options at build time', () => {
  it('the option table covers exactly the keys of PoetOptions', () => {
    expect(POET_OPTION_KEYS.sort()).toEqual(
      ['attempts', 'backoff', 'domain', 'optimizeFor', 'repair', 'retryOn', 'sample', 'timeout'].sort(),
    )
  })

  it('reads every valid literal back exactly as written', () => {
    fc.assert(
      fc.property(validOptions, (options) => {
        const result = transformPoet(moduleWith(JSON.stringify(options)), file, context(root))!
        expect(result.specs[0]!.options).toEqual(options)
      }),
      { numRuns: 300 },
    )
  })

  const wrong: fc.Arbitrary<[string, unknown]> = fc.oneof(
    fc.tuple(fc.constant('attempts'), fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 101 }), fc.double({ min: 1.01, max: 9.99, noInteger: true }), fc.string())),
    fc.tuple(fc.constant('sample'), fc.oneof(fc.double({ min: 1.0001, max: 1e6, noNaN: true }), fc.double({ min: -1e6, max: -0.0001, noNaN: true }))),
    fc.tuple(fc.constant('timeout'), fc.oneof(fc.integer({ min: -1e6, max: -1 }), fc.boolean())),
    fc.tuple(fc.constant('retryOn'), fc.string().filter((s) => s !== 'transient' && s !== 'any')),
    fc.tuple(fc.constant('repair'), fc.oneof(fc.integer(), fc.string(), fc.constant(null))),
    fc.tuple(fc.constant('optimizeFor'), fc.oneof(fc.constant(''), fc.integer(), fc.array(fc.string()))),
  )

  it('rejects every wrong value with POET_INVALID_OPTION at the value', () => {
    fc.assert(
      fc.property(wrong, ([key, value]) => {
        const literal = `{ ${key}: ${JSON.stringify(value)} }`
        const code = moduleWith(literal)
        const e = buildErrorOf(code)
        expect(e.code).toBe('POET_INVALID_OPTION')
        expect(e.loc.line).toBe(2)
        expect(e.loc.column).toBe(code.split('\n')[1]!.indexOf(`${key}: `) + key.length + 2)
        expect(e.reason).toContain(`option '${key}'`)
      }),
      { numRuns: 300 },
    )
  })
})

describe('numbers no retry loop or timer can honour', () => {
  it.each([
    ['{ attempts: Infinity }', "option 'attempts' (total tries, 1 = no retry) must be an integer from 1 to 100, but received Infinity."],
    ['{ attempts: 1e9 }', "option 'attempts' (total tries, 1 = no retry) must be an integer from 1 to 100, but received 1000000000."],
    ['{ attempts: NaN }', "option 'attempts' (total tries, 1 = no retry) must be an integer from 1 to 100, but received NaN."],
    ['{ attempts: -1 }', "option 'attempts' (total tries, 1 = no retry) must be an integer from 1 to 100, but received -1."],
    ['{ timeout: Infinity }', "option 'timeout' (milliseconds per attempt, async functions only; 0 = none) must be a number ≥ 0, but received Infinity."],
    ['{ timeout: -Infinity }', "option 'timeout' (milliseconds per attempt, async functions only; 0 = none) must be a number ≥ 0, but received -Infinity."],
    ['{ backoff: { max: Infinity } }', "option 'backoff.max' (upper bound of any delay, ms) must be a number ≥ 0, but received Infinity."],
  ])('%s is a build error at the value, saying the range', (literal, reason) => {
    const code = moduleWith(literal)
    const error = buildErrorOf(code)
    expect(error.code).toBe('POET_INVALID_OPTION')
    expect(error.reason).toBe(reason)
    // The code frame points at the value.
    expect(error.message).toContain(`> 2 | ${code.split('\n')[1]}`)
    expect(error.loc.column).toBe(code.split('\n')[1]!.search(/Infinity|-Infinity|1e9|NaN|-1 /))
  })
})

/** The build error the transform of `code` throws (the test fails if it throws none, or another kind). */
function buildErrorOf(code: string): PoetBuildError {
  let error: unknown
  try {
    transformPoet(code, file, context(root))
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(PoetBuildError)
  return error as PoetBuildError
}
