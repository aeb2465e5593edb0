// Builtin candidates' domain thresholds: learned from the distributions events carry (input stats, issue rules, ratings).
import type { LearnedValue } from '../generators/builtin/domain'
import { learnedLine } from '../generators/builtin'
import { LEARNED_MAX_BATCH, MAX_BATCH_SIZE } from '../generators/builtin/domains/data_processing'
import { LEARNED_BASELINE, LEARNED_DRIFT_Z, MAX_BASELINE, MIN_BASELINE } from '../generators/builtin/domains/ml_monitoring'
import type { Observation } from './store'
import { jsonLine } from '../generators/render'

export type Learned = Record<string, LearnedValue>

export interface LearnedThresholds {
  learned: Learned
  /** What fired, one line per threshold (the plan's trigger). */
  triggers: string[]
  /** One line per threshold changed, with the numbers that justified it. */
  changes: string[]
  /** The metric the candidate's A/B test should be decided on, when a threshold change calls for one. */
  metric?: 'ok rate' | 'target'
}

export interface ThresholdOptions {
  /** Good-rated rejections at one threshold before it is moved (the trainer's `goodRejections`). */
  goodRejections: number
}

/** Calls needed before a distribution says anything (as for learned timeouts). */
const MIN_CALLS = 30
/** Rated calls the drift threshold must misjudge before it is moved: fewer is noise. */
const MIN_MISJUDGED = 5
/** The drift threshold stays in this range whatever the ratings say: below 1.5 nearly every call alarms, above 10 none. */
const DRIFT_Z_RANGE = [1.5, 10] as const
/** A threshold changes only when the evidence moves it by more than this share. */
const MIN_CHANGE = 0.1
/** A learned batch limit grows at most this many times per version. */
const MAX_BATCH_GROWTH = 10

/** Issue rules whose rejections a threshold answers: their good ratings move the threshold, not `repair`. */
export const THRESHOLD_RULES: ReadonlySet<string> = new Set([LEARNED_MAX_BATCH])

const LEARNED_LINE = /^const learned = (\{.*\})$/m

/** The learnable thresholds a rendered phase module carries, or undefined when it has none. */
export function readLearned(source: string): Learned | undefined {
  return jsonLine<Learned>(source, LEARNED_LINE)
}

/** The same module with other thresholds: only the `learned` line changes (its format is the generator's). */
export function replaceLearned(source: string, learned: Learned): string {
  if (!LEARNED_LINE.test(source)) throw new Error('poet train: this phase module has no learned thresholds line')
  const line = learnedLine(learned).split('\n').at(-1)!
  return source.replace(LEARNED_LINE, () => line)
}

/**
 * Learns every threshold the module declares from the current version's calls. Deterministic: the same
 * observations give the same values (rounded to 6 significant digits, so summation order cannot change the bytes).
 */
export function learnThresholds(current: Learned, observations: readonly Observation[], o: ThresholdOptions): LearnedThresholds {
  const out: LearnedThresholds = { learned: { ...current }, triggers: [], changes: [] }
  if (isBaseline(current[LEARNED_BASELINE])) seedBaseline(current[LEARNED_BASELINE], observations, out)
  if (typeof current[LEARNED_DRIFT_Z] === 'number') learnDriftZ(current[LEARNED_DRIFT_Z], observations, out)
  if (typeof current[LEARNED_MAX_BATCH] === 'number') learnMaxBatch(current[LEARNED_MAX_BATCH], observations, o, out)
  return out
}

interface Baseline {
  sample: string | null
  n: number
  mean: number
  m2: number
}

function isBaseline(v: LearnedValue | undefined): v is Baseline & Record<string, number | string | null> {
  return typeof v === 'object' && v !== null && typeof v.n === 'number' && typeof v.mean === 'number' && typeof v.m2 === 'number'
}

/**
 * ml_monitoring's baseline seed: the pooled statistics (Chan's parallel merge of each call's n, mean and std) of the
 * judged sample over calls that succeeded, were not rated bad, and were not flagged as drift unless rated good — the
 * values users accept as normal. Seeded once, while the seed is below the pack's minimum: after that every process
 * starts judging at once, and its running baseline follows slow change on its own.
 */
function seedBaseline(seed: Baseline, observations: readonly Observation[], out: LearnedThresholds): void {
  if (!seed.sample || seed.n >= MIN_BASELINE) return
  const key = (k: string) => `${seed.sample}.${k}`
  let calls = 0
  let n = 0
  let mean = 0
  let m2 = 0
  for (const ob of observations) {
    const s = ob.stats
    if (ob.outcome !== 'ok' || !s || ob.rating === 'bad' || (s.drift === 1 && ob.rating !== 'good')) continue
    const sn = s[key('n')]
    const smean = s[key('mean')]
    const sstd = s[key('std')]
    // A sample's size is an array length: an integer below 2^32.
    if (!(Number.isInteger(sn) && sn! > 0 && sn! < 2 ** 32 && Number.isFinite(smean) && Number.isFinite(sstd))) continue
    const sm2 = sstd! * sstd! * (sn! - 1)
    const total = n + sn!
    const d = smean! - mean
    const nextMean = mean + (d * sn!) / total
    const nextM2 = m2 + sm2 + (d * d * n * sn!) / total
    // Statistics whose squares overflow (a forged event) would seed Infinity, which the module's JSON line writes as null.
    if (!Number.isFinite(nextMean) || !Number.isFinite(nextM2)) continue
    mean = nextMean
    m2 = nextM2
    n = total
    calls++
  }
  if (calls < MIN_CALLS || n < MIN_BASELINE) return
  if (n > MAX_BASELINE) {
    m2 *= MAX_BASELINE / n
    n = MAX_BASELINE
  }
  const next = { ...seed, n, mean: sig(mean), m2: sig(m2) }
  out.learned[LEARNED_BASELINE] = next
  out.triggers.push(`drift is judged from an empty baseline (${seed.n} values): every new process waits for ${MIN_BASELINE} values`)
  out.changes.push(
    `baseline of ${seed.sample} seeded with ${n} values (mean ${fmt(next.mean)}, sd ${fmt(Math.sqrt(next.m2 / Math.max(1, n - 1)))}) from ${calls} clean calls not rated bad`,
  )
  out.metric ??= 'target'
}

/**
 * ml_monitoring's drift threshold: ratings are read as verdicts on the input — rated good means in distribution, rated
 * bad means drifted (e.g. `{ score: 0.2, label: 'missed-drift' }`: the score rates it). The new threshold is the |z|
 * that misjudges the fewest rated calls (good calls above it are false alarms, bad calls at or below it are misses), the
 * current one winning ties; it moves only when the current one misjudges at least MIN_MISJUDGED calls and the move is
 * more than a tenth.
 */
function learnDriftZ(z0: number, observations: readonly Observation[], out: LearnedThresholds): void {
  const good: number[] = []
  const bad: number[] = []
  for (const ob of observations) {
    const z = ob.stats?.drift_z
    if (typeof z !== 'number' || !Number.isFinite(z) || !ob.rating) continue
    ;(ob.rating === 'good' ? good : bad).push(Math.abs(z))
  }
  if (good.length + bad.length < MIN_CALLS) return
  good.sort((a, b) => a - b)
  bad.sort((a, b) => a - b)
  const now = misjudged(good, bad, z0)
  if (now < MIN_MISJUDGED) return
  const { threshold: best, misjudged: bestCost } = fewestMisjudged(good, bad, z0)
  if (best === z0 || Math.abs(best - z0) / z0 <= MIN_CHANGE) return
  const fa = good.length - atMost(good, z0)
  out.learned[LEARNED_DRIFT_Z] = best
  out.triggers.push(`drift |z| > ${z0} misjudged ${now} of ${good.length + bad.length} rated calls (${fa} false alarm${fa === 1 ? '' : 's'} rated good, ${now - fa} miss${now - fa === 1 ? '' : 'es'} rated bad)`)
  out.changes.push(`drift threshold ${z0} → ${best} (misjudges ${bestCost} of them)`)
  out.metric ??= 'target'
}

/** How many of the rated |z| (ascending) a drift threshold `t` misjudges: good ones above it, bad ones at or below it. */
function misjudged(good: readonly number[], bad: readonly number[], t: number): number {
  return good.length - atMost(good, t) + atMost(bad, t)
}

/**
 * The drift threshold in DRIFT_Z_RANGE that misjudges the fewest of the rated |z| (`good`, `bad`, each ascending):
 * the current one `z0`, or a midpoint between two neighbouring values that does strictly better or as well and closer
 * to `z0`. Each candidate is counted by binary search: scanning the ratings per candidate is quadratic in the rated
 * calls (12 s for 60 000, blocking the dev server's event loop at every training).
 */
export function fewestMisjudged(good: readonly number[], bad: readonly number[], z0: number): { threshold: number; misjudged: number } {
  const values = [...new Set([...good, ...bad])].sort((a, b) => a - b)
  let best = z0
  let bestCost = misjudged(good, bad, z0)
  for (let i = 0; i + 1 < values.length; i++) {
    const t = Math.round(((values[i]! + values[i + 1]!) / 2) * 100) / 100
    if (t < DRIFT_Z_RANGE[0] || t > DRIFT_Z_RANGE[1]) continue
    const c = misjudged(good, bad, t)
    if (c < bestCost || (c === bestCost && Math.abs(t - z0) < Math.abs(best - z0))) [best, bestCost] = [t, c]
  }
  return { threshold: best, misjudged: bestCost }
}

/**
 * data_processing's batch limit: raised when users rated enough batches it rejected as good, to cover the largest of
 * them. Events never carry the rejected batch, but its `batch_size` stat (items over all batch parameters) bounds it
 * from above, so the new limit admits each of them. A bad-rated rejection at or under the new limit vetoes the change.
 */
function learnMaxBatch(limit: number, observations: readonly Observation[], o: ThresholdOptions, out: LearnedThresholds): void {
  const sizes = (rating: 'good' | 'bad') =>
    observations
      .filter((ob) => ob.rating === rating && ob.outcome === 'input_error' && ob.issues.some((i) => i.rule === LEARNED_MAX_BATCH))
      .map((ob) => ob.stats?.batch_size)
      .filter((n): n is number => typeof n === 'number' && Number.isFinite(n))
  const good = sizes('good')
  if (good.length < o.goodRejections) return
  const largest = Math.max(...good)
  const next = Math.min(roundUp(largest), limit * MAX_BATCH_GROWTH, MAX_BATCH_SIZE * 1000)
  const vetoed = sizes('bad').filter((b) => b <= next).length
  if (next <= limit || vetoed || (next - limit) / limit <= MIN_CHANGE) return
  out.learned[LEARNED_MAX_BATCH] = next
  out.triggers.push(`${good.length} batches rejected as over ${limit} items were rated good (largest call ${largest} items)`)
  out.changes.push(`batch limit ${limit} → ${next} items`)
  out.metric = 'ok rate'
}

/** How many values of the ascending `sorted` are ≤ t. */
function atMost(sorted: readonly number[], t: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Up to two significant digits: 152 345 → 160 000, so the limit reads as chosen, with headroom. */
function roundUp(n: number): number {
  const step = 10 ** Math.max(0, Math.floor(Math.log10(n)) - 1)
  return Math.ceil(n / step) * step
}

function sig(x: number): number {
  return Number(x.toPrecision(6))
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(4)))
}
