// A seeded simulation of one A/B experiment under the Train rule: how fast it promotes, how much a worse candidate serves.
import { compare, decide, MARGINS, type Arm, type MetricSpec, type RuleOptions } from '../../src/train/rule'

/** mulberry32: a small seeded PRNG, so every run of the simulation gives the same numbers. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** One arm's true behaviour: the chance a call succeeds, and ln(latency) ~ N(mu, sigma). */
export interface Truth {
  ok: number
  mu: number
  sigma: number
}

export interface Scenario {
  name: string
  baseline: Truth
  candidate: Truth
  /** Which metric decides: the ok rate (error-rate trigger) or latency (optimizeFor: 'latency'). */
  primary: 'ok rate' | 'latency'
}

export interface RunResult {
  action: 'promote' | 'rollback' | 'retire' | 'none'
  /** Events (both arms) when the decision was taken, or the horizon. */
  events: number
  /** Events the candidate served before the decision. */
  candidateEvents: number
}

export const OK_RATE: MetricSpec = { name: 'ok rate', higherIsBetter: true, margin: MARGINS.rate }
export const LATENCY: MetricSpec = { name: 'latency', higherIsBetter: false, margin: Math.log(1 + MARGINS.relative) }

class Running {
  n = 0
  ok = 0
  logN = 0
  logMean = 0
  logM2 = 0
  add(ok: boolean, logLatency: number) {
    this.n++
    if (!ok) return
    this.ok++
    // Welford: the same mean/variance the store computes from sums, without cancellation.
    this.logN++
    const d = logLatency - this.logMean
    this.logMean += d / this.logN
    this.logM2 += d * (logLatency - this.logMean)
  }
  rate(): Arm {
    return { kind: 'rate', n: this.n, successes: this.ok }
  }
  latency(): Arm {
    return { kind: 'mean', n: this.logN, mean: this.logMean, variance: this.logN > 1 ? this.logM2 / (this.logN - 1) : 0 }
  }
}

/** Serves `share` of calls from the candidate, asks the rule every `every` events, stops at a decision or the horizon. */
export function runExperiment(s: Scenario, seed: number, o: { share: number; every: number; horizon: number; rule?: RuleOptions }): RunResult {
  const r = rng(seed)
  const base = new Running()
  const cand = new Running()
  for (let i = 1; i <= o.horizon; i++) {
    const toCandidate = r() < o.share
    const truth = toCandidate ? s.candidate : s.baseline
    ;(toCandidate ? cand : base).add(r() < truth.ok, truth.mu + truth.sigma * gaussian(r))
    if (i % o.every !== 0) continue
    const okRate = compare(OK_RATE, base.rate(), cand.rate())
    const latency = compare(LATENCY, base.latency(), cand.latency())
    const verdict = s.primary === 'ok rate' ? decide(okRate, [latency], o.rule) : decide(latency, [okRate], o.rule)
    if (verdict.action !== 'wait') return { action: verdict.action, events: i, candidateEvents: cand.n }
  }
  return { action: 'none', events: o.horizon, candidateEvents: cand.n }
}

export interface Summary {
  scenario: string
  runs: number
  outcomes: Record<RunResult['action'], number>
  /** Over runs that reached the scenario's expected decision. */
  events: { median: number; p95: number; max: number }
  candidateEvents: { median: number; p95: number; max: number }
}

export function summarize(s: Scenario, expected: RunResult['action'], seeds: number[], o: { share: number; every: number; horizon: number; rule?: RuleOptions }): Summary {
  const results = seeds.map((seed) => runExperiment(s, seed, o))
  const outcomes = { promote: 0, rollback: 0, retire: 0, none: 0 }
  for (const x of results) outcomes[x.action]++
  const hit = results.filter((x) => x.action === expected)
  return {
    scenario: s.name,
    runs: seeds.length,
    outcomes,
    events: quantiles(hit.map((x) => x.events)),
    candidateEvents: quantiles(hit.map((x) => x.candidateEvents)),
  }
}

function quantiles(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number) => (s.length ? s[Math.max(0, Math.ceil(p * s.length) - 1)]! : NaN)
  return { median: at(0.5), p95: at(0.95), max: at(1) }
}

export const SCENARIOS: { scenario: Scenario; expected: RunResult['action'] }[] = [
  { expected: 'promote', scenario: { name: 'better: ok 90% → 95%', primary: 'ok rate', baseline: { ok: 0.9, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.95, mu: Math.log(100), sigma: 0.5 } } },
  { expected: 'rollback', scenario: { name: 'worse: ok 95% → 90%', primary: 'ok rate', baseline: { ok: 0.95, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.9, mu: Math.log(100), sigma: 0.5 } } },
  { expected: 'none', scenario: { name: 'tie: ok 95% = 95%', primary: 'ok rate', baseline: { ok: 0.95, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.95, mu: Math.log(100), sigma: 0.5 } } },
  { expected: 'promote', scenario: { name: 'better: latency median 100 → 80 ms', primary: 'latency', baseline: { ok: 0.95, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.95, mu: Math.log(80), sigma: 0.5 } } },
  { expected: 'rollback', scenario: { name: 'worse: latency median 100 → 125 ms', primary: 'latency', baseline: { ok: 0.95, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.95, mu: Math.log(125), sigma: 0.5 } } },
  { expected: 'none', scenario: { name: 'tie: latency median 100 = 100 ms', primary: 'latency', baseline: { ok: 0.95, mu: Math.log(100), sigma: 0.5 }, candidate: { ok: 0.95, mu: Math.log(100), sigma: 0.5 } } },
]
