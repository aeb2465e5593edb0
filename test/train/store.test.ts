// The feedback store on real SQLite files: durability settings, metrics per version and window, retention.
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

  it('refuses a database written by a newer schema, naming the file', () => {
    const file = join(tempDir(), 'feedback.db')
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()
    expect(() => new FeedbackStore(file)).toThrow(`poet: ${file} was written by a newer unplugin-poet (schema 99, this one knows 1)`)
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
      if (!retained && sql.includes('ORDER BY duration')) {
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
