// LockStore: `.poet/lock.json` and `.poet/phases/`, the reviewed record of every generated phase module.
import { randomUUID } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { threadId } from 'node:worker_threads'
import { encodeKey } from '../plugin/ids'
import { BUILTIN_VERSION } from './builtin/version'
import { comment, contentHash, NEVER_IN_EVENTS_LINE } from './render'
import type { FunctionSpec } from './spec'
import { readFileOrUndefined as readText } from './read-file'

export interface LockVersion {
  /** Hash of everything the generation depended on (source, options, types, pack version, generator, model, prompt). */
  inputHash: string
  generator: string
  model?: string
  usage?: { promptTokens: number; completionTokens: number }
  /** ISO time of generation. */
  created: string
  /** Phase source, relative to the lock dir (posix). */
  file: string
  /** What made this version (e.g. `build`, `train: error rate up`, `fallback: …`). */
  reason?: string
  /**
   * `train` on every version Train made: its candidates, and what it promoted carried across a builtin compiler
   * upgrade. A build would never write such a version again, so `poet generate` keeps the entry of a deleted function
   * that holds one, whatever its reason says.
   */
  origin?: 'train'
  /**
   * On a builtin fallback (the configured LLM's answer failed the verify gate, or it gave none): why, as the fallback
   * was made (`''` when a lock from before this marker no longer said); a compiler upgrade that keeps Train's values in
   * a fallback keeps it too. Read with `fallbackWhy`, which also reads locks that say it only in `reason`.
   */
  fallback?: string
  /** Verified operate variants proposed with this version (optimizeFor): JSON file for review and A/B tests, never bundled. */
  variants?: { file: string; names: string[] }
  /**
   * The builtin compiler (`BUILTIN_VERSION`) that wrote a builtin fallback under an LLM generator: such a version's
   * input hash is the LLM's, so only this tells that a newer compiler would write other checks.
   */
  compiler?: string
  /**
   * The input hash an earlier builtin compiler gave the same source, options and types: the versions holding it are
   * this one's predecessors from that compiler (the lock tells them apart from versions of an earlier source).
   */
  compilerUpgradeOf?: string
}

export interface LockEntry {
  current: string
  /**
   * A version under A/B test against `current`, with its traffic share. Train also records when the test
   * started (`since`, ISO) and the metric that decides it (`metric`, e.g. `ok rate`, `latency`).
   */
  candidate?: { version: string; share: number; since?: string; metric?: string }
  /** The function's `optimizeFor` at its last generation: Train works only on entries that have one. */
  optimizeFor?: string
  /** The function's domain pack at its last generation: `poet serve` reads no source, and shows it from here. */
  domain?: string
  versions: Record<string, LockVersion>
  /**
   * The ids the function had before renames or moves that kept this entry: clients still running a build from before
   * send them, and the collector holds their events to this entry's event limits.
   */
  formerIds?: string[]
  /**
   * When the last rename or move gave the entry its id (ISO): events another function sent under that id before are
   * that function's, also of a version both hold (see train/former.ts).
   */
  renamed?: string
}

export interface LockFile {
  lockfileVersion: 1
  functions: Record<string, LockEntry>
}

export interface NewVersion {
  version: string
  source: string
  inputHash: string
  generator: string
  model?: string
  usage?: LockVersion['usage']
  reason?: string
  origin?: LockVersion['origin']
  fallback?: LockVersion['fallback']
  /** Verified operate variants to store beside the version (see `LockVersion.variants`). */
  variants?: { name: string; body: string; rationale: string }[]
  /** The function's `optimizeFor` option; absent means Train is off for it. */
  optimizeFor?: string
  /** The function's `domain` option, when it has one. */
  domain?: string
  compiler?: string
  compilerUpgradeOf?: string
}

/** A candidate written with the versions of `writeAll`, replacing the one under test (see `LockEntry.candidate`). */
export interface CarriedCandidate {
  /** The candidate it replaces: when the lock no longer tests that one, this one is not written as a candidate. */
  replaces: string
  version: NewVersion
  share: number
  metric?: string
}

/** Everything besides the spec that a generation depends on. */
export interface HashInputs {
  /** `builtin`, `openai:<model>` … (the generator configured, not the one that ended up producing the parts). */
  generator: string
  model?: string
  promptVersion?: string
  /** The builtin compiler's version (builtin only: an LLM entry does not go stale when the builtin compiler changes). */
  compilerVersion?: string
  /** `<name>@<version>` of the domain pack (and its parents), when the function has a domain. */
  domainVersion?: string
}

/**
 * The input hash of a lock entry: function source, options, resolved types, domain pack version, generator,
 * model and prompt version, or the builtin compiler's version. Key order never matters (sorted), so the same inputs
 * always give the same hash.
 */
export function inputHash(spec: FunctionSpec, h: HashInputs): string {
  const types = { kind: spec.kind, async: spec.async, params: spec.params, returns: spec.returns, types: spec.types }
  return contentHash(
    'poet-input-1',
    spec.source,
    stableJson(spec.options),
    stableJson(types),
    h.domainVersion ?? '',
    h.generator,
    h.model ?? '',
    h.promptVersion ?? '',
    // Only when there is one: the hashes of LLM entries stay what they were before builtin versions were hashed.
    ...(h.compilerVersion ? [h.compilerVersion] : []),
  )
}

/** What an entry of a deleted function holds that a build would not write again: an LLM's phases, Train's history, a domain's event limits. */
export type KeptFor = 'llm' | 'train' | 'limits'

const LOCK_WAIT_MS = 10_000
const STALE_MS = 30_000
/**
 * A file under `phases/` that no version names is certainly abandoned once nothing wrote it for this long: a writer
 * names its files in the lock milliseconds after writing them (or, waiting for the lock, within LOCK_WAIT_MS).
 */
const STRAY_AGE_MS = 3_600_000
/** The files a LockStore writes under `phases/`: phase modules, variants, and the temporary files of atomic writes. */
const WRITTEN_HERE = /\.(?:js|variants\.json|tmp)$/

export class LockStore {
  readonly file: string
  constructor(readonly dir: string) {
    this.file = join(dir, 'lock.json')
  }

  /**
   * The last text read, its parse, and the file's identity then (inode, size, modification and change times): a
   * build asks for the lock several times per phase module, and it rarely changes. A write through this class renames
   * a new file into place, so the inode changes; any other write changes the times.
   */
  #last: { stamp: string; text: string; lock: LockFile } | undefined

  /** The lock as it is on disk now. Shared between calls while the file is unchanged: read it, never mutate it. */
  read(): LockFile {
    let stamp: string
    let text: string
    try {
      const st = statSync(this.file, { bigint: true })
      stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
      if (this.#last?.stamp === stamp) return this.#last.lock
      text = readFileSync(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { lockfileVersion: 1, functions: {} }
      throw new Error(`poet: cannot read ${this.file}: ${(e as Error).message}`)
    }
    const lock = this.#last?.text === text ? this.#last.lock : this.#parse(text)
    this.#last = { stamp, text, lock }
    return lock
  }

  #parse(text: string): LockFile {
    let lock: unknown
    try {
      lock = JSON.parse(text)
    } catch (e) {
      // JSON.parse would only point at a position: a merge's markers are worth naming, with what to do about them.
      const why = /^<{7}(?: |$)/m.test(text)
        ? 'it holds unresolved merge conflict markers (<<<<<<<). Resolve the conflict, or take one side and run `poet generate`.'
        : (e as Error).message
      throw new Error(`poet: cannot read ${this.file}: ${why}`)
    }
    // JSON of another shape (null, an array, a merge tool's output) would fail later as a TypeError far from here.
    const functions = (lock as Partial<LockFile> | null)?.functions
    if (typeof lock !== 'object' || Array.isArray(lock) || typeof functions !== 'object' || functions === null || Array.isArray(functions)) {
      throw new Error(
        `poet: cannot read ${this.file}: it is JSON but not a poet lock (expected { "lockfileVersion": 1, "functions": { … } }). ` +
          'Restore it from version control, or delete it and run `poet generate`.',
      )
    }
    // A format this release does not know would be read as its own and written back as lockfileVersion 1, losing what
    // the newer one recorded. A lock without the field is taken as 1.
    const format = (lock as { lockfileVersion?: unknown }).lockfileVersion
    if (format !== undefined && format !== 1) {
      throw new Error(
        typeof format === 'number' && format > 1
          ? `poet: cannot read ${this.file}: it was written by a newer unplugin-poet (lockfileVersion ${format}; this one reads 1). Upgrade unplugin-poet to the version that wrote it; nothing was changed.`
          : `poet: cannot read ${this.file}: its lockfileVersion is ${JSON.stringify(format)}, which no unplugin-poet writes (this one reads 1). Restore it from version control.`,
      )
    }
    const outside = fileOutsidePhases(functions as Record<string, unknown>)
    if (outside) {
      throw new Error(
        `poet: cannot read ${this.file}: the entry of ${JSON.stringify(outside.id)} names ${JSON.stringify(outside.file)} as a file of its version ${outside.version}, ` +
          `outside ${join(this.dir, 'phases')}/ where poet keeps every phase module: poet would read it as code and remove it with the entry. ` +
          'Restore lock.json from version control, or delete the entry and run `poet generate`.',
      )
    }
    return lock as LockFile
  }

  /** The current version of `id` when it was generated from exactly `inputHash` (in `lock`, when the caller read it). */
  lookup(id: string, inputHash: string, lock: LockFile = this.read()): { version: string; source: string } | undefined {
    const entry = lock.functions[id]
    const v = entry && entry.versions[entry.current]
    if (!v || v.inputHash !== inputHash) return undefined
    try {
      return { version: entry.current, source: readFileSync(join(this.dir, v.file), 'utf8') }
    } catch {
      return undefined
    }
  }

  /** The phase source of one stored version (in `lock`, when the caller read it). */
  source(id: string, version: string, lock: LockFile = this.read()): string | undefined {
    const v = lock.functions[id]?.versions[version]
    if (!v) return undefined
    try {
      return readFileSync(join(this.dir, v.file), 'utf8')
    } catch {
      return undefined
    }
  }

  /**
   * Why the lock cannot take writes (a read-only checkout or mount, a directory of another user), or undefined when it
   * can: asked before a run generates anything, so such a run writes nothing and pays no LLM for phases it cannot keep.
   * The directories a write goes into are asked, or, where they do not exist yet, the nearest one that would hold them.
   */
  unwritable(): NodeJS.ErrnoException | undefined {
    let dir = join(this.dir, 'phases')
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
    for (const d of dir === join(this.dir, 'phases') ? [this.dir, dir] : [dir]) {
      try {
        accessSync(d, constants.W_OK)
      } catch (e) {
        return e as NodeJS.ErrnoException
      }
    }
    return undefined
  }

  /** Every stored version of `id`, oldest first (ties broken by version), with which one is current. */
  history(id: string): { version: string; current: boolean; candidate: boolean; entry: LockVersion }[] {
    const entry = this.read().functions[id]
    if (!entry) return []
    return Object.entries(entry.versions)
      .sort(([va, a], [vb, b]) => a.created.localeCompare(b.created) || va.localeCompare(vb))
      .map(([version, v]) => ({ version, current: version === entry.current, candidate: entry.candidate?.version === version, entry: v }))
  }

  /**
   * Stores a new version and makes it current. Every earlier version is kept. Writing what is already
   * there changes no byte on disk.
   */
  write(id: string, nv: NewVersion): void {
    this.writeAll(id, [nv])
  }

  /**
   * write, in the lock's next coalesced update (see `updateSoon`). `yieldToSameInputs`: unless current was made from
   * the same inputs by then (another build, in another process, generated them meanwhile): it stays, so that every
   * bundle built from those inputs serves the one version, and what this one generated is dropped.
   */
  async writeSoon(id: string, nv: NewVersion, yieldToSameInputs = false): Promise<void> {
    await this.writeAllSoon(id, [nv], undefined, yieldToSameInputs)
  }

  /**
   * Stores versions in one update of the lock, the last made current: a reader never sees the ones before it as
   * current (a compiler upgrade's fresh module, written beside the one keeping what Train promoted). Returns whether
   * `candidate` went in as the candidate under test (not when the test it replaces ended meanwhile).
   */
  writeAll(id: string, versions: readonly NewVersion[], candidate?: CarriedCandidate): boolean {
    const planned = this.#planWrite(id, versions, candidate)
    if (!planned) return false
    this.update(planned.mutate)
    return planned.carried()
  }

  /**
   * writeAll, in the lock's next coalesced update (see `updateSoon`): what a build uses, where every function's
   * phases are generated at once.
   */
  async writeAllSoon(id: string, versions: readonly NewVersion[], candidate?: CarriedCandidate, yieldToSameInputs = false): Promise<boolean> {
    const planned = this.#planWrite(id, versions, candidate, yieldToSameInputs)
    if (!planned) return false
    await this.updateSoon(planned.mutate)
    return planned.carried()
  }

  /** writeAll's phase files, written at once, and the change it makes to lock.json. */
  #planWrite(id: string, versions: readonly NewVersion[], candidate?: CarriedCandidate, yieldToSameInputs = false): { mutate: (lock: LockFile) => void; carried: () => boolean } | undefined {
    const all = candidate ? [...versions, candidate.version] : versions
    const files = all.map((nv) => this.writeFiles(id, nv.version, nv.source, nv.variants))
    const last = versions.at(-1)
    if (!last) return undefined
    let carried = false
    const mutate = (lock: LockFile): void => {
      const had = Object.hasOwn(lock.functions, id) ? lock.functions[id] : undefined
      // Another writer made current from these very inputs since this write was planned: it stays (see writeSoon). The
      // files written above are then named by no version, and removed as stray once old.
      if (yieldToSameInputs && had && had.current !== last.version && had.versions[had.current]?.inputHash === last.inputHash) return
      // Written before the lock was taken, a file may have been removed as stray since: an old one left by a refused
      // write, holding these very bytes, was kept as it was (and as old). Written again now, nothing removes it before
      // the lock names it.
      for (const [i, nv] of all.entries()) {
        const { file, variants } = files[i]!
        if (!existsSync(join(this.dir, file)) || (variants && !existsSync(join(this.dir, variants.file)))) this.writeFiles(id, nv.version, nv.source, nv.variants)
      }
      const entry = (lock.functions[id] ??= { current: last.version, versions: {} })
      // New inputs that give the very module current is (an edit of the function's body, where the phases are
      // builtin): the versions made from it, a candidate under test among them, hold for the new inputs just as well.
      const before = entry.current === last.version ? entry.versions[last.version]?.inputHash : undefined
      if (before !== undefined && before !== last.inputHash) {
        for (const v of Object.values(entry.versions)) if (v.inputHash === before) v.inputHash = last.inputHash
      }
      const stored = (nv: NewVersion, i: number): LockVersion => {
        const { file, variants } = files[i]!
        const existing = entry.versions[nv.version]
        return {
          inputHash: nv.inputHash,
          generator: nv.generator,
          ...(nv.model ? { model: nv.model } : {}),
          ...(nv.usage ? { usage: nv.usage } : {}),
          // A millisecond apart, oldest first: rollback targets are the versions created before current, and one
          // written beside another must not count as earlier than it (nor a candidate, created after current).
          created: existing?.inputHash === nv.inputHash ? existing.created : now(i - (versions.length - 1)),
          file,
          ...(nv.reason ? { reason: nv.reason } : {}),
          ...(nv.origin ? { origin: nv.origin } : {}),
          ...(nv.fallback !== undefined ? { fallback: nv.fallback } : {}),
          ...(variants ? { variants } : {}),
          ...(nv.compiler ? { compiler: nv.compiler } : {}),
          ...(nv.compilerUpgradeOf ? { compilerUpgradeOf: nv.compilerUpgradeOf } : {}),
        }
      }
      for (const [i, nv] of versions.entries()) entry.versions[nv.version] = stored(nv, i)
      if (last.optimizeFor) entry.optimizeFor = last.optimizeFor
      else delete entry.optimizeFor
      if (last.domain) entry.domain = last.domain
      else delete entry.domain
      // Only a test still running goes on (the trainer or a rollback may have ended it since the caller read the lock).
      const carry = candidate && entry.candidate?.version === candidate.replaces ? candidate : undefined
      // A candidate was derived from the old current (its types, its rules): it cannot be tested against a new one.
      if (entry.current !== last.version) delete entry.candidate
      entry.current = last.version
      if (carry) {
        entry.versions[carry.version.version] = stored(carry.version, versions.length)
        // Its evidence starts over: the calls so far ran other checks.
        entry.candidate = { version: carry.version.version, share: carry.share, since: now(), ...(carry.metric ? { metric: carry.metric } : {}) }
        carried = true
      }
    }
    return { mutate, carried: () => carried }
  }

  /**
   * Files under `phases/` (relative to the lock directory, sorted) that no version in `lock` names and that nothing wrote
   * for an hour: written by a poet whose lock write was then refused (a read-only lock.json, a full disk) or that was
   * killed before it, and temporary files of a write cut short. A younger one may be a write on its way into the lock.
   */
  strayFiles(lock: LockFile = this.read(), now = Date.now()): string[] {
    const dir = join(this.dir, 'phases')
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return []
    }
    const named = new Set<string>()
    for (const entry of Object.values(lock.functions)) {
      for (const v of Object.values(entry.versions)) {
        named.add(v.file)
        if (v.variants) named.add(v.variants.file)
      }
    }
    const old = (name: string) => {
      try {
        return now - statSync(join(dir, name)).mtimeMs > STRAY_AGE_MS
      } catch {
        return false
      }
    }
    return names
      .filter((name) => WRITTEN_HERE.test(name) && !named.has(`phases/${name}`) && old(name))
      .map((name) => `phases/${name}`)
      .sort()
  }

  /**
   * Removes the stray files (see `strayFiles`) and returns them. Under the lock: a writer that found one of them already
   * holding its new module (same version, same bytes, so left as it was, old) checks that it is still there once it
   * holds the lock, before naming it (see `writeAll`).
   */
  removeStrayFiles(): string[] {
    const release = acquire(join(this.dir, '.lock'))
    try {
      const stray = this.strayFiles()
      for (const file of stray) rmSync(join(this.dir, file), { force: true })
      return stray
    } finally {
      release()
    }
  }

  /**
   * Writes a version's phase module (and its verified operate variants, when there are any) under `phases/`, before
   * the lock names them; returns the paths the lock records, relative to the lock directory.
   */
  writeFiles(id: string, version: string, source: string, variants?: NewVersion['variants']): Pick<LockVersion, 'file' | 'variants'> {
    const base = `phases/${fileStem(id)}.${version}`
    const file = `${base}.js`
    mkdirSync(join(this.dir, 'phases'), { recursive: true })
    writeIfChanged(join(this.dir, file), source)
    if (!variants?.length) return { file }
    const stored = { file: `${base}.variants.json`, names: variants.map((v) => v.name) }
    writeIfChanged(join(this.dir, stored.file), JSON.stringify(variants, null, 2) + '\n')
    return { file, variants: stored }
  }

  /** Updates asked for through updateSoon that are not in lock.json yet, in the order they were asked for. */
  #queued: { mutate: (lock: LockFile) => void; settle: (failed: boolean, error?: unknown) => void }[] | undefined

  /**
   * update(), coalesced: the updates asked for until the event loop next turns go into lock.json in one
   * read-modify-write, each applied in turn as if alone. A cold build generates the phases of every function at once,
   * and one read, copy, serialization and atomic write of the whole lock per function made it quadratic in their
   * number (600 functions: most of a minute under load). When the write fails, every update of it fails with its error.
   */
  updateSoon(mutate: (lock: LockFile) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.#queued) {
        this.#queued = []
        setImmediate(() => this.#flush())
      }
      this.#queued.push({ mutate, settle: (failed, error) => (failed ? reject(error) : resolve()) })
    })
  }

  #flush(): void {
    const batch = this.#queued ?? []
    this.#queued = undefined
    try {
      this.update((lock) => {
        for (const { mutate } of batch) mutate(lock)
      })
    } catch (e) {
      for (const { settle } of batch) settle(true, e)
      return
    }
    for (const { settle } of batch) settle(false)
  }

  /**
   * Read-modify-write of lock.json under a cross-process lock, written atomically. `after` runs once it is written,
   * still under the lock: removing files no version names any more, which a writer waiting for the lock may be about
   * to name again (see `writeAll`), must wait until no lock on disk names them.
   */
  update(mutate: (lock: LockFile) => void, after?: () => void): void {
    mkdirSync(this.dir, { recursive: true })
    const release = acquire(join(this.dir, '.lock'))
    try {
      // A copy of its own: the parse read() shares must not change under its other readers.
      const lock = structuredClone(this.read())
      mutate(lock)
      writeIfChanged(this.file, serialize(lock))
      after?.()
    } finally {
      release()
    }
  }

  /**
   * Moves the entry of `from` (every version, the candidate under test, the pointer) to `to`, for a function renamed
   * or moved: its phase modules are written again under `to`'s name saying `to` (the id its events carry), with the same
   * versions, since a version hashes the phases, not the id. False, with nothing changed, when `to` has an entry by
   * now (another build adopted it), `from` has none, or a module of `from` does not read as one poet wrote. `rehash`
   * gives the input hashes its versions have under `to` where they differ (the function's own name renamed with it).
   */
  rename(from: string, to: string, rehash?: ReadonlyMap<string, string>): boolean {
    let moved = false
    const old: string[] = []
    this.update((lock) => {
      const entry = Object.hasOwn(lock.functions, from) ? lock.functions[from] : undefined
      if (!entry || Object.hasOwn(lock.functions, to)) return
      const sources = Object.entries(entry.versions).map(([version, v]) => {
        const source = readText(join(this.dir, v.file))
        return { version, v, source: source === undefined ? undefined : renameInModule(source, from, to) }
      })
      // A module poet did not write (edited by hand) would go on saying `from`, and its events with it.
      if (sources.some((s) => s.source === null) || !sources.find((s) => s.version === entry.current)?.source) return
      for (const { version, v, source } of sources) {
        const base = `phases/${fileStem(to)}.${version}`
        if (source) {
          mkdirSync(join(this.dir, 'phases'), { recursive: true })
          writeIfChanged(join(this.dir, `${base}.js`), source)
          old.push(v.file)
        }
        const variants = v.variants && readText(join(this.dir, v.variants.file))
        if (v.variants && variants !== undefined) {
          writeIfChanged(join(this.dir, `${base}.variants.json`), variants)
          old.push(v.variants.file)
        }
        entry.versions[version] = { ...v, inputHash: rehash?.get(v.inputHash) ?? v.inputHash, file: `${base}.js`, ...(v.variants ? { variants: { ...v.variants, file: `${base}.variants.json` } } : {}) }
      }
      const formerIds = [...new Set([...(entry.formerIds ?? []), from])].filter((id) => id !== to)
      if (formerIds.length) entry.formerIds = formerIds
      else delete entry.formerIds
      entry.renamed = now()
      lock.functions[to] = entry
      delete lock.functions[from]
      moved = true
    }, () => {
      for (const file of old) rmSync(join(this.dir, file), { force: true })
    })
    return moved
  }

  /**
   * Removes the entries of `ids` that `still` (asked again under the lock) lets go, with their phase modules and
   * variants; returns the ids removed.
   */
  remove(ids: readonly string[], still: (id: string, entry: LockEntry, lock: LockFile) => boolean = () => true): string[] {
    const removed: string[] = []
    const files: string[] = []
    this.update((lock) => {
      for (const id of ids) {
        const entry = Object.hasOwn(lock.functions, id) ? lock.functions[id] : undefined
        if (!entry || !still(id, entry, lock)) continue
        for (const v of Object.values(entry.versions)) files.push(v.file, ...(v.variants ? [v.variants.file] : []))
        delete lock.functions[id]
        removed.push(id)
      }
    }, () => {
      for (const file of files) rmSync(join(this.dir, file), { force: true })
    })
    return removed
  }


  /**
   * What the entry of a function no longer in the source holds that removing it would lose, empty when nothing: an
   * LLM's phases (paid for, reviewed), Train's history (a version Train made, see `madeByTrain`; an A/B test), a
   * domain's event limits, which the
   * collector applies from the lock to clients still running the function. Builtin versions alone are deterministic
   * and offline: a build writes them again. What it holds is kept unless asked.
   */
  keeps(id: string, entry: LockEntry, lock: LockFile = this.read()): KeptFor[] {
    const versions = Object.entries(entry.versions)
    const kept: KeptFor[] = []
    if (versions.some(([, v]) => v.generator !== 'builtin')) kept.push('llm')
    if (entry.candidate || versions.some(([, v]) => madeByTrain(v))) kept.push('train')
    if (versions.some(([version]) => NEVER_IN_EVENTS_LINE.test(this.source(id, version, lock) ?? ''))) kept.push('limits')
    return kept
  }

  /** Whether removing the entry of a function no longer in the source loses nothing (see `keeps`). */
  disposable(id: string, entry: LockEntry, lock: LockFile = this.read()): boolean {
    return this.keeps(id, entry, lock).length === 0
  }
}

/** A file a version may name: `phases/<name>`, one level down, as LockStore writes them. */
const PHASE_FILE = /^phases\/(?!\.\.?$)[^/\\]+$/

/**
 * The first file a lock names outside `phases/`. The lock is text anyone can edit in a pull request or a merge, and
 * each file it names is read as a phase module (served by the dashboard, bundled) and removed with its entry.
 */
function fileOutsidePhases(functions: Record<string, unknown>): { id: string; version: string; file: unknown } | undefined {
  for (const [id, entry] of Object.entries(functions)) {
    const versions = (entry as Partial<LockEntry> | null)?.versions
    if (typeof versions !== 'object' || versions === null) continue
    for (const [version, v] of Object.entries(versions as Record<string, Partial<LockVersion> | null>)) {
      for (const file of [v?.file, v?.variants?.file]) {
        if (file !== undefined && (typeof file !== 'string' || !PHASE_FILE.test(file))) return { id, version, file }
      }
    }
  }
  return undefined
}

/**
 * Whether Train made `version` (see `LockVersion.origin`). Locks written before the marker existed say it only in the
 * reason, in the words releases then wrote (`train: …` for a candidate, `… kept … Train promoted in …` across a compiler
 * upgrade): those words are history, read for such versions alone, so a trainer that words its reasons otherwise
 * cannot make `poet generate` delete what it made.
 */
export function madeByTrain(version: LockVersion): boolean {
  return version.origin === 'train' || !!version.reason?.startsWith('train') || !!version.reason?.includes('Train promoted')
}

/** A rendered phase module (see render.ts) saying `to` where it said `from`; null when it does not read as one. */
function renameInModule(source: string, from: string, to: string): string | null {
  const header = `${comment(`POET phases for ${from}`)}\n`
  const line = `\n  id: ${JSON.stringify(from)},\n`
  // The last one: the phases object closes the module, after helpers an LLM wrote.
  const at = source.lastIndexOf(line)
  if (!source.startsWith(header) || at < 0) return null
  const body = `${source.slice(0, at)}\n  id: ${JSON.stringify(to)},\n${source.slice(at + line.length)}`
  return `${comment(`POET phases for ${to}`)}\n${body.slice(header.length)}`
}

/**
 * What a rollback can go back to: the versions created before the current one, newest first, and those of them
 * generated from the current source by this release's compiler (the plugin serves current only while its input hash
 * matches the source, so a version of another source would be regenerated away by the next build, and so would one
 * an earlier compiler wrote).
 */
export function earlierVersions(entry: LockEntry): { older: string[]; sameSource: string[] } {
  const created = (v: string) => Date.parse(entry.versions[v]!.created) || 0
  const input = entry.versions[entry.current]?.inputHash
  const older = Object.keys(entry.versions)
    .filter((v) => v !== entry.current && created(v) <= created(entry.current))
    .sort((a, b) => created(b) - created(a))
  // A fallback an earlier compiler wrote holds the current hash, yet a build regenerates it too.
  const byCompiler = olderCompilerVersions(entry)
  return { older, sameSource: older.filter((v) => entry.versions[v]!.inputHash === input && !byCompiler.includes(v)) }
}

/**
 * The input hashes earlier builtin compilers gave the current version's inputs (newest first), as upgrades recorded
 * them: a version holding one of them is of the current source, from an earlier compiler, and a build regenerates it
 * with this release's compiler rather than serve it.
 */
export function olderCompilerInputs(entry: LockEntry): string[] {
  const out: string[] = []
  let hash = entry.versions[entry.current]?.inputHash
  for (;;) {
    const older = Object.values(entry.versions).find((v) => v.inputHash === hash && v.compilerUpgradeOf !== undefined)?.compilerUpgradeOf
    if (older === undefined || out.includes(older)) return out
    out.push(older)
    hash = older
  }
}

/**
 * The versions of `entry` an earlier builtin compiler wrote from its current inputs, which a build regenerates with
 * this release's compiler rather than serve: those holding an input hash an earlier compiler gave those inputs, and
 * builtin fallbacks under an LLM generator (they keep the LLM's hash, so only the compiler they record tells) written
 * by an earlier compiler.
 */
export function olderCompilerVersions(entry: LockEntry): string[] {
  const byCompiler = olderCompilerInputs(entry)
  const input = entry.versions[entry.current]?.inputHash
  return Object.keys(entry.versions).filter((v) => {
    const version = entry.versions[v]!
    return byCompiler.includes(version.inputHash) || (version.inputHash === input && olderFallback(version))
  })
}

/** The reason a builtin fallback is recorded with: its words are for people, `LockVersion.fallback` is what code reads. */
export function fallbackReason(why: string): string {
  return why ? `fallback: ${why}` : 'fallback'
}

/**
 * Why `version` is a builtin fallback, or undefined when it is none. Locks written before the marker say it only in the
 * reason, which Train's versions extend with what they kept: those are left out, so the why read is the fallback's own.
 */
export function fallbackWhy(version: LockVersion): string | undefined {
  if (version.fallback !== undefined) return version.fallback
  return version.reason?.startsWith('fallback: ') && !madeByTrain(version) ? version.reason.slice('fallback: '.length) : undefined
}

/** A builtin fallback (a builtin version an LLM generator's run recorded, so with its model) an earlier compiler wrote. */
export function olderFallback(version: LockVersion): boolean {
  return version.generator === 'builtin' && version.model !== undefined && version.compiler !== BUILTIN_VERSION
}

/** The file system's refusals of a write, as a user reads them (its own message names the syscall and the file). */
const REFUSED: Record<string, string> = {
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
}

/**
 * `cannot write .poet/ (<absolute path>): <why>` when `e` is the file system refusing a write into the lock directory
 * `dir` (a read-only checkout or mount, another user's directory, a full disk), else undefined: everything that writes
 * the lock says such a failure the same way. A command names `dir` relative to its `cwd`, as its user typed it; the
 * dashboard, whose user typed no path, by its absolute path.
 */
export function refusedLockWrite(dir: string, e: unknown, cwd?: string): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  if (code === undefined || !Object.hasOwn(REFUSED, code)) return undefined
  return `cannot write ${cwd === undefined ? `${dir}/` : `${relative(cwd, dir) || '.'}/ (${dir})`}: ${REFUSED[code]}`
}

/** Deterministic JSON: sorted keys, two-space indent, trailing newline. */
export function serialize(lock: LockFile): string {
  return JSON.stringify(sortKeys(lock), null, 2) + '\n'
}

/** JSON with sorted keys; bigint literal types (`1n`) are written as strings instead of throwing. */
function stableJson(v: unknown): string {
  return JSON.stringify(sortKeys(v), (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k])
    return out
  }
  return v
}

/** Reproducible builds: `SOURCE_DATE_EPOCH` (seconds) pins every `created` time. */
function now(offsetMs = 0): string {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH)
  return new Date((process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? epoch * 1000 : Date.now()) + offsetMs).toISOString()
}

/** Leaves the file (and its mtime, which watchers see) alone when it already holds exactly `content`. */
function writeIfChanged(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) return
  } catch {
    // missing: write it
  }
  atomicWrite(path, content)
}

let tmpCounter = 0
export function atomicWrite(path: string, content: string): void {
  // Worker threads share the pid, each with its own counter: the thread id keeps their temporary files apart.
  const tmp = `${path}.${process.pid}.${threadId}.${++tmpCounter}.tmp`
  try {
    writeFileSync(tmp, content)
    renameSync(tmp, path)
  } catch (e) {
    // A full disk fails partway through the temporary file: it must not be left beside the lock for a review to find.
    try {
      rmSync(tmp, { force: true })
    } catch {
      // The write's own error is the one that says what went wrong.
    }
    throw e
  }
}

/**
 * The start of a phase file's name: the id's key, or, past 120 characters, its first 100 and a hash of the whole id.
 * File systems cap a name at 255 bytes, and a key grows fast (a CJK character is 9: `~e8~a8~88`); with the version and
 * the temporary suffix of an atomic write, 120 leaves room. Each version records its file, so readers never derive it.
 */
function fileStem(id: string): string {
  const key = encodeKey(id)
  return key.length <= 120 ? key : `${key.slice(0, 100)}~~${contentHash(id)}`
}

/**
 * Who holds `.poet/.lock`, recorded in it (`owner-<random>.json`) so that a waiter can tell a holder that crashed from
 * one still at work. A file name of its own per holding lets exactly one waiter take over a given holding (see
 * `takeOver`). `ns` is Linux's pid namespace: a container can share the host name and the project, but not the pids.
 */
interface LockOwner {
  pid: number
  host: string
  ns?: string
  since: string
}

const OWNER_PREFIX = 'owner-'

/** What a waiter saw: the holder's record (when there is a readable one), and the identity and times of that record, else of the directory. */
interface Held {
  file?: string
  owner?: LockOwner
  ino: number
  mtimeMs: number
}

/**
 * A directory lock (mkdir is atomic everywhere) holding its owner's record. A waiter takes it over at once when its
 * holder was a process of this machine that has ended (a killed build), and otherwise when it is older than STALE_MS
 * (a holder on another host sharing the drive, a lock of a poet without owner records, pid reuse).
 */
function acquire(lockPath: string): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS
  // Why the last take-over failed: one that cannot remove the stale lock (not ours to remove, a read-only drive, a
  // directory Windows will not rename) waits like a live holder, and the timeout says why, instead of spinning forever.
  let failed: Error | undefined
  for (;;) {
    const release = create(lockPath)
    if (release) return release
    const held = inspect(lockPath)
    if (held && isStale(held)) {
      failed = takeOver(lockPath, held)
      if (!failed) continue
    }
    if (Date.now() > deadline) throw new Error(waitedTooLong(lockPath, held, failed))
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5)
  }
}

/** Takes the lock when it is free; returns how to release it, or undefined when another holds it. */
function create(lockPath: string): (() => void) | undefined {
  try {
    mkdirSync(lockPath)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    throw e
  }
  const record = join(lockPath, `${OWNER_PREFIX}${randomUUID()}.json`)
  try {
    const owner: LockOwner = { pid: process.pid, host: hostname(), ns: pidNamespace(), since: new Date().toISOString() }
    writeFileSync(record, JSON.stringify(owner))
  } catch (e) {
    // ENOENT: a waiter that judged an older lock without a record stale moved this one aside before it had its record.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    rmSync(lockPath, { recursive: true, force: true })
    throw e
  }
  return () => {
    try {
      unlinkSync(record)
    } catch (e) {
      // Taken over meanwhile (judged crashed or too old): the directory is another holder's now.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      throw e
    }
    rmSync(lockPath, { recursive: true, force: true })
  }
}

/** The lock as it is now, or undefined when it was released meanwhile. */
function inspect(lockPath: string): Held | undefined {
  try {
    // The record first, then the times: a lock replaced in between is then judged by the newer one's (younger) age.
    const file = readdirSync(lockPath).find((f) => f.startsWith(OWNER_PREFIX))
    const owner = file === undefined ? undefined : readOwner(join(lockPath, file))
    const { ino, mtimeMs } = statSync(owner ? join(lockPath, file!) : lockPath)
    return { file: owner && file, owner, ino, mtimeMs }
  } catch {
    return undefined
  }
}

/** The record, or undefined while it is being written (or when it is not one). */
function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner> | null
    return typeof o?.pid === 'number' && typeof o.host === 'string' && typeof o.since === 'string' ? (o as LockOwner) : undefined
  } catch {
    return undefined
  }
}

function isStale(held: Held): boolean {
  if (held.owner && onThisMachine(held.owner) && !isRunning(held.owner.pid)) return true
  return Date.now() - held.mtimeMs > STALE_MS
}

/**
 * Removes a stale lock, so that the next create can take it; never a newer lock that replaced it meanwhile, which
 * another waiter that judged the same lock stale may already have made. Returns why it could not remove it, unless
 * another waiter did (or the holder released it) meanwhile.
 */
function takeOver(lockPath: string, held: Held): Error | undefined {
  if (held.file) {
    // Of the waiters that remove this holding's record, exactly one succeeds, and a newer holding has another name.
    try {
      unlinkSync(join(lockPath, held.file))
    } catch (e) {
      return gone(e) ? undefined : (e as Error)
    }
    // Without a record and just changed (the unlink), the directory now looks fresh to every other waiter.
    try {
      rmSync(lockPath, { recursive: true, force: true })
    } catch (e) {
      return e as Error
    }
    return undefined
  }
  // No record to claim: move the directory aside, and keep it only when it is the one judged stale.
  const aside = `${lockPath}.${process.pid}.${threadId}.${randomUUID()}.stale`
  try {
    renameSync(lockPath, aside)
  } catch (e) {
    return gone(e) ? undefined : (e as Error)
  }
  const moved = inspect(aside)
  if (!moved || (!moved.file && moved.ino === held.ino && moved.mtimeMs === held.mtimeMs)) {
    rmSync(aside, { recursive: true, force: true })
    return undefined
  }
  try {
    renameSync(aside, lockPath)
  } catch {
    // Taken meanwhile: the holder that was moved aside finds its record gone when it releases, and leaves that lock be.
    rmSync(aside, { recursive: true, force: true })
  }
  return undefined
}

/** The stale lock (or its record) is no longer there: another waiter took it over, or its holder let go. */
function gone(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT'
}

function waitedTooLong(lockPath: string, held: Held | undefined, failed: Error | undefined): string {
  const since = held?.owner?.since ?? (held ? new Date(held.mtimeMs).toISOString() : undefined)
  const waited = `poet: waited ${LOCK_WAIT_MS / 1000} s for the lock ${lockPath}`
  const how = `delete the directory ${lockPath} and run again.`
  if (failed) {
    const by = held?.owner ? `process ${held.owner.pid}${onThisMachine(held.owner) ? ' on this machine, which has ended' : ` on ${held.owner.host}`}` : 'a build that has ended'
    return `${waited}, held${since ? ` since ${since}` : ''} by ${by}, but it could not be removed (${failed.message}). Delete the directory ${lockPath} and run again.`
  }
  if (!held?.owner) return `${waited}, held${since ? ` since ${since}` : ''} by another build. If no poet build or \`poet generate\` is running, ${how}`
  const { pid, host } = held.owner
  const where = onThisMachine(held.owner) ? 'on this machine' : `on ${host}`
  return `${waited}, held since ${since} by process ${pid} ${where}. If process ${pid} is not a poet build or \`poet generate\`, ${how}`
}

function onThisMachine(owner: LockOwner): boolean {
  return owner.host === hostname() && owner.ns === pidNamespace()
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it runs, as another user.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

let namespace: { id: string | undefined } | undefined
/** Linux's pid namespace of this process (`pid:[4026531836]`); undefined elsewhere. */
function pidNamespace(): string | undefined {
  if (!namespace) {
    try {
      namespace = { id: readlinkSync('/proc/self/ns/pid') }
    } catch {
      namespace = { id: undefined }
    }
  }
  return namespace.id
}
