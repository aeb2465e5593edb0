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
    // Ids are a random per-process prefix and a counter. Fixed prefixes of that shape keep the test deterministic
    // (with a fresh random prefix it failed one run in a thousand, as a 0.1% critical value must).
    expect(id).toMatch(/^[0-9a-z]+-\d+$/)
    for (const prefix of ['4fzyo82mz6k-', 'k1x9q0a3b7-', '0p2lr5c8dw1-', 'zzzzzzzzzz-', '1-']) {
      const n = 40_000
      const buckets = new Array(20).fill(0)
      for (let i = 1; i <= n; i++) {
        const u = hashUnit(prefix + i)
        expect(u >= 0 && u < 1).toBe(true)
        buckets[Math.floor(u * 20)]++
      }
      // Chi-square with 19 degrees of freedom: 43.8 is the 0.1% critical value.
      const expected = n / 20
      const chi2 = buckets.reduce((a, b) => a + (b - expected) ** 2 / expected, 0)
      expect(chi2, prefix).toBeLessThan(43.8)
    }
  })
})
