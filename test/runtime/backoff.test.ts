import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../src/runtime/backoff'

const b = { initial: 100, max: 5000, factor: 2, jitter: false }

describe('backoffDelay', () => {
  it('grows exponentially from initial and is capped at max', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((r) => backoffDelay(b, r))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000])
  })

  it('with full jitter, stays within [0, computed delay] and spreads uniformly over it', () => {
    const samples = Array.from({ length: 20_000 }, () => backoffDelay({ ...b, jitter: true }, 3))
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...samples)).toBeLessThanOrEqual(400)
    const mean = samples.reduce((a, x) => a + x, 0) / samples.length
    expect(mean).toBeGreaterThan(190)
    expect(mean).toBeLessThan(210)
    // Every tenth of the range gets its share (uniform: 10% each, ±2%).
    const deciles = new Array(10).fill(0)
    for (const s of samples) deciles[Math.min(9, Math.floor(s / 40))]++
    for (const d of deciles) expect(d / samples.length).toBeGreaterThan(0.08)
  })
})
