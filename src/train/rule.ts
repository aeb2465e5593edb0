// The statistical rule that promotes a candidate or rolls it back: posterior probability of a practical difference, per metric.

/**
 * What one arm (a version) observed for one metric.
 * `rate`: successes out of n (successes may be fractional: a feedback score in [0, 1] counts as that much success).
 * `mean`: a continuous metric's sample mean and variance over n observations.
 */
export type Arm = { kind: 'rate'; n: number; successes: number } | { kind: 'mean'; n: number; mean: number; variance: number }

export interface MetricSpec {
  /** Shown in reasons: `ok rate`, `feedback score`, `latency`, `cost` … */
  name: string
  higherIsBetter: boolean
  /**
   * The smallest difference worth acting on, in the metric's units (a rate: absolute, e.g. 0.02 = two points;
   * a mean, e.g. latency in ms: usually a share of the baseline's mean). Differences inside it count as a tie.
   */
  margin: number
}

export interface Comparison {
  metric: MetricSpec
  /** Observations per arm. */
  n: { baseline: number; candidate: number }
  /** Posterior means per arm (rate: Beta mean; mean: sample mean). */
  baseline: number
  candidate: number
  /** P(candidate better than baseline by more than the margin | data). */
  pBetter: number
  /** P(candidate worse than baseline by more than the margin | data). */
  pWorse: number
}

export interface RuleOptions {
  /** Promote when P(better on the primary metric) reaches this. @default 0.99 */
  promoteAt: number
  /** Roll back when P(worse on any watched metric) reaches this: lower than promoteAt, so a bad candidate goes early. @default 0.975 */
  rollbackAt: number
  /** Observations per arm of the primary metric before a promotion can happen. @default 200 */
  minPromote: number
  /** Observations of the candidate on a metric before it can cause a rollback: below minPromote, to bound exposure. @default 100 */
  minRollback: number
  /** Candidate observations after which, with no decision, it is retired as no better. @default 20000 */
  maxCandidate: number
}

export const DEFAULT_RULE: RuleOptions = { promoteAt: 0.99, rollbackAt: 0.975, minPromote: 200, minRollback: 100, maxCandidate: 20_000 }

/**
 * Default practical margins: a rate must move by 2 points, a continuous metric by 4 % of its baseline, before it
 * counts as a difference. They are what keep a tie a tie although the rule looks at the data again and again.
 */
export const MARGINS = { rate: 0.02, relative: 0.04 } as const

export type Verdict = { action: 'promote' | 'rollback' | 'retire' | 'wait'; reason: string }

/**
 * Posterior of each arm, approximated as normal (a Beta(1 + s, 1 + n − s) posterior by its mean and variance for
 * rates; for means, flat priors, N(x̄, s²/n)), so the difference of arms is normal and the probabilities are Φ(…).
 */
export function compare(metric: MetricSpec, baseline: Arm, candidate: Arm): Comparison {
  const b = posterior(baseline)
  const c = posterior(candidate)
  const sd = Math.sqrt(b.variance + c.variance)
  const diff = metric.higherIsBetter ? c.mean - b.mean : b.mean - c.mean
  // sd 0: both arms are means over ≥ 2 identical observations (a cost fixed per version), so the difference is exact.
  const p = (d: number) => (!Number.isFinite(sd) || Number.isNaN(d) ? 0 : sd === 0 ? Number(d > 0) : normalCdf(d / sd))
  return {
    metric,
    n: { baseline: baseline.n, candidate: candidate.n },
    baseline: b.mean,
    candidate: c.mean,
    pBetter: p(diff - metric.margin),
    pWorse: p(-diff - metric.margin),
  }
}

/**
 * The rule. Roll back as soon as any watched metric (primary or guard) is worse with P ≥ rollbackAt after at least
 * minRollback candidate observations. Promote when the primary metric is better with P ≥ promoteAt, both arms have
 * minPromote observations, and no guard leans worse (P(worse) < 0.5). Retire after maxCandidate observations without
 * either. Otherwise wait.
 */
export function decide(primary: Comparison, guards: Comparison[], rule: RuleOptions = DEFAULT_RULE): Verdict {
  for (const c of [primary, ...guards]) {
    if (c.n.candidate >= rule.minRollback && c.pWorse >= rule.rollbackAt) {
      return { action: 'rollback', reason: `worse on ${c.metric.name}: ${describe(c)}, P(worse) = ${c.pWorse.toFixed(3)} ≥ ${rule.rollbackAt}` }
    }
  }
  const ready = primary.n.baseline >= rule.minPromote && primary.n.candidate >= rule.minPromote
  if (ready && primary.pBetter >= rule.promoteAt) {
    const leaning = guards.find((g) => g.pWorse >= 0.5)
    if (!leaning) {
      return { action: 'promote', reason: `better on ${primary.metric.name}: ${describe(primary)}, P(better) = ${primary.pBetter.toFixed(3)} ≥ ${rule.promoteAt}` }
    }
    return { action: 'wait', reason: `better on ${primary.metric.name} but ${leaning.metric.name} leans worse (P = ${leaning.pWorse.toFixed(2)})` }
  }
  if (primary.n.candidate >= rule.maxCandidate) {
    return { action: 'retire', reason: `no difference beyond the margin on ${primary.metric.name} after ${primary.n.candidate} candidate observations: ${describe(primary)}` }
  }
  // Said per arm: "92 more per arm" read as both arms needing 92, when current had hundreds already.
  const [current, candidate] = [primary.n.baseline, primary.n.candidate].map((n) => Math.max(0, rule.minPromote - n)) as [number, number]
  const short = current && candidate ? `current needs ${current} more, the candidate ${candidate}` : current ? `current needs ${current} more` : `the candidate needs ${candidate} more`
  const need = ready ? '' : `, ${rule.minPromote} observations per arm before promotion: ${short}`
  return { action: 'wait', reason: `${primary.metric.name}: ${describe(primary)}, P(better) = ${primary.pBetter.toFixed(3)}, P(worse) = ${primary.pWorse.toFixed(3)}${need}` }
}

function describe(c: Comparison): string {
  // An arm without observations has only its prior's mean (an ok rate of 0.5): printed, it read as a measured 50 %.
  const arm = (x: number, n: number) => `${n ? fmt(x) : '—'} (n=${n})`
  return `${arm(c.baseline, c.n.baseline)} → ${arm(c.candidate, c.n.candidate)}`
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(4)
}

function posterior(a: Arm): { mean: number; variance: number } {
  if (a.kind === 'rate') {
    const alpha = 1 + a.successes
    const beta = 1 + a.n - a.successes
    const mean = alpha / (alpha + beta)
    return { mean, variance: (mean * (1 - mean)) / (alpha + beta + 1) }
  }
  if (a.n < 2) return { mean: a.mean, variance: Infinity }
  return { mean: a.mean, variance: a.variance / a.n }
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2
  const t = 1 / (1 + 0.3275911 * x)
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2
}
