// How the dashboard page writes numbers and lays out its time series: pure, so what a user reads is tested in Node.

// A type only, erased from the page's bundle: the store itself never reaches the browser.
import type { SeriesBucket } from '../train/store'

export type { SeriesBucket }

/** A chart's columns: time in seconds (uPlot's unit), then one value per bucket; `null` draws a gap. */
export interface ChartSeries {
  t: number[]
  calls: number[]
  errors: number[]
  p50: (number | null)[]
  p95: (number | null)[]
}

/** Past this many points a window is drawn from its non-empty buckets alone. */
const MAX_POINTS = 2000

/**
 * The collector lists only buckets that had calls. Drawn as they are, a quiet hour between two busy minutes becomes a
 * line from one to the other, as if calls had gone on: every bucket of the window gets a point here, with 0 calls and
 * no latency where none came.
 */
export function chartSeries(series: SeriesBucket[], window: { since: number; until: number } | undefined, bucket: number | undefined): ChartSeries {
  const out: ChartSeries = { t: [], calls: [], errors: [], p50: [], p95: [] }
  const push = (t: number, b: SeriesBucket | undefined) => {
    out.t.push(t / 1000)
    out.calls.push(b?.calls ?? 0)
    out.errors.push(b?.errors ?? 0)
    out.p50.push(b ? b.p50 : null)
    out.p95.push(b ? b.p95 : null)
  }
  if (!window || !bucket || !(bucket > 0) || (window.until - window.since) / bucket > MAX_POINTS) {
    for (const b of series) push(b.t, b)
    return out
  }
  // Buckets start at multiples of their size since the epoch, as the collector groups them.
  const byStart = new Map(series.map((b) => [b.t, b]))
  for (let t = window.since - (window.since % bucket); t <= window.until; t += bucket) push(t, byStart.get(t))
  return out
}

/** A share as a percentage that never rounds a few failures to 0 %, nor all but a few to 100 %. */
export function pct(x: number): string {
  if (!(x > 0)) return '0 %'
  if (x >= 1) return '100 %'
  if (x < 0.001) return '<0.1 %'
  const whole = (x * 100).toFixed(x < 0.1 ? 1 : 0)
  if (whole !== '100') return `${whole} %`
  const tenth = (x * 100).toFixed(1)
  return tenth === '100.0' ? '>99.9 %' : `${tenth} %`
}

/** A latency; `—` only when no call was measured (`calls` 0), since a fast call does take 0 ms on a coarse clock. */
export function ms(x: number | undefined, calls: number | undefined): string {
  if (x === undefined || !Number.isFinite(x) || !calls) return '<span class="muted">—</span>'
  if (x === 0) return '0 ms'
  // Bounds as rounded: 9.996 would read "10.00 ms", 999.7 "1000 ms", and a sync call's microseconds "0.00 ms".
  if (x < 0.005) return '<0.01 ms'
  return x < 9.995 ? `${x.toFixed(2)} ms` : x < 999.5 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`
}
