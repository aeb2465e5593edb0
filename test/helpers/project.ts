// Fixture projects built by each of the six bundlers through their Node APIs, configured as a user would, importing the built package.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Options } from '../../src'

export const BUNDLERS = ['vite', 'rollup', 'rolldown', 'esbuild', 'webpack', 'rspack'] as const
export type Bundler = (typeof BUNDLERS)[number]

/** The worktree root: what `node_modules/unplugin-poet` in every fixture project points at. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/project')
const TMP = join(PACKAGE_ROOT, 'test/.tmp')
const STRIP_TS_LOADER = join(PACKAGE_ROOT, 'test/helpers/strip-ts-loader.cjs')

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

/** Copies the fixture project into a fresh directory under test/.tmp with the package linked in. */
export function createProject(name: string): Project {
  mkdirSync(TMP, { recursive: true })
  const dir = mkdtempSync(join(TMP, `${name}-`))
  cpSync(FIXTURE, dir, { recursive: true })
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
  const entry = opts.entry ?? 'src/main.ts'
  const outDir = project.path(opts.outDir ?? `dist-${bundler}`)
  rmSync(outDir, { recursive: true, force: true })
  const poet = await loadPlugin(project, bundler)
  const warnings: string[] = []
  // Rollup has no notion of a project root and takes process.cwd(), which here is the test runner's: name it.
  const options = bundler === 'rollup' ? { root: project.dir, ...opts.options } : opts.options
  const file = await BUILDERS[bundler]({ project, entry, outDir, plugin: poet(options), warnings })
  return { file, map: `${file}.map`, warnings }
}

/** Imports the output of a build in this Node process. */
export async function run<T = Record<string, unknown>>(result: BuildResult): Promise<T> {
  return (await import(pathToFileURL(result.file).href)) as T
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
async function loadPlugin(project: Project, bundler: Bundler): Promise<(options?: Options) => never> {
  const require = createRequire(project.path('package.json'))
  const mod = (await import(pathToFileURL(require.resolve(`unplugin-poet/${bundler}`)).href)) as {
    default: (options?: Options) => never
  }
  return mod.default
}

const BUILDERS: Record<Bundler, (job: BuildJob) => Promise<string>> = {
  async vite({ project, entry, outDir, plugin }) {
    const { build } = await import('vite')
    await build({
      configFile: false,
      root: project.dir,
      logLevel: 'silent',
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

  async rollup({ project, entry, outDir, plugin, warnings }) {
    const { rollup } = await import('rollup')
    const { transform } = await import('esbuild')
    const bundle = await rollup({
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
    })
    const file = join(outDir, 'main.mjs')
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
      onLog: (_level, log) => void warnings.push(log.message),
      plugins: [plugin],
    })
    const file = join(outDir, 'main.mjs')
    await bundle.write({ file, format: 'es', sourcemap: true })
    await bundle.close()
    return file
  },

  async esbuild({ project, entry, outDir, plugin }) {
    const esbuild = await import('esbuild')
    const file = join(outDir, 'main.mjs')
    await esbuild.build({
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
    return file
  },

  async webpack({ project, entry, outDir, plugin }) {
    const { default: webpack } = await import('webpack')
    const compiler = webpack({
      context: project.dir,
      mode: 'none',
      target: 'node20',
      entry: `./${entry}`,
      devtool: 'source-map',
      output: { path: outDir, filename: 'main.mjs', module: true, chunkFormat: 'module', library: { type: 'module' } },
      experiments: { outputModule: true },
      resolve: { extensions: ['.ts', '.js'] },
      module: { rules: [{ test: /\.ts$/, loader: STRIP_TS_LOADER }] },
      plugins: [plugin],
      infrastructureLogging: { level: 'error' },
    })
    await runCompiler(compiler)
    return join(outDir, 'main.mjs')
  },

  async rspack({ project, entry, outDir, plugin }) {
    const { rspack } = await import('@rspack/core')
    const compiler = rspack({
      context: project.dir,
      mode: 'none',
      target: 'node20',
      entry: `./${entry}`,
      devtool: 'source-map',
      output: { path: outDir, filename: 'main.mjs', module: true, chunkFormat: 'module', library: { type: 'module' } },
      resolve: { extensions: ['.ts', '.js'] },
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
      plugins: [plugin],
      infrastructureLogging: { level: 'error' },
    })
    await runCompiler(compiler)
    return join(outDir, 'main.mjs')
  },
}

interface WebpackLikeCompiler {
  run(cb: (err: Error | null, stats?: { hasErrors(): boolean; toString(o: object): string }) => void): void
  close(cb: (err?: Error | null) => void): void
}

/** Runs a webpack or rspack compiler once; compilation errors reject with the text webpack would print. */
function runCompiler(compiler: WebpackLikeCompiler): Promise<void> {
  return new Promise((resolve, reject) => {
    compiler.run((err, stats) => {
      compiler.close(() => {
        if (err) reject(err)
        else if (stats?.hasErrors()) reject(new Error(stats.toString({ all: false, errors: true, colors: false })))
        else resolve()
      })
    })
  })
}

/** A path as the fixture's own modules name each other (posix, relative to the project). */
export function projectPath(project: Project, abs: string): string {
  return relative(project.dir, abs).split('\\').join('/')
}
