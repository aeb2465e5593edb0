// feedback() and executionOf(): tie what a user says about a result back to the execution (and version) that produced it.
import { emit, listeners } from './state'
import { POET } from './meta'
import { byId, byResult, forbidden, type ExecutionRef } from './track'
import type { FeedbackEvent } from './types'
import { MAX_COMMENT, MAX_ID, MAX_KEY, MAX_LABEL, MAX_MAP_KEYS, MAX_VERSION } from './limits'

export type { ExecutionRef }

/** What a user (or a metric job) says about one execution. */
export interface Feedback {
  /** A score for the target metric, e.g. 0..1 accuracy. */
  score?: number
  /** A short category, e.g. `missed-drift`. */
  label?: string
  /** Named numeric metrics (e.g. `{ latency_ms: 120 }`); `optimizeFor` may name one. */
  metrics?: Record<string, number>
  /** Free text. Treated as untrusted data downstream. */
  comment?: string
}

/**
 * Which execution produced `value`: an object result of a poet function (remembered weakly while a sink or
 * listener is configured) or an error a poet function rethrew. Undefined for anything else, primitives included.
 */
export function executionOf(value: unknown): ExecutionRef | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return
  const ref = byResult.get(value)
  if (ref) return ref
  const meta = (value as { [POET]?: ExecutionRef })[POET]
  if (meta) return { functionId: meta.functionId, version: meta.version, executionId: meta.executionId }
}

/**
 * Records feedback about one execution, named by its result, its rethrown error, its execution id (recent ones
 * in this process), or an `ExecutionRef` (e.g. `executionOf(result)` sent to a client and back).
 */
export function feedback(about: unknown, fb: Feedback): void {
  const ref = typeof about === 'string' ? byId(about) : (executionOf(about) ?? asRef(about))
  if (!ref) {
    // Results are remembered only while something listens. With no sink and no listener (a production build without
    // a feedback endpoint) nothing would record this feedback either: code that rates results in dev must not throw there.
    if (!listeners.length) return
    throw new TypeError(
      'poet: feedback() cannot tell which execution this is about. Pass an object result of a poet function or an error it threw ' +
        '(remembered while a sink or listener is configured), a recent execution id, or executionOf(result).',
    )
  }
  // A collector refuses a batch holding one event it cannot take (400, nothing stored): what a developer passes wrong
  // is refused here instead, where it shows; a user's free-text comment is cut to the collector's length.
  if (typeof fb !== 'object' || !fb) throw new TypeError(`poet: feedback takes an object ({ score, label, metrics, comment }), got ${fb === null ? 'null' : typeof fb}`)
  if (fb.score === undefined && fb.label === undefined && fb.metrics === undefined && fb.comment === undefined) {
    throw new TypeError('poet: feedback needs a score, label, metrics or comment')
  }
  const event: FeedbackEvent = { v: 1, kind: 'feedback', functionId: ref.functionId, version: ref.version, executionId: ref.executionId, ts: Date.now() }
  if (fb.score !== undefined) event.score = finite(fb.score, 'score')
  // What the function's domain forbids in events is checked, then left out.
  const never = forbidden.get(ref.functionId) ?? []
  if (fb.label !== undefined) {
    const label = text(fb.label, 'label')
    if (!label || label.length > MAX_LABEL) throw new TypeError(`poet: feedback label must be 1 to ${MAX_LABEL} characters`)
    if (!never.includes('label')) event.label = label
  }
  if (fb.comment !== undefined) {
    const comment = text(fb.comment, 'comment')
    if (!never.includes('comment')) event.comment = comment.slice(0, MAX_COMMENT)
  }
  if (fb.metrics !== undefined) {
    if (typeof fb.metrics !== 'object' || fb.metrics === null) throw new TypeError('poet: feedback metrics must be an object of numbers')
    // No prototype: a metric named `__proto__` (an own key of parsed JSON) is kept, not taken as one.
    const metrics: Record<string, number> = Object.create(null)
    const keys = Object.keys(fb.metrics)
    if (keys.length > MAX_MAP_KEYS) throw new TypeError(`poet: feedback carries at most ${MAX_MAP_KEYS} metrics`)
    for (const k of keys) {
      if (!k || k.length > MAX_KEY) throw new TypeError(`poet: feedback metric names must be 1 to ${MAX_KEY} characters`)
      metrics[k] = finite(fb.metrics[k], `metrics.${k}`)
    }
    event.metrics = metrics
  }
  // All it carried is forbidden by the domain: nothing is left to say (and an empty event would be refused).
  if (event.score === undefined && event.label === undefined && event.metrics === undefined && event.comment === undefined) return
  emit(event)
}

function asRef(v: unknown): ExecutionRef | undefined {
  const r = v as Partial<ExecutionRef> | null
  // A ref back from a client is untrusted: one the collector would refuse would take the whole batch with it.
  if (r && typeof r === 'object' && fits(r.functionId, MAX_ID) && fits(r.version, MAX_VERSION) && fits(r.executionId, MAX_ID)) {
    return { functionId: r.functionId, version: r.version, executionId: r.executionId }
  }
}

function fits(s: unknown, max: number): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= max
}

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`poet: feedback ${field} must be a finite number`)
  return v
}

function text(v: unknown, field: string): string {
  if (typeof v !== 'string') throw new TypeError(`poet: feedback ${field} must be a string`)
  return v
}
