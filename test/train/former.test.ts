// A renamed or moved function's events under the ids it had before: the trainer and the collector's tables count them
// as its own (a real lock renamed by LockStore.rename, a real SQLite store, real HTTP), once, and not for a function
// that took one of those ids later.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { diffCommand } from '../../src/cli/diff'
import type { ExecutionEvent } from '../../src/runtime/types'
import { rollbackCommand } from '../../src/train/commands'
import { serve, type RunningCollector } from '../../src/train/collector'
import { eventSources } from '../../src/train/former'
import { FeedbackStore } from '../../src/train/store'
import { applyTraining, planTraining, type TrainerOptions } from '../../src/train/trainer'
import { execution, feedback, lockWith, tempDir } from './helpers'

const OLD = 'src/api.ts#fetchQuote'
const NEW = 'src/quotes/api.ts#fetchQuote'
const HOUR = 3_600_000
// After the lock was written (its versions carry real creation times), so trained versions are newer.
const T = Math.ceil(Date.now() / HOUR) * HOUR + 24 * HOUR

function setup() {
  const dir = tempDir()
  const lockDir = join(dir, '.poet')
  const { lock, version } = lockWith(lockDir, OLD, { optimizeFor: 'latency' })
  const store = new FeedbackStore(join(dir, 'feedback.db'))
  let now = T
  const options: TrainerOptions = { lockDir, store, now: () => now }
  return { lock, store, version, options, setNow: (t: number) => (now = t) }
}

/** `n` calls of `version` under `functionId` spread over [from, to): a `fail` share of them time out after 3 attempts. */
function calls(functionId: string, version: string, n: number, from: number, to: number, fail: number): ExecutionEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const failed = i < Math.round(n * fail)
    return execution({
      functionId,
      version,
      ts: from + Math.floor(((to - from) * i) / n),
      duration: failed ? 30_000 : 100 * (0.5 + ((i * 7919) % 100) / 100),
      outcome: failed ? 'timeout' : 'ok',
      attempts: failed ? 3 : 1,
      ...(failed ? { error: 'PoetTimeoutError' } : {}),
    })
  })
}

/** Three days at 1 % timeouts, then an hour at 15 %, under `id`: the error-rate trigger. */
function errorRateRise(store: FeedbackStore, id: string, version: string): void {
  store.insert(calls(id, version, 2000, T - 3 * 24 * HOUR, T - HOUR, 0.01))
  store.insert(calls(id, version, 300, T - HOUR, T, 0.15))
}

describe('the trainer, after a rename', () => {
  it('finds the trigger in the calls the function made under its former id', () => {
    const { lock, store, version, options } = setup()
    errorRateRise(store, OLD, version)
    expect(lock.rename(OLD, NEW)).toBe(true)
    expect(planTraining(options)).toMatchObject([{ functionId: NEW, action: 'candidate', reason: expect.stringMatching(/^error rate up: 1\.0 % → 15\.\d % /) }])
  })

  it('goes on with the A/B test, counting the evidence of both ids once, and records its decisions beside those made before', () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, OLD, version)
    const [plan] = planTraining(options)
    expect(applyTraining([plan!], options)).toHaveLength(1)
    const candidate = plan!.candidate!
    // Half the test's calls before the rename, half after: from pages on the new build, and from pages still on the old one.
    store.insert([...calls(OLD, version, 600, T, T + HOUR / 2, 0.15), ...calls(OLD, candidate, 150, T, T + HOUR / 2, 0.01)])
    expect(lock.rename(OLD, NEW)).toBe(true)
    store.insert([...calls(NEW, version, 400, T + HOUR / 2, T + HOUR, 0.15), ...calls(NEW, candidate, 100, T + HOUR / 2, T + HOUR, 0.01)])
    store.insert([...calls(OLD, version, 200, T + HOUR / 2, T + HOUR, 0.15), ...calls(OLD, candidate, 50, T + HOUR / 2, T + HOUR, 0.01)])
    setNow(T + HOUR)
    const [judged] = planTraining(options)
    expect(judged).toMatchObject({ functionId: NEW, action: 'promote', current: version, candidate })
    expect(judged!.reason).toMatch(/ \(n=1200\) → 0\.98\d+ \(n=300\), /)
    expect(applyTraining([judged!], options)).toHaveLength(1)
    expect(lock.read().functions[NEW]!.current).toBe(candidate)
    expect(store.decisions(eventSources(lock.read(), NEW)).map((d) => [d.functionId, d.action])).toEqual([
      [OLD, 'candidate'],
      [NEW, 'promote'],
    ])
  })

  it('does not offer again a learned version that was rolled back under its former id', () => {
    const { lock, store, version, options, setNow } = setup()
    errorRateRise(store, OLD, version)
    const [plan] = planTraining(options)
    applyTraining([plan!], options)
    store.insert([...calls(OLD, version, 600, T, T + HOUR, 0.1), ...calls(OLD, plan!.candidate!, 150, T, T + HOUR, 0.3)])
    setNow(T + HOUR)
    const [judged] = planTraining(options)
    expect(judged).toMatchObject({ action: 'rollback' })
    applyTraining([judged!], options)
    expect(lock.rename(OLD, NEW)).toBe(true)
    // The same rise, from clients of the new id too: the same evidence, as rates, so the same learned version.
    errorRateRise(store, NEW, version)
    setNow(T)
    expect(planTraining(options)).toMatchObject([{ functionId: NEW, action: 'none', reason: expect.stringMatching(/already tested and rolled back$/) }])
  })
})

describe('the collector, after a rename', () => {
  const running: RunningCollector[] = []
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close()
  })

  async function start(lockDir: string, store: FeedbackStore): Promise<RunningCollector> {
    const r = await serve({ port: 0, store, lockDir, now: () => T + HOUR })
    running.push(r)
    return r
  }

  async function post(r: RunningCollector, events: unknown[]): Promise<void> {
    const res = await fetch(`${r.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) })
    expect(res.status).toBe(202)
  }

  interface Row {
    id: string
    version: string
    calls: number
    score: { mean: number | null; n: number }
  }
  const table = async (r: RunningCollector) =>
    ((await (await fetch(`${r.url}/v1/functions?since=${T - HOUR}&until=${T + HOUR}`)).json()) as { functions: Row[] }).functions.map((f) => ({
      id: f.id,
      version: f.version,
      calls: f.calls,
      scores: f.score.n,
    }))

  it('GET /v1/functions and /v1/functions/:id show the calls made under its former id as its own, each once', async () => {
    const { lock, store, version, options } = setup()
    const r = await start(options.lockDir, store)
    const before = calls(OLD, version, 30, T - HOUR, T - HOUR / 2, 0.1)
    await post(r, [...before, feedback({ functionId: OLD, version, executionId: before[0]!.executionId, ts: T - HOUR / 2, score: 0.5 })])
    store.recordDecision({ functionId: OLD, ts: T - HOUR / 2, action: 'rejected', from: version, reason: 'no candidate (test)' })
    expect(lock.rename(OLD, NEW)).toBe(true)
    // The new build's clients, a page still on the old one, and a resent batch of before (stored once).
    await post(r, [...calls(NEW, version, 20, T - HOUR / 2, T, 0), ...calls(OLD, version, 10, T - HOUR / 2, T, 0), ...before])
    await post(r, [feedback({ functionId: NEW, version, executionId: before[1]!.executionId, ts: T - 1000, score: 1 })])

    expect(await table(r)).toEqual([{ id: NEW, version, calls: 60, scores: 2 }])
    const detail = (await (await fetch(`${r.url}/v1/functions/${encodeURIComponent(NEW)}?since=${T - HOUR}&until=${T + HOUR}&bucket=1h`)).json()) as {
      versions: Row[]
      series: { calls: number; errors: number }[]
      decisions: { action: string }[]
    }
    expect(detail.versions).toMatchObject([{ version, role: 'current', calls: 60, score: { mean: 0.75, n: 2 } }])
    expect(detail.series.reduce((n, b) => n + b.calls, 0)).toBe(60)
    expect(detail.series.reduce((n, b) => n + b.errors, 0)).toBe(3)
    expect(detail.decisions).toMatchObject([{ action: 'rejected' }])
    // The old id is no function of its own any more.
    expect((await fetch(`${r.url}/v1/functions/${encodeURIComponent(OLD)}`)).status).toBe(404)
  })

  it('keeps apart a new function that took the former id: each version goes to the function whose lock entry holds it', async () => {
    const { lock, store, version, options } = setup()
    const r = await start(options.lockDir, store)
    await post(r, calls(OLD, version, 30, T - HOUR, T - HOUR / 2, 0))
    expect(lock.rename(OLD, NEW)).toBe(true)
    // A new fetchQuote in the old file, with phases of its own (another policy, so another version).
    const { version: other } = lockWith(options.lockDir, OLD, { optimizeFor: 'latency', policy: { attempts: 5 } })
    expect(other).not.toBe(version)
    expect(lock.read().functions[NEW]!.formerIds).toEqual([OLD])
    await post(r, [...calls(OLD, other, 7, T - HOUR / 2, T, 0), ...calls(OLD, version, 5, T - HOUR / 2, T, 0), ...calls(NEW, version, 4, T - HOUR / 2, T, 0)])

    expect(await table(r)).toEqual([
      { id: OLD, version: other, calls: 7, scores: 0 },
      { id: NEW, version, calls: 39, scores: 0 },
    ])
    const versions = async (id: string) =>
      ((await (await fetch(`${r.url}/v1/functions/${encodeURIComponent(id)}?since=${T - HOUR}&until=${T + HOUR}`)).json()) as { versions: Row[] }).versions.map((v) => [v.version, v.calls])
    expect(await versions(OLD)).toEqual([[other, 7]])
    expect(await versions(NEW)).toEqual([[version, 39]])
    // The trainer reads each the same way: the last hour's calls of each one's current version.
    const plans = planTraining({ ...options, now: () => T })
    expect(plans.map((p) => [p.functionId, p.reason])).toEqual([
      [OLD, 'no trigger (last 60 min: 7 calls, 0.0 % failed)'],
      [NEW, 'no trigger (last 60 min: 39 calls, 0.0 % failed)'],
    ])
  })

  it('gives a new function that took the former id with the very phases (so the same version) only the calls made since it did', async () => {
    const dir = tempDir()
    const lockDir = join(dir, '.poet')
    const { lock, version } = lockWith(lockDir, OLD, { optimizeFor: 'latency' })
    const store = new FeedbackStore(join(dir, 'feedback.db'))
    const now = Date.now()
    const r = await serve({ port: 0, store, lockDir, now: () => now + HOUR })
    running.push(r)
    try {
      await post(r, calls(OLD, version, 30, now - HOUR, now - HOUR / 2, 0))
      expect(lock.rename(OLD, NEW)).toBe(true)
      // A new fetchQuote in the old file, of the same signature: phases hash what they check, not the id.
      const reused = lockWith(lockDir, OLD, { optimizeFor: 'latency' })
      expect(reused.version).toBe(version)
      const taken = Date.parse(lock.read().functions[OLD]!.versions[version]!.created)
      await post(r, [...calls(OLD, version, 7, taken + 1000, taken + 60_000, 0), ...calls(NEW, version, 4, taken + 1000, taken + 60_000, 0)])

      const window = `since=${now - 2 * HOUR}&until=${now + HOUR}`
      const rows = ((await (await fetch(`${r.url}/v1/functions?${window}`)).json()) as { functions: Row[] }).functions
      expect(rows.map((f) => [f.id, f.version, f.calls])).toEqual([
        [OLD, version, 7],
        [NEW, version, 34],
      ])
      const series = async (id: string) =>
        ((await (await fetch(`${r.url}/v1/functions/${encodeURIComponent(id)}?${window}&bucket=1h`)).json()) as { series: { calls: number }[] }).series.reduce((n, b) => n + b.calls, 0)
      expect([await series(OLD), await series(NEW)]).toEqual([7, 34])
    } finally {
      store.close()
    }
  })
})

describe('an id a renamed function took from another', () => {
  it('counts the calls made under it before that rename for the function that had it then, also of a version both hold', async () => {
    const dir = tempDir()
    const lockDir = join(dir, '.poet')
    const { lock, version } = lockWith(lockDir, OLD)
    // Another function with the very phases, made three hours ago, which will be renamed to OLD.
    const OTHER = 'src/legacy.ts#fetchQuote'
    lockWith(lockDir, OTHER)
    const now = Date.now()
    lock.update((l) => {
      for (const v of Object.values(l.functions[OTHER]!.versions)) v.created = new Date(now - 3 * HOUR).toISOString()
    })
    const store = new FeedbackStore(join(dir, 'feedback.db'))
    try {
      store.insert(calls(OLD, version, 10, now - 2 * HOUR, now - HOUR, 0))
      expect(lock.rename(OLD, NEW)).toBe(true)
      expect(lock.rename(OTHER, OLD)).toBe(true)
      store.insert(calls(OLD, version, 3, now + 1000, now + 60_000, 0))
      const file = lock.read()
      const count = (id: string) => store.metrics(eventSources(file, id)).reduce((n, m) => n + m.calls, 0)
      expect([count(NEW), count(OLD)]).toEqual([10, 3])
    } finally {
      store.close()
    }
  })
})

describe('the old id, after a rename', () => {
  it('poet rollback, poet diff and GET /v1/functions/:id say where the function went', async () => {
    const dir = tempDir()
    const { lock } = lockWith(join(dir, '.poet'), OLD, { optimizeFor: 'latency' })
    expect(lock.rename(OLD, NEW)).toBe(true)
    const moved = `It was renamed or moved: its entry is ${NEW} now.`
    const err: string[] = []
    const io = { out: () => {}, err: (l: string) => void err.push(l), cwd: dir }
    expect(await rollbackCommand([OLD], io)).toBe(2)
    expect(err[0]!.split('\n')[0]).toBe(`poet rollback: ${OLD} is not in ${lock.file}. ${moved}`)
    expect(await diffCommand([OLD], io)).toBe(2)
    expect(err[1]!.split('\n')[0]).toBe(`poet diff: ${OLD} is not in ${lock.file}. ${moved}`)

    const store = new FeedbackStore(join(dir, 'feedback.db'))
    const r = await serve({ port: 0, store, lockDir: lock.dir })
    try {
      const res = await fetch(`${r.url}/v1/functions/${encodeURIComponent(OLD)}`)
      expect(res.status).toBe(404)
      expect(await res.json()).toEqual({ error: `no function ${JSON.stringify(OLD)} in the lock. ${moved} Its calls under the old id are counted there.` })
    } finally {
      await r.close()
      store.close()
    }
  })
})
