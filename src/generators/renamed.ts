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

const OWN_NAME = /^((?:async\s+)?function\s*(?:\*\s*)?)([A-Za-z_$][\w$]*)(?=\s*\()/
const PLAIN_NAME = /^[A-Za-z_$][\w$]*$/

/**
 * `spec` as it was under `formerId`, when the rename took the function's own name with it
 * (`const priceOrder = poet()(function priceOrder(…))` → `quoteOrder` both times): the own name is part of its
 * source, so that rename would otherwise read as an edit. Undefined when nothing but the id changed.
 */
function formerlyNamed(spec: FunctionSpec, formerId: string): FunctionSpec | undefined {
  const name = spec.id.slice(spec.id.lastIndexOf('#') + 1)
  const former = formerId.slice(formerId.lastIndexOf('#') + 1)
  const own = OWN_NAME.exec(spec.source)
  if (!own || own[2] !== name || former === name || !PLAIN_NAME.test(former)) return undefined
  return { ...spec, source: own[1] + former + spec.source.slice(own[0].length) }
}

/**
 * The input hashes of `spec` as it is (`same`, see `renameHashes`), and those it had under a former id whose name its
 * own name took (`named`, see `formerlyNamed`; empty when that does not apply).
 */
export interface RenameHashes {
  same: readonly string[]
  named(formerId: string): readonly string[]
}

export function renameHashesFrom(spec: FunctionSpec, config: ResolvedGenerator, pack: Pick<DomainPack, 'version'> | undefined): RenameHashes {
  // By former name: a lock's entries are asked about in turn, for every function without an entry of its own.
  const byName = new Map<string, string[]>()
  return {
    same: renameHashes(spec, config, pack),
    named(formerId) {
      const renamed = formerlyNamed(spec, formerId)
      if (!renamed) return []
      const former = formerId.slice(formerId.lastIndexOf('#') + 1)
      let hashes = byName.get(former)
      if (!hashes) byName.set(former, (hashes = renameHashes(renamed, config, pack)))
      return hashes
    },
  }
}

/**
 * The id whose entry `id` is, renamed or moved: the one entry of `lock` whose current version was made from the same
 * source, options, types, pack and generator, and whose function `gone` says is no longer in the project; failing
 * one, the one made from them under its former name (the own name renamed with the id). Undefined when `id` has an
 * entry of its own, or when no entry or several match: then nothing is adopted.
 */
export function renamedFrom(lock: LockFile, id: string, hashes: RenameHashes, gone: (id: string) => boolean): string | undefined {
  if (Object.hasOwn(lock.functions, id)) return undefined
  const orphaned = (of: (other: string) => readonly string[]) =>
    Object.entries(lock.functions)
      .filter(([other, entry]) => other !== id && of(other).includes(entry.versions[entry.current]?.inputHash ?? ''))
      .map(([other]) => other)
      .filter(gone)
  const same = orphaned(() => hashes.same)
  if (same.length) return same.length === 1 ? same[0] : undefined
  const named = orphaned((other) => hashes.named(other))
  return named.length === 1 ? named[0] : undefined
}

/**
 * The input hashes an entry carried over from `from` takes: those of its former name become those of the name now, so
 * that the function is not regenerated (an LLM asked again) for a name its phases never depended on.
 */
export function rehashFrom(hashes: RenameHashes, from: string): Map<string, string> {
  return new Map(hashes.named(from).map((hash, i) => [hash, hashes.same[i]!]))
}
