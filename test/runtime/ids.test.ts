import { describe, expect, it } from 'vitest'
import { hashUnit, nextExecutionId } from '../../src/runtime/ids'

describe('execution ids', () => {
  it('are unique', () => {
    const ids = new Set(Array.from({ length: 50_000 }, nextExecutionId))
    expect(ids.size).toBe(50_000)
  })

  it('hash deterministically and uniformly into [0, 1), so a traffic share is honoured', () => {
    const id = nextExecutionId()
    expect(hashUnit(id)).toBe(hashUnit(id))
    const n = 40_000
    const buckets = new Array(20).fill(0)
    for (let i = 0; i < n; i++) {
      const u = hashUnit(nextExecutionId())
      expect(u >= 0 && u < 1).toBe(true)
      buckets[Math.floor(u * 20)]++
    }
    // Chi-square with 19 degrees of freedom: 43.8 is the 0.1% critical value.
    const expected = n / 20
    const chi2 = buckets.reduce((a, b) => a + (b - expected) ** 2 / expected, 0)
    expect(chi2).toBeLessThan(43.8)
  })
})
