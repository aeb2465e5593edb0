// Strict validation of an event batch as the collector receives it: one readable reason for the first thing wrong.
import type { PoetEvent } from '../runtime/types'
import { MAX_COMMENT, MAX_ERROR, MAX_ID, MAX_ITEM_TEXT, MAX_KEY, MAX_LABEL, MAX_LIST_ITEMS, MAX_MAP_KEYS, MAX_VERSION } from '../runtime/limits'
import { OUTCOMES } from './store'

/** Bounds that keep one event small and the store free of anything that could carry user values. */
export const LIMITS = {
  events: 10_000,
  id: MAX_ID,
  version: MAX_VERSION,
  error: MAX_ERROR,
  label: MAX_LABEL,
  comment: MAX_COMMENT,
  listItems: MAX_LIST_ITEMS,
  itemText: MAX_ITEM_TEXT,
  mapKeys: MAX_MAP_KEYS,
  key: MAX_KEY,
} as const

const COMMON = ['v', 'kind', 'functionId', 'version', 'executionId', 'ts'] as const
const EXECUTION_FIELDS = new Set<string>([...COMMON, 'duration', 'outcome', 'attempts', 'issues', 'issueCount', 'repairs', 'stats', 'error'])
const FEEDBACK_FIELDS = new Set<string>([...COMMON, 'score', 'label', 'metrics', 'comment'])

export type Validation = { ok: true; events: PoetEvent[] } | { ok: false; reason: string }

class Invalid extends Error {}

/** Checks a parsed JSON body: an array of execution and feedback events exactly as DESIGN §8 describes them. */
export function validateBatch(body: unknown): Validation {
  if (!Array.isArray(body)) return { ok: false, reason: `expected a JSON array of events, received ${describe(body)}` }
  if (body.length > LIMITS.events) return { ok: false, reason: `a batch holds at most ${LIMITS.events} events, received ${body.length}` }
  try {
    body.forEach((e, i) => validateEvent(e, `events[${i}]`))
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message }
    throw e
  }
  return { ok: true, events: body as PoetEvent[] }
}

function validateEvent(e: unknown, at: string): void {
  if (!isPlainObject(e)) fail(at, `expected an event object, received ${describe(e)}`)
  if (e.v !== 1) fail(`${at}.v`, `expected 1 (the only event format version), received ${describe(e.v)}`)
  if (e.kind !== 'execution' && e.kind !== 'feedback') fail(`${at}.kind`, `expected 'execution' or 'feedback', received ${describe(e.kind)}`)
  const allowed = e.kind === 'execution' ? EXECUTION_FIELDS : FEEDBACK_FIELDS
  for (const key of Object.keys(e)) {
    if (!allowed.has(key)) {
      fail(`${at}.${key}`, `unknown field on ${e.kind === 'execution' ? 'an' : 'a'} ${e.kind} event (events never carry argument or result values)`)
    }
  }
  text(e.functionId, `${at}.functionId`, LIMITS.id)
  text(e.version, `${at}.version`, LIMITS.version)
  text(e.executionId, `${at}.executionId`, LIMITS.id)
  // Its range is judged per event (absurdTime): one event from a machine with a broken clock must not cost its batch.
  if (typeof e.ts !== 'number') fail(`${at}.ts`, `expected epoch milliseconds, received ${describe(e.ts)}`)
  if (e.kind === 'execution') {
    num(e.duration, `${at}.duration`, { min: 0 })
    if (!OUTCOMES.includes(e.outcome as never)) fail(`${at}.outcome`, `expected one of ${OUTCOMES.join(', ')}, received ${describe(e.outcome)}`)
    num(e.attempts, `${at}.attempts`, { min: 0, integer: true })
    if (e.issues !== undefined) list(e.issues, `${at}.issues`, ['path'], ['rule'])
    if (e.issueCount !== undefined) num(e.issueCount, `${at}.issueCount`, { min: 0, integer: true })
    if (e.repairs !== undefined) list(e.repairs, `${at}.repairs`, ['path', 'action'], ['rule'])
    if (e.stats !== undefined) numbers(e.stats, `${at}.stats`)
    if (e.error !== undefined) text(e.error, `${at}.error`, LIMITS.error)
  } else {
    if (e.score === undefined && e.label === undefined && e.metrics === undefined && e.comment === undefined) {
      fail(at, 'feedback carries none of score, label, metrics, comment')
    }
    if (e.score !== undefined) num(e.score, `${at}.score`, {})
    if (e.label !== undefined) text(e.label, `${at}.label`, LIMITS.label)
    if (e.metrics !== undefined) numbers(e.metrics, `${at}.metrics`)
    if (e.comment !== undefined) text(e.comment, `${at}.comment`, LIMITS.comment, true)
  }
}

/** An event of a valid batch that the collector refuses on its own, storing the rest: its index, and why. */
export interface Refusal {
  event: number
  reason: string
}

/** How far after the collector's clock an event's time may be: clocks of clients are off by minutes, not days. */
const MAX_AHEAD_MS = 86_400_000

/**
 * The events of a valid batch whose time (`ts`) no call can have had: not finite (a number too large for a double),
 * before 1970, or more than a day after `now`. Such a time is a broken client clock, not a call to chart: past 2^63 ms
 * SQLite keeps it as a float whose minute no longer matches its latency's (the chart read 0 ms), and, years ahead, it
 * would sit first in every view. Refused one by one, so the rest of the batch (most likely from a sound clock) is kept.
 */
export function refuseAbsurdTimes(events: readonly PoetEvent[], now: number): { kept: PoetEvent[]; refused: Refusal[] } {
  const kept: PoetEvent[] = []
  const refused: Refusal[] = []
  events.forEach((e, i) => {
    const why = absurdTime(e.ts, now)
    if (why) refused.push({ event: i, reason: `events[${i}].ts: ${why}` })
    else kept.push(e)
  })
  return { kept, refused }
}

function absurdTime(ts: number, now: number): string | undefined {
  if (!Number.isFinite(ts)) return `expected a finite number, received ${describe(ts)}`
  if (ts < 0) return `expected epoch milliseconds ≥ 0, received ${ts}`
  if (ts <= now + MAX_AHEAD_MS) return undefined
  const date = Math.abs(ts) <= 8.64e15 ? ` (${new Date(ts).toISOString()})` : ''
  return `${ts}${date} is more than a day after this collector's clock (${new Date(now).toISOString()}); check the clock of the machine that sent it`
}

function list(v: unknown, at: string, required: string[], optional: string[]): void {
  if (!Array.isArray(v)) fail(at, `expected an array, received ${describe(v)}`)
  if (v.length > LIMITS.listItems) fail(at, `at most ${LIMITS.listItems} entries, received ${v.length}`)
  v.forEach((item, i) => {
    const here = `${at}[${i}]`
    if (!isPlainObject(item)) fail(here, `expected an object, received ${describe(item)}`)
    for (const key of Object.keys(item)) {
      if (!required.includes(key) && !optional.includes(key)) fail(`${here}.${key}`, `unknown field (allowed: ${[...required, ...optional].join(', ')})`)
    }
    for (const key of required) text(item[key], `${here}.${key}`, LIMITS.itemText)
    for (const key of optional) if (item[key] !== undefined) text(item[key], `${here}.${key}`, LIMITS.itemText)
  })
}

function numbers(v: unknown, at: string): void {
  if (!isPlainObject(v)) fail(at, `expected an object of numbers, received ${describe(v)}`)
  const keys = Object.keys(v)
  if (keys.length > LIMITS.mapKeys) fail(at, `at most ${LIMITS.mapKeys} entries, received ${keys.length}`)
  for (const key of keys) {
    if (key.length === 0 || key.length > LIMITS.key) fail(at, `keys are 1..${LIMITS.key} characters`)
    num(v[key], `${at}.${key}`, {})
  }
}

function text(v: unknown, at: string, max: number, allowEmpty = false): void {
  if (typeof v !== 'string') fail(at, `expected a string, received ${describe(v)}`)
  if (!allowEmpty && v.length === 0) fail(at, 'expected a non-empty string')
  if (v.length > max) fail(at, `at most ${max} characters, received ${v.length}`)
}

function num(v: unknown, at: string, o: { min?: number; integer?: boolean }): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(at, `expected a finite number, received ${describe(v)}`)
  if (o.integer && !Number.isInteger(v)) fail(at, `expected an integer, received ${v}`)
  if (o.min !== undefined && v < o.min) fail(at, `expected ≥ ${o.min}, received ${v}`)
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Names the type of a wrong value, never the value itself (bodies may hold user data). */
function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

function fail(at: string, message: string): never {
  throw new Invalid(`${at}: ${message}`)
}
