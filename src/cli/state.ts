// Where each function stands against the lock: fresh, stale or missing, and whether its current version is an LLM fallback.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { DomainPack } from '../generators/builtin/domain'
import type { DomainRegistry } from '../generators/builtin/domains'
import { compilerUpgradeOnly, phaseInputHash } from '../generators'
import { BUILTIN_VERSION } from '../generators/builtin/version'
import type { KeptFor, LockEntry, LockStore, LockVersion } from '../generators/lock'
import { rehashFrom, renamedFrom, renameHashesFrom, type RenameHashes } from '../generators/renamed'
import type { FunctionSpec } from '../generators/spec'
import type { ResolvedOptions } from '../plugin/options'

export type LockState = 'fresh' | 'stale' | 'missing'

export interface SpecState {
  spec: FunctionSpec
  pack?: DomainPack
  /** The input hash the function has now. */
  hash: string
  state: LockState
  entry?: LockEntry
  current?: LockVersion
  /** The current version came from the builtin generator although an LLM is configured (it failed at the time). */
  fallback: boolean
  /** Stale only because a newer builtin compiler would write other checks: its inputs are what they were. */
  compilerUpgrade: boolean
  /** Missing although the lock names a current version: its phase module is not on disk (a build regenerates it). */
  fileMissing: boolean
}

export function specStates(specs: FunctionSpec[], options: ResolvedOptions, registry: DomainRegistry, lock: LockStore): SpecState[] {
  const functions = lock.read().functions
  return specs.map((spec) => {
    const pack = spec.options.domain ? registry.get(spec.options.domain) : undefined
    const hash = phaseInputHash(spec, options.generator, pack)
    const entry = functions[spec.id]
    const current = entry?.versions[entry.current]
    // The plugin serves a lock hit only when its phase module reads: without the file, a build regenerates it.
    const fileMissing = !!current && !existsSync(join(lock.dir, current.file))
    const fallback = !!current && options.generator.provider !== 'builtin' && current.generator === 'builtin'
    // A fallback keeps the LLM's input hash: the compiler it records says whether this release's would write other checks.
    const outdatedFallback = fallback && current.inputHash === hash && current.compiler !== BUILTIN_VERSION
    const state: LockState = !current || fileMissing ? 'missing' : current.inputHash === hash && !outdatedFallback ? 'fresh' : 'stale'
    const compilerUpgrade = state === 'stale' && (outdatedFallback || compilerUpgradeOnly(spec, options.generator, pack, current))
    return { spec, ...(pack ? { pack } : {}), hash, state, ...(entry ? { entry } : {}), ...(current ? { current } : {}), fallback, compilerUpgrade, fileMissing }
  })
}

/** The lock's entries whose function is no longer in the source under their id, as `poet status` and `poet generate` see them. */
export interface LockLeftovers {
  /**
   * Functions renamed or moved: the entry of `from` is `to`'s (the next build or `poet generate` carries it over),
   * its input hashes becoming those of `rehash` (see `LockStore.rename`).
   */
  renamed: { from: string; to: string; rehash: Map<string, string> }[]
  /**
   * The other ids the source no longer has, sorted; `disposable` when removing the entry loses nothing (plain `poet
   * generate` removes it), else `kept` says what it holds (see `LockStore.keeps`) and only `--prune` does.
   */
  orphans: { id: string; disposable: boolean; kept: KeptFor[] }[]
}

/**
 * What the lock holds beyond `states` (every function of the source). A file that failed to scan still has its
 * functions: only their options could not be read, so its entries are neither orphans nor renamed.
 */
export function lockLeftovers(states: SpecState[], options: ResolvedOptions, store: LockStore, failedFiles: ReadonlySet<string>): LockLeftovers {
  const lock = store.read()
  const inSource = new Set(states.map((s) => s.spec.id))
  const gone = (id: string) => !inSource.has(id) && !failedFiles.has(id.slice(0, id.lastIndexOf('#')))
  const claims = new Map<string, { to: string; hashes: RenameHashes }[]>()
  for (const s of states) {
    if (s.entry) continue
    const hashes = renameHashesFrom(s.spec, options.generator, s.pack)
    const from = renamedFrom(lock, s.spec.id, hashes, gone)
    if (from !== undefined) claims.set(from, [...(claims.get(from) ?? []), { to: s.spec.id, hashes }])
  }
  // Two new functions made from the same inputs (a copy): which one the entry was is anyone's guess.
  const renamed = [...claims].filter(([, to]) => to.length === 1).map(([from, [to]]) => ({ from, to: to!.to, rehash: rehashFrom(to!.hashes, from) }))
  const moved = new Set(renamed.map((r) => r.from))
  const orphans = Object.keys(lock.functions)
    .filter((id) => gone(id) && !moved.has(id))
    .sort()
    .map((id) => {
      const kept = store.keeps(id, lock.functions[id]!, lock)
      return { id, disposable: !kept.length, kept }
    })
  return { renamed, orphans }
}

const KEPT_FOR: Record<KeptFor, string> = { llm: 'phases an LLM wrote', train: "Train's history", limits: "a domain's event limits" }

/**
 * The kept entries of deleted functions with what each holds (`a.ts#f, its entry holding a domain's event limits`):
 * naming all three reasons for each read as if a project without an LLM or Train had used them.
 */
export function keptOrphanEntries(orphans: { id: string; kept: KeptFor[] }[]): string {
  const holds = (kept: KeptFor[]) => {
    const words = kept.map((k) => KEPT_FOR[k])
    return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words[0]
  }
  const first = orphans[0]!.kept.join()
  if (orphans.every((o) => o.kept.join() === first)) {
    return `${orphans.map((o) => o.id).join(', ')}, ${orphans.length === 1 ? 'its entry' : 'their entries'} holding ${holds(orphans[0]!.kept)}`
  }
  return orphans.map((o) => `${o.id} (holding ${holds(o.kept)})`).join(', ')
}
