// The one unplugin factory: wires each bundler's hooks to a PoetContext, and nothing else.
import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { extname, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Loader, Metafile, PluginBuild } from 'esbuild'
import type { UnpluginContextMeta, UnpluginFactory, UnpluginOptions } from 'unplugin'
import { LOCK_SETTLE_MS, PoetContext } from './context'
import type { DevServer } from './dev-server'
import { PoetBuildError, rollupLoc, type WarningSite } from './errors'
import { DEFAULT_EXCLUDE, NODE_MODULES, type Options } from './options'
import { installedPackage, matcher } from './filter'
import { fileOf, POET_CODE_FILTER, RESOLVED_PREFIX } from './ids'
import { COMPONENT_FILE, componentParts, keepOnly } from './sfc'
import { restoreComponentSources } from './component-maps'
import { DEV_KEY_PREFIX, ESBUILD_LOAD_FILTER, LOAD_FILTER, RESOLVE_FILTER, keyOf, mapWebpackScheme, resolveVirtual } from './virtual'

/**
 * Vite dev serves a web worker's module as `<file>?worker_file&type=module`, which include patterns written for files
 * (ending in their extension) never match: its functions ran without phases, though the build gives them theirs.
 */
const WORKER_QUERY = /[?&]worker_file(?:&|$)/
/**
 * vue-loader's request for a component's script (`Cart.vue?vue&type=script&setup=true&lang.ts`). In webpack and
 * rspack a loader reads the file itself for every request, and vue-loader parses the whole component again for this
 * one and compiles the script it finds, not the one of the component's own request: its poet functions got no phases.
 */
const VUE_SCRIPT_REQUEST = /\.vue\?vue&type=script(?:&|$)/

/** What one build says once. */
interface SaidOnce {
  /** The warning that feedback.endpoint reaches no page here (a Vite SSR or library build, another bundler). */
  saidEndpoint: boolean
  /** The warning that feedback.endpoint reaches no web worker's runtime. */
  saidWorkerEndpoint: boolean
  /** The warnings of this build so far: a module both the page and a worker import is transformed by both. */
  warnings: Set<string>
  /**
   * Vite: the environments whose bundle started since the warnings were cleared. One starting again is a new build of
   * it (a watch rebuild, another build from the same config), which says again what still holds.
   */
  started: Set<string>
}

const saidNothing = (): SaidOnce => ({ saidEndpoint: false, saidWorkerEndpoint: false, warnings: new Set(), started: new Set() })

/**
 * What a Vite build said, by the inline config every config it resolves refers to (`config.inlineConfig`): that of each
 * environment `vite build --app` builds (client, ssr, custom ones; resolved apart, each with plugins of its own when
 * they come from a config file) and that of each web worker's bundle. Each of them transforms a module they share,
 * and said its warnings again: a page, its worker, SSR and an edge environment said each one four times.
 */
const saidInViteBuilds = new WeakMap<object, SaidOnce>()

/** The copies a Vite build runs on its worker bundles, by the meta they were made with: such a copy adds no copy of its own. */
const workerCopies = new WeakSet<UnpluginContextMeta>()

export const unpluginFactory: UnpluginFactory<Options | undefined, false> = (raw, meta) => {
  const forWorkers = workerCopies.has(meta)
  /** A Vite build: what it and its other environments and workers said, once its config is resolved. */
  let viteSaid: SaidOnce | undefined
  const webpackLike = meta.framework === 'webpack' || meta.framework === 'rspack'
  // webpack and rspack transform a Vue component twice, for its own request and its script's: what the first says, the
  // second does not say again.
  const saidInBuild: SaidOnce | undefined = webpackLike ? saidNothing() : undefined
  /** False for a warning this build (the page's bundle, a worker's, another environment's) already gave. */
  const firstTime = (warning: string) => {
    const said = (viteSaid ?? saidInBuild)?.warnings
    if (!said) return true
    if (said.has(warning)) return false
    said.add(warning)
    return true
  }
  const ctx = new PoetContext(raw)
  // A build error as each bundler shows it best: Rollup, Rolldown and Vite print its `frame` under the message
  // themselves; webpack's persistent cache stores only built-in error classes; rspack and esbuild show it as it is.
  const present =
    meta.framework === 'rollup' || meta.framework === 'rolldown' || meta.framework === 'vite'
      ? (e: PoetBuildError) => e.unframed()
      : meta.framework === 'webpack'
        ? (e: PoetBuildError) => e.plain()
        : (e: PoetBuildError) => e
  const ownOrder = meta.framework === 'rollup' || meta.framework === 'rolldown'
  // webpack and rspack keep the stack of the Error unplugin makes of a warning: rspack printed its ten frames (inside
  // unplugin and this plugin) under every warning, webpack a note that details were hidden. Without one, the message.
  const warning =
    webpackLike ? (message: string) => ({ message, stack: '' }) : (message: string) => message
  // A transform warning with a place: Rollup and Rolldown print the place of a warning that has `loc` (and Rollup its
  // frame) in front of its message, which then named the file twice; so does a Vite dev server, and a Vite build on
  // Rollup. A Vite build on Rolldown prints the message alone, which must name the place itself. The place they print
  // has the column every message of poet's has (1-based): a Vite dev server prints it as `File: path:line:column`.
  const placed = (context: object, message: string, at: WarningSite | undefined) => {
    if (!at) return warning(message)
    if (meta.framework === 'rollup' || meta.framework === 'rolldown' || (meta.framework === 'vite' && (ctx.serve || !onRolldown(context)))) {
      return { message: at.reason, loc: rollupLoc(at.loc), frame: at.frame }
    }
    return warning(message)
  }
  // A Vite dev server makes each watched file an import of the module, resolved for the page: a file the type resolver
  // looked for and did not find (the tsconfig.json of a subdirectory) failed the module with "Failed to resolve
  // import". The dev server sees such a file appear through its own watcher and the sources it remembers.
  const watch = (context: { addWatchFile(file: string): void }, files: string[]) => {
    for (const file of files) if (!ctx.serve || existsSync(file)) context.addWatchFile(file)
  }
  // The feedback.endpoint warning is said once per plugin instance (in Vite, per build), not at every rebuild of a watch.
  let saidEndpoint = false
  const endpointSaidBefore = () => {
    const before = viteSaid ? viteSaid.saidEndpoint : saidEndpoint
    if (viteSaid) viteSaid.saidEndpoint = true
    else saidEndpoint = true
    return before
  }
  /**
   * Vite: the environments of this build that have no page for feedback.endpoint (SSR, library, script entries), each
   * with what it is and whether a module of it configures a sink.
   */
  const pageless = new Map<string, { build: string; sink: boolean }>()
  /** In a worker copy: the first module of this worker's bundle that imports the runtime. */
  let workerRuntime: string | undefined
  /** In a worker copy: whether a module of this worker's bundle configures a sink, as the warning asks. */
  let workerSink = false
  /** This instance bundles a Vite worker: ours, or one the user listed in `worker.plugins`. */
  let inWorker = false
  // Only a Vite dev server has one: the collector, dashboard and trainer (SQLite) never load for a build.
  let dev: DevServer | undefined
  /** This Vite config is `vite preview`'s. */
  let preview = false
  /** Vite's logger, once the config is resolved: what a build says that is no warning. */
  let logInfo: ((message: string) => void) | undefined
  const { include } = ctx.options
  // With the default exclude, node_modules is told apart in the handler where the bundler filters by code before any
  // hook runs (Vite, Rollup, Rolldown): a workspace package reached through its link (preserveSymlinks) has a
  // node_modules path, and a filter sees only paths. There, only modules importing the runtime get that far; the other
  // bundlers would hand the plugin every module of node_modules to read.
  const ownNodeModules = ctx.options.exclude === DEFAULT_EXCLUDE && (meta.framework === 'vite' || meta.framework === 'rollup' || meta.framework === 'rolldown')
  const exclude = ownNodeModules ? DEFAULT_EXCLUDE.filter((r) => r !== NODE_MODULES) : ctx.options.exclude
  const excluded = (file: string) => matcher(exclude, ctx.options.root)(file) || (ownNodeModules && installedPackage(file))
  const includes = include === null || include === undefined ? [] : Array.isArray(include) ? include : [include]
  // Modules that include patterns written for files (ending in their extension) would not match by their query.
  const queried = meta.framework === 'vite' ? WORKER_QUERY : webpackLike ? VUE_SCRIPT_REQUEST : undefined
  // The id filter lets Vite dev's worker modules and vue-loader's script requests through by their query; the file
  // itself is then held to the options.
  const takesFile = (file: string) =>
    (includes.length === 0 || matcher(include, ctx.options.root)(file)) && !excluded(file)
  // esbuild: what the build maps extensions to (`loader: { '.js': 'jsx' }`), which the transformed code must keep.
  let esbuildLoaders: Record<string, Loader> = {}
  /** Vite, Rollup and Rolldown: the rewritten text of each component (by file), with its original. */
  const components = new Map<string, { rewritten: string; original: string }>()
  const generateBundle = (_options: unknown, bundle: Parameters<typeof restoreComponentSources>[0]) =>
    restoreComponentSources(bundle, new Map([...components.values()].map((c) => [c.rewritten, c.original])))

  return {
    name: 'unplugin-poet',
    enforce: 'pre',

    // Custom domain packs are checked when the build starts (the registry loads lazily): a bad one stops it there.
    async buildStart() {
      // A watch rebuild says again what still holds. A worker's bundle starts within its page's.
      const environment = environmentOf(this)
      if (viteSaid && !inWorker) {
        if (viteSaid.started.has(environment)) {
          viteSaid.warnings.clear()
          viteSaid.started.clear()
        }
        viteSaid.started.add(environment)
        pageless.delete(environment)
      }
      saidInBuild?.warnings.clear()
      ctx.startBuild()
      if (ctx.options.domains.length > 0) await ctx.loadDomains()
    },

    // A file changed, added or deleted under watch: functions transformed before may be gone (Vite's own hook below too).
    watchChange() {
      ctx.filesChanged()
    },

    resolveId: {
      filter: { id: RESOLVE_FILTER },
      handler: (id) => resolveVirtual(id) ?? null,
    },

    load: {
      filter: { id: LOAD_FILTER },
      async handler(id) {
        const key = keyOf(id)
        if (key === undefined) return null
        if (dev && key.startsWith(DEV_KEY_PREFIX)) return { code: dev.devModule(key, consumerOf(this), environmentOf(this)), map: null }
        const out = await ctx.load(key, (message) => firstTime(message) && this.warn(warning(message)))
        watch(this, out.watchFiles)
        return { code: out.code, map: null }
      },
    },

    // unplugin runs these filters natively (Vite, Rolldown, Rollup ≥ 4.40) or emulates them (webpack, rspack,
    // esbuild), so a module without the runtime import never reaches the parser on any bundler.
    transform: {
      // Rollup and Rolldown ignore `enforce` and run plugins in the order listed: after a TS plugin, poet() saw code
      // without its types (and @poet already lowered), and accepted anything. `order: 'pre'` puts it first there.
      order: ownOrder ? 'pre' : undefined,
      filter: { id: { include: includes.length > 0 && queried ? [...includes, queried] : include, exclude }, code: POET_CODE_FILTER },
      async handler(code, id) {
        const file = fileOf(id)
        if (ownNodeModules && installedPackage(file)) return null
        if (id.includes('?') && COMPONENT_FILE.test(file)) {
          // In Vite, Rollup and Rolldown a part of a component (`App.vue?vue&type=script&lang.ts`, `?raw`) is what the
          // framework's plugin split from the component it was given, which was transformed, script blocks and all.
          // vue-loader's script request holds the whole file again: rewritten as the component's own request was, so
          // that both parse the same text (in production, Vue's scope id is a hash of it).
          if (!webpackLike || !VUE_SCRIPT_REQUEST.test(id) || !takesFile(file)) return null
        }
        if (WORKER_QUERY.test(id) && !takesFile(file)) return null
        // Said at the first poet module, as build hooks cannot warn on every bundler (and without one, nothing is sent).
        const { feedback } = ctx.options
        if (feedback && feedback.endpoint && inWorker) {
          // Weighed when the worker's bundle is done (buildEnd), by the worker copy only: a user's own instance beside it
          // would say it twice.
          if (forWorkers) {
            workerRuntime ??= file
            workerSink ||= CONFIGURES_SINK.test(code)
          }
        } else if (feedback && feedback.endpoint) {
          if (meta.framework !== 'vite') {
            if (!endpointSaidBefore()) this.warn(warning(endpointUnused(`${BUNDLER_NAMES[meta.framework] ?? meta.framework} build`, feedback.endpoint)))
          } else if (!ctx.serve) {
            // Weighed when the environment's bundle is done (buildEnd): an SSR entry that configured its sink, as the
            // warning asks, was still told that its events go nowhere, with nothing left to do to silence it.
            const build = pagelessViteBuild(this)
            const environment = environmentOf(this)
            const seen = pageless.get(environment)
            if (seen) seen.sink ||= CONFIGURES_SINK.test(code)
            else if (build) pageless.set(environment, { build, sink: CONFIGURES_SINK.test(code) })
          }
        }
        // Build errors are thrown, not passed to this.error: not every bundler stops on this.error. esbuild does (the
        // module's errors fail the build), and prints a thrown one with a note on where esbuild's own code registered
        // the callback, and unplugin's call stack: there it is reported instead, the module handed back as it came.
        let failed = false
        const out = await ctx.transformAsync(code, file, (message, at) => firstTime(message) && this.warn(placed(this, message, at))).catch((e: unknown) => {
          if (!(e instanceof PoetBuildError)) throw e
          if (meta.framework !== 'esbuild') throw present(e)
          this.error({ message: e.message, plugin: e.plugin, meta: e })
          failed = true
        })
        if (failed) return { code, map: null }
        if (!out) return null
        watch(this, out.watchFiles)
        if (!dev && !webpackLike && COMPONENT_FILE.test(file)) components.set(file, { rewritten: out.code, original: code })
        if (!dev) return { code: out.code, map: wantsSourceMap(this) ? out.map : null }
        dev.remember(file, code, out.watchFiles)
        return dev.decorate(out.code, out.map, file)
      },
    },

    vite: {
      generateBundle(options, bundle) {
        generateBundle(options, bundle)
        const config = viteConfig(this)
        const chunks = Object.values(bundle).filter((chunk) => chunk.type === 'chunk')
        if (!config || !chunks.some((chunk) => chunk.moduleIds.includes(RUNTIME_FILE))) return
        if (config.build.lib) this.warn(warning(LIBRARY_BUNDLES_RUNTIME))
        else if (config.consumer === 'server' || config.build.ssr) {
          const apart = poetPackagesImported(chunks.flatMap((chunk) => [...chunk.imports, ...chunk.dynamicImports]).filter((id) => !(id in bundle)), ctx.options.root)
          if (apart.length > 0) this.warn(warning(serverRuntimeCopies(apart)))
        }
      },
      // A cold build is slower than the next (Rolldown may name this plugin in a PLUGIN_TIMINGS warning): it says why.
      closeBundle() {
        const summary = ctx.serve || inWorker ? undefined : ctx.generatedSummary()
        if (summary) logInfo?.(summary)
      },
      // Once per worker bundle, said once for all the build's workers; once per build for its environments without a
      // page. One that configures its own sink was still told that its events go nowhere, with nothing left to do to
      // silence it.
      buildEnd() {
        const { feedback } = ctx.options
        if (!feedback || !feedback.endpoint) return
        if (!forWorkers) {
          const seen = pageless.get(environmentOf(this))
          // A library that configures a sink is told all the same: it would replace the sinks of the app that imports it.
          if (seen && (!seen.sink || seen.build === LIBRARY_BUILD) && !endpointSaidBefore()) this.warn(warning(endpointUnused(seen.build, feedback.endpoint)))
          return
        }
        if (!viteSaid || viteSaid.saidWorkerEndpoint || !workerRuntime || workerSink) return
        viteSaid.saidWorkerEndpoint = true
        this.warn(warning(workerEndpointUnused(feedback.endpoint, projectFile(ctx.options.root, workerRuntime))))
      },

      // A Vite build bundles each web worker apart, with `worker.plugins` and not `plugins`: poet() functions in a
      // worker (new Worker(new URL('./w.ts', import.meta.url)), './w.ts?worker') got no phases, without a word. Vite
      // appends what this returns to the user's own worker plugins. (A dev server runs `plugins` on workers too.)
      config(_config, env) {
        preview = env.isPreview === true
        if (forWorkers || env.command !== 'build') return
        const copy: UnpluginContextMeta = { ...meta }
        workerCopies.add(copy)
        return { worker: { plugins: () => [viteCopy(unpluginFactory(raw, copy))] } }
      },
      async configResolved(config) {
        inWorker = (config as { isWorker?: boolean }).isWorker === true
        const build = (config as { inlineConfig?: object }).inlineConfig
        if (config.command === 'build' && build) {
          viteSaid = saidInViteBuilds.get(build) ?? saidNothing()
          saidInViteBuilds.set(build, viteSaid)
        }
        ctx.setRoot(config.root)
        ctx.serve = config.command === 'serve'
        logInfo = (message) => config.logger.info(message)
        // `vite preview` resolves its config as a dev server would, but serves a build: no dev server to set up.
        if (!ctx.serve || preview) return
        // Vite calls no hotUpdate hook without HMR (Vitest turns it off): phase modules then follow their function's
        // own file through the module graph (PoetContext.load) and the lock through watchChange.
        ctx.withoutHmr = config.server.hmr === false
        // Vitest runs the tests on a dev server of its own. Test calls are not traffic to learn from: no collector,
        // dashboard or trainer, and no sink set up (the dev endpoint is not served there, and feedback.endpoint would
        // take them for production calls); onEvent listeners still get every event.
        ctx.underVitest = config.plugins.some((p) => VITEST_PLUGIN.test(p.name))
        if (ctx.underVitest) return
        dev = new (await import('./dev-server')).DevServer(ctx)
        await ctx.loadTransformer()
      },
      configureServer: (server) => dev?.configureServer(server),
      async configurePreviewServer(server) {
        ;(await import('./preview-server')).configurePreviewServer(ctx, server)
      },
      // Without HMR no hotUpdate hook runs, and phase modules do not watch the lock (PoetContext.load): the phase
      // modules a moved lock (`poet rollback`, a trainer) makes stale are dropped here, to be loaded afresh when next
      // asked for, in every environment (Vite calls this hook for the client's alone unless told otherwise, and Vitest
      // runs the tests in another).
      perEnvironmentWatchChangeDuringDev: true,
      async watchChange(id) {
        ctx.filesChanged()
        const env = this.environment
        if (!ctx.withoutHmr || resolve(id) !== resolve(ctx.lock.file) || !('moduleGraph' in env)) return
        const drop = async () => {
          for (const key of await ctx.staleAfterChange(id, () => '')) {
            const mod = env.moduleGraph.getModuleById(RESOLVED_PREFIX + key)
            if (mod) env.moduleGraph.invalidateModule(mod)
          }
        }
        await drop()
        // The file watcher does not report a second change to one file within 50 ms of the first (this plugin's own
        // write of new phases, then a promotion right after): the lock is read again once such writes are over.
        setTimeout(() => void drop(), LOCK_SETTLE_MS).unref()
      },
      // Phase modules self-accept and copy a new version into the object the runtime holds: updating just them
      // hot-swaps validation and policy without re-running (or reloading) the code that calls the function.
      hotUpdate(update) {
        return dev?.hotUpdate(this.environment, update)
      },
      // A built page sends its events to `feedback.endpoint`, when one is set, without any setup in app code.
      // `pre`, so that Vite then resolves the inline script's bare import like any other.
      transformIndexHtml: {
        order: 'pre',
        handler() {
          const children = ctx.feedbackSetup()
          if (children) return [{ tag: 'script', attrs: { type: 'module' }, children, injectTo: 'head-prepend' }]
        },
      },
    },
    rollup: {
      generateBundle,
      // @rollup/plugin-typescript emits JavaScript from its load hook: no transform ever sees the TypeScript source,
      // so poet() found functions without their types (no validation) and @poet methods already compiled, silently.
      options(input) {
        const plugins = ([input.plugins] as unknown[]).flat(Infinity)
        if (plugins.some((p) => isPlugin(p) && p.name === 'typescript' && p.load)) this.warn(TS_PLUGIN_LOADS)
      },
      // A phase module imports the issue helpers domain rules may call (add, addReceived, describe: the contract of
      // custom packs too), used or not. With the runtime external (a Node build without node-resolve), Rollup warned
      // of every unused one on every build; bundled, tree-shaking drops them silently, as every other bundler does.
      onLog(_level, log) {
        if (log.code === 'UNUSED_EXTERNAL_IMPORT' && log.ids?.length && log.ids.every((id) => keyOf(id) !== undefined)) return false
      },
    },
    rolldown: {
      generateBundle,
      options(input) {
        if (input.cwd) ctx.setRoot(input.cwd)
      },
    },
    webpack(compiler) {
      ctx.setRoot(compiler.context)
      mapWebpackScheme(compiler)
    },
    rspack(compiler) {
      ctx.setRoot(compiler.context)
    },
    esbuild: {
      onResolveFilter: RESOLVE_FILTER,
      onLoadFilter: ESBUILD_LOAD_FILTER,
      loader: (_code, id) => (keyOf(id) === undefined ? sourceLoader(id, esbuildLoaders) : 'js'),
      config(options) {
        if (options.absWorkingDir) ctx.setRoot(options.absWorkingDir)
        esbuildLoaders = options.loader ?? {}
      },
      setup: (build) => warnOfLoadedComponents(build, ctx.options.root, takesFile),
    },
  }
}

/**
 * esbuild hands a file to the first plugin whose onLoad returns it, and no other plugin sees what that one made: a Vue
 * or Svelte plugin loads and compiles its components itself, and their poet() functions ran without generated
 * validation, without a word. Taking components over first would not help either, as the framework's plugin would
 * then never compile them. So the build's metafile (turned on for this, and taken off the result again when the user
 * did not ask for it) names the components it bundled, and the build warns once of those whose script imports the
 * runtime. esbuild adds an onEnd callback's warnings to the result without logging them: printed here as it would.
 */
function warnOfLoadedComponents(build: PluginBuild, root: string, takesFile: (file: string) => boolean): void {
  const options = build.initialOptions
  const own = options.metafile === true
  options.metafile = true
  const dir = options.absWorkingDir ?? process.cwd()
  build.onEnd(async (result) => {
    const metafile: Metafile | undefined = result.metafile
    if (!own) delete result.metafile
    const files = new Set<string>()
    for (const input of Object.keys(metafile?.inputs ?? {})) {
      // `vue:src/Cart.vue?type=script`: the plugin's namespace and query off, the file on disk stays.
      const file = resolve(dir, input.replace(/^[\w-]{2,}:/, '').replace(/\?.*$/, ''))
      if (COMPONENT_FILE.test(file) && takesFile(file) && importsRuntime(file)) files.add(projectFile(root, file))
    }
    if (files.size === 0) return
    const [it, these] = files.size === 1 ? ['it', 'this component'] : ['them', 'these components']
    const warning = {
      pluginName: 'unplugin-poet',
      text:
        `poet() functions in ${[...files].sort().join(', ')} run without generated validation: in esbuild, the plugin ` +
        `that compiles ${these} loads ${it} itself, and esbuild passes what one plugin loaded to no other, so the poet ` +
        `plugin never sees ${it}. Move the functions to a .ts file next to the component and import them from there, or ` +
        `build with Vite, Rollup, Rolldown, webpack or rspack, where components are rewritten.`,
    }
    if (!['silent', 'error'].includes(options.logLevel ?? 'warning')) {
      const color = options.color ?? process.stderr.isTTY
      process.stderr.write((await build.esbuild.formatMessages([warning], { kind: 'warning', color })).join(''))
    }
    return { warnings: [warning] }
  })
}

/** Whether a component's script blocks import the runtime (a file gone since it was bundled holds nothing). */
function importsRuntime(file: string): boolean {
  let code: string
  try {
    code = readFileSync(file, 'utf8')
  } catch {
    return false
  }
  return POET_CODE_FILTER.test(keepOnly(code, componentParts(code, file).scripts))
}

/** A plugin as Vite takes it: its `vite` hooks merged on top, as the Vite entry's adapter does (./adapter.ts). */
function viteCopy(plugin: UnpluginOptions): UnpluginOptions {
  return Object.assign(plugin, plugin.vite)
}

const TS_PLUGIN_LOADS =
  '@rollup/plugin-typescript compiles .ts files in its load hook, before any transform: poet() then reads your ' +
  'functions without their types, generates no validation from them, and misses @poet methods. Unless it only emits ' +
  'declarations (emitDeclarationOnly), strip types with a plugin that transforms instead: rollup-plugin-esbuild, ' +
  '@rollup/plugin-swc, @rollup/plugin-sucrase or rollup-plugin-typescript2.'

function isPlugin(p: unknown): p is { name?: unknown; load?: unknown } {
  return typeof p === 'object' && p !== null
}

const BUNDLER_NAMES: Record<string, string> = { rollup: 'Rollup', rolldown: 'Rolldown', esbuild: 'esbuild', webpack: 'webpack', rspack: 'rspack' }

/**
 * `feedback.endpoint` is put into a page by Vite's index.html hook; other bundlers, and Vite's SSR and library
 * builds, have no page to put it in, and the option was set and silently did nothing there.
 */
function endpointUnused(build: string, endpoint: string): string {
  // A library's configure() would replace the sinks of every app that imports it (and close them): its functions run
  // in the app's runtime, and send their events wherever the app does.
  if (build === LIBRARY_BUILD) {
    return (
      `the poet plugin's feedback.endpoint (${endpoint}) does nothing in a Vite library build: the library's poet functions ` +
      `send their events through the runtime of the app that imports it, to the sinks that app sets up (its own feedback.endpoint, ` +
      `or configure() in its code). Leave feedback out of the library's plugin options, and configure no sink in the library: ` +
      `configure() replaces the sinks set before it, the app's included.`
    )
  }
  const said =
    `the poet plugin's feedback.endpoint (${endpoint}) reaches only pages that Vite builds from an index.html; ` +
    `${/^[aeiou]/i.test(build) ? 'an' : 'a'} ${build} has none, so its events go nowhere. Configure the sink in your `
  const setup = (url: string) => `import { configure, httpSink } from 'unplugin-poet/runtime'; configure({ sink: httpSink({ url: '${url}' }) })`
  // A server has no page to resolve a path against: an httpSink given the path, as this advised, dropped every event.
  if (build === SSR_BUILD && !ABSOLUTE_URL.test(endpoint)) {
    const path = endpoint.startsWith('/') ? endpoint : `/${endpoint}`
    return `${said}server entry instead, with an absolute URL (a server has no page to resolve ${endpoint} against): ${setup(`https://<your host>${path}`)}`
  }
  return `${said}entry instead: ${setup(endpoint)}`
}

/** The build pagelessViteBuild names a Vite SSR build (`build.ssr`, or an environment whose consumer is the server). */
const SSR_BUILD = 'Vite SSR build'
/** The build pagelessViteBuild names a Vite library build (`build.lib`). */
const LIBRARY_BUILD = 'Vite library build'

/** A URL with a scheme (`https:`, `http:`): one that means the same in a page and in Node. */
const ABSOLUTE_URL = /^[a-z][a-z\d+.-]*:/i

/** feedback.endpoint in a Vite build with web workers: the page's runtime is set up, each worker's own is not. */
function workerEndpointUnused(endpoint: string, worker: string): string {
  return (
    `the poet plugin's feedback.endpoint (${endpoint}) is set up in the pages Vite builds, but a web worker runs a runtime of its own, ` +
    `so the events of poet functions in workers go nowhere (${worker}, in a worker that configures no sink). Configure the sink in each worker: ` +
    `import { configure, httpSink } from 'unplugin-poet/runtime'; configure({ sink: httpSink({ url: '${endpoint}' }) })`
  )
}

/** Vitest's own plugins on the dev server it runs the tests on (`vitest`, and `vitest:project` for each project). */
const VITEST_PLUGIN = /^vitest(?::|$)/

/** A `configure` call on the runtime: `configure(…)` imported from it, or `ns.configure(…)`. */
const CONFIGURES_SINK = /\bconfigure\s*\(/

function projectFile(root: string, file: string): string {
  return relative(root, file).split(sep).join('/')
}

/** The name of the Vite environment a hook runs in (`client`, `ssr`, …); empty outside Vite. */
function environmentOf(context: object): string {
  return (context as { environment?: { name?: string } }).environment?.name ?? ''
}

/** The consumer (`client` or `server`) of the Vite environment a hook runs in. */
function consumerOf(context: object): string | undefined {
  return (context as { environment?: { config?: { consumer?: string } } }).environment?.config?.consumer
}

/** The runtime as a bundle lists it: the file beside the plugin's own in dist/. */
const RUNTIME_FILE = (() => {
  const file = fileURLToPath(new URL('./runtime.mjs', import.meta.url))
  try {
    return realpathSync(file)
  } catch {
    // the plugin run from its sources (its own tests): no bundle holds a file that is not there
    return file
  }
})()

/**
 * A library whose dist/ holds a copy of the runtime runs its functions in that copy: the consuming app's `configure`,
 * sinks and `onEvent` never see them, and its `feedback` cannot tie their results to an execution.
 */
const LIBRARY_BUNDLES_RUNTIME =
  'this library bundles its own copy of unplugin-poet/runtime, so its poet functions will run in a runtime apart from ' +
  "the app's: the events they emit never reach the sinks and onEvent listeners the app configures, and the app's feedback() " +
  "cannot tie their results to an execution. Leave the runtime to the app: build.rolldownOptions: { external: [/^unplugin-poet\\//] } " +
  "(rollupOptions in Vite before 8), with unplugin-poet as a peer dependency."

/**
 * The packages among a bundle's external imports that declare unplugin-poet (a dependency or a peer, as a library
 * using poet does), found in the node_modules above `root`: at run time they import the runtime themselves.
 */
function poetPackagesImported(externals: string[], root: string): string[] {
  const names = new Set<string>()
  for (const id of externals) {
    // A bare specifier's package (`@acme/lib/sub` → `@acme/lib`); not a path, nor `node:fs`.
    const name = /^(?:@[\w.-]+\/)?[\w-][\w.-]*(?=\/|$)/.exec(id)?.[0]
    if (name && name !== 'unplugin-poet') names.add(name)
  }
  return [...names].filter((name) => declaresPoet(name, root)).sort()
}

/** Whether the package `name`, installed above `root`, lists unplugin-poet among its dependencies or peers. */
function declaresPoet(name: string, root: string): boolean {
  for (let dir = root; ; dir = resolve(dir, '..')) {
    const file = resolve(dir, 'node_modules', name, 'package.json')
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: object; peerDependencies?: object }
        return 'unplugin-poet' in { ...pkg.dependencies, ...pkg.peerDependencies }
      } catch {
        // A package.json that cannot be read: nothing to say about it.
        return false
      }
    }
    if (resolve(dir, '..') === dir) return false
  }
}

/** A server bundle holding the runtime, which leaves packages using poet external: they run in Node's copy. */
function serverRuntimeCopies(packages: string[]): string {
  const list = packages.join(', ')
  const [it, imports] = packages.length === 1 ? ['it', 'imports'] : ['they', 'import']
  return (
    `this server bundle holds its own copy of unplugin-poet/runtime, but leaves ${list} external, which ${imports} ` +
    `unplugin-poet/runtime at run time: ${it} will run ${packages.length === 1 ? 'its' : 'their'} poet functions in another copy, ` +
    `whose events never reach the sinks and onEvent listeners this bundle configures. Keep one copy: leave unplugin-poet ` +
    `external (take it out of ssr.noExternal; a linked one: ssr.external: ['unplugin-poet']), or bundle ${list} too (ssr.noExternal: [${[...packages, 'unplugin-poet'].map((p) => `'${p}'`).join(', ')}], or true).`
  )
}

/** The resolved config of the Vite environment a hook runs in. */
function viteConfig(context: object): ViteBuildConfig | undefined {
  return (context as { environment?: { config?: ViteBuildConfig } }).environment?.config
}

/** Whether the hook runs in Rolldown (Vite 8, rolldown-vite), which sets `meta.rolldownVersion`; else in Rollup. */
function onRolldown(context: object): boolean {
  return typeof (context as { meta?: { rolldownVersion?: unknown } }).meta?.rolldownVersion === 'string'
}

interface ViteBuildConfig {
  consumer?: string
  build: { ssr?: unknown; lib?: unknown; rollupOptions?: { input?: unknown }; rolldownOptions?: { input?: unknown } }
}

/**
 * What this Vite build is, when it has no page for the endpoint to be put into (SSR, library, or inputs that
 * are all scripts); undefined when it builds from HTML. In a build of client and server together, the server's.
 */
function pagelessViteBuild(context: object): string | undefined {
  const config = viteConfig(context)
  if (!config) return undefined
  const { consumer, build } = config
  if (consumer === 'server' || build.ssr) return SSR_BUILD
  if (build.lib) return LIBRARY_BUILD
  const input = build.rolldownOptions?.input ?? build.rollupOptions?.input
  // None given: Vite builds index.html.
  if (input === undefined) return undefined
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input : Object.values(input as object)
  return inputs.some((i) => typeof i === 'string' && i.endsWith('.html')) ? undefined : 'Vite build of script entries only'
}

/**
 * False only in a Vite build whose environment emits no source maps (Vite's default): the bundler would convert each
 * map and then drop it. Other bundlers decide about maps after the transforms, so they always get one.
 */
function wantsSourceMap(context: object): boolean {
  const { environment } = context as { environment?: { mode: string; config: { build: { sourcemap: unknown } } } }
  return !environment || environment.mode === 'dev' || environment.config.build.sourcemap !== false
}

/** The build's own loader for the file's extension, else the one its extension names. */
function sourceLoader(id: string, configured: Record<string, Loader>): Loader {
  const path = fileOf(id)
  const own = configured[extname(path)]
  if (own) return own
  const ext = /\.[cm]?([jt]sx?)$/.exec(path)?.[1]
  return ext === 'jsx' || ext === 'ts' || ext === 'tsx' ? ext : 'js'
}
