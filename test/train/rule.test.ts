// The promotion/rollback rule on hand-made evidence: each branch and its stated reason.
import { describe, expect, it } from 'vitest'
import { compare, decide, DEFAULT_RULE, normalCdf, type MetricSpec } from '../../src/train/rule'

const okRate: MetricSpec = { name: 'ok rate', higherIsBetter: true, margin: 0.02 }
const latency: MetricSpec = { name: 'latency', higherIsBetter: false, margin: 4 }
const rate = (n: number, ok: number) => ({ kind: 'rate' as const, n, successes: ok })
const mean = (n: number, m: number, sd: number) => ({ kind: 'mean' as const, n, mean: m, variance: sd * sd })

describe('compare', () => {
  it('gives P(better) near 1 for a clear improvement and near 0 for its mirror', () => {
    const c = compare(okRate, rate(2000, 1800), rate(1000, 950))
    expect(c.pBetter).toBeGreaterThan(0.99)
    expect(c.pWorse).toBeLessThan(1e-6)
    expect(compare(okRate, rate(1000, 950), rate(2000, 1800)).pWorse).toBeGreaterThan(0.99)
  })

  it('treats a difference inside the margin as a tie even with plenty of data', () => {
    const c = compare(okRate, rate(100_000, 95_000), rate(100_000, 95_500))
    expect(c.pBetter).toBeLessThan(0.01)
    expect(c.pWorse).toBeLessThan(0.01)
  })

  it('orients lower-is-better metrics and knows nothing from fewer than two observations', () => {
    expect(compare(latency, mean(500, 100, 50), mean(500, 80, 40)).pBetter).toBeGreaterThan(0.99)
    expect(compare(latency, mean(500, 4, 0.5), mean(1, 1, 0))).toMatchObject({ pBetter: 0, pWorse: 0 })
  })

  it('reads a metric that never varies within an arm as known exactly: a difference beyond the margin is certain', () => {
    const cost: MetricSpec = { name: 'cost', higherIsBetter: false, margin: 0.04 }
    expect(compare(cost, mean(500, 1, 0), mean(300, 2, 0))).toMatchObject({ pBetter: 0, pWorse: 1 })
    expect(compare(cost, mean(500, 2, 0), mean(300, 1, 0))).toMatchObject({ pBetter: 1, pWorse: 0 })
    expect(compare(cost, mean(500, 1, 0), mean(300, 1.01, 0))).toMatchObject({ pBetter: 0, pWorse: 0 })
    expect(decide(compare(cost, mean(500, 1, 0), mean(300, 2, 0)), []).action).toBe('rollback')
    expect(decide(compare(cost, mean(500, 2, 0), mean(300, 1, 0)), []).action).toBe('promote')
  })

  it('has an accurate normal CDF', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7)
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6)
    expect(normalCdf(-2.326348)).toBeCloseTo(0.01, 6)
  })
})

describe('decide', () => {
  it('says "—" for an arm with no observations yet, not its prior mean read as a measured rate', () => {
    expect(decide(compare(okRate, rate(0, 0), rate(0, 0)), []).reason).toMatch(/^ok rate: — \(n=0\) → — \(n=0\), P\(better\)/)
    expect(decide(compare(okRate, rate(40, 30), rate(0, 0)), []).reason).toMatch(/^ok rate: 0\.\d+ \(n=40\) → — \(n=0\)/)
  })

  it('says which arm still lacks observations before a promotion, and how many', () => {
    expect(decide(compare(okRate, rate(392, 350), rate(108, 97)), []).reason).toMatch(/, 200 observations per arm before promotion: the candidate needs 92 more$/)
    expect(decide(compare(okRate, rate(120, 100), rate(30, 27)), []).reason).toMatch(/, 200 observations per arm before promotion: current needs 80 more, the candidate 170$/)
    expect(decide(compare(okRate, rate(150, 130), rate(400, 380)), []).reason).toMatch(/, 200 observations per arm before promotion: current needs 50 more$/)
  })

  it('promotes a clearly better candidate once both arms have the minimum sample', () => {
    const v = decide(compare(okRate, rate(1000, 900), rate(300, 297)), [])
    expect(v.action).toBe('promote')
    expect(v.reason).toMatch(/^better on ok rate: 0\.8992 \(n=1000\) → 0\.9868 \(n=300\), P\(better\) = 1\.000 ≥ 0\.99$/)
    expect(decide(compare(okRate, rate(1000, 900), rate(150, 149)), []).action).toBe('wait')
  })

  it('rolls back on any watched metric, after fewer observations than a promotion needs', () => {
    const worse = decide(compare(okRate, rate(1000, 950), rate(120, 95)), [])
    expect(worse.action).toBe('rollback')
    expect(worse.reason).toMatch(/^worse on ok rate: .*P\(worse\) = 1\.000 ≥ 0\.975$/)
    const guard = decide(compare(okRate, rate(1000, 950), rate(120, 114)), [compare(latency, mean(1000, 100, 50), mean(120, 150, 75))])
    expect(guard.action).toBe('rollback')
    expect(guard.reason).toMatch(/^worse on latency/)
    expect(decide(compare(okRate, rate(1000, 950), rate(60, 40)), []).action).toBe('wait')
  })

  it('does not promote while a guard leans worse', () => {
    const v = decide(compare(okRate, rate(1000, 900), rate(400, 396)), [compare(latency, mean(1000, 100, 50), mean(400, 106, 50))])
    expect(v).toEqual({ action: 'wait', reason: expect.stringMatching(/^better on ok rate but latency leans worse/) })
  })

  it('retires a candidate that shows no difference after the maximum sample, and waits before', () => {
    const tie = compare(okRate, rate(80_000, 76_000), rate(20_000, 19_000))
    expect(decide(tie, []).action).toBe('retire')
    expect(decide(tie, [], { ...DEFAULT_RULE, maxCandidate: 50_000 })).toEqual({ action: 'wait', reason: expect.stringMatching(/^ok rate: 0\.9500 \(n=80000\) → 0\.9500 \(n=20000\)/) })
  })
})
