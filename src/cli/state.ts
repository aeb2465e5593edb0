// Where each function stands against the lock: fresh, stale or missing, and whether its current version is an LLM fallback.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { DomainPack } from '../generators/builtin/domain'
import type { DomainRegistry } from '../generators/builtin/domains'
import { compilerUpgradeOnly, phaseInputHash } from '../generators'
import { BUILTIN_VERSION } from '../generators/builtin/version'
import type { LockEntry, LockStore, LockVersion } from '../generators/lock'
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
