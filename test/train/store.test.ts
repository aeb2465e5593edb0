// The feedback store on real SQLite files: durability settings, metrics per version and window, retention.
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { FeedbackStore } from '../../src/train/store'
import { execution, feedback, tempDir } from './helpers'

describe('FeedbackStore', () => {
  it('creates .poet-style parent dirs and runs in WAL mode with full sync', () => {
    const file = join(tempDir(), 'nested', '.poet', 'feedback.db')
    const store = new FeedbackStore(file)
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2)
    store.close()
  })

  it('refuses a database written by a newer schema, naming the file and what to do', () => {
    const file = join(tempDir(), 'feedback.db')
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()
    expect(() => new FeedbackStore(file)).toThrow(
      `poet: the feedback store ${file} was written by a newer unplugin-poet (store schema 99; this one reads up to 2). Upgrade unplugin-poet where this runs`,
    )
    // Let go of: SQLite removes the WAL when the last connection closes. Left open, vite dev (which runs on with the
    // store off) kept the file and its WAL open for as long as it ran.
    expect(existsSync(`${file}-wal`)).toBe(false)
  })

  it('keeps custom metrics of any name: __proto__ is a metric, and constructor is none unless it was sent', () => {
    const store = new FeedbackStore(join(tempDir(), 'f.db'))
    const t = 1_700_000_000_000
    const run = execution({ ts: t })
    store.insert([run])
    store.insert([feedback({ executionId: run.executionId, ts: t, metrics: JSON.parse('{ "__proto__": 0.5 }') as Record<string, number> })])
    const [m] = store.metrics('src/drift.ts#detectDrift')
    expect(Object.keys(m!.metrics)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(m!.metrics, '__proto__')?.value).toEqual({ n: 1, mean: 0.5, variance: 0 })
    // What the trainer reads for optimizeFor: a name nobody sent is no metric, whatever Object.prototype holds.
    expect(m!.metrics.constructor).toBeUndefined()
    store.close()
  })

  it('reports metrics per version within a window: outcomes, attempts, percentiles, scores and custom metrics', () => {
    const store = new FeedbackStore(join(tempDir(), 'f.db'))
    const t = 1_700_000_000_000
    const a = Array.from({ length: 100 }, (_, i) => execution({ ts: t + i, duration: i + 1, attempts: i < 10 ? 2 : 1 }))
    a[0]!.outcome = 'error'
    a[1]!.outcome = 'output_error'
    const b = [execution({ ts: t, version: 'b', duration: 7 })]
    const old = execution({ ts: t - 10_000, duration: 99_999 })
    store.insert([...a, ...b, old])
    store.insert([
      feedback({ executionId: a[2]!.executionId, ts: t, score: 1, metrics: { cost: 3 } }),
      feedback({ executionId: a[3]!.executionId, ts: t, score: 0, metrics: { cost: 5 } }),
      feedback({ executionId: a[4]!.executionId, ts: t, score: 1.5, label: 'good' }),
    ])
    const [ma, mb] = store.metrics('src/drift.ts#detectDrift', { since: t, until: t + 1000 })
    expect(ma!.version).toBe('aaaaaaaaaa')
    expect(ma!.calls).toBe(100)
    expect(ma!.outcomes).toEqual({ ok: 98, input_error: 0, output_error: 1, timeout: 0, error: 1 })
    expect(ma!.errorRate.error).toBeCloseTo(0.01)
    expect(ma!.attempts).toBe(110)
    expect(ma!.latency).toEqual({ p50: 50, p95: 95, p99: 99 })
    expect(ma!.okLatency.p99).toBe(100)
    // Successful calls are durations 3..100 ms.
    expect(ma!.okLatency.mean).toMatchObject({ n: 98, mean: 51.5 })
    expect(ma!.okLatency.mean.variance).toBeCloseTo(808.5)
    expect(ma!.score.n).toBe(3)
    expect(ma!.score.mean).toBeCloseTo(2.5 / 3)
    expect(ma!.score.clampedSum).toBe(2)
    expect(ma!.metrics.cost).toEqual({ n: 2, mean: 4, variance: 2 })
    expect(mb).toMatchObject({ version: 'b', calls: 1, latency: { p50: 7, p95: 7, p99: 7 } })
    expect(store.metrics('src/drift.ts#detectDrift', { until: t })[0]!.latency.p99).toBe(99_999)
    store.close()
  })

  it('reads metrics from one snapshot: retention by another connection between its queries cannot tear them', () => {
    const file = join(tempDir(), 'f.db')
    const store = new FeedbackStore(file)
    const t = 1_700_000_000_000
    const calls = Array.from({ length: 100 }, (_, i) => execution({ ts: t + i, duration: i + 1 }))
    store.insert([...calls, ...calls.map((e) => feedback({ executionId: e.executionId, ts: e.ts, score: 1 }))])
    // Another process on the same file: `poet serve` applying retention while `poet train` reads.
    const other = new Database(file)
    other.pragma('busy_timeout = 5000')
    const prepare = store.db.prepare.bind(store.db)
    let retained = false
    // Lands the other connection's delete exactly where it tears a read: after the counts, before the percentiles.
    store.db.prepare = ((sql: string) => {
      if (!retained && sql.startsWith("SELECT duration, outcome = 'ok'")) {
        retained = true
        other.exec('DELETE FROM executions; DELETE FROM feedback')
      }
      return prepare(sql)
    }) as typeof store.db.prepare
    try {
      const metrics = store.metrics('src/drift.ts#detectDrift')
      expect(retained).toBe(true)
      expect(metrics).toHaveLength(1)
      expect(metrics[0]).toMatchObject({ calls: 100, latency: { p50: 50, p95: 95, p99: 99 }, okLatency: { p99: 99 }, score: { n: 100, mean: 1 } })
      // The delete was committed all along: the next read sees it.
      expect(store.metrics('src/drift.ts#detectDrift')).toEqual([])
    } finally {
      store.db.prepare = prepare
      other.close()
      store.close()
    }
  })

  it('reads a series from one snapshot: retention by another connection between its counts and latencies cannot tear it', () => {
    const file = join(tempDir(), 'f.db')
    const store = new FeedbackStore(file)
    const t = 1_700_000_020_000
    store.insert(Array.from({ length: 100 }, (_, i) => execution({ ts: t + i, duration: i + 1 })))
    const other = new Database(file)
    other.pragma('busy_timeout = 5000')
    const prepare = store.db.prepare.bind(store.db)
    let retained = false
    store.db.prepare = ((sql: string) => {
      if (!retained && sql.startsWith('SELECT ts - ts % ?, duration')) {
        retained = true
        other.exec('DELETE FROM executions')
      }
      return prepare(sql)
    }) as typeof store.db.prepare
    try {
      const series = store.series('src/drift.ts#detectDrift', 60_000)
      expect(retained).toBe(true)
      expect(series).toEqual([{ t: 1_699_999_980_000, calls: 100, errors: 0, p50: 50, p95: 95 }])
      expect(store.series('src/drift.ts#detectDrift', 60_000)).toEqual([])
    } finally {
      store.db.prepare = prepare
      other.close()
      store.close()
    }
  })

  it('finds rejected inputs that users rated good', () => {
    const store = new FeedbackStore(join(tempDir(), 'f.db'))
    const rejected = execution({ outcome: 'input_error', issues: [{ path: 'args[0].amount', rule: 'financial_services.non_negative' }] })
    const rejectedBad = execution({ outcome: 'input_error', issues: [{ path: 'args[1]' }] })
    const fine = execution()
    store.insert([rejected, rejectedBad, fine])
    store.insert([
      feedback({ executionId: rejected.executionId, score: undefined, label: 'good' }),
      feedback({ executionId: rejectedBad.executionId, score: 0.1 }),
      feedback({ executionId: fine.executionId, score: 1 }),
    ])
    expect(store.goodRejections('src/drift.ts#detectDrift')).toEqual([
      { executionId: rejected.executionId, issues: ['args[0].amount (financial_services.non_negative)'] },
    ])
    store.close()
  })

  it('applies retention by age and by row count, periodically while events arrive', () => {
    let now = 1_000_000
    const store = new FeedbackStore(join(tempDir(), 'f.db'), { retention: { maxAgeMs: 10_000, maxRows: 50, intervalMs: 5_000 }, now: () => now })
    store.insert(Array.from({ length: 30 }, () => execution()))
    now += 6_000
    store.insert(Array.from({ length: 30 }, () => execution()))
    // The interval has passed: this insert pruned down to the 50 newest rows.
    expect(store.count('executions')).toBe(50)
    now += 6_000
    store.insert([execution()])
    // 12 s after the first insert: everything received at t=1_000_000 is past maxAge.
    expect(store.count('executions')).toBe(31)
    now += 100_000
    expect(store.prune()).toBe(31)
    expect(store.count('executions')).toBe(0)
    store.close()
  })

  it('counts its events from running totals, which a store an earlier release of schema 2 wrote gets on open', () => {
    const file = join(tempDir(), 'f.db')
    let store = new FeedbackStore(file)
    const calls = Array.from({ length: 40 }, () => execution())
    store.insert([...calls, feedback({ executionId: calls[0]!.executionId })])
    store.close()
    // As the release before the totals left the file: the same schema, without them.
    const older = new Database(file)
    older.exec(`DROP TRIGGER executions_total_in; DROP TRIGGER executions_total_out; DROP TRIGGER feedback_total_in;
      DROP TRIGGER feedback_total_out; DROP TABLE event_totals`)
    older.close()
    store = new FeedbackStore(file)
    expect([store.count('executions'), store.count('feedback')]).toEqual([40, 1])
    // Another process of that release on the same file writes through the triggers this one added to it.
    const other = new Database(file)
    other.prepare("DELETE FROM executions WHERE seq <= 5").run()
    other.prepare("DELETE FROM feedback").run()
    other.close()
    store.insert([...calls, execution()])
    expect([store.count('executions'), store.count('feedback')]).toEqual([41, 0])
    store.close()
    // Opened again, it does not count them twice.
    store = new FeedbackStore(file)
    expect(store.count('executions')).toBe(41)
    store.close()
  })

  it('counts what clients report dropped once per sink, by the minute it heard of it, and lets it age as events do', () => {
    const MINUTE = 60_000
    let now = Date.UTC(2026, 0, 1, 12)
    const store = new FeedbackStore(join(tempDir(), 'f.db'), { retention: { maxAgeMs: 60 * MINUTE, intervalMs: MINUTE }, now: () => now })
    store.insertMany([[execution()]], [{ session: 'a', count: 3 }])
    // The same running count again (a retry, a request sent beside it), and a lower one that arrived late: nothing new.
    store.insertMany([[execution()], []], [{ session: 'a', count: 3 }, { session: 'a', count: 2 }])
    now += 5 * MINUTE
    store.insertMany([[]], [{ session: 'a', count: 10 }, { session: 'b', count: 4 }])
    expect(store.droppedHeld()).toEqual({ events: 14, since: Date.UTC(2026, 0, 1, 12) })
    expect(store.dropped({ since: now - MINUTE, until: now + MINUTE })).toBe(11)
    expect(store.dropped({ since: now - 10 * MINUTE, until: now - MINUTE })).toBe(3)
    // An hour on, the first minute's reports are past maxAge; the sink that made them is too once it has said nothing since.
    now += 58 * MINUTE
    store.prune()
    expect(store.droppedHeld()).toEqual({ events: 11, since: Date.UTC(2026, 0, 1, 12, 5) })
    now += 10 * MINUTE
    store.prune()
    expect(store.droppedHeld()).toEqual({ events: 0 })
    expect(store.db.prepare('SELECT count(*) FROM drop_sessions').pluck().get()).toBe(0)
    store.close()
  })

  it('remembers at most maxRows sinks that reported drops, the ones heard from last, and keeps their drops counted', () => {
    let now = Date.UTC(2026, 0, 1)
    const store = new FeedbackStore(join(tempDir(), 'f.db'), { retention: { maxRows: 3 }, now: () => now })
    // Sessions any client can make up, one a request: without a bound, a flood of them grows the file for a month.
    for (let i = 0; i < 6; i++) {
      now += 1000
      store.insertMany([[]], [{ session: `s${i}`, count: 1 }])
    }
    store.prune()
    expect(store.db.prepare('SELECT session FROM drop_sessions ORDER BY session').pluck().all()).toEqual(['s3', 's4', 's5'])
    expect(store.droppedHeld().events).toBe(6)
    store.close()
  })

  it('still answers when the drops clients report add up past 64-bit integers (a client may send any count)', () => {
    let now = Date.UTC(2026, 0, 1)
    const store = new FeedbackStore(join(tempDir(), 'f.db'), { now: () => now })
    // Each minute's count fits an integer; their sum does not.
    const huge = (prefix: string) => Array.from({ length: 5000 }, (_, i) => ({ session: `${prefix}${i}`, count: 999_999_999_999_999 }))
    store.insertMany([[]], huge('a'))
    now += 60_000
    store.insertMany([[]], huge('b'))
    expect(store.droppedHeld().events).toBeCloseTo(1e4 * 999_999_999_999_999, -6)
    expect(store.dropped()).toBeCloseTo(1e4 * 999_999_999_999_999, -6)
    store.close()
  })

  it('takes drop reports into a store an earlier release wrote, which that release can still write', () => {
    const file = join(tempDir(), 'f.db')
    let store = new FeedbackStore(file)
    store.insert([execution()])
    store.close()
    // As the release before drop reports left the file: the same schema version, without their tables and total.
    const older = new Database(file)
    older.exec(`DROP TABLE drop_minutes; DROP TABLE drop_sessions; DELETE FROM event_totals WHERE name = 'dropped'`)
    older.close()
    store = new FeedbackStore(file)
    expect(store.droppedHeld()).toEqual({ events: 0 })
    store.insertMany([[execution()]], [{ session: 's', count: 2 }])
    store.close()
    // That release still opens it and stores events (its statements name only the tables it knows).
    const other = new Database(file)
    expect(other.pragma('user_version', { simple: true })).toBe(2)
    other.prepare("DELETE FROM executions WHERE seq = 1").run()
    other.close()
    store = new FeedbackStore(file)
    expect([store.count('executions'), store.droppedHeld().events]).toEqual([1, 2])
    store.close()
  })

  it('deletes a large retention backlog a bounded step per batch, so the WAL stays small, and truncates the WAL once done', () => {
    const DAY = 86_400_000
    let now = Date.UTC(2026, 0, 1)
    const file = join(tempDir(), 'f.db')
    const store = new FeedbackStore(file, { retention: { maxAgeMs: DAY }, now: () => now })
    const wal = () => statSync(`${file}-wal`).size
    for (let b = 0; b < 30; b++) store.insert(Array.from({ length: 2000 }, (_, i) => execution({ ts: now + i })))
    store.db.pragma('wal_checkpoint(TRUNCATE)')
    // Two days on, all 60 000 are past the maximum age. One transaction deleting them wrote every page they were on
    // to the WAL first (SQLite reuses a WAL, but never shrinks it): a store's size again, for as long as it stays open.
    now += 2 * DAY
    let batches = 0
    let largest = 0
    // Until a batch finds nothing left to delete.
    for (let before = -1; store.count('executions') !== before + 1 && batches <= 200; batches++) {
      before = store.count('executions')
      store.insert([execution({ ts: now })])
      largest = Math.max(largest, wal())
    }
    expect(store.count('executions')).toBe(batches)
    // Each batch's commit was followed by a bounded step, not the whole backlog, and the WAL kept to a few MB; once done,
    // it was truncated (the last batch's commit wrote a few pages to it since).
    expect(batches).toBeGreaterThanOrEqual(10)
    expect(largest).toBeLessThan(8 * 1024 * 1024)
    expect(wal()).toBeLessThan(100 * 1024)
    store.close()
  })

  it('keeps, however old, the rollback and retire decisions the trainer reads to never offer a stopped version again', () => {
    let now = Date.UTC(2026, 0, 1)
    const store = new FeedbackStore(join(tempDir(), 'f.db'), { now: () => now })
    const id = 'src/drift.ts#detectDrift'
    for (const action of ['candidate', 'rollback', 'retire', 'rejected']) store.recordDecision({ functionId: id, ts: now, action, from: 'aaaa', to: `v-${action}`, reason: 'test' })
    now += 31 * 86_400_000
    store.prune()
    expect(store.decisions(id).map((d) => d.action)).toEqual(['rollback', 'retire'])
    store.close()
  })
})

describe('latency of a busy function', () => {
  // 120 000 calls over 100 minutes, the duration of call i being i mod 1000 ms (so every percentile is known), 1 in 10
  // failing; then one quiet minute with a single slow call.
  const N = 120_000
  const start = Date.UTC(2026, 0, 1)
  const at = (i: number) => start + Math.floor((i * 6_000_000) / N)
  function busyStore(): FeedbackStore {
    const store = new FeedbackStore(join(tempDir(), 'busy.db'))
    const batch = Array.from({ length: N }, (_, i) =>
      execution({ ts: at(i), duration: i % 1000, outcome: i % 10 === 9 ? 'error' : 'ok', executionId: `busy-${i}` }),
    )
    batch.push(execution({ ts: start + 6_000_000 + 30_000, duration: 4321, executionId: 'quiet-1' }))
    store.insertMany([batch])
    return store
  }

  it('reads the percentiles from an even sample past 50 000 calls: within a few ms of exact, with exact counts', () => {
    const store = busyStore()
    const [m] = store.metrics('src/drift.ts#detectDrift', { since: start, until: start + 6_000_000 })
    expect(m!.calls).toBe(N)
    expect(m!.outcomes).toMatchObject({ ok: N * 0.9, error: N * 0.1 })
    // Exact: p50 499, p95 949, p99 989 of all; of the successful ones (i mod 10 ≠ 9) p99 988.
    expect(Math.abs(m!.latency.p50 - 499)).toBeLessThanOrEqual(5)
    expect(Math.abs(m!.latency.p95 - 949)).toBeLessThanOrEqual(5)
    expect(Math.abs(m!.latency.p99 - 989)).toBeLessThanOrEqual(5)
    expect(Math.abs(m!.okLatency.p99 - 988)).toBeLessThanOrEqual(5)
    store.close()
  })

  it('keeps every bucket of the series exact in its counts, and gives a quiet bucket the sample missed its own latency', () => {
    const store = busyStore()
    const series = store.series('src/drift.ts#detectDrift', 60_000, { since: start, until: start + 7_200_000 })
    expect(series).toHaveLength(101)
    expect(series.reduce((n, b) => n + b.calls, 0)).toBe(N + 1)
    expect(series.slice(0, 100).every((b) => b.calls === N / 100 && b.errors === N / 1000)).toBe(true)
    // Each minute holds 1 200 consecutive calls: its exact p50 and p95, beside what the sample gives.
    series.slice(0, 100).forEach((b, minute) => {
      const durations = Array.from({ length: N / 100 }, (_, j) => (minute * (N / 100) + j) % 1000).sort((x, y) => x - y)
      expect(Math.abs(b.p50 - durations[599]!)).toBeLessThanOrEqual(15)
      expect(Math.abs(b.p95 - durations[1139]!)).toBeLessThanOrEqual(15)
    })
    expect(series[100]).toEqual({ t: start + 6_000_000, calls: 1, errors: 0, p50: 4321, p95: 4321 })
    store.close()
  })
})

describe('latency sample of functions called together', () => {
  // A request handler that calls two functions in turn: their events arrive interleaved, one of each per request, so
  // every other row of the table is each one's. 2 × 60 000 calls, the first taking i mod 100 ms, the second 5 s.
  const N = 60_000
  const start = Date.UTC(2026, 0, 1)
  function pairedStore(): FeedbackStore {
    const store = new FeedbackStore(join(tempDir(), 'paired.db'))
    const batch = Array.from({ length: N }, (_, i) => [
      execution({ ts: start + i * 50, duration: i % 100, executionId: `first-${i}` }),
      execution({ ts: start + i * 50, duration: 5000, functionId: 'src/other.ts#second', executionId: `second-${i}` }),
    ]).flat()
    store.insertMany([batch])
    return store
  }

  it('gives each one its own percentiles, not none (the sample of every k-th row missed one of them whole)', () => {
    const store = pairedStore()
    const [first] = store.metrics('src/drift.ts#detectDrift', { since: start })
    const [second] = store.metrics('src/other.ts#second', { since: start })
    expect(first!.calls).toBe(N)
    expect(Math.abs(first!.latency.p50 - 49)).toBeLessThanOrEqual(2)
    expect(Math.abs(first!.latency.p99 - 98)).toBeLessThanOrEqual(2)
    expect(Math.abs(first!.okLatency.p99 - 98)).toBeLessThanOrEqual(2)
    expect(second!.latency).toEqual({ p50: 5000, p95: 5000, p99: 5000 })
    expect(second!.okLatency.p99).toBe(5000)
    store.close()
  })

  it('reads the quiet buckets of a busy series in one pass, not one scan of the function per bucket', () => {
    const store = new FeedbackStore(join(tempDir(), 'quiet.db'))
    // 60 000 calls in the first half hour, then a call a minute for 90 minutes: most of those the sample misses.
    const busy = Array.from({ length: N }, (_, i) => execution({ ts: start + Math.floor(i / 2000) * 60_000, duration: 10, executionId: `b-${i}` }))
    const quiet = Array.from({ length: 90 }, (_, m) => execution({ ts: start + (30 + m) * 60_000, duration: 20, executionId: `q-${m}` }))
    store.insertMany([[...busy, ...quiet]])
    const prepare = store.db.prepare.bind(store.db)
    let queries = 0
    store.db.prepare = ((sql: string) => (queries++, prepare(sql))) as typeof store.db.prepare
    try {
      const series = store.series('src/drift.ts#detectDrift', 60_000, { since: start })
      expect(series).toHaveLength(120)
      expect(series.slice(30).every((b) => b.calls === 1 && b.p50 === 20 && b.p95 === 20)).toBe(true)
      expect(queries).toBeLessThanOrEqual(3)
    } finally {
      store.db.prepare = prepare
      store.close()
    }
  })

  it('spreads the series sample over every bucket of each, so a bucket is never estimated from a handful of its calls', () => {
    const store = new FeedbackStore(join(tempDir(), 'sparse.db'))
    // 60 000 calls of 10 ms in the first minutes, then a quiet minute with 4 calls, the last of them 9 s.
    const busy = Array.from({ length: N }, (_, i) => execution({ ts: start + Math.floor(i / 1000) * 60_000, duration: 10, executionId: `b-${i}` }))
    const quietAt = start + 60 * 60_000
    const quiet = [1, 2, 9000, 3].map((d, i) => execution({ ts: quietAt + i, duration: d, executionId: `q-${i}` }))
    store.insertMany([[...busy, ...quiet]])
    const series = store.series('src/drift.ts#detectDrift', 60_000, { since: start })
    expect(series.at(-1)).toEqual({ t: quietAt, calls: 4, errors: 0, p50: 2, p95: 9000 })
    store.close()
  })
})

describe('custom feedback metrics of a function page', () => {
  // How long the poll takes (it used to read every feedback event the function ever had) is a budget for bench/, not a test.
  it('are those of the window only, per version, beside a month of older rated calls', () => {
    const store = new FeedbackStore(join(tempDir(), 'feedback.db'))
    try {
      const hour = 3_600_000
      const now = Date.UTC(2026, 0, 2)
      // A month of rated calls on two versions (received now: retention goes by arrival), a metric on each, before the hour the page shows.
      store.db.exec(`WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 199999)
        INSERT INTO feedback (digest, execution_id, function_id, version, ts, received, score, metrics)
        SELECT 'd' || i, 'e' || i, 'src/f.ts#f', iif(i % 2, 'aaaaaaaaaa', 'bbbbbbbbbb'), ${now - 2 * hour} - i * 10000, ${Date.now()}, 0.5, '{"cost":2}' FROM c`)
      store.insert([
        execution({ executionId: 'x', functionId: 'src/f.ts#f', ts: now - 10 }),
        feedback({ executionId: 'x', functionId: 'src/f.ts#f', ts: now - 5, score: 1, metrics: { cost: 3 } }),
        feedback({ executionId: 'x', functionId: 'src/f.ts#f', version: 'cccccccccc', ts: now - 4, metrics: { cost: 5 } }),
      ])
      const window = { since: now - hour, until: now }
      const page = () => store.metrics('src/f.ts#f', window)
      expect(page().map((m) => [m.version, m.metrics])).toEqual([
        ['aaaaaaaaaa', { cost: { n: 1, mean: 3, variance: 0 } }],
        ['cccccccccc', { cost: { n: 1, mean: 5, variance: 0 } }],
      ])
      expect(store.metrics('src/f.ts#f').find((m) => m.version === 'bbbbbbbbbb')!.metrics.cost!.n).toBe(100_000)
    } finally {
      store.close()
    }
  })
})
