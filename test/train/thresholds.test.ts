// Domain thresholds learned from observed distributions: the rules on their own, then end to end through the runtime, SQLite and the lock.
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateBuiltin } from '../../src/generators/builtin'
import { DomainRegistry } from '../../src/generators/builtin/domains/index'
import { LockStore } from '../../src/generators/lock'
import { renderPhaseModule } from '../../src/generators/render'
import { feedback, onEvent, poet } from '../../src/runtime'
import type { PhaseModule, PoetEvent, PoetOptions } from '../../src/runtime/types'
import { readPolicy } from '../../src/train/candidate'
import { FeedbackStore, type Observation } from '../../src/train/store'
import { fewestMisjudged, learnThresholds, readLearned } from '../../src/train/thresholds'
import { rollbackCommand } from '../../src/train/commands'
import { applyTraining, planTraining, type TrainerOptions } from '../../src/train/trainer'
import { specFor } from '../generators/builtin/harness'
import { tempDir } from './helpers'
import { rng } from './simulation'
import { importPhases } from '../helpers/phase-module'

const registry = new DomainRegistry()
const SEED = { sample: 'current', n: 0, mean: 0, m2: 0 }
const ML = { 'ml_monitoring.baseline': SEED, 'ml_monitoring.drift_z': 3 }

/** A standard normal draw from a seeded uniform source (Box–Muller). */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** What ml_monitoring's perceive reports for a sample of `current`. */
function sampleStats(xs: number[]): Record<string, number> {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const std = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1))
  return { 'current.n': n, 'current.mean': mean, 'current.std': std }
}

describe('learnThresholds', () => {
  it('seeds the drift baseline with the pooled statistics of clean calls not rated bad', () => {
    const r = rng(1)
    const all: number[] = []
    const observations: Observation[] = []
    for (let i = 0; i < 40; i++) {
      const xs = Array.from({ length: 10 }, () => 5 + 2 * normal(r))
      all.push(...xs)
      observations.push({ outcome: 'ok', issues: [], stats: sampleStats(xs), ...(i % 4 === 0 ? { rating: 'good' as const } : {}) })
    }
    // None of these may move the seed: a bad rating, a failed call, an alarm nobody confirmed as fine.
    observations.push({ outcome: 'ok', issues: [], stats: sampleStats([100, 101, 102]), rating: 'bad' })
    observations.push({ outcome: 'input_error', issues: [{ path: 'args[0][0]', rule: 'ml_monitoring.finite_numbers' }], stats: sampleStats([90, 91]) })
    observations.push({ outcome: 'ok', issues: [], stats: { ...sampleStats([80, 81]), drift_z: 40, drift: 1 } })

    const out = learnThresholds(ML, observations, { goodRejections: 5 })
    const mean = all.reduce((a, b) => a + b, 0) / all.length
    const m2 = all.reduce((a, x) => a + (x - mean) ** 2, 0)
    const seed = out.learned['ml_monitoring.baseline'] as typeof SEED
    expect(seed).toEqual({ sample: 'current', n: 400, mean: Number(mean.toPrecision(6)), m2: Number(m2.toPrecision(6)) })
    expect(out.triggers).toEqual(['drift is judged from an empty baseline (0 values): every new process waits for 30 values'])
    expect(out.changes).toEqual([expect.stringMatching(/^baseline of current seeded with 400 values \(mean \d\.\d+, sd \d\.\d+\) from 40 clean calls not rated bad$/)])
    expect(out.learned['ml_monitoring.drift_z']).toBe(3)
    // Deterministic: the same evidence gives the same bytes.
    expect(JSON.stringify(learnThresholds(ML, observations, { goodRejections: 5 }).learned)).toBe(JSON.stringify(out.learned))

    // Statistics no sample has (a fractional count, more values than an array holds) or whose squares overflow (an event
    // anyone could post) are no
    // evidence: they would seed an m2 of Infinity, which the module's JSON line writes as null.
    const forged: Observation[] = [
      { outcome: 'ok', issues: [], stats: { 'current.n': 1e308, 'current.mean': 1, 'current.std': 1 } },
      { outcome: 'ok', issues: [], stats: { 'current.n': 10, 'current.mean': 1e300, 'current.std': 1e300 } },
      { outcome: 'ok', issues: [], stats: { 'current.n': 2.5, 'current.mean': 5, 'current.std': 1 } },
    ]
    expect(learnThresholds(ML, [...forged, ...observations], { goodRejections: 5 }).learned).toEqual(out.learned)
    expect(learnThresholds(ML, [...observations, ...forged], { goodRejections: 5 }).learned).toEqual(out.learned)
  })

  it('leaves the seed alone on thin evidence, and once it is seeded', () => {
    const few: Observation[] = Array.from({ length: 29 }, () => ({ outcome: 'ok', issues: [], stats: sampleStats([1, 2, 3, 4]) }))
    expect(learnThresholds(ML, few, { goodRejections: 5 })).toEqual({ learned: ML, triggers: [], changes: [] })
    const seeded = { ...ML, 'ml_monitoring.baseline': { ...SEED, n: 400, mean: 4, m2: 1600 } }
    expect(learnThresholds(seeded, [...few, ...few], { goodRejections: 5 }).changes).toEqual([])
  })

  it('moves the drift threshold to the |z| that misjudges the fewest rated calls', () => {
    const seeded = { ...ML, 'ml_monitoring.baseline': { ...SEED, n: 400, mean: 4, m2: 1600 } }
    const rated = (z: number, rating: 'good' | 'bad'): Observation => ({ outcome: 'ok', issues: [], stats: { drift_z: z, drift: Math.abs(z) > 3 ? 1 : 0 }, rating })
    // Users confirm inputs up to |z| 3.8 as fine (8 false alarms at 3), and report drift from 4.6 on.
    const good = Array.from({ length: 40 }, (_, i) => rated((i % 2 ? 1 : -1) * 0.075 * i, 'good'))
    const alarms = Array.from({ length: 8 }, (_, i) => rated(3.1 + 0.1 * i, 'good'))
    const drifted = Array.from({ length: 10 }, (_, i) => rated(-(4.6 + 0.3 * i), 'bad'))
    const out = learnThresholds(seeded, [...good, ...alarms, ...drifted], { goodRejections: 5 })
    expect(out.learned['ml_monitoring.drift_z']).toBe(4.2)
    expect(out.triggers).toEqual(['drift |z| > 3 misjudged 8 of 58 rated calls (8 false alarms rated good, 0 misses rated bad)'])
    expect(out.changes).toEqual(['drift threshold 3 → 4.2 (misjudges 0 of them)'])

    // Misses the other way: drift users reported at |z| 2.25–2.75 lowers it.
    const missed = Array.from({ length: 6 }, (_, i) => rated(2.25 + 0.1 * i, 'bad'))
    const calm = Array.from({ length: 40 }, (_, i) => rated(0.05 * i, 'good'))
    expect(learnThresholds(seeded, [...calm, ...missed], { goodRejections: 5 }).learned['ml_monitoring.drift_z']).toBe(2.1)

    // Four misjudged calls are noise: nothing moves.
    expect(learnThresholds(seeded, [...calm, ...missed.slice(0, 4)], { goodRejections: 5 }).changes).toEqual([])
  })

  it('learns the drift threshold from 60 000 rated calls, reading each rating a logarithmic number of times (the dev server trains on its event loop)', () => {
    const seeded = { ...ML, 'ml_monitoring.baseline': { ...SEED, n: 400, mean: 4, m2: 1600 } }
    const n = 60_000
    // Distinct |z| in [0, 8): good below 4, bad from 4, with every tenth rating the other way.
    const observations: Observation[] = Array.from({ length: n }, (_, i) => {
      const z = (((i * 7919) % n) / n) * 8
      return { outcome: 'ok', issues: [], stats: { drift_z: z }, rating: (z < 4) !== (i % 10 === 0) ? 'good' : 'bad' }
    })
    // The search, over these ratings, with every read of a rating counted: a scan of the ratings per candidate threshold
    // (the quadratic search, 12 s here) reads 3.6e9 of them, and stops at the budget instead.
    const z = (ob: Observation) => ob.stats!.drift_z!
    const good = observations.filter((ob) => ob.rating === 'good').map(z).sort((a, b) => a - b)
    const bad = observations.filter((ob) => ob.rating === 'bad').map(z).sort((a, b) => a - b)
    const budget = 4 * n * Math.ceil(Math.log2(n))
    let reads = 0
    const counted = (values: number[]) =>
      new Proxy(values, {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key) && ++reads > budget) throw new Error(`more than ${budget} reads of ${n} ratings`)
          return Reflect.get(target, key, receiver) as unknown
        },
      })
    expect(fewestMisjudged(counted(good), counted(bad), 3)).toEqual({ threshold: 4, misjudged: 5999 })
    expect(reads).toBeGreaterThan(n)
    expect(learnThresholds(seeded, observations, { goodRejections: 5 }).learned['ml_monitoring.drift_z']).toBe(4)
  })

  it('raises the batch limit to cover the batches users rated good, unless a bad rating vetoes it', () => {
    const DP = { 'data_processing.max_batch_size': 100_000 }
    const rejected = (size: number, rating: 'good' | 'bad'): Observation => ({
      outcome: 'input_error',
      issues: [{ path: 'args[0]', rule: 'data_processing.max_batch_size' }],
      stats: { batch_size: size },
      rating,
    })
    const good = [120_000, 131_500, 152_345, 110_000, 140_000].map((n) => rejected(n, 'good'))
    const out = learnThresholds(DP, good, { goodRejections: 5 })
    expect(out.learned).toEqual({ 'data_processing.max_batch_size': 160_000 })
    expect(out.triggers).toEqual(['5 batches rejected as over 100000 items were rated good (largest call 152345 items)'])
    expect(out.changes).toEqual(['batch limit 100000 → 160000 items'])
    expect(out.metric).toBe('ok rate')
    expect(learnThresholds(DP, good.slice(0, 4), { goodRejections: 5 }).changes).toEqual([])
    expect(learnThresholds(DP, [...good, rejected(158_000, 'bad')], { goodRejections: 5 }).changes).toEqual([])
    expect(learnThresholds(DP, [...good, rejected(2_000_000, 'bad')], { goodRejections: 5 }).changes).toEqual(['batch limit 100000 → 160000 items'])
  })
})

// End to end: a builtin-generated phase module run by the runtime, its events in SQLite, `poet train --apply` on the lock.

const HOUR = 3_600_000
let stop: (() => void) | undefined
afterEach(() => stop?.())

const load = importPhases

/** A project with one function of `domain` generated by the builtin generator into a lock, and a store its events land in. */
async function project(code: string, name: string, options: PoetOptions) {
  const dir = tempDir()
  const lockDir = join(dir, '.poet')
  const spec = specFor(code, name, { options })
  const rendered = renderPhaseModule(spec.id, generateBuiltin(spec, { pack: registry.get(options.domain!) }))
  const lock = new LockStore(lockDir)
  lock.write(spec.id, { version: rendered.version, source: rendered.source, inputHash: 'input-hash-1', generator: 'builtin', reason: 'build', optimizeFor: options.optimizeFor })
  const store = new FeedbackStore(join(lockDir, 'feedback.db'))
  const events: PoetEvent[] = []
  stop = onEvent((e) => events.push(e))
  const flush = () => store.insert(events.splice(0))
  // After the lock's creation time, so the trained version is newer than the one it came from.
  const T = Date.now() + HOUR
  const options_: TrainerOptions = { lockDir, store, now: () => T }
  return { spec, lock, store, flush, version: rendered.version, source: rendered.source, trainer: options_ }
}

describe('learned domain thresholds, end to end', () => {
  const drift = `
    interface DriftReport { drifted: boolean }
    export function detectDrift(current: number[], reference: number[]): DriftReport { throw 0 }`

  it('ml_monitoring: seeds the baseline and moves the drift threshold, as an A/B candidate that judges drift from its first call', async () => {
    const p = await project(drift, 'detectDrift', { domain: 'ml_monitoring', optimizeFor: 'accuracy' })
    const current = await load(p.source)
    expect(readLearned(p.source)).toEqual({ 'ml_monitoring.baseline': { sample: 'current', n: 0, mean: 0, m2: 0 }, 'ml_monitoring.drift_z': 3 })
    const r = rng(42)
    const detect = poet({ domain: 'ml_monitoring', optimizeFor: 'accuracy' }, current)(function detectDrift(cur: number[], ref: number[]) {
      return { drifted: Math.abs(cur[0]! - ref[0]!) > 100 }
    })
    const sample = (shift: number) => Array.from({ length: 25 }, () => 10 + shift + 2 * normal(r))
    // 300 calls on in-distribution data, a quarter rated good; 20 shifted by ~2.2 standard errors that users
    // reported as missed drift (the default |z| > 3 lets them through).
    for (let i = 0; i < 320; i++) {
      const shifted = i >= 300
      const res = detect(sample(shifted ? 0.9 : 0), sample(0))
      if (shifted) feedback(res, { score: 0.1, label: 'missed-drift' })
      else if (i % 4 === 0) feedback(res, { score: 1 })
    }
    p.flush()

    const [plan] = planTraining(p.trainer)
    expect(plan).toMatchObject({ functionId: p.spec.id, action: 'candidate', current: p.version })
    expect(plan!.reason).toMatch(/^drift is judged from an empty baseline \(0 values\): every new process waits for 30 values; drift \|z\| > 3 misjudged \d+ of \d+ rated calls \(\d+ false alarms? rated good, \d+ miss(es)? rated bad\) → baseline of current seeded with \d+ values \(mean [\d.]+, sd [\d.]+\) from \d+ clean calls not rated bad; drift threshold 3 → [\d.]+ \(misjudges \d+ of them\)$/)
    expect(plan!.create).toMatchObject({ metric: 'feedback score', share: 0.2 })
    // The same evidence gives the same candidate, byte for byte.
    expect(planTraining(p.trainer)[0]!.create!.source).toBe(plan!.create!.source)

    expect(applyTraining([plan!], p.trainer)).toHaveLength(1)
    const entry = p.lock.read().functions[p.spec.id]!
    expect(entry).toMatchObject({ current: p.version, candidate: { version: plan!.candidate, share: 0.2, metric: 'feedback score' } })
    const source = p.lock.source(p.spec.id, plan!.candidate!)!
    expect(readPolicy(source)).toEqual(readPolicy(p.source))
    const learned = readLearned(source)!
    const z = learned['ml_monitoring.drift_z'] as number
    expect(z).toBeGreaterThanOrEqual(1.5)
    expect(z).toBeLessThan(3)

    // A fresh process: the old version judges nothing on its first call, the candidate judges it at once, with the new threshold.
    const fresh = { current: await load(`${p.source}\n// fresh ${Math.random()}`), candidate: await load(`${source}\n// fresh ${Math.random()}`) }
    const judge = (m: PhaseModule, xs: number[]) => {
      const ctx = { functionId: p.spec.id, executionId: 'x', repair: false, stats: undefined as Record<string, number> | undefined }
      m.perceive!([xs, xs], ctx)
      return ctx.stats!
    }
    const seed = learned['ml_monitoring.baseline'] as { n: number; mean: number; m2: number }
    const se = Math.sqrt(seed.m2 / (seed.n - 1)) / Math.sqrt(26)
    const between = Array.from({ length: 26 }, (_, i) => seed.mean + ((z + 3) / 2) * se + (i % 2 ? 0.5 : -0.5))
    expect(judge(fresh.current, between)).not.toHaveProperty('drift_z')
    const judged = judge(fresh.candidate, between)
    expect(judged.drift_z).toBeCloseTo((z + 3) / 2, 6)
    expect(judged.drift).toBe(1)

    // Judged by the same rule as every candidate: users rate the candidate's calls better, so it is promoted.
    const T = p.trainer.now!()
    const rate = (version: string, n: number, score: (i: number) => number): PoetEvent[] =>
      Array.from({ length: n }, (_, i) => [
        { v: 1, kind: 'execution', functionId: p.spec.id, version, executionId: `${version}-${i}`, ts: T + 1000 + i, duration: 3, outcome: 'ok', attempts: 1 },
        { v: 1, kind: 'feedback', functionId: p.spec.id, version, executionId: `${version}-${i}`, ts: T + 2000 + i, score: score(i) },
      ] as PoetEvent[]).flat()
    p.store.insert([...rate(p.version, 800, (i) => (i % 10 < 7 ? 1 : 0)), ...rate(plan!.candidate!, 250, (i) => (i % 10 < 9 ? 1 : 0))])
    const judgedPlan = planTraining({ ...p.trainer, now: () => T + HOUR })[0]!
    expect(judgedPlan).toMatchObject({ action: 'promote', candidate: plan!.candidate })
    expect(judgedPlan.reason).toMatch(/^better on feedback score: /)
  })

  it('ml_monitoring: after poet rollback stops a seeded baseline, a few more calls do not bring another seed back at once', async () => {
    const p = await project(drift, 'detectDrift', { domain: 'ml_monitoring', optimizeFor: 'accuracy' })
    const r = rng(7)
    const detect = poet({ domain: 'ml_monitoring', optimizeFor: 'accuracy' }, await load(p.source))(function detectDrift(cur: number[], ref: number[]) {
      return { drifted: Math.abs(cur[0]! - ref[0]!) > 100 }
    })
    const sample = () => Array.from({ length: 25 }, () => 10 + 2 * normal(r))
    for (let i = 0; i < 40; i++) detect(sample(), sample())
    p.flush()
    const [seeded] = planTraining(p.trainer)
    expect(seeded).toMatchObject({ action: 'candidate', reason: expect.stringMatching(/→ baseline of current seeded with 1000 values/) })
    applyTraining([seeded!], p.trainer)
    expect(await rollbackCommand([p.spec.id, '--lock-dir', p.trainer.lockDir], { out: () => {}, err: () => {} })).toBe(0)
    for (let i = 0; i < 10; i++) detect(sample(), sample())
    p.flush()
    const [again] = planTraining(p.trainer)
    expect(again).toMatchObject({ action: 'none', current: p.version })
    expect(again!.reason).toMatch(/^drift is judged from an empty baseline \(0 values\): every new process waits for 30 values; ml_monitoring\.baseline waits: a change of it was rolled back on .* \(candidate stopped by poet rollback\); no new ml_monitoring\.baseline before \d{4}-\d\d-\d\d \d\d:\d\d UTC, when the calls Train reads/)
    expect(p.lock.read().functions[p.spec.id]!.candidate).toBeUndefined()
  })

  it('data_processing: raises the batch limit from rejected batches users rated good, without turning repair on', async () => {
    const batch = `
      interface Row { id: number; value: number }
      export function load(rows: Row[]): number { throw 0 }`
    const p = await project(batch, 'load', { domain: 'data_processing', optimizeFor: 'accuracy' })
    const current = await load(p.source)
    const run = poet({ domain: 'data_processing', optimizeFor: 'accuracy' }, current)(function load(rows: { id: number; value: number }[]) {
      return rows.length
    })
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i, value: 1 }))
    for (let i = 0; i < 40; i++) run(rows(10))
    for (const n of [101_000, 118_000, 125_000, 109_500, 121_000, 104_000]) {
      try {
        run(rows(n))
        expect.unreachable('the batch is over the limit')
      } catch (e) {
        expect((e as Error).message).toContain('expected batch of at most 100000 items, received ' + n + ' items')
        feedback(e, { score: 1, label: 'good' })
      }
    }
    p.flush()

    const [plan] = planTraining(p.trainer)
    expect(plan).toMatchObject({ action: 'candidate', current: p.version })
    expect(plan!.reason).toBe('6 batches rejected as over 100000 items were rated good (largest call 125000 items) → batch limit 100000 → 130000 items')
    expect(plan!.create!.metric).toBe('ok rate')
    applyTraining([plan!], p.trainer)
    const source = p.lock.source(p.spec.id, plan!.candidate!)!
    expect(readPolicy(source)!.repair).toBe(false)
    const candidate = await load(source)
    const ctx = () => ({ functionId: p.spec.id, executionId: 'x', repair: false })
    expect(current.perceive!([rows(125_000)], ctx())).toHaveLength(1)
    expect(candidate.perceive!([rows(125_000)], ctx())).toBeUndefined()
    expect(candidate.perceive!([rows(130_001)], ctx())).toEqual([{ path: 'args[0]', expected: 'batch of at most 130000 items', received: '130001 items', rule: 'data_processing.max_batch_size' }])
  })
})
