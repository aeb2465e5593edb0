// Which lock entry a function without one is, when it was renamed or moved: the one orphaned entry made from exactly its inputs.
import type { DomainPack } from './builtin/domain'
import { EARLIER_BUILTIN_VERSIONS } from './builtin/version'
import { phaseInputHash } from './index'
import { inputHash, type LockFile } from './lock'
import type { FunctionSpec } from './spec'
import type { ResolvedGenerator } from '../plugin/options'

/**
 * The input hashes `spec` has now and, for the builtin generator, those earlier compilers gave the same inputs: an
 * entry one of them wrote is this function's, stale only by the compiler (ids and compiler changed in one release).
 * None of them covers the id, so a rename or a move keeps them.
 */
export function renameHashes(spec: FunctionSpec, config: ResolvedGenerator, pack: Pick<DomainPack, 'version'> | undefined): string[] {
  const now = phaseInputHash(spec, config, pack)
  if (config.provider !== 'builtin') return [now]
  return [now, ...EARLIER_BUILTIN_VERSIONS.map((compilerVersion) => inputHash(spec, { generator: 'builtin', compilerVersion, domainVersion: pack?.version }))]
}

/**
 * The id whose entry `id` is, renamed or moved: the one entry of `lock` whose current version was made from one of
 * `hashes` (the same source, options, types, pack and generator) and whose function `gone` says is no longer in the
 * project. Undefined when `id` has an entry of its own, or when no entry or several match: then nothing is adopted.
 */
export function renamedFrom(lock: LockFile, id: string, hashes: readonly string[], gone: (id: string) => boolean): string | undefined {
  if (Object.hasOwn(lock.functions, id)) return undefined
  const matches = Object.entries(lock.functions)
    .filter(([other, entry]) => other !== id && hashes.includes(entry.versions[entry.current]?.inputHash ?? ''))
    .map(([other]) => other)
  const orphaned = matches.filter(gone)
  return orphaned.length === 1 ? orphaned[0] : undefined
}
