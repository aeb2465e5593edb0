// Learned parameters and the rewritten phase module they produce.
import { describe, expect, it } from 'vitest'
import { renderPhaseModule } from '../../src/generators/render'
import type { Policy } from '../../src/runtime/types'
import { learnPolicy, readPolicy, withPolicy } from '../../src/train/candidate'
import { noMetrics, type VersionMetrics } from '../../src/train/store'
import { importPhases } from '../helpers/phase-module'

const policy: Policy = { attempts: 3, timeout: 30_000, backoff: { initial: 100, max: 5000, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 }

const ALL = new Set(['timeout', 'attempts', 'repair'] as const)

function observed(over: Partial<VersionMetrics>): VersionMetrics {
  return { ...noMetrics('v1'), ...over }
}

describe('learnPolicy', () => {
  it('sets the timeout to p99 of successful calls × 2 and raises attempts from the per-attempt failure rate', () => {
    const m = observed({ calls: 1000, attempts: 1400, outcomes: { ok: 950, input_error: 0, output_error: 0, timeout: 50, error: 0 }, okLatency: { p99: 412.3, mean: { n: 950, mean: 150, variance: 900 } } })
    const learned = learnPolicy(policy, { metrics: m, goodRejections: [], goodRejectionThreshold: 5 }, ALL)
    expect(learned.policy).toEqual({ ...policy, timeout: 830, attempts: 6 })
    expect(learned.changes).toEqual([
      'timeout 30000 → 830 ms (p99 of 950 successful calls 412.3 ms × 2)',
      'attempts 3 → 6 (32.1 % of 1400 attempts failed)',
    ])
  })

  it('says where a learned timeout is held to its bounds, so p99 × 2 is not read as the reason for it', () => {
    const fast = observed({ calls: 800, attempts: 800, outcomes: { ok: 787, input_error: 0, output_error: 0, timeout: 0, error: 13 }, okLatency: { p99: 17, mean: { n: 787, mean: 11, variance: 9 } } })
    expect(learnPolicy(policy, { metrics: fast, goodRejections: [], goodRejectionThreshold: 5 }, new Set(['timeout'] as const)).changes).toEqual([
      'timeout 30000 → 50 ms (p99 of 787 successful calls 17 ms × 2, and never below 50 ms)',
    ])
    const slow = observed({ calls: 800, attempts: 800, outcomes: { ok: 800, input_error: 0, output_error: 0, timeout: 0, error: 0 }, okLatency: { p99: 400_000, mean: { n: 800, mean: 200_000, variance: 1e8 } } })
    expect(learnPolicy(policy, { metrics: slow, goodRejections: [], goodRejectionThreshold: 5 }, new Set(['timeout'] as const)).changes).toEqual([
      'timeout 30000 → 300000 ms (p99 of 800 successful calls 400000 ms × 2, and never above 300000 ms)',
    ])
  })

  it('reads a timeout of 0 or beyond what a timer can wait as none when it proposes one', () => {
    const m = observed({ calls: 800, attempts: 800, outcomes: { ok: 800, input_error: 0, output_error: 0, timeout: 0, error: 0 }, okLatency: { p99: 412.3, mean: { n: 800, mean: 150, variance: 900 } } })
    for (const timeout of [0, 1e12]) {
      expect(learnPolicy({ ...policy, timeout }, { metrics: m, goodRejections: [], goodRejectionThreshold: 5 }, new Set(['timeout'] as const)).changes).toEqual([
        'timeout none → 830 ms (p99 of 800 successful calls 412.3 ms × 2)',
      ])
    }
  })

  it('changes nothing on thin evidence or when the evidence agrees with the policy', () => {
    const few = observed({ calls: 10, attempts: 10, outcomes: { ok: 10, input_error: 0, output_error: 0, timeout: 0, error: 0 }, okLatency: { p99: 5, mean: { n: 10, mean: 3, variance: 1 } } })
    expect(learnPolicy(policy, { metrics: few, goodRejections: [], goodRejectionThreshold: 5 }, ALL).changes).toEqual([])
    const agrees = observed({ calls: 500, attempts: 500, outcomes: { ok: 500, input_error: 0, output_error: 0, timeout: 0, error: 0 }, okLatency: { p99: 14_000, mean: { n: 500, mean: 8000, variance: 1e6 } } })
    expect(learnPolicy(policy, { metrics: agrees, goodRejections: [], goodRejectionThreshold: 5 }, ALL).changes).toEqual([])
  })

  it('learns only the parameters it is asked to', () => {
    const m = observed({ calls: 1000, attempts: 1400, outcomes: { ok: 950, input_error: 0, output_error: 0, timeout: 50, error: 0 }, okLatency: { p99: 412.3, mean: { n: 950, mean: 150, variance: 900 } } })
    expect(learnPolicy(policy, { metrics: m, goodRejections: [], goodRejectionThreshold: 5 }, new Set(['timeout'] as const)).policy).toEqual({ ...policy, timeout: 830 })
    expect(learnPolicy(policy, { metrics: m, goodRejections: [], goodRejectionThreshold: 5 }, new Set()).changes).toEqual([])
  })

  it('turns repair on when enough rejected inputs were rated good', () => {
    const learned = learnPolicy(policy, { metrics: noMetrics('v1'), goodRejections: [{ issue: 'args[0].amount', count: 4 }, { issue: 'args[1]', count: 2 }], goodRejectionThreshold: 5 }, ALL)
    expect(learned.policy.repair).toBe(true)
    expect(learned.changes).toEqual(['repair off → on (6 rejected inputs rated good: args[0].amount ×4, args[1] ×2)'])
  })
})

describe('withPolicy', () => {
  const rendered = renderPhaseModule('src/a.ts#f', {
    generator: 'builtin',
    policy,
    perceive: 'let issues\nif (typeof args[0] !== "number") issues = [{ path: "args[0]", expected: "number", received: typeof args[0] }]\nreturn issues',
  })

  it('reads the policy of a rendered module', () => {
    expect(readPolicy(rendered.source)).toEqual(policy)
    expect(readPolicy('export default {}')).toBeUndefined()
  })

  it('writes a new, deterministic version that runs with the new policy and the same phases', async () => {
    const next = withPolicy(rendered.source, { ...policy, timeout: 830 }, 'error rate up')
    expect(next.version).toMatch(/^[0-9a-f]{10}$/)
    expect(next.version).not.toBe(rendered.version)
    expect(withPolicy(rendered.source, { ...policy, timeout: 830 }, 'error rate up').version).toBe(next.version)
    expect(next.source).toContain(`// trained from ${rendered.version}: error rate up`)
    const mod = await importPhases(next.source)
    expect(mod).toMatchObject({ id: 'src/a.ts#f', version: next.version, generator: 'builtin', policy: { ...policy, timeout: 830 } })
    expect(mod.perceive!(['x'], {} as Parameters<NonNullable<typeof mod.perceive>>[1])).toEqual([{ path: 'args[0]', expected: 'number', received: 'string' }])
  })

  it('refuses a module unplugin-poet did not render', () => {
    expect(() => withPolicy('export default {}', policy, 'x')).toThrow(/not rendered by unplugin-poet/)
  })
})
