// Fixture projects built by each of the six bundlers through their Node APIs, configured as a user would, importing the built package.
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { InlineConfig, ViteDevServer } from 'vite'
import type { Options } from '../../src'
import { LockStore } from '../../src/generators/lock'

export const BUNDLERS = ['vite', 'rollup', 'rolldown', 'esbuild', 'webpack', 'rspack'] as const
export type Bundler = (typeof BUNDLERS)[number]

/** The worktree root: what `node_modules/unplugin-poet` in every fixture project points at. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/project')
/** The ids of the fixture project's poet functions, as the lock lists them. */
export const FIXTURE_FUNCTIONS = [
  'src/aliased.ts#double',
  'src/flaky.ts#flaky',
  'src/namespaced.ts#shout',
  'src/orders.ts#priceOrder',
  'src/pricing.ts#Pricing.quote',
  'src/slow.ts#slow',
]
/**
 * Sources only some tests need (watch mode, warnings). They live apart because other suites (the CLI's) count
 * the functions of the base fixture.
 */
const EXTRAS = join(PACKAGE_ROOT, 'test/fixtures/project-extras')
const TMP = join(PACKAGE_ROOT, 'test/.tmp')
/** The fixtures' webpack loader for `.ts`: strips types with esbuild, as ts-loader would compile them. */
export const STRIP_TS_LOADER = join(PACKAGE_ROOT, 'test/helpers/strip-ts-loader.cjs')

export interface Project {
  /** Absolute project root. */
  dir: string
  /** Absolute `.poet` directory. */
  lockDir: string
  path(rel: string): string
  read(rel: string): string
  write(rel: string, content: string): void
  remove(): void
}

/**
 * Copies the fixture project (with `extras`, also test/fixtures/project-extras; or another `fixture` directory) into a
 * fresh directory under test/.tmp, the package linked in.
 */
export function createProject(name: string, { extras = false, fixture = FIXTURE } = {}): Project {
  mkdirSync(TMP, { recursive: true })
  const dir = mkdtempSync(join(TMP, `${name}-`))
  cpSync(fixture, dir, { recursive: true })
  if (extras) cpSync(EXTRAS, dir, { recursive: true })
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules/unplugin-poet'), 'dir')
  const path = (rel: string) => join(dir, rel)
  return {
    dir,
    lockDir: path('.poet'),
    path,
    read: (rel) => readFileSync(path(rel), 'utf8'),
    write: (rel, content) => {
      mkdirSync(dirname(path(rel)), { recursive: true })
      writeFileSync(path(rel), content)
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/**
 * Makes `dir` (and its `phases/`, a lock directory's) read-only as a Nix store or a read-only mount would, and returns how to undo it. chmod stops no write of
 * root's, so as root the directory is bind-mounted read-only onto itself (EROFS, as a real read-only mount), or else
 * made immutable (EPERM).
 */
export function readOnly(dir: string): () => void {
  const dirs = [dir, join(dir, 'phases')].filter((d) => statSync(d, { throwIfNoEntry: false })?.isDirectory())
  if (process.getuid?.() !== 0) {
    const modes = dirs.map((d) => statSync(d).mode)
    for (const d of dirs) chmodSync(d, 0o555)
    return () => dirs.forEach((d, i) => chmodSync(d, modes[i]!))
  }
  try {
    execFileSync('mount', ['--bind', '-o', 'ro', dir, dir], { stdio: 'pipe' })
    return () => execFileSync('umount', [dir], { stdio: 'pipe' })
  } catch (mount) {
    try {
      execFileSync('chattr', ['+i', ...dirs], { stdio: 'pipe' })
      return () => execFileSync('chattr', ['-i', ...dirs], { stdio: 'pipe' })
    } catch (chattr) {
      throw new Error(`cannot make ${dir} read-only as root: mount --bind -o ro failed (${(mount as Error).message}), and so did chattr +i (${(chattr as Error).message})`)
    }
  }
}

export interface BuildOptions {
  /** Entry module relative to the project. @default 'src/main.ts' */
  entry?: string
  /** Output directory relative to the project. @default `dist-<bundler>` */
  outDir?: string
  /** The plugin's options. */
  options?: Options
}

export interface BuildResult {
  /** Absolute path of the emitted entry chunk (an ES module Node 20 can import). */
  file: string
  /** Absolute path of its source map. */
  map: string
  /** Warnings the bundler reported for this build. */
  warnings: string[]
}

/** Builds the project with one bundler; a failed build rejects with the bundler's error (its message as the user sees it). */
export async function build(project: Project, bundler: Bundler, opts: BuildOptions = {}): Promise<BuildResult> {
  const job = await createJob(project, bundler, opts)
  const file = await BUILDERS[bundler](job)
  return { file, map: `${file}.map`, warnings: job.warnings }
}

/** Imports the output of a build in this Node process (`fresh`: a new module instance, for outputs rebuilt in place). */
export async function run<T = Record<string, unknown>>(result: BuildResult, fresh?: string | number): Promise<T> {
  const url = pathToFileURL(result.file).href + (fresh === undefined ? '' : `?fresh=${fresh}`)
  return (await import(url)) as T
}

async function createJob(project: Project, bundler: Bundler, opts: BuildOptions): Promise<BuildJob> {
  const entry = opts.entry ?? 'src/main.ts'
  const outDir = project.path(opts.outDir ?? `dist-${bundler}`)
  rmSync(outDir, { recursive: true, force: true })
  const poet = await loadPlugin(project, bundler)
  // Rollup has no notion of a project root and takes process.cwd(), which here is the test runner's: name it.
  const options = bundler === 'rollup' ? { root: project.dir, ...opts.options } : opts.options
  return { project, entry, outDir, plugin: poet(options), warnings: [] }
}

export const WATCH_BUNDLERS = ['rollup', 'rolldown', 'webpack', 'rspack'] as const
export type WatchBundler = (typeof WATCH_BUNDLERS)[number]

export interface Watcher {
  /**
   * Waits (at most `timeout` ms) for a completed build whose output satisfies `ready`; the predicate runs once per
   * completed build, so a rebuild that never comes fails the wait, naming the last error if there was one.
   */
  until(ready: (result: BuildResult, build: number) => Promise<boolean>, timeout?: number): Promise<BuildResult>
  close(): Promise<void>
}

/** Starts the bundler's own watch mode on the project, configured exactly as {@link build} configures a build. */
export async function watch(project: Project, bundler: WatchBundler, opts: BuildOptions = {}): Promise<Watcher> {
  const job = await createJob(project, bundler, opts)
  const file = join(job.outDir, 'main.mjs')
  let builds = 0
  let lastError: Error | undefined
  const wake = new Set<() => void>()
  const settled = (error?: Error) => {
    builds++
    lastError = error
    for (const w of wake) w()
  }
  const stop = await WATCH_STARTERS[bundler](job, settled)
  return {
    async until(ready, timeout = 20_000) {
      const deadline = Date.now() + timeout
      let seen = 0
      for (;;) {
        if (builds > seen) {
          seen = builds
          const result = { file, map: `${file}.map`, warnings: job.warnings }
          if (!lastError && (await ready(result, seen))) return result
          continue
        }
        const left = deadline - Date.now()
        if (left <= 0) {
          throw new Error(`${bundler} watch: no build satisfied the check within ${timeout} ms (${builds} builds)${lastError ? `; last error: ${lastError.message}` : ''}`)
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer)
            wake.delete(done)
            resolve()
          }
          const timer = setTimeout(done, left)
          wake.add(done)
        })
      }
    },
    close: stop,
  }
}

interface BuildJob {
  project: Project
  entry: string
  outDir: string
  // Each bundler's plugin type differs; the job hands it over untouched.
  plugin: never
  warnings: string[]
}

/** `unplugin-poet/<bundler>` resolved from inside the project, exactly as the project's own config would import it. */
export async function loadPlugin(project: Project, bundler: Bundler): Promise<(options?: Options) => never> {
  const require = createRequire(project.path('package.json'))
  const mod = (await import(pathToFileURL(require.resolve(`unplugin-poet/${bundler}`)).href)) as {
    default: (options?: Options) => never
  }
  return mod.default
}

const BUILDERS: Record<Bundler, (job: BuildJob) => Promise<string>> = {
  async vite({ project, entry, outDir, plugin, warnings }) {
    const { build } = await import('vite')
    const collect = (message: string) => void warnings.push(message)
    await build({
      configFile: false,
      root: project.dir,
      customLogger: {
        info: () => {},
        warn: collect,
        warnOnce: collect,
        error: () => {},
        clearScreen: () => {},
        hasErrorLogged: () => false,
        hasWarned: false,
      },
      cacheDir: project.path('node_modules/.vite'),
      plugins: [plugin],
      build: {
        ssr: entry,
        outDir,
        sourcemap: true,
        minify: false,
        rolldownOptions: { output: { entryFileNames: 'main.mjs' } },
      },
    })
    return join(outDir, 'main.mjs')
  },

  async rollup(job) {
    const { rollup } = await import('rollup')
    const bundle = await rollup(await rollupInput(job))
    const file = join(job.outDir, 'main.mjs')
    await bundle.write({ file, format: 'es', sourcemap: true })
    await bundle.close()
    return file
  },

  async rolldown({ project, entry, outDir, plugin, warnings }) {
    const { rolldown } = await import('rolldown')
    const bundle = await rolldown({
      input: project.path(entry),
      cwd: project.dir,
      platform: 'node',
      onLog: (_level, log) => void warnings.push(rolldownLine(project, log)),
      plugins: [plugin],
    })
    const file = join(outDir, 'main.mjs')
    await bundle.write({ file, format: 'es', sourcemap: true })
    await bundle.close()
    return file
  },

  async esbuild({ project, entry, outDir, plugin, warnings }) {
    const esbuild = await import('esbuild')
    const file = join(outDir, 'main.mjs')
    const result = await esbuild.build({
      absWorkingDir: project.dir,
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: true,
      logLevel: 'silent',
      plugins: [plugin],
    })
    for (const w of result.warnings) warnings.push(w.text)
    return file
  },

  async webpack(job) {
    const { default: webpack } = await import('webpack')
    const compiler = webpack(webpackConfig(job))
    job.warnings.push(...(await runCompiler(compiler)))
    return join(job.outDir, 'main.mjs')
  },

  async rspack(job) {
    const { rspack } = await import('@rspack/core')
    const compiler = rspack(rspackConfig(job))
    job.warnings.push(...(await runCompiler(compiler)))
    return join(job.outDir, 'main.mjs')
  },
}

/**
 * A Rolldown log as its command line prints it: the place it gives apart (`loc`), then the message. Rollup's `onwarn`
 * gets its message with the place already in front.
 */
function rolldownLine(project: Project, log: import('rolldown').RollupLog): string {
  if (!log.loc) return log.message
  const file = relative(project.dir, log.loc.file ?? log.id ?? '').split(sep).join('/')
  return `${file} (${log.loc.line}:${log.loc.column}) ${log.message}`
}

async function rollupInput({ project, entry, plugin, warnings }: BuildJob): Promise<import('rollup').RollupOptions> {
  const { transform } = await import('esbuild')
  return {
    input: project.path(entry),
    // A Node library keeps its dependencies external; the output imports the runtime from node_modules.
    external: (id) => id.startsWith('unplugin-poet/'),
    onwarn: (w) => void warnings.push(w.message),
    plugins: [
      plugin,
      {
        name: 'strip-ts',
        async transform(code, id) {
          if (!id.endsWith('.ts')) return null
          const out = await transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcemap: 'external', sourcefile: id })
          return { code: out.code, map: out.map }
        },
      },
    ],
  }
}

/** What the webpack and rspack builds share: an ES module for Node 20 with a source map, from `.ts` sources. */
function webpackFamilyBase({ project, entry, outDir, plugin }: BuildJob) {
  return {
    context: project.dir,
    mode: 'none' as const,
    target: 'node20' as const,
    entry: `./${entry}`,
    devtool: 'source-map' as const,
    output: { path: outDir, filename: 'main.mjs', module: true, chunkFormat: 'module' as const, library: { type: 'module' as const } },
    resolve: { extensions: ['.ts', '.js'] },
    plugins: [plugin],
    infrastructureLogging: { level: 'error' as const },
  }
}

function webpackConfig(job: BuildJob): import('webpack').Configuration {
  return {
    ...webpackFamilyBase(job),
    experiments: { outputModule: true },
    module: { rules: [{ test: /\.ts$/, loader: STRIP_TS_LOADER }] },
  }
}

function rspackConfig(job: BuildJob): import('@rspack/core').RspackOptions {
  return {
    ...webpackFamilyBase(job),
    module: {
      rules: [
        {
          test: /\.ts$/,
          loader: 'builtin:swc-loader',
          options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } },
          type: 'javascript/auto',
        },
      ],
    },
  }
}

type WatchStarter = (job: BuildJob, settled: (error?: Error) => void) => Promise<() => Promise<void>>

const WATCH_STARTERS: Record<WatchBundler, WatchStarter> = {
  async rollup(job, settled) {
    const { watch } = await import('rollup')
    const watcher = watch({
      ...(await rollupInput(job)),
      output: { file: join(job.outDir, 'main.mjs'), format: 'es', sourcemap: true },
      watch: { buildDelay: 50, clearScreen: false },
    })
    watcher.on('event', (event) => {
      if (event.code === 'BUNDLE_END') void event.result.close().then(() => settled())
      else if (event.code === 'ERROR') {
        void event.result?.close()
        settled(new Error(event.error.message))
      }
    })
    return () => watcher.close()
  },
  async rolldown({ project, entry, outDir, plugin, warnings }, settled) {
    const { watch } = await import('rolldown')
    const watcher = watch({
      input: project.path(entry),
      cwd: project.dir,
      platform: 'node',
      onLog: (_level, log) => void warnings.push(log.message),
      plugins: [plugin],
      output: { file: join(outDir, 'main.mjs'), format: 'es', sourcemap: true },
      watch: { buildDelay: 50, clearScreen: false },
    })
    watcher.on('event', (event) => {
      if (event.code === 'BUNDLE_END') void event.result.close().then(() => settled())
      else if (event.code === 'ERROR') {
        void event.result.close()
        settled(new Error(event.error.message))
      }
    })
    return () => watcher.close()
  },
  async webpack(job, settled) {
    const { default: webpack } = await import('webpack')
    const watching = webpack(webpackConfig(job)).watch({ aggregateTimeout: 50 }, (err, stats) =>
      settled(err ?? (stats?.hasErrors() ? new Error(stats.toString({ all: false, errors: true })) : undefined)),
    )
    return () => new Promise<void>((resolve) => (watching ? watching.close(() => resolve()) : resolve()))
  },
  async rspack(job, settled) {
    const { rspack } = await import('@rspack/core')
    const watching = rspack(rspackConfig(job)).watch({ aggregateTimeout: 50 }, (err, stats) =>
      settled(err ?? (stats?.hasErrors() ? new Error(stats.toString({ all: false, errors: true })) : undefined)),
    )
    return () => new Promise<void>((resolve) => (watching ? watching.close(() => resolve()) : resolve()))
  },
}

interface WebpackLikeStats {
  hasErrors(): boolean
  toString(o: object): string
  toJson(o: object): { warnings?: { message: string }[] }
}

interface WebpackLikeCompiler {
  run(cb: (err: Error | null, stats?: WebpackLikeStats) => void): void
  close(cb: (err?: Error | null) => void): void
}

/** Runs a webpack or rspack compiler once; compilation errors reject with the text webpack would print. Resolves to the warnings. */
export function runCompiler(compiler: WebpackLikeCompiler): Promise<string[]> {
  return new Promise((resolve, reject) => {
    compiler.run((err, stats) => {
      compiler.close(() => {
        if (err) reject(err)
        else if (!stats) reject(new Error('the compiler returned no stats'))
        else if (stats.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true, colors: false })))
        else resolve((stats.toJson({ all: false, warnings: true }).warnings ?? []).map((w) => w.message))
      })
    })
  })
}

/**
 * A Vite dev server on the project, as the dev tests drive it: in middleware mode without a websocket (they request
 * modules through its environments), its cache inside the project. `config` adds to or replaces that.
 */
export async function viteDevServer(project: Project, config: InlineConfig): Promise<ViteDevServer> {
  const { createServer } = await import('vite')
  return createServer({
    configFile: false,
    root: project.dir,
    logLevel: 'silent',
    cacheDir: project.path('node_modules/.vite'),
    server: { middlewareMode: true, ws: false },
    ...config,
  })
}

/** Makes `version` current for `id` in the lock alone, as Train's promotion does: the current version's phases under a new version name, of the same inputs. */
export function promoteInLock(lockDir: string, id: string, version: string): void {
  const store = new LockStore(lockDir)
  const entry = store.read().functions[id]!
  const { inputHash, generator } = entry.versions[entry.current]!
  const source = store.source(id, entry.current)!.replace(`version: "${entry.current}"`, `version: "${version}"`)
  store.write(id, { version, source, inputHash, generator, reason: 'train: test promotion' })
}
