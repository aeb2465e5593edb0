// Vite dev: mounts the collector and dashboard under /__poet, points the runtime at them, and hot-swaps regenerated phase modules and edited function bodies.
import { resolve } from 'node:path'
import type { DevEnvironment, EnvironmentModuleNode, HotUpdateOptions, Logger, ViteDevServer } from 'vite'
import { createDashboard, crossOrigin, projectName, type FunctionInfo } from '../dashboard/handler'
import type { PoetEvent } from '../runtime/types'
import { createCollector, type Collector } from '../train/collector'
import { keepOutOfGit } from '../train/store'
import { applyTraining, planTraining } from '../train/trainer'
import { LOCK_SETTLE_MS, type PoetContext } from './context'
import { PHASES_BINDING_PREFIX, scanPoetCalls, type PoetSite } from './scan'
import { COMPONENT_FILE } from './sfc'
import { insertWithMap } from './dev-sourcemap'
import { projectPath, RESOLVED_PREFIX, VIRTUAL_PREFIX } from './ids'
import { DEV_CLIENT_KEY, DEV_HOT_KEY } from './virtual'
import type { SourceMapJSON } from './cache'
import { hotExports, hotExportsChange, hotModule, hotSwappable } from './dev-hot'
import { readFileOrUndefined as readText } from '../generators/read-file'

/** Where the dev server mounts everything POET: `/__poet/events`, `/__poet/` (dashboard), `/__poet/v1/*`. */
export const DEV_BASE = '/__poet'
/** A global the dev server sets so that modules run in its own process (SSR) report in-process, not over HTTP. */
const IN_PROCESS_SINK = 'unplugin-poet.dev-sink'
/**
 * The dashboard's URL line is colored as Vite colors its own (picocolors' rule): piped into a CI log or a file, raw
 * escape codes stood around "POET" among Vite's plain lines.
 */
const COLORED = colorSupported(process.env, process.argv)
function colorSupported(env: NodeJS.ProcessEnv, argv: string[]): boolean {
  if (env.NO_COLOR || argv.includes('--no-color')) return false
  return Boolean(env.FORCE_COLOR || argv.includes('--color') || process.platform === 'win32' || (process.stdout.isTTY && env.TERM !== 'dumb') || env.CI)
}
/** A URL with a scheme, which needs no page to resolve against (httpSink's own test). */
const ABSOLUTE_URL = /^[a-z][a-z\d+.-]*:/i
/** The dev client's httpSink: batches and a queue for what a page makes in one task (see clientModule). */
const DEV_SINK = { batchSize: 500, maxQueue: 50_000 }

/** Feedback arriving in bursts is trained on once per quiet spell. */
const TRAIN_DEBOUNCE_MS = 300

type InProcessGlobal = Record<symbol, ((events: PoetEvent[]) => Promise<void>) | undefined>

export class DevServer {
  private collector?: Collector
  /** Last seen source of every poet module and of the type files its specs read: what "did the JS change?" compares against. */
  private readonly sources = new Map<string, string>()
  /** What the importers of each poet module hold of it, as last served (`hotExports`; undefined: not only poet functions). */
  private readonly hotExports = new Map<string, string | undefined>()
  /** The last change seen: its stale phase modules, whether its JS changed, and whether it ends the module's hot swap. */
  private refreshed?: { change: string; stale: string[]; jsChanged: boolean; endsHotSwap: boolean }
  private inProcess?: (events: PoetEvent[]) => Promise<void>
  private settleTimer?: ReturnType<typeof setTimeout>
  private server?: ViteDevServer
  private trainTimer?: ReturnType<typeof setTimeout>
  /** Holds already logged, by function and the rollback they wait on. */
  private heldSaid = new Set<string>()
  private logger?: ViteDevServer['config']['logger']
  /** Why the event store could not open, when it could not: the dev client then sends nothing. */
  private storeOff?: string
  /**
   * Where this server can be reached when Vite has no URLs for it: the address it listens on, before Vite lists it, or
   * in middleware mode (the user's own HTTP server in front) the one the first request to its middlewares arrived at.
   */
  private learned?: string
  /** Environments run elsewhere that were given the dev client before any address was known: it is made again once one is. */
  private unaddressed = new Set<string>()

  constructor(private readonly ctx: PoetContext) {}

  private get active(): boolean {
    return this.ctx.serve
  }

  /**
   * A transformed module in dev keeps its poet functions stable across edits of their bodies (dev-hot.ts), and imports
   * the dev client, which points the runtime it shares at the dev server.
   */
  decorate(code: string, map: SourceMapJSON, file: string): { code: string; map: SourceMapJSON } {
    if (!this.active) return { code, map }
    if (COMPONENT_FILE.test(file)) return this.decorateComponent(code, map, file)
    const out = hotSwappable(code, map, file)
    this.hotExports.set(file, out.exports)
    if (this.ctx.options.feedback === false) return { code: out.code, map: out.map }
    // Appended, not prepended: imports are hoisted anyway, and the source map of the code above stays exact.
    return { code: `${out.code}\nimport ${JSON.stringify(VIRTUAL_PREFIX + DEV_CLIENT_KEY)}\n`, map: out.map }
  }

  /**
   * A Vue or Svelte component is still a component here, which its framework's plugin compiles next: it is updated by
   * that framework's HMR (its functions are not hot-swapped in place), and it imports the dev client from its script
   * block, beside the phase modules, on their line so the lines of the component stay its own.
   */
  private decorateComponent(code: string, map: SourceMapJSON, file: string): { code: string; map: SourceMapJSON } {
    this.hotExports.set(file, undefined)
    const at = code.indexOf(`import ${PHASES_BINDING_PREFIX}`)
    if (this.ctx.options.feedback === false || at < 0) return { code, map }
    return insertWithMap(code, map, [{ at, text: `import ${JSON.stringify(VIRTUAL_PREFIX + DEV_CLIENT_KEY)}; ` }])
  }

  /** The source of one of the dev server's own modules, `virtual:poet/~~<name>`, for the `environment` of this `consumer`. */
  devModule(key: string, consumer: string | undefined, environment: string): string {
    if (key === DEV_CLIENT_KEY) return this.clientModule(consumer, environment)
    if (key === DEV_HOT_KEY) return hotModule()
    throw new Error(`poet: no dev module "${VIRTUAL_PREFIX}${key}": only ${DEV_CLIENT_KEY} and ${DEV_HOT_KEY} exist.`)
  }

  /** Records what a poet module and its type files held when transformed. */
  remember(file: string, code: string, dependencies: string[]): void {
    if (!this.active) return
    this.sources.set(file, code)
    for (const dep of dependencies) if (!this.sources.has(dep)) this.sources.set(dep, readText(dep) ?? '')
  }

  /**
   * The dev client: runs before the module that imported it, against the same `unplugin-poet/runtime` instance (it is
   * resolved exactly like the app's own import). In the dev server's process (SSR) events go straight to the store,
   * unless `feedback.endpoint` names where dev events go.
   */
  private clientModule(consumer: string | undefined, environment: string): string {
    const feedback = this.ctx.options.feedback
    const named = (feedback && feedback.endpoint) || undefined
    // Nothing would take the events: posting them would only fill the console with 503s.
    if (this.storeOff && !named) return ''
    const given = named ?? `${DEV_BASE}/events`
    // A server environment whose runner is not in this process (a worker thread, workerd, a child process) has no page
    // to resolve a relative URL against: its httpSink dropped every event, saying the URL it was given was relative.
    const endpoint = consumer === 'server' ? this.onThisServer(given, environment) : given
    // A page rendering a table calls (and rates) a function per row in one task: thousands of events queued before the
    // first request can go. The production default queue (1,000) dropped most of such a burst; on the developer's own
    // machine a larger queue costs a few megabytes at most, and larger batches take it in a few commits.
    const sink = `httpSink({ url: ${JSON.stringify(endpoint)}, interval: 250, batchSize: ${DEV_SINK.batchSize}, maxQueue: ${DEV_SINK.maxQueue} })`
    // SSR code sent its events to the dev store even with an endpoint set, where the pages' went to the endpoint. Only
    // a relative endpoint with no address to resolve it against yet (middleware mode before its first request, without
    // server.origin) leaves the events of code run in this process to the store.
    if (named && (consumer !== 'server' || ABSOLUTE_URL.test(endpoint))) {
      return [`import { configure, httpSink } from 'unplugin-poet/runtime'`, `configure({ sink: ${sink} })`, ''].join('\n')
    }
    return [
      `import { configure, httpSink } from 'unplugin-poet/runtime'`,
      `const local = globalThis[Symbol.for(${JSON.stringify(IN_PROCESS_SINK)})]`,
      `configure({ sink: typeof local === 'function' ? local : ${sink} })`,
      '',
    ].join('\n')
  }

  /**
   * `endpoint` resolved against this dev server's own origin (the events endpoint ignores `base`): Vite's URL for it,
   * else `server.origin`, else the address learned from the server (see `learned`). Without any yet (Vite in middleware
   * mode before its first request, or a transform at startup before it listens), the environment's code is made again
   * once there is one: code already run there keeps the relative URL, which its httpSink refuses, saying so.
   */
  private onThisServer(endpoint: string, environment: string): string {
    const local = this.server?.resolvedUrls?.local[0]
    const origin = (local && new URL(local).origin) || this.server?.config.server.origin || this.learned
    if (origin || ABSOLUTE_URL.test(endpoint)) return origin ? new URL(endpoint, origin).href : endpoint
    this.unaddressed.add(environment)
    return endpoint
  }

  /** Takes the first address this server is known by, and has the dev client made again where it was made without one. */
  private learn(origin: string | undefined): void {
    if (this.learned || !origin) return
    this.learned = origin
    for (const name of this.unaddressed) {
      const env = this.server?.environments[name]
      const mod = env?.moduleGraph.getModuleById(RESOLVED_PREFIX + DEV_CLIENT_KEY)
      if (mod) env!.moduleGraph.invalidateModule(mod)
    }
    this.unaddressed.clear()
  }

  configureServer(server: ViteDevServer): void {
    this.logger = server.config.logger
    this.server = server
    const { options } = this.ctx
    server.httpServer?.once('listening', () => {
      const at = server.httpServer?.address()
      if (at && typeof at === 'object') this.learn(originOf(at.address, at.port, Boolean(server.config.server.https)))
    })
    server.middlewares.use((req, _res, next) => {
      // The user's own server (middleware mode) may be HTTPS whatever Vite's config says: the socket tells.
      if (!this.learned) this.learn(originOf(req.socket.localAddress, req.socket.localPort, 'encrypted' in req.socket))
      next()
    })
    // Type files read by a spec may live outside the root, where Vite does not watch unless asked.
    for (const spec of this.ctx.found.values()) server.watcher.add(spec.dependencies)
    // Closing or restarting a server closes its environments, with or without an HTTP server (middleware mode). Not a
    // closeServer hook: a restart runs it after the new server is configured, and an inline plugin object is shared
    // by both, so it could not tell this DevServer from the new one.
    const client = server.environments.client
    const closeClient = client.close.bind(client)
    client.close = async () => {
      try {
        await closeClient()
      } finally {
        this.close()
      }
    }
    const opened = openCollector(options.lockDir, server.config.logger)
    if ('off' in opened) {
      // Served as usual, validation and HMR included, and /__poet/ says why the store is off.
      this.storeOff = opened.off
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '/').split('?')[0]!
        if (path !== DEV_BASE && !path.startsWith(`${DEV_BASE}/`)) return next()
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`${this.storeOff}\n`)
      })
      return
    }
    const { collector } = opened
    this.collector = collector
    this.inProcess = (events) =>
      // Feedback rated here about a result the browser computed carries what the function's domain forbids: this
      // process never ran it, so its runtime could not drop it.
      collector.insert(events).then(
        () => this.scheduleTraining(),
        // No sink here to keep the batch for a retry: it is lost, and said so once.
        (error: unknown) => this.logger?.warnOnce(`[unplugin-poet] events of server-side calls are not stored: ${(error as Error).message}`),
      )
    ;(globalThis as unknown as InProcessGlobal)[Symbol.for(IN_PROCESS_SINK)] = this.inProcess
    // SQLite rewrites its files at every batch: nothing there for Vite to react to.
    server.watcher.unwatch(resolve(options.lockDir, 'feedback.db*'))
    const dashboard = options.dashboard
      ? createDashboard({
          base: DEV_BASE,
          lockDir: this.ctx.lock.dir,
          store: collector.store,
          collector: collector.handle,
          project: projectName(options.root),
          writable: true,
          functions: () => this.functionInfo(),
        })
      : undefined

    server.middlewares.use((req, res, next) => {
      const path = (req.url ?? '/').split('?')[0]!
      if (path !== DEV_BASE && !path.startsWith(`${DEV_BASE}/`)) return next()
      // The events endpoint answers CORS for `poet serve`; in dev, a write from another site is never the app's own.
      if (req.method === 'POST' && crossOrigin(req)) {
        res.writeHead(403, { 'content-type': 'application/json' })
        return res.end(JSON.stringify({ error: 'cross-origin writes to the POET dev server are refused' }))
      }
      if (path === `${DEV_BASE}/events` && req.method === 'POST') res.once('finish', () => res.statusCode === 202 && this.scheduleTraining())
      if (path.startsWith(`${DEV_BASE}/api/`) && req.method === 'POST') res.once('finish', () => res.statusCode === 200 && this.settleLock())
      const rest = () => collector.handle(req, res, next)
      if (dashboard) dashboard(req, res, rest)
      else rest()
    })
    if (dashboard) {
      const printUrls = server.printUrls.bind(server)
      server.printUrls = () => {
        printUrls()
        printPoetUrl(server.config.logger, server.resolvedUrls?.local[0])
      }
    }
  }

  /**
   * Hot-swaps the phase modules a change made stale (PoetContext decides which: new types or options, or a moved lock
   * pointer). When the change touched only types, the stripped JS of the edited module is byte for byte the same, and
   * the modules importing it are left alone: the page is not reloaded and its state survives.
   */
  async hotUpdate(env: DevEnvironment, update: HotUpdateOptions): Promise<EnvironmentModuleNode[] | undefined> {
    if (!this.active) return undefined
    const file = resolve(update.file)
    const isLock = file === this.ctx.lock.file
    if (!isLock && !this.touchesPoet(file)) return undefined
    // Vite calls this once per environment for one change: the specs are refreshed and compared once.
    const change = `${file}\0${update.timestamp}`
    if (this.refreshed?.change !== change) {
      let text: string | undefined
      const read = async () => (text ??= await update.read())
      const stale = await this.ctx.staleAfterChange(file, read)
      const jsChanged = !isLock && (await this.jsChanged(file, await read()))
      const endsHotSwap = jsChanged && this.endsHotSwap(file, await read())
      if (!isLock) this.sources.set(file, await read())
      this.refreshed = { change, stale, jsChanged, endsHotSwap }
    }
    const { stale, jsChanged, endsHotSwap } = this.refreshed
    if (isLock) this.settleLock()
    const phases = stale.flatMap((key) => env.moduleGraph.getModuleById(RESOLVED_PREFIX + key) ?? [])
    // Invalidated here as for an update, not only listed: Vue's plugin answers an edit of a component (or of a type file
    // its props read) with the modules it updates itself, dropping the phase modules listed before, and the component
    // it reloads then imported the old phases again, whose URL had not changed.
    for (const mod of phases) env.moduleGraph.invalidateModule(mod, new Set(), update.timestamp, true)
    if (!jsChanged) return phases
    // Vite still reads whether the module accepts itself from its last transform. When the edit changes what its
    // importers hold (an export added, removed, renamed, or no longer a poet function), they must update too.
    if (endsHotSwap) for (const mod of update.modules) mod.isSelfAccepting = false
    // Vite already invalidated the edited module; listing it propagates the update (a reload when nothing accepts it).
    return [...update.modules, ...phases]
  }

  /**
   * Whether an edit makes a module that accepted its own updates (through `hotSwappable`) export other things than
   * before: names added, removed or renamed, or bound to something other than the same poet functions. A module the
   * plugin never made self-accepting is left to Vite's view of it. A source that does not build changes nothing here:
   * Vite's own transform shows the error, and the edit that fixes it is compared with what was last served.
   */
  private endsHotSwap(file: string, next: string): boolean {
    const served = this.hotExports.get(file)
    if (served === undefined) return false
    let out: ReturnType<PoetContext['transform']>
    try {
      out = this.ctx.transform(next, file, () => {})
    } catch {
      return false
    }
    const now = out ? hotExports(out.code, file) : undefined
    if (now === served) return false
    // Vite then logs a page reload (or an update of the importers): say why this edit was not hot-swapped.
    const why = out ? hotExportsChange(served, now) : 'it no longer marks any function with poet()'
    const where = projectPath(this.ctx.options.root, file)
    this.logger?.info(`[unplugin-poet] ${where}: ${why}, so its importers update too.`, { timestamp: true })
    return true
  }

  /**
   * Checks the lock again once writes have settled. The file watcher drops a second change to one file within 50 ms
   * (the trainer's candidate, then a promotion right after), which would leave a moved pointer unserved.
   */
  private settleLock(): void {
    clearTimeout(this.settleTimer)
    this.settleTimer = setTimeout(() => void this.swapStale(), LOCK_SETTLE_MS)
    this.settleTimer.unref?.()
  }

  private async swapStale(): Promise<void> {
    const server = this.server
    if (!server) return
    const stale = await this.ctx.staleAfterChange(this.ctx.lock.file, () => '')
    for (const env of Object.values(server.environments)) {
      for (const key of stale) {
        const mod = env.moduleGraph.getModuleById(RESOLVED_PREFIX + key)
        if (mod) await env.reloadModule(mod)
      }
    }
  }

  /** Whether `file` declares poet functions or holds types one of them reads. */
  private touchesPoet(file: string): boolean {
    for (const spec of this.ctx.found.values()) if (spec.file === file || spec.dependencies.includes(file)) return true
    return false
  }

  /**
   * A type-only edit leaves the JS that type stripping produces the same. So does an edit of `poet({...})` options
   * alone: the runtime takes its policy from the phase module, so the new options arrive with the swapped phases.
   */
  private async jsChanged(file: string, next: string): Promise<boolean> {
    const previous = this.sources.get(file)
    // A component's own plugin compiles it and decides what its edit updates (a re-render, a reload of the component).
    if (previous === undefined || COMPONENT_FILE.test(file)) return true
    if (previous === next) return false
    const { transformWithOxc } = await import('vite')
    try {
      // Options that do not build (an unknown domain, say) must reach Vite's own transform, which shows the error;
      // and the edit that fixes them must reach it too, to replace the failed module.
      for (const code of [previous, next]) this.ctx.transform(code, file, () => {})
      const [a, b] = await Promise.all(
        [previous, next].map((code) => transformWithOxc(withoutPoetOptions(code, file), file)),
      )
      return a!.code !== b!.code
    } catch {
      return true
    }
  }

  private functionInfo(): Record<string, FunctionInfo> {
    const out: Record<string, FunctionInfo> = {}
    for (const spec of this.ctx.found.values()) {
      out[spec.id] = {
        ...(spec.options.domain ? { domain: spec.options.domain } : {}),
        ...(spec.options.optimizeFor ? { optimizeFor: spec.options.optimizeFor } : {}),
      }
    }
    return out
  }

  /** Train in dev: feedback that justifies a new version becomes a candidate in the lock right away, which HMR then serves. */
  private scheduleTraining(): void {
    clearTimeout(this.trainTimer)
    this.trainTimer = setTimeout(() => this.train(), TRAIN_DEBOUNCE_MS)
    this.trainTimer.unref?.()
  }

  private train(): void {
    const store = this.collector?.store
    if (!store) return
    const optimizeFor: Record<string, string> = {}
    for (const spec of this.ctx.found.values()) if (spec.options.optimizeFor) optimizeFor[spec.id] = spec.options.optimizeFor
    if (!Object.keys(optimizeFor).length) return
    try {
      const options = { lockDir: this.ctx.lock.dir, store, optimizeFor }
      const plans = planTraining(options)
      const applied = applyTraining(plans, options)
      if (applied.length) this.settleLock()
      for (const plan of applied) {
        this.logger?.info(`[unplugin-poet] ${plan.functionId}: ${plan.action} ${plan.candidate ?? ''} (${plan.reason})`, { timestamp: true })
      }
      // Said once per rollback it waits on: training runs after every batch of feedback.
      for (const plan of plans) {
        const key = plan.held && `${plan.functionId}@${plan.held.since}`
        if (!key || this.heldSaid.has(key)) continue
        this.heldSaid.add(key)
        this.logger?.info(`[unplugin-poet] ${plan.functionId}: no candidate (${plan.reason})`, { timestamp: true })
      }
    } catch (error) {
      this.logger?.error(`[unplugin-poet] training failed: ${(error as Error).message}`)
    }
  }

  private close(): void {
    clearTimeout(this.trainTimer)
    clearTimeout(this.settleTimer)
    this.server = undefined
    const g = globalThis as unknown as InProcessGlobal
    // Another dev server in this process may have taken the global over since.
    if (g[Symbol.for(IN_PROCESS_SINK)] === this.inProcess) delete g[Symbol.for(IN_PROCESS_SINK)]
    this.collector?.close()
    this.collector = undefined
  }
}

/** The dashboard's line under Vite's own URLs. It sits at the server's root whatever Vite's `base` is, like the events endpoint. */
export function printPoetUrl(logger: ViteDevServer['config']['logger'], local: string | undefined): void {
  const arrow = COLORED ? '\x1b[32m➜\x1b[0m' : '➜'
  const name = COLORED ? '\x1b[1mPOET\x1b[0m' : 'POET'
  if (local) logger.info(`  ${arrow}  ${name}:    ${new URL(local).origin}${DEV_BASE}/`)
}

/**
 * The origin of an address a server listens on or a request arrived at. A server listening on every interface is
 * reached on the loopback one; an IPv4 address mapped into IPv6 is given as IPv4.
 */
function originOf(address: string | undefined, port: number | undefined, https: boolean): string | undefined {
  if (!address || !port) return undefined
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address.replace(/^::ffff:(?=\d+\.)/, '')
  return `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** `code` with the options argument of every `poet(...)` that marks a function blanked out (same length, same lines). */
function withoutPoetOptions(code: string, file: string): string {
  let sites: PoetSite[]
  try {
    sites = scanPoetCalls(code, { file, displayPath: file, code })?.sites ?? []
  } catch {
    return code
  }
  let out = code
  for (const site of sites) {
    const options = site.kind === 'call' || site.kind === 'decorator' ? site.call.arguments[0] : undefined
    if (options?.start == null || options.end == null) continue
    out = out.slice(0, options.start) + code.slice(options.start, options.end).replace(/[^\n]/g, ' ') + out.slice(options.end)
  }
  return out
}

/**
 * The project's event store and its collector (dev and `vite preview`), or why there is none. The app must not lose its
 * server to telemetry: without a store (better-sqlite3's native module not built, the file unwritable …) it is served
 * as usual, and the caller answers POET's paths with the reason.
 */
export function openCollector(lockDir: string, logger: Logger): { collector: Collector } | { off: string } {
  try {
    const db = resolve(lockDir, 'feedback.db')
    keepOutOfGit(db)
    return { collector: createCollector({ db, lockDir, base: DEV_BASE, rateLimit: false }) }
  } catch (error) {
    const off = `the POET dashboard and event store are off: ${(error as Error).message}`
    logger.warn(`[unplugin-poet] ${off}`)
    return { off }
  }
}
