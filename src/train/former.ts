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

/**
 * The function an event sent under `id` for `version` belongs to. Events stay under the id they were sent with: those a
 * renamed or moved function's clients sent before (or still send, running an earlier build) are its events. An id a
 * new function took after its function was renamed holds both: each version goes to the entry that holds it, the id's
 * own entry first; a version no entry holds (an old build, a typo) to the id's own function, or, when the id has none,
 * to the one function that had it. Otherwise the id is its own (a function not in the lock).
 */
export function ownerOf(lock: LockFile, id: string, version: string): string {
  if (holds(lock, id, version)) return id
  const others = claimants(lock, id)
  const holder = others.find((other) => holds(lock, other, version))
  if (holder !== undefined) return holder
  if (Object.hasOwn(lock.functions, id)) return id
  return others.length === 1 ? others[0]! : id
}

/** Where the store holds the events of the function `id` (see ownerOf): its own id, and the ids it had before. */
export function eventSources(lock: LockFile, id: string): EventSource[] {
  const entry = Object.hasOwn(lock.functions, id) ? lock.functions[id]! : undefined
  const others = claimants(lock, id)
  if (!entry) {
    // A former id no function has now: the one function that had it reads all of it, or each its versions.
    if (others.length === 1) return []
    const taken = others.flatMap((other) => Object.keys(lock.functions[other]!.versions))
    return [taken.length ? { id, except: [...new Set(taken)] } : { id }]
  }
  const taken = others.flatMap((other) => Object.keys(lock.functions[other]!.versions)).filter((v) => !Object.hasOwn(entry.versions, v))
  const sources: EventSource[] = [taken.length ? { id, except: [...new Set(taken)] } : { id }]
  for (const former of new Set(entry.formerIds ?? [])) {
    if (former === id) continue
    if (!Object.hasOwn(lock.functions, former) && claimants(lock, former).length === 1) {
      sources.push({ id: former })
      continue
    }
    const only = Object.keys(entry.versions).filter((v) => ownerOf(lock, former, v) === id)
    if (only.length) sources.push({ id: former, only })
  }
  return sources
}
