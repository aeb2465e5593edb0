// The plugin's state in one object: resolved options, the specs the transform found, the lock store and the domain registry.
import { statSync } from 'node:fs'
import { basename, isAbsolute, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { compilerUpgradeOnly, describeReplaced, describeTest, generatePhases, generatorIdentity, phaseInputHash, planGeneration, type PlannedGeneration } from '../generators'
import { fallbackReason, fallbackWhy, LockStore, type LockFile, type LockVersion, type NewVersion } from '../generators/lock'
import { rehashFrom, renamedFrom, renameHashesFrom } from '../generators/renamed'
import { BUILTIN_VERSION } from '../generators/builtin/version'
import { addHotSwap, renderPhaseModule } from '../generators/render'
import type { FunctionSpec } from '../generators/spec'
import { servedPhases, withCandidate } from '../train/variants'
import { decodeKey, encodeKey } from './ids'
import type { DomainPack } from '../generators/builtin/domain'
import type { DomainRegistry } from '../generators/builtin/domains'
import { matcher } from './filter'
import { hashText, TransformCache, type CachedTransform, type CachedWarning, type CacheStats, type SourceMapJSON } from './cache'
import type { WarningSite } from './errors'
import { resolveOptions, type Options, type ResolvedOptions } from './options'
import { POET_CODE_FILTER } from './ids'
import type { transformPoet } from './transform'
import { readFileOrUndefined as readFile } from '../generators/read-file'

/** How long after a lock change it is read again, past the file watcher's 50 ms window for repeated changes. */
export const LOCK_SETTLE_MS = 150

/**
 * The generations under way in this process, by lock directory, function id and input hash: every plugin instance
 * generating into one lock waits for the one that started, then reads what it wrote.
 */
const GENERATING = new Map<string, Promise<unknown>>()

/**
 * A spec with the files its module's types were read from, so watch mode re-loads it when they change, and its input
 * hash for the configured generator.
 */
type FoundSpec = FunctionSpec & { dependencies: string[]; inputHash: string }

export interface TransformOutput {
  code: string
  /** A source map object; replayed from the cache it is plain JSON, without magic-string's methods. */
  map: SourceMapJSON
  /** Files the specs' types were read from: a change there must re-run the transform. */
  watchFiles: string[]
}

export interface LoadOutput {
  code: string
  /**
   * The lock (a new version there must re-load the module) and the function's type files. Without HMR (Vitest), no
   * hotUpdate hook carries an edit of the function's own file to its phase module: that file is watched too. The lock
   * is not: every write of it, the plugin's own for the new phases of one edit included, then re-ran every test of a
   * poet function in Vitest's watch mode; the watchChange hook reads a moved lock instead.
   */
  watchFiles: string[]
}

export class PoetContext {
  options!: ResolvedOptions
  lock!: LockStore
  /**
   * The domain packs, loaded when something needs them (a function with a domain, a transform, custom packs to check
   * at build start): the builtin packs are the largest part of the plugin a warm build can do without.
   */
  private domains: DomainRegistry | undefined
  /** Undefined when the `cache` option is off. */
  private cache: TransformCache | undefined
  /** Vite dev: phase modules are served hot-swappable. */
  serve = false
  /** A dev server without HMR (Vitest's): see {@link LoadOutput.watchFiles}. */
  withoutHmr = false
  /** Vitest's dev server, where tests run: no collector, dashboard or sink (index.ts), and never an LLM. */
  underVitest = false
  /** The functions a Vitest run tests with builtin phases in place of an LLM's: each is said once. */
  private readonly testedWithBuiltin = new Set<string>()
  /**
   * The parser, scanner and type resolver, loaded on the first module the cache does not hold: a warm build never
   * imports them (they are most of what importing the plugin would otherwise cost).
   */
  private transformer: typeof transformPoet | undefined

  private readonly specs = new Map<string, FoundSpec>()
  /** Ids of the functions transformed since this build started and no file changed: certainly not gone (see adoptRenamed). */
  private readonly transformedSinceChange = new Set<string>()
  private readonly keysByFile = new Map<string, string[]>()
  private readonly loading = new Map<string, Promise<LoadOutput>>()
  /** What each phase module was last served from, to tell in dev whether a change made it stale. */
  private readonly served = new Map<string, { version: string; inputHash?: string; candidate?: string }>()
  /** `.poet/` refused a write (a read-only checkout): said once, not for every function served from memory. */
  private lockUnwritable = false

  constructor(private readonly raw: Options | undefined) {
    // Resolving at once makes a bad plugin option fail when the config is read, before any build work.
    this.configure(process.cwd())
  }

  /** The specs of every transformed module, by phase-module key (the dev server's hot regeneration and dashboard read them). */
  get found(): ReadonlyMap<string, FoundSpec> {
    return this.specs
  }

  /** Adopts the bundler's project root, unless the user set `root`. */
  setRoot(root: string): void {
    if (this.raw?.root === undefined && resolve(root) !== this.options.root) this.configure(resolve(root))
  }

  private configure(root: string): void {
    this.options = resolveOptions(this.raw, { root })
    this.lock = new LockStore(this.options.lockDir)
    this.domains = undefined
    const { cacheDir } = this.options
    // The domain names decide which `domain:` options are accepted (the builtin ones come with the plugin build);
    // root decides every function id; the generator and the packs' versions decide the input hashes recorded.
    const packs = this.options.domains.map((p) => `${p.name}@${p.version}`).sort()
    const salt = JSON.stringify([PLUGIN_BUILD, root, packs, generatorIdentity(this.options.generator)])
    this.cache = cacheDir ? new TransformCache(cacheDir, salt) : undefined
  }

  /** Hits, misses and writes of the transform cache in this process (zeros when it is off): what a warm build skipped. */
  get cacheStats(): CacheStats {
    return this.cache?.stats ?? { hits: 0, misses: 0, writes: 0 }
  }

  /**
   * The module script that points a built page's runtime at `feedback.endpoint`; undefined when none is set or
   * feedback is off. (In dev, the dev server's client module does this for every environment.)
   */
  feedbackSetup(): string | undefined {
    const { feedback } = this.options
    if (this.serve || feedback === false || !feedback.endpoint) return undefined
    return [
      "import { configure, httpSink } from 'unplugin-poet/runtime'",
      `configure({ sink: httpSink({ url: ${JSON.stringify(feedback.endpoint)} }), sample: ${feedback.sample} })`,
    ].join('\n')
  }

  /** Loads what a transform that misses the cache needs, once. Vite dev loads it up front: its dev server transforms synchronously. */
  async loadTransformer(): Promise<void> {
    await this.loadDomains()
    this.transformer ??= (await import('./transform')).transformPoet
  }

  /** Loads the domain registry, once; custom packs that cannot be used throw DomainPackError here. */
  async loadDomains(): Promise<DomainRegistry> {
    if (!this.domains) {
      const { DomainRegistry } = await import('../generators/builtin/domains')
      this.domains ??= new DomainRegistry(this.options.domains)
    }
    return this.domains
  }

  /** The transform hook: as {@link transform}, loading the transformer on the first module the cache does not hold. */
  async transformAsync(code: string, file: string, warn: TransformWarn): Promise<TransformOutput | null> {
    let result = this.lookup(code, file, warn)
    if (result === undefined) {
      await this.loadTransformer()
      result = this.produce(code, file, warn)
    }
    return this.adopt(file, result)
  }

  /**
   * Rewrites the `poet(...)` calls in one module; `null` when it has none. Build errors are thrown. A module the cache
   * does not hold needs {@link loadTransformer} first.
   */
  transform(code: string, file: string, warn: TransformWarn): TransformOutput | null {
    const result = this.lookup(code, file, warn)
    return this.adopt(file, result === undefined ? this.produce(code, file, warn) : result)
  }

  /**
   * A new build, or a file changed, was added or was deleted under a running one: the functions transformed so far may
   * be gone now (a renamed file's), and are looked for again when a renamed function needs it.
   */
  filesChanged(): void {
    this.transformedSinceChange.clear()
  }

  /** Functions whose phases this build generated (the lock had none current for them), for the build's closing line. */
  readonly generatedThisBuild = new Set<string>()

  /** A build starts: its functions are transformed afresh, and it has generated nothing yet. */
  startBuild(): void {
    this.filesChanged()
    this.generatedThisBuild.clear()
  }

  /** What a build that generated phases says at its end: why it was slower, and that the next one is not. */
  generatedSummary(): string | undefined {
    const n = this.generatedThisBuild.size
    if (n === 0) return undefined
    const dir = relative(this.options.root, this.options.lockDir) || '.'
    return (
      `poet: generated the phases of ${n} function${n === 1 ? '' : 's'} into ${dir}/ (only a build that finds them missing or stale does this; ` +
      `the next build reads them from the lock). Commit ${dir}/.`
    )
  }

  /** Remembers the specs a transform found (or that the module has none any more) and shapes what the hook returns. */
  private adopt(file: string, result: TransformResultLike | null): TransformOutput | null {
    for (const key of this.keysByFile.get(file) ?? []) this.specs.delete(key)
    if (!result) {
      this.keysByFile.delete(file)
      return null
    }
    const keys = result.specs.map((spec) => encodeKey(spec.id))
    result.specs.forEach((spec, i) => {
      this.specs.set(keys[i]!, { ...spec, dependencies: result.dependencies, inputHash: result.inputHashes[i]! })
      this.transformedSinceChange.add(spec.id)
    })
    this.keysByFile.set(file, keys)
    return { code: result.code, map: result.map, watchFiles: result.dependencies }
  }

  /**
   * `null` for a module without the runtime import, or one the cache remembers had nothing to rewrite; the recorded
   * transform when the module and every type file it read are unchanged; `undefined` when it has to be transformed.
   */
  private lookup(code: string, file: string, warn: TransformWarn): TransformResultLike | null | undefined {
    if (!POET_CODE_FILTER.test(code)) return null
    const hit = this.cache?.get(file, code, readFile)
    if (!hit) return undefined
    for (const { message, at } of hit.warnings) warn(message, at)
    return 'unchanged' in hit ? null : hit
  }

  /** Transforms a module (parse, scan, signatures, rewrite) and records the result in the cache. */
  private produce(code: string, file: string, warn: TransformWarn): TransformResultLike | null {
    const transformPoet = this.transformer
    const domains = this.domains
    if (!transformPoet || !domains) throw new Error('poet: internal error: a module missed the transform cache before the transformer was loaded')
    const { root } = this.options
    // Every file the type resolver tried, with what it held (undefined: not there).
    const reads = new Map<string, string | undefined>()
    const warnings: CachedWarning[] = []
    const result = transformPoet(code, file, {
      root,
      domains,
      readFile(abs) {
        const text = readFile(abs)
        reads.set(abs, text)
        return text
      },
      warn(message, at) {
        warnings.push(at ? { message, at } : { message })
        warn(message, at)
      },
    })
    // A file the resolver looked for and did not find is watched too: were it created (or a deleted one restored),
    // the types would change, and an `import type` gives the bundler no import of its own to watch.
    // Not a tsconfig.json missing above the root, though: the search for one goes up to the filesystem root, and
    // watching each directory up to / costs every watcher for a file that hardly ever appears there. The cache still
    // records them (a warm build checks they are still missing), so a later build sees one that appeared.
    // Nor where a workspace package linked nowhere yet would be linked, in each node_modules up to / (bundlers do not
    // watch node_modules either): an install that links it is seen by the next build.
    const missing = [...reads]
      .filter(([path, text]) => text === undefined && !(basename(path) === 'tsconfig.json' && outside(root, path)) && !inNodeModules(root, path))
      .map(([path]) => path)
    const hashed = this.withInputHashes(
      result && { ...result, dependencies: [...new Set([...result.dependencies, ...missing.sort()])] },
    )
    // A module with nothing to rewrite is remembered too, or every warm build would parse it again.
    this.cache?.set(
      file,
      code,
      new Map([...reads].map(([path, text]) => [path, text === undefined ? null : hashText(text)])),
      hashed ? { ...hashed, warnings } : { unchanged: true, warnings },
    )
    return hashed
  }

  private withInputHashes(result: ReturnType<typeof transformPoet>): TransformResultLike | null {
    if (!result) return null
    const { generator } = this.options
    return { ...result, inputHashes: result.specs.map((spec) => phaseInputHash(spec, generator, this.packOf(spec))) }
  }

  /** The source of phase module `<key>`: from the lock when its input hash matches, else freshly generated and locked. */
  load(key: string, warn: (message: string) => void): Promise<LoadOutput> {
    let pending = this.loading.get(key)
    if (!pending) {
      // Concurrent importers of one phase module (webpack, rspack) share one generation.
      pending = this.loadOnce(key, warn).finally(() => this.loading.delete(key))
      this.loading.set(key, pending)
    }
    return pending
  }

  private async loadOnce(key: string, warn: (message: string) => void): Promise<LoadOutput> {
    const spec = this.specs.get(key)
    let lock = this.lock.read()
    const served = spec ? await this.phasesFor(spec, lock, warn) : this.lockedFallback(key, lock)
    const id = spec?.id ?? decodeKey(key)
    // A generation wrote to the lock: what is served next is read from what it holds now.
    if (served.generated) {
      lock = this.lock.read()
      this.generatedThisBuild.add(id)
    }
    // A candidate under A/B test in the lock is served beside current, so the runtime's split runs in the bundle; a
    // generation the lock could not take brings its own.
    const memory = served.memory
    const source = !memory ? servedPhases(this.lock, id, served.source, lock) : memory.candidate ? withCandidate(served.source, memory.candidate.source, memory.candidate.share) : served.source
    this.served.set(key, { version: served.version, inputHash: served.inputHash, candidate: candidateOf(lock, id) })
    return {
      code: this.serve ? addHotSwap(source) : source,
      watchFiles: !this.withoutHmr ? [this.lock.file, ...(spec?.dependencies ?? [])] : spec ? [...spec.dependencies, spec.file] : [],
    }
  }

  /**
   * Vite dev: the keys of served phase modules that a change to `file` makes stale — its own functions, the
   * functions whose types it holds, or (for the lock) any whose current version moved. Specs are refreshed first.
   */
  async staleAfterChange(file: string, read: () => string | Promise<string>): Promise<string[]> {
    const changed = resolve(file)
    const candidates = new Set<string>(changed === resolve(this.lock.file) ? this.served.keys() : [])
    const files = new Set<string>()
    for (const [key, spec] of this.specs) {
      if (resolve(spec.file) === changed || spec.dependencies.some((d) => resolve(d) === changed)) {
        files.add(spec.file)
        candidates.add(key)
      }
    }
    if (files.size > 0 || [...this.specs.values()].some((spec) => spec.options.domain)) await this.loadTransformer()
    for (const f of files) {
      const code = resolve(f) === changed ? await read() : readFile(f)
      if (code === undefined) continue
      try {
        this.transform(code, f, () => {})
      } catch {
        // A file mid-edit may not parse; the bundler's own transform of it reports the error.
        continue
      }
      for (const key of this.keysByFile.get(f) ?? []) candidates.add(key)
    }
    return [...candidates].filter((key) => this.isStale(key))
  }

  private isStale(key: string): boolean {
    const served = this.served.get(key)
    if (!served) return false
    const spec = this.specs.get(key)
    if (spec && spec.inputHash !== served.inputHash) return true
    const id = spec?.id ?? decodeKey(key)
    const lock = this.lock.read()
    const entry = lock.functions[id]
    return !!entry && (entry.current !== served.version || candidateOf(lock, id) !== served.candidate)
  }

  /** The spec's domain pack; the registry must be loaded when the spec has a domain (phasesFor and staleAfterChange do). */
  private packOf(spec: FunctionSpec): DomainPack | undefined {
    if (!spec.options.domain) return undefined
    if (!this.domains) throw new Error(`poet: internal error: the domain registry was not loaded for ${spec.id}`)
    return this.domains.get(spec.options.domain)
  }

  /** `alone`: within this instance's own generation of it, which must not wait for itself. */
  private async phasesFor(spec: FoundSpec, lock: LockFile, warn: (message: string) => void, alone = false): Promise<ServedPhases> {
    const { generator } = this.options
    const { inputHash } = spec
    const hit = this.lock.lookup(spec.id, inputHash, lock)
    if (hit) {
      const current = lock.functions[spec.id]!.versions[hit.version]!
      // A builtin fallback keeps the LLM's input hash (so no build asks the LLM again): only the compiler it records
      // tells that this release's compiler writes other checks.
      if (generator.provider === 'builtin' || current.generator !== 'builtin' || current.compiler === BUILTIN_VERSION) return { ...hit, inputHash }
      return this.refreshFallback(spec, hit, current, lock, warn)
    }
    if (alone) return this.generate(spec, lock, warn)
    // Another plugin instance of this process is generating the same phases into the same lock: `vite build --app`
    // resolves each environment's config apart (a plugin of its own each, from a config file), and a builder that
    // builds them at once asked the LLM once per environment, each bundling its own answer, the lock keeping the last.
    const shared = `${this.lock.dir}\0${spec.id}\0${inputHash}`
    const running = GENERATING.get(shared)
    if (running) {
      await running.catch(() => {})
      return this.phasesFor(spec, this.lock.read(), warn)
    }
    const generation = this.generate(spec, lock, warn).finally(() => GENERATING.delete(shared))
    GENERATING.set(shared, generation)
    return generation
  }

  /** A generation for a spec the lock holds no current phases for (phasesFor looked). */
  private async generate(spec: FoundSpec, lock: LockFile, warn: (message: string) => void): Promise<ServedPhases> {
    const { generator } = this.options
    const { inputHash } = spec
    // Only a generation needs the pack itself: the input hash already names its version.
    if (spec.options.domain) await this.loadDomains()
    const pack = this.packOf(spec)
    if (!Object.hasOwn(lock.functions, spec.id) && (await this.adoptRenamed(spec, pack, lock, warn))) return this.phasesFor(spec, this.lock.read(), warn, true)
    if (this.options.strict && generator.provider !== 'builtin') {
      throw new Error(
        `poet: ${spec.id} has no current phases in ${this.lock.file} (missing or stale), and strict builds never call an LLM.\n` +
          `Run \`poet generate --only '${spec.id}'\` and commit ${relative(this.options.root, this.options.lockDir) || '.'}/.`,
      )
    }
    if (this.underVitest && generator.provider !== 'builtin') return this.builtinForTests(spec, pack, warn)
    const { parts, usage, variants, fallback } = await generatePhases(spec, generator, { pack, warn })
    const rendered = renderPhaseModule(spec.id, parts, { async: spec.async })
    const { model } = generatorIdentity(generator)
    const fresh: NewVersion = {
      version: rendered.version,
      source: rendered.source,
      inputHash,
      generator: parts.generator,
      ...(model ? { model } : {}),
      ...(usage ? { usage } : {}),
      ...(variants ? { variants } : {}),
      // Train works only on functions whose lock entry names the metric to improve.
      ...(spec.options.optimizeFor ? { optimizeFor: spec.options.optimizeFor } : {}),
      ...(spec.options.domain ? { domain: spec.options.domain } : {}),
      // As `poet generate` records it, so `poet status` and the next generate see the fallback for what it is.
      reason: fallback ? fallbackReason(fallback) : 'build',
      ...(fallback ? { compiler: BUILTIN_VERSION, fallback } : {}),
    }
    const entry = lock.functions[spec.id]
    const upgrade = compilerUpgradeOnly(spec, generator, pack, entry?.versions[entry.current])
    // Another process may be generating the same phases (`vite build` beside an SSR build, each asking the LLM): the
    // first to write wins, and the other serves that version too, or the page and the server bundled different checks.
    const planned = await planGeneration(this.lock, spec.id, fresh, upgrade, true)
    const locked = await this.lockGeneration(spec.id, planned, generatorIdentity(generator).generator, warn)
    const won = locked ? this.lock.lookup(spec.id, inputHash) : undefined
    if (won && won.version !== planned.version) return { ...won, inputHash, generated: true }
    if (planned.kept) warn(`poet: ${spec.id}: regenerated by a newer builtin compiler; kept what Train promoted in ${planned.kept} (now ${planned.version})`)
    if (planned.lost) warn(`poet: ${spec.id}: regenerated by a newer builtin compiler; ${planned.lost}`)
    if (planned.replaced) warn(`poet: ${spec.id}: ${describeReplaced(planned.replaced, planned.version)}`)
    if (planned.test) warn(`poet: ${spec.id}: ${upgrade ? 'regenerated by a newer builtin compiler; ' : ''}${describeTest(planned.test)}`)
    return { version: planned.version, source: planned.source, inputHash, generated: true, ...(locked ? {} : { memory: { candidate: planned.candidate } }) }
  }

  /**
   * A function renamed or moved, without an entry under its new id, takes over its old entry (its phases, paid for when
   * an LLM wrote them, every version, what Train promoted): when exactly one entry was made from the same inputs and its
   * function is gone. True when the lock now has an entry for it (adopted here, or by a build running beside this one).
   */
  private async adoptRenamed(spec: FoundSpec, pack: DomainPack | undefined, lock: LockFile, warn: (message: string) => void): Promise<boolean> {
    // A function this build transformed, with no file changed since, is not gone, so its entry is nobody's former
    // one. In a cold build the lock fills with the build's own functions: without this, each new function hashed its
    // inputs again under the name of every entry before it (quadratic), and would read and parse their files.
    const present = (id: string) => this.transformedSinceChange.has(id) && this.specs.has(encodeKey(id))
    const orphans = Object.entries(lock.functions).filter(([id]) => id !== spec.id && !present(id))
    if (orphans.length === 0) return false
    const hashes = renameHashesFrom(spec, this.options.generator, pack)
    // Most misses are new functions, whose inputs no entry holds: no file is read for them.
    if (!orphans.some(([id, e]) => [...hashes.same, ...hashes.named(id)].includes(e.versions[e.current]?.inputHash ?? ''))) return false
    // Another function of this build made from the same inputs (a copy) could be the renamed one just as well.
    if ([...this.specs.values()].some((o) => o.id !== spec.id && o.inputHash === spec.inputHash && !Object.hasOwn(lock.functions, o.id))) return false
    await this.loadTransformer()
    const from = renamedFrom(lock, spec.id, hashes, (id) => !present(id) && this.gone(id))
    if (from === undefined) return false
    try {
      if (this.lock.rename(from, spec.id, rehashFrom(hashes, from))) {
        warn(
          `poet: ${spec.id}: took over the lock entry of ${from}, renamed or moved with the same source, options and types: ` +
            `its phases, versions and what Train changed go on under the new id. Commit ${relative(this.options.root, this.options.lockDir) || '.'}/.`,
        )
      }
    } catch (e) {
      // A read-only lock: the function is generated as a new one, as before.
      if (!refusedWrite(e)) throw e
      return false
    }
    return Object.hasOwn(this.lock.read().functions, spec.id)
  }

  /**
   * Whether function `id` is no longer in the project. A build may see only some of its files, so the file the id
   * names is read: the function is gone when the file is not there, is left out by include/exclude, or no longer
   * declares it. A file that does not parse keeps its functions, as far as anyone can tell.
   */
  private gone(id: string): boolean {
    const file = resolve(this.options.root, id.slice(0, id.lastIndexOf('#')))
    const code = readFile(file)
    const { include, exclude, root } = this.options
    if (code === undefined || !matcher(include, root)(file) || matcher(exclude, root)(file)) return true
    try {
      return !this.transformer!(code, file, { root, domains: this.domains!, readFile, warn: () => {} })?.specs.some((s) => s.id === id)
    } catch {
      return false
    }
  }

  /**
   * A builtin fallback (the LLM's answer failed verification) that an earlier builtin compiler wrote, regenerated by
   * this release's compiler offline, as a builtin entry is after an upgrade (Train's values and a running A/B test
   * kept): the LLM is not asked again (`poet generate` does that).
   */
  private async refreshFallback(spec: FoundSpec, hit: { version: string; source: string }, current: LockVersion, lock: LockFile, warn: (message: string) => void): Promise<ServedPhases> {
    if (spec.options.domain) await this.loadDomains()
    const { generateBuiltin } = await import('../generators/builtin')
    const rendered = renderPhaseModule(spec.id, generateBuiltin(spec, { pack: this.packOf(spec) }), { async: spec.async })
    const versions = Object.values(lock.functions[spec.id]!.versions)
    // Why the LLM's answer was refused, as the fallback recorded it (a trained current's reason is Train's).
    const fell = versions.filter((v) => v.inputHash === current.inputHash && fallbackWhy(v) !== undefined).sort((a, b) => b.created.localeCompare(a.created))[0]
    const why = fell ? fallbackWhy(fell)! : ''
    const fresh: NewVersion = {
      version: rendered.version,
      source: rendered.source,
      inputHash: spec.inputHash,
      generator: 'builtin',
      ...(current.model ? { model: current.model } : {}),
      ...(spec.options.optimizeFor ? { optimizeFor: spec.options.optimizeFor } : {}),
      ...(spec.options.domain ? { domain: spec.options.domain } : {}),
      reason: fallbackReason(why),
      compiler: BUILTIN_VERSION,
      fallback: why,
    }
    const planned = await planGeneration(this.lock, spec.id, fresh, true)
    if (planned.version === hit.version && !planned.test) {
      // The same module: only the compiler it records is new, nothing to serve differently or to warn about.
      try {
        await planned.write()
      } catch (e) {
        if (!refusedWrite(e)) throw e
      }
      return { ...hit, inputHash: spec.inputHash, generated: true }
    }
    const locked = await this.lockGeneration(spec.id, planned, 'builtin', warn)
    const llm = current.model ?? 'the LLM'
    warn(`poet: ${spec.id}: its builtin fallback was written by an earlier builtin compiler; regenerated offline by this release's compiler, without asking ${llm} again (\`poet generate\` asks it again)`)
    if (planned.kept) warn(`poet: ${spec.id}: kept what Train promoted in ${planned.kept} (now ${planned.version})`)
    if (planned.lost) warn(`poet: ${spec.id}: ${planned.lost}`)
    if (planned.test) warn(`poet: ${spec.id}: ${describeTest(planned.test)}`)
    return { version: planned.version, source: planned.source, inputHash: spec.inputHash, generated: true, ...(locked ? {} : { memory: { candidate: planned.candidate } }) }
  }

  /**
   * A Vitest run with an LLM generator and no current phases for `spec`: every run, watch mode at each save, would
   * spend tokens without a word, on phases nobody reviewed. The tests run with what the builtin generator writes
   * from the same signature and domain (offline, deterministic), served from memory: the lock keeps its place for the
   * LLM's phases, which `poet generate` writes.
   */
  private async builtinForTests(spec: FoundSpec, pack: DomainPack | undefined, warn: (message: string) => void): Promise<ServedPhases> {
    const { generateBuiltin } = await import('../generators/builtin')
    const rendered = renderPhaseModule(spec.id, generateBuiltin(spec, { pack }), { async: spec.async })
    if (!this.testedWithBuiltin.has(spec.id)) {
      this.testedWithBuiltin.add(spec.id)
      const dir = relative(this.options.root, this.options.lockDir) || '.'
      warn(
        `poet: ${spec.id} has no current phases in ${dir}/lock.json (missing or stale), and a Vitest run never asks an LLM: ` +
          `its tests run with builtin phases, kept out of the lock. To test the LLM's phases, run \`poet generate --only '${spec.id}'\` and commit ${dir}/.`,
      )
    }
    return { version: rendered.version, source: rendered.source, inputHash: spec.inputHash, memory: {} }
  }

  /**
   * Writes a generation into the lock; false when `.poet/` refused it and the generation, being `by` the builtin
   * compiler (deterministic, offline, free to redo), is to be served from memory. A read-only checkout (Nix, Bazel, a
   * read-only mount) still builds what a writable one would, and is told once how to make the lock current.
   */
  private async lockGeneration(id: string, planned: PlannedGeneration, by: string, warn: (message: string) => void): Promise<boolean> {
    const offline = by === 'builtin'
    try {
      await planned.write()
      return true
    } catch (e) {
      if (!refusedWrite(e)) throw e
      const dir = relative(this.options.root, this.options.lockDir) || '.'
      const why = `${dir}/ cannot be written (${(e as Error).message})`
      if (!offline) {
        throw new Error(
          `poet: ${id}: ${why}, so the phases ${by} generated for it cannot be kept in the lock (a build serves an LLM's phases only from the lock, where they are reviewed and paid for once). ` +
            `Run \`poet generate\` where ${dir}/ is writable and commit ${dir}/.`,
        )
      }
      if (!this.lockUnwritable) {
        this.lockUnwritable = true
        warn(
          `poet: ${why}: the phases of ${id}, and of every other function whose lock entry is missing or stale, are served from memory, ` +
            `generated offline by the builtin compiler as they would be written. Run \`poet generate\` where ${dir}/ is writable and commit ${dir}/, so builds read them from the lock.`,
        )
      }
      return false
    }
  }

  /**
   * A phase module asked for before (or without) the transform of its function, e.g. by a dev server that
   * restarted with a warm module cache: the lock's current version is the best answer there is.
   */
  private lockedFallback(key: string, lock: LockFile): ServedPhases {
    const id = decodeKey(key)
    const entry = lock.functions[id]
    const source = entry && this.lock.source(id, entry.current, lock)
    if (!entry || source === undefined) {
      throw new Error(
        `poet: no phases for "${id}" (virtual:poet/${key}): no transformed module declares this function, ` +
          `and ${this.lock.file} has no current version of it. Check that the file defining it is included by the ` +
          `plugin's include/exclude options, or run \`poet generate\`.`,
      )
    }
    return { version: entry.current, source }
  }
}

/** A transform's result, fresh or replayed from the cache (whose map is plain JSON). */
type TransformResultLike = Omit<CachedTransform, 'warnings'>

/** Takes a transform warning: its message names its place, `at` gives the place apart (for Rollup's `loc`). */
export type TransformWarn = (message: string, at?: WarningSite) => void

interface ServedPhases {
  version: string
  source: string
  /** Absent when served from the lock without a spec to hash. */
  inputHash?: string
  /** Freshly generated: the lock changed. */
  generated?: boolean
  /** Generated but not in the lock (`.poet/` refused the write): served as it is, with this candidate beside it. */
  memory?: { candidate?: { source: string; share: number } }
}

/**
 * This build of the plugin: the size and time of the file holding this code, so a new version (or a rebuilt dist/)
 * never replays what an older transform recorded.
 */
const PLUGIN_BUILD = (() => {
  const { size, mtimeMs } = statSync(fileURLToPath(import.meta.url))
  return `${size}:${mtimeMs}`
})()

/** The lock's candidate for `id` as served (version and share), to notice when Train starts, changes or ends a test. */
function candidateOf(lock: LockFile, id: string): string | undefined {
  const c = lock.functions[id]?.candidate
  return c && `${c.version}@${c.share}`
}

/** An error of the file system refusing a write (read-only, no permission, a file where a directory must be, full). */
function refusedWrite(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return code !== undefined && ['EROFS', 'EACCES', 'EPERM', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENOSPC', 'EDQUOT'].includes(code)
}

/** Whether `file` lies outside the directory `root`. */
function outside(root: string, file: string): boolean {
  const rel = relative(root, file)
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)
}

/** Whether `file` lies in a node_modules directory, the root's own ancestors aside (a project may sit under one). */
function inNodeModules(root: string, file: string): boolean {
  return relative(root, file).split(sep).includes('node_modules')
}
