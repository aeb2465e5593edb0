// Ends an execution for its listeners: remembers which execution made a result or error (for feedback), builds and emits its event.
import type { Call } from './call'
import { PoetError } from './errors/PoetError'
import { PoetInputError } from './errors/PoetInputError'
import { PoetOutputError } from './errors/PoetOutputError'
import { PoetTimeoutError } from './errors/PoetTimeoutError'
import { MAX_ERROR, MAX_ITEM_TEXT, MAX_KEY, MAX_LIST_ITEMS, MAX_MAP_KEYS } from './limits'
import { emit } from './state'
import { forbidden, track } from './track'
import type { ExecutionEvent, Issue, Repair } from './types'

export function report(c: Call, ok: boolean, value: unknown): void {
  const never = c.t.phases?.neverInEvents
  if (never) forbidden.set(c.functionId, never)
  // Failures too: feedback on a rejected call (a good input refused) comes by its id, or by a frozen error without meta.
  track({ functionId: c.functionId, version: c.version, executionId: c.executionId }, value)
  if (!c.emit) return
  const duration = performance.now() - c.t0!
  const event: ExecutionEvent = {
    v: 1,
    kind: 'execution',
    functionId: c.functionId,
    version: c.version,
    executionId: c.executionId,
    ts: Math.round(Date.now() - duration),
    duration: Math.round(duration * 1000) / 1000,
    outcome: 'ok',
    attempts: c.n,
  }
  let error: string | undefined
  if (!ok) {
    event.outcome = 'error'
    error = value === null ? 'null' : typeof value
    // A thrown Proxy, or an error with throwing getters, must not lose the event (nor replace the error the caller
    // gets): what cannot be read about it is left out, and it is named by its type.
    try {
      error = describeFailure(c, event, value) ?? error
    } catch {}
  }
  if (c.repairs) {
    try {
      event.repairs = listed<Repair>(c.repairs, ['path', 'action'])
    } catch {
      // A repair whose text cannot even be read: the others are not worth the event.
    }
  }
  if (c.stats && !(never && never.includes('stats'))) {
    // A collector refuses the whole batch holding a stat JSON cannot carry (NaN and Infinity travel as null), one it
    // cannot name (empty, or past MAX_KEY characters), or more than MAX_MAP_KEYS of them: those are left out.
    // No prototype: a stat named `__proto__` (a key from the input) is kept, not taken as one.
    const stats: Record<string, number> = Object.create(null)
    let n = 0
    for (const k in c.stats) if (Number.isFinite(c.stats[k]) && k && k.length <= MAX_KEY && n++ < MAX_MAP_KEYS) stats[k] = c.stats[k]
    event.stats = stats
  }
  if (error) event.error = error
  emit(event)
}

/** Sets the outcome and issue paths of a failed execution; returns its error's name, when it has one. */
function describeFailure(c: Call, event: ExecutionEvent, value: unknown): string | undefined {
  // A poet error of another execution (a poet function this one called) only passes through: this call's own phases
  // did not reject anything, so it is an error here, and its issue paths (the inner function's) are not this one's.
  const own = value instanceof PoetError && value.executionId === c.executionId ? value : undefined
  if (own instanceof PoetInputError || own instanceof PoetOutputError) {
    event.outcome = own instanceof PoetInputError ? 'input_error' : 'output_error'
    event.issues = listed<Pick<Issue, 'path' | 'rule'>>(own.issues, ['path'])
    // What the event cannot list is counted, so that a reader knows the list is not the whole story. A collector takes
    // a whole number only: a count a phase module made of anything is left out.
    const count = own.issueCount
    if (Number.isSafeInteger(count) && count > event.issues.length) event.issueCount = count
  } else if (own instanceof PoetTimeoutError) event.outcome = 'timeout'
  const name = value !== null && typeof value === 'object' && (value as { name?: unknown }).name
  // A collector takes a name of 1 to MAX_ERROR characters.
  if (typeof name === 'string' && name) return fit(name, MAX_ERROR)
}

/**
 * Issues or repairs as an event lists them. A collector refuses an event holding anything else (and with it the whole
 * batch), so only their texts are taken: a phase module (an LLM's passes the gate) may have put anything in them, a
 * value, a BigInt or a cycle that JSON cannot even encode. A text past what a collector takes (a path through a value
 * hundreds of levels deep) is cut, marked so; one required but empty reads `?`; a repair of every element of a long
 * array is one each, so the first ones stand for them.
 */
function listed<T extends { rule?: string }>(items: readonly unknown[], required: (keyof T & string)[]): T[] {
  return items.slice(0, MAX_LIST_ITEMS).map((x) => {
    const item: Record<string, string> = {}
    for (const k of required) item[k] = fit(String((x as Record<string, unknown>)[k] ?? '') || '?', MAX_ITEM_TEXT)
    const rule = (x as { rule?: unknown }).rule
    if (typeof rule === 'string' && rule) item.rule = fit(rule, MAX_ITEM_TEXT)
    return item as T
  })
}

/** `s`, or its first `max - 1` characters and an ellipsis. */
function fit(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s
}
