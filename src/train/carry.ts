// A newer builtin compiler regenerates every builtin lock entry (its version is in the input hash). What Train promoted
// there, policy parameters and learned thresholds, is not the compiler's to reset: it is carried into the new module,
// and so is the candidate of a running A/B test.
import type { CarriedCandidate, LockEntry, LockFile, LockStore, NewVersion } from '../generators/lock'
import { readPolicy, withPolicy } from './candidate'
import { readLearned, type Learned } from './thresholds'

/** `// trained from <base>: <reason>` header lines, newest first: the last names the version training started from. */
const TRAINED_FROM = /^\/\/ trained from (\S+):/gm

/** What becomes of the A/B test that was running: it goes on with the candidate carried onto the new module, or it ends. */
export type TestAfterUpgrade = { from: string; carried: string } | { from: string; ended: string }

/** A regeneration that only a compiler upgrade asked for, worked out; `write` puts it into the lock. */
export interface PlannedUpgrade {
  /** The current version afterwards, and its source. */
  version: string
  source: string
  /** The version whose trained values the new current keeps. */
  kept?: string
  /** What of those values the new module has no place for, said as a warning. */
  lost?: string
  test?: TestAfterUpgrade
  /** The candidate served beside current afterwards, when there is one. */
  candidate?: { source: string; share: number }
  write(): Promise<void>
}

/**
 * Works out how `fresh` (a regeneration that only a compiler upgrade asked for) becomes the current version of `id`.
 * When the version it replaces was promoted by Train, the values Train changed (against the version training started
 * from) are applied to `fresh` as a trained version of it, and `fresh` itself is kept beside it. A candidate under
 * A/B test is carried the same way onto the new current, so its test goes on; when that cannot be done soundly, the
 * test ends and `test.ended` says why (the new current's reason too, so the dashboard shows it).
 */
export function planKeepingTrained(lock: LockStore, id: string, fresh: NewVersion): PlannedUpgrade {
  const file = lock.read()
  const entry = Object.hasOwn(file.functions, id) ? file.functions[id] : undefined
  const current = entry?.versions[entry.current]
  const currentSource = entry && lock.source(id, entry.current, file)
  const tested = entry && testedCandidate(lock, id, entry, file)
  // Another build (or `poet generate`) that saw the same stale entry regenerated it first: carrying again would keep
  // Train's values a second time, as if that regeneration had promoted them.
  if (currentSource !== undefined && current!.inputHash === fresh.inputHash && current!.compiler === fresh.compiler) {
    return { version: entry!.current, source: currentSource, candidate: tested, write: async () => {} }
  }
  // The new compiler writes the very module training started from (its fix was for other shapes), or the very module
  // that is current: the current version is right as it is, reason and all. So is every version of the same inputs
  // (its base, earlier trained ones a rollback goes back to, a candidate under test): only their hash (and the
  // compiler a fallback records) becomes the new compiler's.
  const base = currentSource && trainedFrom(currentSource)
  if (currentSource && (base === fresh.version || entry!.current === fresh.version) && entry!.versions[fresh.version]) {
    const before = current!.inputHash
    const write = () =>
      lock.updateSoon((l) => {
        for (const v of Object.values(l.functions[id]?.versions ?? {})) {
          if (v.inputHash !== before) continue
          v.inputHash = fresh.inputHash
          if (fresh.compiler && v.generator === 'builtin') v.compiler = fresh.compiler
        }
      })
    return { version: entry!.current, source: currentSource, candidate: tested, write }
  }
  const sourceOf = (v: string) => lock.source(id, v, file)
  // The module's header, not the version's reason: a version carried across an earlier upgrade is trained too.
  const carried = base ? carry(currentSource!, base, fresh.source, sourceOf) : undefined
  // The versions of an earlier compiler keep their hash: the new ones name it, so a rollback or the dashboard can
  // tell them from versions of an earlier source. A fallback's hash is the LLM's and does not change.
  const upgradeOf = current && current.inputHash !== fresh.inputHash ? { compilerUpgradeOf: current.inputHash } : {}
  const from = entry?.current
  const next = carried && withPolicy(fresh.source, carried.policy, `${carried.what} as Train promoted them in ${from}, kept across a builtin compiler upgrade`, carried.learned)
  const now = next ?? fresh
  const test = entry?.candidate ? carryCandidate(lock, id, entry, file, now, { ...fresh, ...upgradeOf }) : undefined
  const stopped = test && 'ended' in test ? test : undefined
  const goesOn = test && 'ended' in test ? undefined : test
  const ended = stopped ? `; the A/B test of candidate ${stopped.from} ended: ${stopped.ended}` : ''
  // Said, not dropped silently: a threshold Train promoted that the new checks have no place for.
  const dropped = base ? droppedThresholds(currentSource!, sourceOf(base), fresh.source) : []
  const lost = dropped.length ? `the new compiler's checks no longer have ${dropped.join(', ')}, which Train promoted in ${from}, so ${dropped.length === 1 ? 'it is' : 'they are'} dropped` : undefined
  const why = `${lost ? `; ${lost}` : ''}${ended}`
  // The untrained version first, as training always starts from a version the lock holds: a rollback can go back to
  // it, and a later carry finds it as the base to compare with.
  const versions: NewVersion[] = next
    ? [
        { ...fresh, ...upgradeOf, variants: undefined },
        { ...fresh, ...upgradeOf, version: next.version, source: next.source, reason: `${fresh.reason ?? 'build'}: kept ${carried.what} Train promoted in ${from}${why}`, origin: 'train' },
      ]
    : [{ ...fresh, ...upgradeOf, ...(why ? { reason: `${fresh.reason ?? 'build'}${why}` } : {}) }]
  const plan: PlannedUpgrade = {
    version: now.version,
    source: now.source,
    ...(next ? { kept: from } : {}),
    ...(lost ? { lost } : {}),
    ...(goesOn ? { test: { from: goesOn.replaces, carried: goesOn.version.version } } : stopped ? { test: stopped } : {}),
    ...(goesOn ? { candidate: { source: goesOn.version.source, share: goesOn.share } } : {}),
    write: async () => {
      // The test may have ended since the lock was read here: the build must not say it goes on, nor serve the carried one.
      if ((await lock.writeAllSoon(id, versions, goesOn)) || !goesOn) return
      plan.test = { from: goesOn.replaces, ended: 'it ended while the function was regenerated (Train, `poet rollback` or the dashboard ended it), so there was nothing to carry' }
      delete plan.candidate
    },
  }
  return plan
}

/** The lock's candidate as the plugin serves it beside current (its phase module read), or undefined. */
function testedCandidate(lock: LockStore, id: string, entry: LockEntry, file: LockFile): PlannedUpgrade['candidate'] {
  const source = entry.candidate && lock.source(id, entry.candidate.version, file)
  return source === undefined ? undefined : { source, share: entry.candidate!.share }
}

/**
 * The candidate under test, made again on top of the new current: what it changed (against the version training
 * started from, as for a promoted version) applied to the new compiler's module. Its test starts over, since the calls
 * so far ran the old checks. `ended` ends the test, with the reason.
 */
function carryCandidate(
  lock: LockStore,
  id: string,
  entry: LockEntry,
  file: LockFile,
  now: { version: string; source: string },
  fresh: NewVersion,
): CarriedCandidate | { from: string; ended: string } {
  const { version: from, share, metric } = entry.candidate!
  const source = lock.source(id, from, file)
  if (source === undefined) return { from, ended: `its phase module is missing from ${lock.dir}, so there is nothing to carry onto the new checks` }
  const origin = trainedFrom(source)
  const made = entry.versions[from]?.generator ?? 'unknown'
  if (!origin) {
    return { from, ended: `it was not made by Train from a builtin version (generator ${made}), so its changes cannot be told apart from the old compiler's checks; Train proposes a new candidate from the new version's calls` }
  }
  const carried = carry(source, origin, fresh.source, (v) => lock.source(id, v, file))
  const learned = carried?.learned ?? readLearned(fresh.source)
  if (!carried || (same(carried.policy, readPolicy(now.source)) && same(learned, readLearned(now.source)))) {
    const dropped = droppedThresholds(source, lock.source(id, origin, file), fresh.source)
    // Else the message would claim the new version holds a change it has no place for.
    if (dropped.length) {
      return { from, ended: `the new compiler's checks no longer have the threshold${dropped.length === 1 ? '' : 's'} it was testing (${dropped.join(', ')}), so there is nothing to apply ${dropped.length === 1 ? 'it' : 'them'} to; Train proposes a new candidate from the new version's calls` }
    }
    return { from, ended: 'the new compiler already writes what it was testing, so the new version holds it' }
  }
  const next = withPolicy(now.source, carried.policy, `${carried.what} as candidate ${from} tests them, carried across a builtin compiler upgrade`, carried.learned)
  const reason = `${entry.versions[from]?.reason ?? 'train'} (carried from candidate ${from} across a builtin compiler upgrade)`
  return { replaces: from, share, ...(metric ? { metric } : {}), version: { ...fresh, version: next.version, source: next.source, reason, origin: 'train', variants: undefined } }
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

/** The thresholds Train changed in `trained` (against `reference`, else `fresh`) that the new compiler's module no longer declares. */
function droppedThresholds(trained: string, reference: string | undefined, fresh: string): string[] {
  const [tl, rl, fl] = [readLearned(trained), readLearned(reference || fresh), readLearned(fresh)]
  return Object.keys(tl ?? {}).filter((key) => !Object.hasOwn(fl ?? {}, key) && !same(tl![key], rl?.[key]))
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
