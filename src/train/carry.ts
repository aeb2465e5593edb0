// A newer builtin compiler regenerates every builtin lock entry (its version is in the input hash). What Train promoted
// there, policy parameters and learned thresholds, is not the compiler's to reset: it is carried into the new module.
import type { LockStore, NewVersion } from '../generators/lock'
import { readPolicy, withPolicy } from './candidate'
import { readLearned, type Learned } from './thresholds'

/** `// trained from <base>: <reason>` header lines, newest first: the last names the version training started from. */
const TRAINED_FROM = /^\/\/ trained from (\S+):/gm

/**
 * Writes `fresh` (a regeneration that only a compiler upgrade asked for) as the current version of `id`. When the
 * version it replaces was promoted by Train, the values Train changed (against the version training started from)
 * are applied to `fresh` as a trained version of it, and `fresh` itself is kept beside it. Returns what is current.
 */
export function writeKeepingTrained(lock: LockStore, id: string, fresh: NewVersion): { version: string; source: string; kept?: string } {
  const file = lock.read()
  const entry = Object.hasOwn(file.functions, id) ? file.functions[id] : undefined
  // Another build (or `poet generate`) that saw the same stale entry regenerated it first: carrying again would keep
  // Train's values a second time, as if that regeneration had promoted them.
  const currentSource = entry && lock.source(id, entry.current, file)
  if (currentSource !== undefined && entry!.versions[entry!.current]!.inputHash === fresh.inputHash) return { version: entry!.current, source: currentSource }
  // The new compiler writes the very module training started from (its fix was for other shapes): the current version
  // is right as Train wrote it, reason and all. So is every version of the same inputs (its base, earlier trained ones
  // a rollback goes back to, a candidate under test): only their hash becomes the new compiler's.
  const base = currentSource && trainedFrom(currentSource)
  if (currentSource && base === fresh.version && entry!.versions[base]) {
    const before = entry!.versions[entry!.current]!.inputHash
    lock.update((l) => {
      for (const v of Object.values(l.functions[id]?.versions ?? {})) if (v.inputHash === before) v.inputHash = fresh.inputHash
    })
    return { version: entry!.current, source: currentSource }
  }
  // The module's header, not the version's reason: a version carried across an earlier upgrade is trained too.
  const carried = base ? carry(currentSource!, base, fresh.source, (v) => lock.source(id, v, file)) : undefined
  if (!carried) {
    lock.write(id, fresh)
    return { version: fresh.version, source: fresh.source }
  }
  const from = entry!.current
  const next = withPolicy(fresh.source, carried.policy, `${carried.what} as Train promoted them in ${from}, kept across a builtin compiler upgrade`, carried.learned)
  // The untrained version first, as training always starts from a version the lock holds: a rollback can go back to
  // it, and a later carry finds it as the base to compare with.
  lock.writeAll(id, [
    { ...fresh, variants: undefined },
    { ...fresh, version: next.version, source: next.source, reason: `${fresh.reason ?? 'build'}: kept ${carried.what} Train promoted in ${from}` },
  ])
  return { version: next.version, source: next.source, kept: from }
}

interface Carried {
  policy: NonNullable<ReturnType<typeof readPolicy>>
  learned?: Learned
  /** `attempts, timeout` … : what is carried, for the version's reason. */
  what: string
}

/** The version training started from, named by the last `trained from` header of a trained module; undefined for an untrained one. */
function trainedFrom(source: string): string | undefined {
  return [...source.matchAll(TRAINED_FROM)].at(-1)?.[1]
}

function carry(trained: string, origin: string, fresh: string, sourceOf: (version: string) => string | undefined): Carried | undefined {
  // Without the version training started from, the fresh module is the reference: what differs from it is kept.
  const reference = sourceOf(origin) || fresh
  const [tp, rp, fp] = [readPolicy(trained), readPolicy(reference), readPolicy(fresh)]
  if (!tp || !rp || !fp) return undefined
  const what: string[] = []
  const policy = { ...fp }
  for (const key of Object.keys(tp) as (keyof typeof tp)[]) {
    if (same(tp[key], rp[key]) || same(tp[key], fp[key])) continue
    Object.assign(policy, { [key]: tp[key] })
    what.push(key)
  }
  const [tl, rl, fl] = [readLearned(trained), readLearned(reference), readLearned(fresh)]
  let learned: Learned | undefined
  if (tl && fl) {
    // Only thresholds the new module still declares: a threshold the compiler dropped has nothing to hold it.
    for (const key of Object.keys(fl)) {
      if (!Object.hasOwn(tl, key) || same(tl[key], rl?.[key]) || same(tl[key], fl[key])) continue
      learned = { ...(learned ?? fl), [key]: tl[key]! }
      what.push(key)
    }
  }
  return what.length ? { policy, ...(learned ? { learned } : {}), what: what.join(', ') } : undefined
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
