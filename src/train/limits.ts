// The collector's own check of each domain's event limits: what a function's phases forbid is dropped before storing.
import { statSync } from 'node:fs'
import type { LockStore } from '../generators/lock'
import type { EventField, PoetEvent } from '../runtime/types'
import { jsonLine } from '../generators/render'

const NEVER_LINE = /^ {2}neverInEvents: (\[.*\]),$/m

/**
 * The runtime already leaves out what a domain forbids, but it can only know the domain of a function it ran:
 * feedback sent with an execution ref from another process (a server rating what a browser computed) would carry a
 * label or comment the domain forbids. The collector knows every version's phases from the lock, so it drops them too.
 */
export function eventLimits(lock: LockStore): (events: PoetEvent[]) => void {
  // Versions are content-addressed, so a version's limits never change; the lock file's mtime says when to look again.
  const cache = new Map<string, readonly EventField[]>()
  let seen = -1
  const limitsOf = (functionId: string, version: string): readonly EventField[] => {
    const key = `${functionId}@${version}`
    let never = cache.get(key)
    if (!never) {
      const file = lock.read()
      // Own keys only: an id like `constructor` (any client may send one) would find Object's, which has no versions.
      const entry = Object.hasOwn(file.functions, functionId) ? file.functions[functionId] : undefined
      // A version the lock does not hold (an old build, a typo) gets the limits of the function's current version.
      const source = entry && (lock.source(functionId, version, file) ?? lock.source(functionId, entry.current, file))
      never = (source && jsonLine<EventField[]>(source, NEVER_LINE)) || []
      cache.set(key, never)
    }
    return never
  }
  return (events) => {
    const mtime = mtimeOf(lock.file)
    if (mtime !== seen) {
      cache.clear()
      seen = mtime
    }
    for (const e of events) {
      const never = limitsOf(e.functionId, e.version)
      if (!never.length) continue
      if (e.kind === 'feedback') {
        if (never.includes('label')) delete e.label
        if (never.includes('comment')) delete e.comment
      } else if (never.includes('stats')) delete e.stats
    }
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs
  } catch {
    return 0
  }
}
