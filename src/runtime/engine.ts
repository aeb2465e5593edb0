// The execution engine: one call through perceive → operate (attempts, backoff, timeout) → enforce, then its event.
import { backoffDelay } from './backoff'
import type { Call, Target } from './call'
import { arm, disarm, type Deadline } from './deadline'
import { PoetInputError } from './errors/PoetInputError'
import { PoetOutputError } from './errors/PoetOutputError'
import { PoetTimeoutError } from './errors/PoetTimeoutError'
import { hashUnit, nextExecutionId } from './ids'
import { POET } from './meta'
import { retryAfterOf } from './retry-after'
import { settings } from './state'
import { isTransient } from './transient'
import type { PhaseVersion, Policy } from './types'

/** Runs one call of a decorated function: returns its (checked) result, or a promise of it when `fn` is async. */
export function execute(t: Target, self: unknown, args: unknown[]): unknown {
  const c = new Execution(t, self, args)
  try {
    const issues = c.perceive?.(args, c)
    if (issues?.length) throw new PoetInputError(issues, c.functionId, c.executionId)
    return operate(c)
  } catch (e) {
    // Before the first attempt, the failure is perceive's and ends the execution here; operate ended its own.
    if (!c.n) e = fail(c, e)
    // An async function never throws, it rejects: `f(bad).catch(…)` must see a perceive rejection too. Without a
    // phase module to say so, a native async function tells by its constructor (a transpiled one cannot be told).
    if (t.phases?.async || t.fn.constructor.name === 'AsyncFunction') return Promise.reject(e)
    throw e
  }
}

/**
 * One execution, also the context its phases receive. Its id is drawn on first read (an error, an event, a phase
 * that asks): a call nobody observes never pays for one, which is most of the engine's cost on a fast sync call.
 */
class Execution implements Call {
  // Declared, not defined: class fields would cost the es2020 runtime bundle a define helper per field.
  declare t: Target
  declare self: unknown
  declare args: unknown[]
  declare readonly functionId: string
  declare readonly repair: boolean
  declare policy: Policy
  declare perceive: PhaseVersion['perceive']
  declare enforce: Call['enforce']
  declare version: string
  declare n: number
  declare emit?: boolean
  declare t0?: number
  declare result?: unknown
  declare repairs?: Call['repairs']
  declare stats?: Call['stats']
  declare private id: string | undefined

  constructor(t: Target, self: unknown, args: unknown[]) {
    this.t = t
    this.self = self
    this.args = args
    const ph = t.phases || t
    let served: PhaseVersion = ph
    let policy = ph.policy
    if (ph.variants) {
      // A/B: a candidate serves its share of executions, chosen by id so the split is deterministic and replayable.
      let u = hashUnit(this.executionId)
      for (const v of ph.variants) {
        if ((u -= v.share || 0) < 0) {
          served = v
          policy = { ...policy, ...v.policy }
          break
        }
      }
    }
    this.functionId = ph.id
    this.repair = policy.repair
    this.policy = policy
    this.perceive = served.perceive || ph.perceive
    this.enforce = served.enforce || ph.enforce
    this.version = served.version
    this.n = 0
    // Only once someone listens (onEvent installs it): decides whether this execution is sampled and starts its clock.
    settings.start?.(this)
  }

  get executionId(): string {
    return this.id || (this.id = nextExecutionId())
  }
}

/**
 * Attempts run synchronously until one returns a thenable; a sync function is retried at once, since a sync
 * call cannot sleep between attempts (backoff applies to async functions only).
 */
function operate(c: Call): unknown {
  for (;;) {
    c.n++
    try {
      const r = c.t.fn.apply(c.self, c.args)
      if (typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') return operateAsync(c, r as PromiseLike<unknown>)
      return done(c, r)
    } catch (e) {
      if (!retryable(c, e)) throw fail(c, e)
    }
  }
}

/**
 * The async path, with promise callbacks rather than async/await: no extra promise without a timeout, and a
 * timeout costs a registration with the shared deadline timer instead of a timer (and a race) of its own.
 */
function operateAsync(c: Call, r: PromiseLike<unknown>): Promise<unknown> {
  const ms = c.policy.timeout
  // Adopted rather than called: a thenable that breaks the Promise contract (calls both callbacks, one of them twice,
  // or throws) must still settle the attempt once, or it disarms its deadline twice and runs attempts nobody awaits.
  const pending = Promise.resolve(r)
  // 2^31 ms (about 25 days) and beyond, no timer can wait (it fires at once, over and over): as good as none.
  if (!(ms > 0 && ms < 2 ** 31)) return pending.then((v) => settled(c, v), (e) => again(c, e))
  return new Promise((resolve, reject) => {
    // Once an attempt timed out (d = 0: arm never expires before it returns), its late result or rejection is ignored
    // (and, being handled, never unhandled).
    let d: Deadline | 0 = arm(ms, () => {
      d = 0
      settle(resolve, reject, again, c, new PoetTimeoutError(ms, c.functionId, c.executionId))
    })
    pending.then(
      (v) => d && (disarm(d), settle(resolve, reject, settled, c, v)),
      (e) => d && (disarm(d), settle(resolve, reject, again, c, e)),
    )
  })
}

/** Resolves with `next(c, x)`, or rejects with what it throws. */
function settle(
  resolve: (v: unknown) => void,
  reject: (e: unknown) => void,
  next: (c: Call, x: unknown) => unknown,
  c: Call,
  x: unknown,
): void {
  try {
    resolve(next(c, x))
  } catch (e) {
    reject(e)
  }
}

/** An async attempt's value: checked and returned, or (when enforce rejects it) the next attempt. */
function settled(c: Call, value: unknown): unknown {
  try {
    return done(c, value)
  } catch (e) {
    return again(c, e)
  }
}

/** The next async attempt after backoff, or a throw of `e` when it is not retryable or attempts ran out. */
function again(c: Call, e: unknown): Promise<unknown> {
  const b = c.policy.backoff
  const delay = Math.max(backoffDelay(b, c.n), retryAfterOf(e) ?? 0)
  // A Retry-After beyond backoff.max would hold the caller hostage: give up now instead.
  if (!retryable(c, e) || delay > b.max) throw fail(c, e)
  // After the pause, the same loop as the first attempt: an attempt that fails without a promise is retried at once.
  return new Promise((r) => setTimeout(r, delay)).then(() => operate(c))
}

/** Whether to try again after `e`; an error it cannot read (a getter or a Proxy trap that throws) is rethrown as it is. */
function retryable(c: Call, e: unknown): boolean | undefined {
  try {
    return c.n < c.policy.attempts && !(e instanceof PoetInputError) && (c.policy.retryOn !== 'transient' || isTransient(e))
  } catch {}
}

/** Ends the execution with an attempt's result once enforce accepts it (and, under repair, normalised); else throws. */
function done(c: Call, result: unknown): unknown {
  if (c.enforce) {
    c.result = result
    const issues = c.enforce(result, c)
    if (issues?.length) throw new PoetOutputError(issues, c.functionId, c.executionId)
    // Under repair, enforce may have replaced the result with a normalised one.
    if (c.repair) result = c.result
  }
  settings.end?.(c, true, result)
  return result
}

/** Returns `e` unchanged (so `instanceof` keeps working) to be rethrown, with the execution attached under the POET symbol. */
function fail(c: Call, e: unknown): unknown {
  try {
    ;(e as Record<symbol, unknown>)[POET] = { functionId: c.functionId, executionId: c.executionId, attempts: c.n, version: c.version }
  } catch {
    // A primitive (in strict mode), or a frozen error: rethrown as it is.
  }
  settings.end?.(c, false, e)
  return e
}
