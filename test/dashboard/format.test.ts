// What the dashboard prints and charts: percentages that never round a failure away, latencies, and time series whose
// quiet stretches read as quiet.
import { describe, expect, it } from 'vitest'
import { chartSeries, ms, pct } from '../../src/dashboard/format'

describe('pct', () => {
  it('never rounds failures to 0 % nor a near-total to 100 %', () => {
    expect(pct(0)).toBe('0 %')
    expect(pct(1)).toBe('100 %')
    expect(pct(0.2)).toBe('20 %')
    expect(pct(0.05)).toBe('5.0 %')
    expect(pct(4 / 10_000)).toBe('<0.1 %')
    expect(pct(0.9996)).toBe('>99.9 %')
    expect(pct(0.996)).toBe('99.6 %')
  })
})

describe('ms', () => {
  it('shows a measured 0 ms as such, and — only when nothing was measured', () => {
    expect(ms(undefined, 0)).toBe('<span class="muted">—</span>')
    expect(ms(0, 0)).toBe('<span class="muted">—</span>')
    expect(ms(0, 12)).toBe('0 ms')
    expect(ms(2.5, 1)).toBe('2.50 ms')
    expect(ms(250, 1)).toBe('250 ms')
    expect(ms(2500, 1)).toBe('2.50 s')
  })

  it('never shows a measured latency as 0.00 ms, 10.00 ms or 1000 ms: a sync function takes microseconds', () => {
    expect(ms(0.004, 1)).toBe('<0.01 ms')
    expect(ms(0.012, 1)).toBe('0.01 ms')
    expect(ms(9.996, 1)).toBe('10 ms')
    expect(ms(999.7, 1)).toBe('1.00 s')
  })
})

describe('chartSeries', () => {
  const minute = 60_000
  const t0 = Date.UTC(2026, 0, 1, 12)
  it('gives every bucket of the window a point: 0 calls where none came, a gap (not a line) in latency', () => {
    const series = [
      { t: t0, calls: 100, errors: 2, p50: 10, p95: 20 },
      { t: t0 + 3 * minute, calls: 50, errors: 0, p50: 12, p95: 30 },
    ]
    expect(chartSeries(series, { since: t0 + 10_000, until: t0 + 4 * minute - 1 }, minute)).toEqual({
      t: [t0, t0 + minute, t0 + 2 * minute, t0 + 3 * minute].map((t) => t / 1000),
      calls: [100, 0, 0, 50],
      errors: [2, 0, 0, 0],
      p50: [10, null, null, 12],
      p95: [20, null, null, 30],
    })
  })

  it('keeps the buckets as they are when the window would need too many points', () => {
    const series = [{ t: t0, calls: 1, errors: 0, p50: 1, p95: 1 }]
    expect(chartSeries(series, { since: t0, until: t0 + 7 * 86_400_000 }, 1).calls).toEqual([1])
  })
})
