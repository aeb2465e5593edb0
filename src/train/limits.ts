// The collector's own check of each domain's event limits: what a function's phases forbid is dropped before storing.
import { join } from 'node:path'
import type { LockFile, LockStore } from '../generators/lock'
import type { EventField, PoetEvent } from '../runtime/types'
import { jsonLine, NEVER_IN_EVENTS_LINE } from '../generators/render'
import { ownerOf, possibleOwners } from './former'

const NONE: readonly EventField[] = []

/**
 * The runtime already leaves out what a domain forbids, but it can only know the domain of a function it ran:
 * feedback sent with an execution ref from another process (a server rating what a browser computed) would carry a
 * label or comment the domain forbids. The collector knows every version's phases from the lock, so it drops them too.
 */
export class EventLimits {
  /**
   * Limits per version the lock holds. Keyed on what the lock names, never on what a client sent: ids and versions
   * come from anyone who can post, and a key per pair they make up would grow without bound.
   */
  readonly #cache = new Map<string, readonly EventField[]>()
  /** The parse the cache was filled from: the lock store hands out the same object while the file is unchanged. */
  #from: LockFile | undefined

  constructor(private readonly lock: LockStore) {}

  /** How many versions' limits are held (never more than the lock holds). */
  get cached(): number {
    return this.#cache.size
  }

  /**
   * Drops from `events` what their functions' domains forbid. Throws, having changed nothing, when the lock or a phase
   * module it names cannot be read: what the batch may carry is then unknown, and storing it could keep what is forbidden.
   */
  apply(events: PoetEvent[]): void {
    const file = this.lock.read()
    if (file !== this.#from) {
      this.#cache.clear()
      this.#from = file
    }
    const limits = events.map((e) => this.#limitsOf(file, e.functionId, e.version, e.ts))
    events.forEach((e, i) => {
      const never = limits[i]!
      if (!never.length) return
      if (e.kind === 'feedback') {
        if (never.includes('label')) delete e.label
        if (never.includes('comment')) delete e.comment
      } else if (never.includes('stats')) delete e.stats
    })
  }

  #limitsOf(file: LockFile, sentId: string, sent: string, ts: number): readonly EventField[] {
    // A client still running a build from before a rename sends the id the function had then, which a new function
    // may have taken since: the version (and, for one both ran, the time) tells whose event it is.
    const functionId = ownerOf(file, sentId, sent, ts)
    // Own keys only: an id like `constructor` (any client may send one) would find Object's, which has no versions.
    if (!Object.hasOwn(file.functions, functionId)) {
      // An id several renamed functions had in turn, of a version neither holds: whichever it was, its limits hold.
      const union = new Set(possibleOwners(file, sentId).flatMap((id) => this.#limitsOf(file, id, sent, ts)))
      return union.size ? [...union] : NONE
    }
    const entry = file.functions[functionId]!
    // A version the lock does not hold (an old build, a typo) gets the limits of the function's current version.
    const version = Object.hasOwn(entry.versions, sent) ? sent : entry.current
    const key = `${functionId}\0${version}`
    let never = this.#cache.get(key)
    if (!never) {
      const source = this.lock.source(functionId, version, file)
      if (source === undefined) {
        const stored = Object.hasOwn(entry.versions, version) ? entry.versions[version]! : undefined
        throw new Error(
          stored
            ? `poet: cannot read ${join(this.lock.dir, stored.file)}, the phase module of ${functionId} version ${version} that ${this.lock.file} names. Restore ${this.lock.dir} from version control, or run \`poet generate\`.`
            : `poet: ${this.lock.file} names ${version} as the current version of ${functionId} but does not list it. Restore it from version control, or run \`poet generate\`.`,
        )
      }
      never = jsonLine<EventField[]>(source, NEVER_IN_EVENTS_LINE) ?? NONE
      this.#cache.set(key, never)
    }
    return never
  }
}
