// Seeded simulation of Train's A/B test: better candidates are promoted, worse ones rolled back with bounded exposure, ties left alone.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../src/runtime/types'
import { withPolicy, readPolicy } from '../../src/train/candidate'
import { FeedbackStore } from '../../src/train/store'
import { applyTraining, planTraining } from '../../src/train/trainer'
import { lockWith, tempDir } from './helpers'
import { rng, runExperiment, SCENARIOS, summarize, type RunResult, type Scenario } from './simulation'

const ID = 'src/quote.ts#quote'
const SHARE = 0.2
const EVERY = 100
const HORIZON = 20_000

/**
 * The same experiment as `runExperiment`, but for real: events go through the SQLite store, the trainer plans from it
 * every EVERY events and applies its decision to a real lock. The draws are the same, so the outcome must be too.
 */
function runThroughTrainer(s: Scenario, seed: number): RunResult {
  const dir = tempDir()
  const lockDir = join(dir, '.poet')
  const { lock, version } = lockWith(lockDir, ID, { optimizeFor: 'latency' })
  const store = new FeedbackStore(join(lockDir, 'feedback.db'))
  const start = Date.now() + 86_400_000
  const base = lock.source(ID, version)!
  const cand = withPolicy(base, { ...readPolicy(base)!, timeout: 1000 }, 'simulation')
  lock.update((l) => {
    const entry = l.functions[ID]!
    entry.versions[cand.version] = { ...entry.versions[version]!, created: new Date(start).toISOString(), reason: 'simulation' }
    Object.assign(entry, { candidate: { version: cand.version, share: SHARE, since: new Date(start).toISOString(), metric: s.primary } })
  })
  const r = rng(seed)
  let candidateEvents = 0
  let batch: ExecutionEvent[] = []
  try {
    for (let i = 1; i <= HORIZON; i++) {
      const toCandidate = r() < SHARE
      const truth = toCandidate ? s.candidate : s.baseline
      const ok = r() < truth.ok
      const log = truth.mu + truth.sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
      if (toCandidate) candidateEvents++
      batch.push({
        v: 1, kind: 'execution', functionId: ID, version: toCandidate ? cand.version : version, executionId: `${seed}-${i}`,
        ts: start + i * 10, duration: Math.exp(log), outcome: ok ? 'ok' : 'error', attempts: 1,
      })
      if (i % EVERY !== 0) continue
      store.insert(batch)
      batch = []
      const options = { lockDir, store, now: () => start + i * 10 + 1 }
      const plans = planTraining(options)
      if (plans[0]!.action === 'wait') continue
      applyTraining(plans, options)
      const entry = lock.read().functions[ID]!
      expect(entry.candidate).toBeUndefined()
      expect(entry.current).toBe(plans[0]!.action === 'promote' ? cand.version : version)
      return { action: plans[0]!.action as RunResult['action'], events: i, candidateEvents }
    }
    expect(lock.read().functions[ID]).toMatchObject({ current: version, candidate: { version: cand.version } })
    return { action: 'none', events: HORIZON, candidateEvents }
  } finally {
    store.close()
  }
}

const byName = (prefix: string) => SCENARIOS.find((x) => x.scenario.name.startsWith(prefix))!.scenario

describe('seeded simulation through the real store, trainer and lock', () => {
  it.each([1, 2, 3])('seed %i: a truly better candidate (ok 90% → 95%) is promoted within 10 000 events', (seed) => {
    const s = byName('better: ok')
    const result = runThroughTrainer(s, seed)
    expect(result.action).toBe('promote')
    expect(result.events).toBeLessThanOrEqual(10_000)
    expect(result).toEqual(runExperiment(s, seed, { share: SHARE, every: EVERY, horizon: HORIZON }))
  })

  it.each([1, 2, 3])('seed %i: a truly worse candidate (ok 95% → 90%) is rolled back after serving at most 2 500 calls', (seed) => {
    const s = byName('worse: ok')
    const result = runThroughTrainer(s, seed)
    expect(result.action).toBe('rollback')
    expect(result.candidateEvents).toBeLessThanOrEqual(2_500)
    expect(result).toEqual(runExperiment(s, seed, { share: SHARE, every: EVERY, horizon: HORIZON }))
  })

  it.each([1])('seed %i: a tie changes nothing within 20 000 events', (seed) => {
    const s = byName('tie: ok')
    const result = runThroughTrainer(s, seed)
    expect(result.action).toBe('none')
    expect(result).toEqual(runExperiment(s, seed, { share: SHARE, every: EVERY, horizon: HORIZON }))
  })

  it('a latency candidate 20 % faster is promoted, 25 % slower rolled back (seed 1)', () => {
    expect(runThroughTrainer(byName('better: latency'), 1).action).toBe('promote')
    expect(runThroughTrainer(byName('worse: latency'), 1).action).toBe('rollback')
  })
})

describe('the rule over 500 seeds per scenario (the numbers in the README, section Train)', () => {
  const seeds = Array.from({ length: 500 }, (_, i) => i + 1)
  const rows = SCENARIOS.map(({ scenario, expected }) => ({ expected, ...summarize(scenario, expected, seeds, { share: SHARE, every: EVERY, horizon: HORIZON }) }))

  it('prints the table', () => {
    const lines = [
      '| scenario | expected | promoted | rolled back | nothing | events to decision (median / p95 / max) | calls served by the candidate (median / p95 / max) |',
      '| --- | --- | ---: | ---: | ---: | --- | --- |',
      ...rows.map((r) =>
        `| ${r.scenario} | ${r.expected} | ${r.outcomes.promote} | ${r.outcomes.rollback} | ${r.outcomes.none} | ${r.expected === 'none' ? '—' : `${r.events.median} / ${r.events.p95} / ${r.events.max}`} | ${r.candidateEvents.median} / ${r.candidateEvents.p95} / ${r.candidateEvents.max} |`,
      ),
    ]
    console.log(lines.join('\n'))
    expect(rows).toHaveLength(6)
  })

  it.each(SCENARIOS.map((s, i) => [s.scenario.name, i] as const))('%s: the expected decision in ≥ 98% of seeds, never the opposite one', (_name, i) => {
    const r = rows[i]!
    const opposite = r.expected === 'promote' ? r.outcomes.rollback : r.expected === 'rollback' ? r.outcomes.promote : r.outcomes.promote + r.outcomes.rollback
    const hit = r.expected === 'none' ? r.outcomes.none : r.outcomes[r.expected]
    expect(hit / r.runs).toBeGreaterThanOrEqual(0.98)
    if (r.expected !== 'none') expect(opposite / r.runs).toBeLessThanOrEqual(0.01)
    expect(r.outcomes.retire).toBe(0)
  })
})
