// The dashboard's counts over real HTTP on real SQLite files, answered from the store's minute rollups: exact through
// windows that cut minutes, after retention, and on a store an older unplugin-poet wrote.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { serve, type RunningCollector, type ServeOptions } from '../../src/train/collector'
import { FeedbackStore } from '../../src/train/store'
import type { ExecutionEvent, FeedbackEvent, Outcome } from '../../src/runtime/types'
import { execution, feedback, tempDir } from './helpers'

const running: RunningCollector[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

async function start(options: ServeOptions): Promise<RunningCollector> {
  const r = await serve({ port: 0, rateLimit: false, ...options })
  running.push(r)
  return r
}

async function stop(r: RunningCollector): Promise<void> {
  running.splice(running.indexOf(r), 1)
  await r.close()
}

async function post(r: RunningCollector, events: unknown[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const res = await fetch(`${r.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events.slice(i, i + 5000)) })
    expect(res.status).toBe(202)
  }
}

async function get<T>(r: RunningCollector, path: string): Promise<T> {
  const res = await fetch(r.url + path)
  expect(res.status).toBe(200)
  return (await res.json()) as T
}

interface TableRow {
  id: string
  version: string
  calls: number
  errorRate: Record<Exclude<Outcome, 'ok'>, number>
  p50: number
  p95: number
  score: { mean: number | null; n: number }
}

interface Bucket {
  t: number
  calls: number
  errors: number
  p50: number
  p95: number
}

const base = Date.UTC(2026, 0, 1, 12)
const MINUTE = 60_000
const OUTCOMES: Outcome[] = ['ok', 'ok', 'ok', 'ok', 'input_error', 'output_error', 'timeout', 'error']

/** Deterministic calls of two functions and two versions over six minutes, at any millisecond, every outcome. */
function calls(n: number, seed = 1): ExecutionEvent[] {
  let x = seed
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32
  return Array.from({ length: n }, (_, i) =>
    execution({
      executionId: `call-${seed}-${i}`,
      functionId: next() < 0.7 ? 'src/drift.ts#detectDrift' : 'src/other.ts#f',
      version: next() < 0.8 ? 'aaaaaaaaaa' : 'bbbbbbbbbb',
      ts: base + Math.floor(next() * 6 * MINUTE),
      duration: Math.floor(next() * 500),
      outcome: OUTCOMES[Math.floor(next() * OUTCOMES.length)]!,
      attempts: 1 + Math.floor(next() * 3),
    }),
  )
}

function nearestRank(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length ? sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]! : 0
}

/** What the table must show for a window, computed from the events themselves. */
function expectedTable(events: ExecutionEvent[], scores: FeedbackEvent[], since: number, until: number): TableRow[] {
  const inside = (ts: number) => ts >= since && ts < until
  const rows = new Map<string, { id: string; version: string; calls: ExecutionEvent[]; scores: number[] }>()
  for (const e of events.filter((e) => inside(e.ts))) {
    const key = `${e.functionId} ${e.version}`
    if (!rows.has(key)) rows.set(key, { id: e.functionId, version: e.version, calls: [], scores: [] })
    rows.get(key)!.calls.push(e)
  }
  for (const f of scores.filter((f) => inside(f.ts))) rows.get(`${f.functionId} ${f.version}`)?.scores.push(f.score!)
  return [...rows.values()]
    .sort((a, b) => a.id.localeCompare(b.id) || a.version.localeCompare(b.version))
    .map((r) => {
      const share = (o: Outcome) => r.calls.filter((e) => e.outcome === o).length / r.calls.length
      const durations = r.calls.map((e) => e.duration)
      return {
        id: r.id,
        version: r.version,
        calls: r.calls.length,
        errorRate: { input_error: share('input_error'), output_error: share('output_error'), timeout: share('timeout'), error: share('error') },
        p50: nearestRank(durations, 0.5),
        p95: nearestRank(durations, 0.95),
        score: r.scores.length ? { mean: r.scores.reduce((s, v) => s + v, 0) / r.scores.length, n: r.scores.length } : { mean: null, n: 0 },
      }
    })
}

function expectedSeries(events: ExecutionEvent[], id: string, size: number, since: number, until: number): Bucket[] {
  const buckets = new Map<number, ExecutionEvent[]>()
  for (const e of events) {
    if (e.functionId !== id || e.ts < since || e.ts >= until) continue
    const t = e.ts - (e.ts % size)
    buckets.set(t, [...(buckets.get(t) ?? []), e])
  }
  return [...buckets]
    .sort(([a], [b]) => a - b)
    .map(([t, list]) => ({
      t,
      calls: list.length,
      errors: list.filter((e) => e.outcome !== 'ok').length,
      p50: nearestRank(list.map((e) => e.duration), 0.5),
      p95: nearestRank(list.map((e) => e.duration), 0.95),
    }))
}

/** The table as expected: counts and error rates equal, scores to float precision, percentiles within `latencyWithin` ms. */
function expectTable(actual: TableRow[], expected: TableRow[], latencyWithin = 0): void {
  const counts = (rows: TableRow[]) => rows.map(({ score, p50, p95, ...r }) => ({ ...r, scores: score.n }))
  expect(counts(actual)).toEqual(counts(expected))
  actual.forEach((r, i) => {
    const e = expected[i]!
    if (e.score.mean === null) expect(r.score.mean).toBeNull()
    else expect(r.score.mean).toBeCloseTo(e.score.mean, 12)
    expect(Math.abs(r.p50 - e.p50)).toBeLessThanOrEqual(latencyWithin)
    expect(Math.abs(r.p95 - e.p95)).toBeLessThanOrEqual(latencyWithin)
  })
}

/** Windows that start and end inside minutes, on minutes, within one minute, across one boundary, around everything. */
const WINDOWS: [string, number, number][] = [
  ['cutting two minutes', base + 12_345, base + 4 * MINUTE + 7_777],
  ['on whole minutes', base + MINUTE, base + 3 * MINUTE],
  ['within one minute', base + MINUTE + 1_000, base + 2 * MINUTE - 1_000],
  ['across one boundary, no whole minute', base + 30_000, base + 90_000],
  ['one millisecond', base + 2 * MINUTE + 500, base + 2 * MINUTE + 501],
  ['around everything', base - 1, base + 10 * MINUTE],
]

describe('counts of the dashboard, from the minute rollups', () => {
  it('are exact for every window, whether it cuts minutes or not: calls, error rates, scores, series', async () => {
    const r = await start({ db: join(tempDir(), 'feedback.db') })
    const events = calls(3000)
    // Scores sent minutes after their calls still count in the minute of their own ts, as before.
    const scores = events.filter((_, i) => i % 3 === 0).map((e, i) => feedback({ executionId: e.executionId, functionId: e.functionId, version: e.version, ts: e.ts + (i % 5) * 1000, score: (i % 4) / 3 }))
    await post(r, [...events, ...scores])
    // A resent batch (its 202 lost) changes nothing.
    await post(r, events.slice(0, 100))
    for (const [name, since, until] of WINDOWS) {
      const { functions } = await get<{ functions: TableRow[] }>(r, `/v1/functions?since=${since}&until=${until}`)
      expectTable(functions, expectedTable(events, scores, since, until))
      for (const id of ['src/drift.ts#detectDrift', 'src/other.ts#f']) {
        for (const size of [MINUTE, 2 * MINUTE, 7 * MINUTE]) {
          const expected = expectedSeries(events, id, size, since, until)
          const res = await fetch(`${r.url}/v1/functions/${encodeURIComponent(id)}?since=${since}&until=${until}&bucket=${size}ms`)
          // A function without calls in the window, nor a lock entry or decisions, is unknown there.
          expect(res.status, `${name}, ${id}`).toBe(expected.length ? 200 : 404)
          if (expected.length) expect(((await res.json()) as { series: Bucket[] }).series, `${name}, ${id}, buckets of ${size} ms`).toEqual(expected)
        }
      }
    }
    // Open windows, as the trainer reads them.
    const store = r.collector.store
    const all = store.metrics('src/drift.ts#detectDrift')
    expect(all.map((m) => m.calls)).toEqual(expectedTable(events, scores, 0, Infinity).filter((e) => e.id === 'src/drift.ts#detectDrift').map((e) => e.calls))
    const since = base + 2 * MINUTE + 30_000
    const after = expectedTable(events, scores, since, Infinity).filter((e) => e.id === 'src/other.ts#f')
    expect(store.metrics('src/other.ts#f', { since }).map((m) => [m.calls, m.score.n])).toEqual(after.map((e) => [e.calls, e.score.n]))
    const attempts = events.filter((e) => e.functionId === 'src/other.ts#f' && e.version === 'aaaaaaaaaa' && e.ts >= since).reduce((n, e) => n + e.attempts, 0)
    expect(store.metrics('src/other.ts#f', { since })[0]!.attempts).toBe(attempts)
    // The mean latency of successful calls, which the trainer compares versions by.
    const ok = events.filter((e) => e.functionId === 'src/drift.ts#detectDrift' && e.version === 'aaaaaaaaaa' && e.outcome === 'ok').map((e) => e.duration)
    expect(all[0]!.okLatency.mean.n).toBe(ok.length)
    expect(all[0]!.okLatency.mean.mean).toBeCloseTo(ok.reduce((s, d) => s + d, 0) / ok.length, 9)
  })

  it('stay exact after retention by age and by row count, and a version whose calls all went leaves the table', async () => {
    let now = base + 20 * MINUTE
    const r = await start({ db: join(tempDir(), 'feedback.db'), now: () => now, retention: { maxAgeMs: 10 * MINUTE, maxRows: 1500, intervalMs: 1 } })
    const first = calls(1000, 7)
    await post(r, first)
    const retired = Array.from({ length: 20 }, (_, i) => execution({ executionId: `retired-${i}`, version: 'cccccccccc', ts: base + 5 * MINUTE + i }))
    await post(r, retired)
    now += 5 * MINUTE
    const second = calls(1000, 8)
    await post(r, second)
    // Over 1 500 rows: the oldest 520 went (the first batch's, in the order they arrived).
    const firstKept = first.slice(520)
    let kept = [...firstKept, ...retired, ...second]
    const window = `since=${base - 1}&until=${base + 10 * MINUTE}`
    expectTable((await get<{ functions: TableRow[] }>(r, `/v1/functions?${window}`)).functions, expectedTable(kept, [], base - 1, base + 10 * MINUTE))
    // Eleven minutes later, everything received at the first two posts is past maxAge.
    now += 6 * MINUTE
    const late = execution({ executionId: 'late', ts: base + 2 * MINUTE + 5 })
    await post(r, [late])
    kept = [...second, late]
    const { functions } = await get<{ functions: TableRow[] }>(r, `/v1/functions?${window}`)
    expectTable(functions, expectedTable(kept, [], base - 1, base + 10 * MINUTE))
    expect(functions.some((f) => f.version === 'cccccccccc')).toBe(false)
    for (const id of ['src/drift.ts#detectDrift', 'src/other.ts#f']) {
      const detail = await get<{ series: Bucket[] }>(r, `/v1/functions/${encodeURIComponent(id)}?${window}&bucket=1m`)
      expect(detail.series).toEqual(expectedSeries(kept, id, MINUTE, base - 1, base + 10 * MINUTE))
    }
  })
})

describe('a store written by an older unplugin-poet (schema 1)', () => {
  /** A schema-1 file holding `events` and scores on a third of them, written as that version wrote them. */
  function olderStore(file: string, events: ExecutionEvent[]): FeedbackEvent[] {
    const db = new Database(file)
    db.exec(readFileSync(new URL('../fixtures/store/schema-1.sql', import.meta.url), 'utf8'))
    const insert = db.prepare(
      `INSERT INTO executions (execution_id, function_id, version, ts, received, duration, outcome, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    const rate = db.prepare(`INSERT INTO feedback (digest, execution_id, function_id, version, ts, received, score) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    const scores: FeedbackEvent[] = []
    db.transaction(() => {
      events.forEach((e, i) => {
        // Received now: retention goes by arrival, and would delete calls received in January at the first insert.
        insert.run(e.executionId, e.functionId, e.version, e.ts, Date.now(), e.duration, e.outcome, e.attempts)
        if (i % 3) return
        const f = feedback({ executionId: e.executionId, functionId: e.functionId, version: e.version, ts: e.ts, score: (i % 5) / 4 })
        rate.run(`digest-${i}`, f.executionId, f.functionId, f.version, f.ts, Date.now(), f.score)
        scores.push(f)
      })
    })()
    db.close()
    return scores
  }

  it('is migrated on open and keeps its counts, series and percentiles; new calls add up, across restarts', async () => {
    const file = join(tempDir(), 'feedback.db')
    // Past the table's latency sample (5 000 calls of a version), so the percentiles read the sample the migration set up.
    const busy = Array.from({ length: 12_000 }, (_, i) =>
      execution({ executionId: `busy-${i}`, ts: base + Math.floor((i * 6 * MINUTE) / 12_000), duration: i % 1000, outcome: i % 10 ? 'ok' : 'error' }),
    )
    const old = [...calls(2000, 3), ...busy]
    const scores = olderStore(file, old)
    const [since, until] = [base + 12_345, base + 5 * MINUTE + 999]
    const table = `/v1/functions?since=${since}&until=${until}`
    const series = `/v1/functions/${encodeURIComponent('src/other.ts#f')}?since=${since}&until=${until}&bucket=1m`

    let r = await start({ db: file })
    // Exact where a version has fewer calls than the sample; the busy one within a few ms of its exact 499 and 949.
    expectTable((await get<{ functions: TableRow[] }>(r, table)).functions, expectedTable(old, scores, since, until), 5)
    expect((await get<{ series: Bucket[] }>(r, series)).series).toEqual(expectedSeries(old, 'src/other.ts#f', MINUTE, since, until))
    const added = calls(500, 4)
    await post(r, added)
    await stop(r)

    const db = new Database(file, { readonly: true })
    expect(db.pragma('user_version', { simple: true })).toBe(2)
    db.close()
    r = await start({ db: file })
    const now = [...old, ...added]
    expectTable((await get<{ functions: TableRow[] }>(r, table)).functions, expectedTable(now, scores, since, until), 5)
    expect((await get<{ series: Bucket[] }>(r, series)).series).toEqual(expectedSeries(now, 'src/other.ts#f', MINUTE, since, until))
  })

  it('is migrated once: opened again (by another process on the same file, say), it does not count its calls twice', () => {
    const file = join(tempDir(), 'feedback.db')
    const old = calls(500, 5)
    olderStore(file, old)
    const [a, b] = [new FeedbackStore(file), new FeedbackStore(file)]
    try {
      for (const store of [a, b]) {
        const total = store.metrics('src/drift.ts#detectDrift').reduce((n, m) => n + m.calls, 0)
        expect(total).toBe(old.filter((e) => e.functionId === 'src/drift.ts#detectDrift').length)
      }
    } finally {
      a.close()
      b.close()
    }
  })
})

describe('latency percentiles of a busy version', () => {
  it('read the same in the table and on the function’s page', async () => {
    const r = await start({ db: join(tempDir(), 'feedback.db') })
    // Past both pages' samples (5 000 and 10 000 calls), spread over the window's minutes, durations in no order.
    const events = Array.from({ length: 40_000 }, (_, i) =>
      execution({ executionId: `busy-${i}`, ts: base + Math.floor((i * 6 * MINUTE) / 40_000), duration: (i * 7919) % 1009, outcome: 'ok' }),
    )
    await post(r, events)
    const window = `since=${base}&until=${base + 6 * MINUTE}`
    const [row] = (await get<{ functions: TableRow[] }>(r, `/v1/functions?${window}`)).functions
    const page = await get<{ versions: { version: string; p50: number; p95: number; latency: { p50: number; p95: number } }[] }>(
      r,
      `/v1/functions/${encodeURIComponent('src/drift.ts#detectDrift')}?${window}`,
    )
    const version = page.versions.find((v) => v.version === row!.version)!
    expect([version.p50, version.p95, version.latency.p50, version.latency.p95]).toEqual([row!.p50, row!.p95, row!.p50, row!.p95])
    // Still close to the exact ranks.
    expect(Math.abs(row!.p50 - nearestRank(events.map((e) => e.duration), 0.5))).toBeLessThanOrEqual(10)
    expect(Math.abs(row!.p95 - nearestRank(events.map((e) => e.duration), 0.95))).toBeLessThanOrEqual(10)
  })
})
