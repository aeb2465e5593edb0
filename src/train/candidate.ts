// Builtin candidates: policy parameters learned from observed metrics, written into a new version of a phase module.
import type { Policy } from '../runtime/types'
import { contentHash, jsonLine } from '../generators/render'
import type { VersionMetrics } from './store'
import { replaceLearned, type Learned } from './thresholds'

/** Evidence the trainer gathered about the current version, and what it may change. */
export interface Evidence {
  metrics: VersionMetrics
  /** Issue paths of rejected inputs users rated good, most frequent first, with counts. */
  goodRejections: { issue: string; count: number }[]
  /** Minimum count of good-rated rejections before repair is switched on. */
  goodRejectionThreshold: number
}

/** The parameters the builtin generator can learn; the trainer picks those its triggers point at. */
export type Learnable = 'timeout' | 'attempts' | 'repair'

export interface LearnedPolicy {
  policy: Policy
  /** One line per parameter changed, with the numbers that justified it. */
  changes: string[]
}

/** Timeouts are set to the p99 of successful calls times this, so ~1 % slow successes are not cut off. */
export const TIMEOUT_MARGIN = 2
/** Attempts are raised until the chance that every attempt fails is at most this. */
export const RESIDUAL_FAILURE = 0.001
const MAX_ATTEMPTS = 6
const MIN_SAMPLE = 30
/** Bounds of a learned timeout: a shorter one would cut off calls on a merely busy machine, a longer one never fires. */
const MIN_TIMEOUT = 50
const MAX_TIMEOUT = 300_000

/**
 * Learns parameters from evidence: timeout from the p99 latency of successful calls × TIMEOUT_MARGIN; attempts from the
 * observed per-attempt failure rate q (smallest k with q^k ≤ RESIDUAL_FAILURE); repair on when users rated enough
 * rejected inputs good. A parameter changes only when the evidence moves it by more than a fifth.
 */
export function learnPolicy(current: Policy, e: Evidence, learn: ReadonlySet<Learnable>): LearnedPolicy {
  const policy: Policy = { ...current, backoff: { ...current.backoff } }
  const changes: string[] = []
  const m = e.metrics
  if (learn.has('timeout') && m.outcomes.ok >= MIN_SAMPLE && m.okLatency.p99 > 0) {
    const wanted = Math.ceil((m.okLatency.p99 * TIMEOUT_MARGIN) / 10) * 10
    const timeout = Math.min(MAX_TIMEOUT, Math.max(MIN_TIMEOUT, wanted))
    // No timeout (0, or beyond what a timer can wait) is as far from any learned one as can be.
    const none = !(current.timeout > 0 && current.timeout < 2 ** 31)
    if (none || Math.abs(timeout - current.timeout) / current.timeout > 0.2) {
      policy.timeout = timeout
      // Else "17 ms × 2" would read as the reason for 50 ms.
      const bound = wanted < MIN_TIMEOUT ? `, and never below ${MIN_TIMEOUT} ms` : wanted > MAX_TIMEOUT ? `, and never above ${MAX_TIMEOUT} ms` : ''
      changes.push(`timeout ${none ? 'none' : current.timeout} → ${timeout} ms (p99 of ${m.outcomes.ok} successful calls ${round(m.okLatency.p99)} ms × ${TIMEOUT_MARGIN}${bound})`)
    }
  }
  // Every attempt counted ran: perceive rejects an input before the first attempt, so an input error reports none.
  const tries = m.attempts
  const failedTries = tries - m.outcomes.ok
  if (learn.has('attempts') && tries >= MIN_SAMPLE && failedTries > 0) {
    const q = failedTries / tries
    const attempts = Math.min(MAX_ATTEMPTS, Math.max(1, Math.ceil(Math.log(RESIDUAL_FAILURE) / Math.log(q))))
    if (q < 1 && attempts > current.attempts) {
      policy.attempts = attempts
      changes.push(`attempts ${current.attempts} → ${attempts} (${(q * 100).toFixed(1)} % of ${tries} attempts failed)`)
    }
  }
  const rated = e.goodRejections.reduce((n, r) => n + r.count, 0)
  if (learn.has('repair') && !current.repair && rated >= e.goodRejectionThreshold) {
    policy.repair = true
    const top = e.goodRejections.slice(0, 3).map((r) => `${r.issue} ×${r.count}`).join(', ')
    changes.push(`repair off → on (${rated} rejected inputs rated good: ${top})`)
  }
  return { policy, changes }
}

const POLICY_LINE = /^ {2}policy: (\{.*\}),$/m
const VERSION_LINE = /^ {2}version: "([^"]+)",$/m

const ASYNC_LINE = /^ {2}async: true,$/m

/** Whether a rendered phase module says its function is async (declared so, or annotated to return a Promise). */
export function declaresAsync(source: string): boolean {
  return ASYNC_LINE.test(source)
}

/** The resolved policy a rendered phase module carries, or undefined when the source is not a rendered module. */
export function readPolicy(source: string): Policy | undefined {
  return jsonLine<Policy>(source, POLICY_LINE)
}

/**
 * The same phase module with another policy (and, when given, other learned thresholds): a new version (hash of the
 * base version, the policy and the thresholds), a header that says where it came from. Perceive and enforce are
 * untouched.
 */
export function withPolicy(source: string, policy: Policy, reason: string, learned?: Learned): { version: string; source: string } {
  const base = VERSION_LINE.exec(source)?.[1]
  if (!base || !POLICY_LINE.test(source)) throw new Error('poet train: this phase module was not rendered by unplugin-poet (no policy/version line)')
  const json = JSON.stringify(policy)
  // Thresholds join the hash only when they change, so a policy-only candidate keeps the version it always had.
  const version = learned ? contentHash('train', base, json, JSON.stringify(learned)) : contentHash('train', base, json)
  const out = (learned ? replaceLearned(source, learned) : source)
    .replace(POLICY_LINE, () => `  policy: ${json},`)
    .replace(VERSION_LINE, () => `  version: ${JSON.stringify(version)},`)
    .replace(/^(\/\/ generated by .*), version [^.\s]+\./m, (_, head: string) => `${head}, version ${version}.`)
    .replace(/^(\/\/ POET phases for .*)$/m, (line) => `${line}\n// trained from ${base}: ${reason.replace(/\n/g, ' ')}`)
  return { version, source: out }
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}
