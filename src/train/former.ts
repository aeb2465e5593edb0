// Whose events the store holds under each id, once functions were renamed or moved: the lock's formerIds tell.
import type { LockFile } from '../generators/lock'
import type { EventSource } from './store'

/**
 * The entries that list `id` among their former ids, sorted. Usually one; more when a function took the id after
 * another gave it up (`a` renamed to `b`, a new `a` renamed to `c` in turn).
 */
function claimants(lock: LockFile, id: string): string[] {
  let byFormer = indexed.get(lock)
  if (!byFormer) {
    byFormer = new Map()
    for (const other of Object.keys(lock.functions).sort()) {
      for (const former of new Set(lock.functions[other]!.formerIds ?? [])) {
        if (former !== other) byFormer.set(former, [...(byFormer.get(former) ?? []), other])
      }
    }
    indexed.set(lock, byFormer)
  }
  return byFormer.get(id) ?? []
}

/** Claimants by former id, per parse of the lock (LockStore.read hands out one parse while the file is unchanged). */
const indexed = new WeakMap<LockFile, Map<string, string[]>>()

function holds(lock: LockFile, id: string, version: string): boolean {
  return Object.hasOwn(lock.functions, id) && Object.hasOwn(lock.functions[id]!.versions, version)
}

/** When the function that has `id` now took it: its rename, else its oldest version's creation; epoch ms. */
function takenAt(lock: LockFile, id: string): number {
  const entry = lock.functions[id]!
  const renamed = entry.renamed === undefined ? NaN : Date.parse(entry.renamed)
  return Number.isNaN(renamed) ? Math.min(...Object.values(entry.versions).map((v) => Date.parse(v.created) || 0)) : renamed
}

/**
 * Whose events those sent under `id` for `version` are: `owner`, or, before `earlier.until` (event time), `earlier.owner`.
 * Events stay under the id they were sent with: those a renamed or moved function's clients sent before (or still send,
 * running an earlier build) are its own. An id a new function took after its function was renamed holds both, told
 * apart by version, the id's own entry first: a version no entry holds (an old build, a typo) is the new function's,
 * or, when the id has none, the one function's that had it. Phases hash what they check, not the id, so the new
 * function may well run a version the renamed one ran: events of that version sent before the new function had its
 * entry are the renamed one's. An id no entry has or had is its own (a function not in the lock).
 */
function owners(lock: LockFile, id: string, version: string): { owner: string; earlier?: { owner: string; until: number } } {
  const others = claimants(lock, id)
  const holder = others.find((other) => holds(lock, other, version))
  if (holds(lock, id, version)) return holder === undefined ? { owner: id } : { owner: id, earlier: { owner: holder, until: takenAt(lock, id) } }
  if (holder !== undefined) return { owner: holder }
  if (Object.hasOwn(lock.functions, id)) return { owner: id }
  return { owner: others.length === 1 ? others[0]! : id }
}

/** The function an event sent under `id` for `version` at `ts` belongs to (see owners). */
export function ownerOf(lock: LockFile, id: string, version: string, ts: number): string {
  const { owner, earlier } = owners(lock, id, version)
  return earlier && ts < earlier.until ? earlier.owner : owner
}

/**
 * The entries `id` belongs to for an event whose function cannot be told (see owners): its own, else those that had it
 * before a rename (several when functions took it in turn), else none.
 */
export function possibleOwners(lock: LockFile, id: string): string[] {
  return Object.hasOwn(lock.functions, id) ? [id] : claimants(lock, id)
}

/** The functions whose events the store may hold under `id` for `version` (see owners). */
export function ownersOf(lock: LockFile, id: string, version: string): string[] {
  const { owner, earlier } = owners(lock, id, version)
  return earlier ? [owner, earlier.owner] : [owner]
}

/** Where the store holds the events of the function `id` (see owners): its own id, and the ids it had before. */
export function eventSources(lock: LockFile, id: string): EventSource[] {
  const entry = Object.hasOwn(lock.functions, id) ? lock.functions[id]! : undefined
  const sources: EventSource[] = []
  for (const sent of new Set([id, ...(entry?.formerIds ?? [])])) {
    // The versions someone's entry holds, each with its owners; every other version goes where one no entry holds goes.
    const named = new Set([sent, ...claimants(lock, sent)].flatMap((other) => (Object.hasOwn(lock.functions, other) ? Object.keys(lock.functions[other]!.versions) : [])))
    const whole: string[] = []
    const since: string[] = []
    const until: string[] = []
    for (const version of named) {
      const { owner, earlier } = owners(lock, sent, version)
      if (owner === id) (earlier ? since : whole).push(version)
      else if (earlier?.owner === id) until.push(version)
    }
    // '': a version no entry holds.
    const rest = owners(lock, sent, '').owner === id
    if (rest) {
      const except = [...named].filter((v) => !whole.includes(v))
      sources.push(except.length ? { id: sent, except } : { id: sent })
    } else if (whole.length) sources.push({ id: sent, only: whole })
    if (since.length) sources.push({ id: sent, only: since, since: takenAt(lock, sent) })
    if (until.length) sources.push({ id: sent, only: until, until: takenAt(lock, sent) })
  }
  return sources
}

/**
 * ` It was renamed or moved: its entry is <id> now.` when `id` has no entry but was a function's before a rename, else
 * empty: a command or a dashboard link that names the old id says where the function went, not only that it is unknown.
 */
export function renamedHint(lock: LockFile, id: string): string {
  if (Object.hasOwn(lock.functions, id)) return ''
  const now = claimants(lock, id)
  if (!now.length) return ''
  return now.length === 1
    ? ` It was renamed or moved: its entry is ${now[0]} now.`
    : ` It was renamed or moved, and the function that took it after was too: their entries are ${now.join(' and ')} now.`
}
