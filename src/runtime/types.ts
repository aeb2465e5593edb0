// The runtime's public and phase-module contracts: what `poet()` accepts, what a phase module exports, what an event carries.

/** Backoff between attempts of an async function, in milliseconds. */
export interface BackoffOptions {
  /** Delay before the second attempt. @default 100 */
  initial?: number
  /** Upper bound of any delay. @default 5000 */
  max?: number
  /** Growth per attempt. @default 2 */
  factor?: number
  /** Full jitter: each delay is drawn uniformly from [0, computed delay]. @default true */
  jitter?: boolean
}

/** What a caller may pass to `poet(...)`. Must be a static literal when the plugin is used. */
export interface PoetOptions {
  /** Domain pack name (e.g. `'ml_monitoring'`); adds domain rules and policy. */
  domain?: string
  /** The metric Train improves: `accuracy`, `latency`, `cost`, `quality`, or a custom feedback metric name. Off by default. */
  optimizeFor?: 'accuracy' | 'latency' | 'cost' | 'quality' | (string & {})
  /** Total tries, 1 = no retry; at most 100. @default the domain's, else 3 */
  attempts?: number
  /**
   * Milliseconds per attempt (async functions only); on expiry the attempt fails with `PoetTimeoutError`.
   * No timeout: `0` (so do 2^31 and more, about 25 days, which no timer can wait; without the plugin, `Infinity` too).
   * @default the domain's, else 30000
   */
  timeout?: number
  /**
   * Delays between attempts of an async function (a sync one cannot wait: it is retried at once).
   * @default { initial: 100, max: 5000, factor: 2, jitter: true }
   */
  backoff?: BackoffOptions
  /** Which failures are retried: `'transient'` (timeouts, network, 429/5xx-like) or `'any'`. @default the domain's, else 'any' */
  retryOn?: 'transient' | 'any'
  /** Let perceive/enforce normalise values instead of rejecting; every repair is recorded in the event. @default false */
  repair?: boolean
  /** Fraction of executions that emit events, 0..1. @default 1 */
  sample?: number
}

/** The fully resolved policy the engine runs with: every default filled. */
export interface Policy {
  attempts: number
  timeout: number
  backoff: Required<BackoffOptions>
  retryOn: 'transient' | 'any'
  repair: boolean
  sample: number
}

/** One violation found by perceive or enforce. */
export interface Issue {
  /** Where, e.g. `args[0].items[2].price` or `result.total`. */
  path: string
  /** What the type or rule wants, e.g. `finite number`. */
  expected: string
  /** What was there, described without leaking the value, e.g. `string`, `NaN`. */
  received: string
  /** The domain rule that fired, when it was one, e.g. `financial_services.non_negative_total`. */
  rule?: string
}

/**
 * Issues as perceive or enforce return them. A list is kept short (the issue helpers keep the first 20, so that a huge
 * bad input cannot flood messages and events); `more` counts the issues found past the listed ones.
 */
export type IssueList = Issue[] & {
  /** How many issues were found but not listed; absent when none were left out. */
  more?: number
}

/** A normalisation perceive or enforce made under `repair: true`. Never carries the value itself. */
export interface Repair {
  path: string
  /** What was done, e.g. `numeric string → number`. */
  action: string
  rule?: string
}

/**
 * Per-execution context handed to perceive and enforce.
 * Phases may push repairs, set input statistics, and (enforce only) replace `result` when repairing.
 */
export interface PhaseContext {
  readonly functionId: string
  readonly executionId: string
  readonly repair: boolean
  /** Repairs made so far; phases push to it (created on first use). */
  repairs?: Repair[]
  /** Input statistics computed by perceive (e.g. sample size, mean); numbers only, never values. */
  stats?: Record<string, number>
  /** The operate result; enforce may replace it when it repairs. */
  result?: unknown
}

/** One served version of a function's phases (the current one, or a candidate under A/B test). */
export interface PhaseVersion {
  version: string
  policy?: Partial<Policy>
  /** Validates (and under repair, normalises in place) the arguments array. Returns issues, or undefined when valid. */
  perceive?(args: unknown[], ctx: PhaseContext): IssueList | undefined
  /** Validates the awaited result (`ctx.result`). Returns issues, or undefined when valid. */
  enforce?(result: unknown, ctx: PhaseContext): IssueList | undefined
  /** Share of executions, 0..1, served by this variant (candidates only). */
  share?: number
}

/** The default export of a `virtual:poet/<key>` phase module. */
export interface PhaseModule extends PhaseVersion {
  /** Function id: `<path relative to root>#<name>`. */
  id: string
  /** `builtin`, `llm:<model>` … */
  generator: string
  /** The fully resolved policy for this function (options over domain defaults over global defaults). */
  policy: Policy
  /** Candidate versions under A/B test, each with its traffic share. */
  variants?: PhaseVersion[]
  /**
   * Event fields this function's domain forbids whatever its options say (e.g. `healthcare`: values, comment, label):
   * the runtime drops them from execution and feedback events before any listener or sink sees them.
   */
  neverInEvents?: EventField[]
  /**
   * The function is async (declared so, or returns a `Promise`): every failure, a perceive rejection included, is
   * then a rejected promise, never a synchronous throw.
   */
  async?: boolean
}

/** A part of an event a domain may forbid: argument/result `values`, input `stats`, feedback `comment` and `label`. */
export type EventField = 'values' | 'stats' | 'comment' | 'label'

export type Outcome = 'ok' | 'input_error' | 'output_error' | 'timeout' | 'error'

/** An execution event, as emitted to listeners and sinks. Never carries argument or result values. */
export interface ExecutionEvent {
  v: 1
  kind: 'execution'
  functionId: string
  version: string
  executionId: string
  /** Epoch milliseconds when the call started. */
  ts: number
  /** Milliseconds from call to settle. */
  duration: number
  outcome: Outcome
  attempts: number
  /** Issue paths (and rules) from perceive/enforce, without values. */
  issues?: { path: string; rule?: string }[]
  /** How many issues there were in all, when `issues` lists fewer (a phase lists its first 20, an event its first 100). */
  issueCount?: number
  repairs?: Repair[]
  stats?: Record<string, number>
  /** Name of the last error (e.g. `TypeError`) when outcome is not ok. */
  error?: string
}

export interface FeedbackEvent {
  v: 1
  kind: 'feedback'
  functionId: string
  version: string
  executionId: string
  ts: number
  score?: number
  label?: string
  metrics?: Record<string, number>
  comment?: string
}

export type PoetEvent = ExecutionEvent | FeedbackEvent
