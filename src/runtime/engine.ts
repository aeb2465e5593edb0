// The execution engine: one call through perceive → operate (attempts, backoff, timeout) → enforce, then its event.
import { backoffDelay } from './backoff'
import { arm, disarm } from './deadline'
import { PoetInputError } from './errors/PoetInputError'
import { PoetOutputError } from './errors/PoetOutputError'
import { PoetTimeoutError } from './errors/PoetTimeoutError'
import { emit, listeners, settings } from './events'
import { hashUnit, nextExecutionId } from './ids'
import { POET } from './meta'
import { retryAfterOf } from './retry-after'
import { track } from './track'
import { isTransient } from './transient'
import type { ExecutionEvent, Issue, Outcome, PhaseContext, PhaseModule, PhaseVersion, Policy } from './types'

type AnyFn = (...args: unknown[]) => unknown

/** What `poet(...)` fixed for one decorated function. */
export interface Target {
  fn: AnyFn
  /** Function id when there is no phase module. */
  name: string
  /** Level-1 policy from the options, used only when there is no phase module. */
  policy: Policy
  /** Read on every call, never cached: Vite dev hot-swaps a new version into this very object. */
  phases?: PhaseModule
}

/** The state of one execution. */
interface Call {
  t: Target
  self: unknown
  args: unknown[]
  policy: Policy
  enforce?: PhaseVersion['enforce']
  functionId: string
  version: string
  ctx: PhaseContext
  /** Attempts made so far. */
  n: number
  /** Whether this execution emits its event (someone listens, and it is sampled). */
  emit: boolean
  ts: number
  t0: number
}

const clock = typeof performance === 'object' ? () => performance.now() : Date.now

export function execute(t: Target, self: unknown, args: unknown[]): unknown {
  const ph = t.phases
  const executionId = nextExecutionId()
  let served: PhaseVersion | undefined = ph
  let policy = ph ? ph.policy : t.policy
  if (ph && ph.variants) {
    // A/B: a candidate serves its share of executions, chosen by id so the split is deterministic and replayable.
    let u = hashUnit(executionId)
    for (const v of ph.variants) {
      if (v.share && (u -= v.share) < 0) {
        served = v
        if (v.policy) policy = { ...policy, ...v.policy }
        break
      }
    }
  }
  const sample = policy.sample * settings.sample
  const listening = listeners.length > 0 && (sample >= 1 || Math.random() < sample)
  const functionId = ph ? ph.id : t.name
  const c: Call = {
    t,
    self,
    args,
    policy,
    enforce: (served && served.enforce) || (ph && ph.enforce),
    functionId,
    version: served ? served.version : 'unversioned',
    ctx: { functionId, executionId, repair: policy.repair },
    n: 0,
    emit: listening,
    ts: listening ? Date.now() : 0,
    t0: listening ? clock() : 0,
  }
  const perceive = (served && served.perceive) || (ph && ph.perceive)
  if (perceive) {
    let issues: Issue[] | undefined
    try {
      issues = perceive(args, c.ctx)
    } catch (e) {
      throw fail(c, e)
    }
    if (issues && issues.length) throw fail(c, new PoetInputError(issues, functionId, executionId))
  }
  return operate(c)
}

/** Attempts run synchronously until one returns a thenable; a sync function is retried at once (it cannot sleep). */
function operate(c: Call): unknown {
  for (;;) {
    c.n++
    try {
      const r = c.t.fn.apply(c.self, c.args)
      if (isThenable(r)) return operateAsync(c, r)
      return done(c, check(c, r))
    } catch (e) {
      if (!retryable(c, e)) throw fail(c, e)
    }
  }
}

/**
 * The async path, with promise callbacks rather than async/await: no extra promise without a timeout, and a
 * timeout costs a registration with the shared deadline timer instead of a timer (and a race) of its own.
 */
function operateAsync(c: Call, pending: PromiseLike<unknown>): Promise<unknown> {
  const ms = c.policy.timeout
  if (!(ms > 0 && ms < Infinity)) return Promise.resolve(pending).then((v) => settled(c, v), (e) => again(c, e))
  return new Promise((resolve, reject) => {
    // Once an attempt timed out, its late result or rejection is ignored (and, being handled, never unhandled).
    let over = false
    const d = arm(ms, () => {
      over = true
      try {
        resolve(again(c, new PoetTimeoutError(ms, c.functionId, c.ctx.executionId)))
      } catch (e) {
        reject(e)
      }
    })
    pending.then(
      (v) => {
        if (over) return
        disarm(d)
        try {
          resolve(settled(c, v))
        } catch (e) {
          reject(e)
        }
      },
      (e) => {
        if (over) return
        disarm(d)
        try {
          resolve(again(c, e))
        } catch (e) {
          reject(e)
        }
      },
    )
  })
}

/** An async attempt's value: checked and returned, or (when enforce rejects it) the next attempt. */
function settled(c: Call, value: unknown): unknown {
  try {
    return done(c, check(c, value))
  } catch (e) {
    return again(c, e)
  }
}

/** The next async attempt after backoff, or a throw of `e` when it is not retryable or attempts ran out. */
function again(c: Call, e: unknown): Promise<unknown> {
  const b = c.policy.backoff
  let delay = backoffDelay(b, c.n)
  const retryAfter = retryAfterOf(e)
  if (retryAfter !== undefined) delay = Math.max(delay, retryAfter)
  // A Retry-After beyond backoff.max would hold the caller hostage: give up now instead.
  if (!retryable(c, e) || delay > b.max) throw fail(c, e)
  return new Promise((r) => setTimeout(r, delay)).then(() => {
    c.n++
    let r: unknown
    try {
      r = c.t.fn.apply(c.self, c.args)
    } catch (e) {
      return again(c, e)
    }
    return isThenable(r) ? operateAsync(c, r) : settled(c, r)
  })
}

function check(c: Call, result: unknown): unknown {
  if (!c.enforce) return result
  c.ctx.result = result
  const issues = c.enforce(result, c.ctx)
  if (issues && issues.length) throw new PoetOutputError(issues, c.functionId, c.ctx.executionId)
  // Under repair, enforce may have replaced the result with a normalised one.
  return c.policy.repair ? c.ctx.result : result
}

function retryable(c: Call, e: unknown): boolean {
  return c.n < c.policy.attempts && !(e instanceof PoetInputError) && (c.policy.retryOn !== 'transient' || isTransient(e))
}

function done(c: Call, result: unknown): unknown {
  if (listeners.length) track({ functionId: c.functionId, version: c.version, executionId: c.ctx.executionId }, result)
  if (c.emit) report(c, 'ok')
  return result
}

/** Returns `e` unchanged (so `instanceof` keeps working) to be rethrown, with the execution attached under the POET symbol. */
function fail(c: Call, e: unknown): unknown {
  if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
    try {
      Object.defineProperty(e, POET, {
        value: { functionId: c.functionId, executionId: c.ctx.executionId, attempts: c.n, version: c.version },
        configurable: true,
      })
    } catch {
      // A frozen error is rethrown as it is.
    }
  }
  if (c.emit) {
    report(
      c,
      e instanceof PoetInputError
        ? 'input_error'
        : e instanceof PoetOutputError
          ? 'output_error'
          : e instanceof PoetTimeoutError
            ? 'timeout'
            : 'error',
      e,
    )
  }
  return e
}

function report(c: Call, outcome: Outcome, e?: unknown): void {
  const ctx = c.ctx
  const event: ExecutionEvent = {
    v: 1,
    kind: 'execution',
    functionId: c.functionId,
    version: c.version,
    executionId: ctx.executionId,
    ts: c.ts,
    duration: Math.round((clock() - c.t0) * 1000) / 1000,
    outcome,
    attempts: c.n,
  }
  if (e instanceof PoetInputError || e instanceof PoetOutputError) {
    event.issues = e.issues.map((i) => (i.rule ? { path: i.path, rule: i.rule } : { path: i.path }))
  }
  if (ctx.repairs) event.repairs = ctx.repairs
  if (ctx.stats) event.stats = ctx.stats
  if (outcome !== 'ok') {
    const name = e !== null && typeof e === 'object' && (e as { name?: unknown }).name
    event.error = typeof name === 'string' ? name : typeof e
  }
  emit(event)
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function'
}
