// An edge app (a module worker) built as edge users build it, run in an isolate with only a Worker's globals: calls, retries, timeouts, and events through httpSink and ctx.waitUntil.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../src/runtime/types'
import { serve, type RunningCollector } from '../../src/train/collector'
import { edgeIsolate, type EdgeIsolate } from '../helpers/edge-isolate'
import { createProject, loadPlugin, PACKAGE_ROOT, runCompiler, STRIP_TS_LOADER, type Bundler, type Project } from '../helpers/project'
import { startServer } from '../runtime/sinks/server'

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/edge')
const ENTRY = 'src/worker.ts'

type Plugin = never
interface EdgeBuild {
  bundler: Bundler
  /** Builds `ENTRY` into `outDir`; returns the output file, an ES module with nothing left to import. */
  build(project: Project, outDir: string, plugin: Plugin): Promise<string>
}

/** Each bundler configured for a Worker, as its own docs have it; none of them resolves Node built-ins. */
const BUILDS: Record<string, EdgeBuild> = {
  'vite (ssr, target webworker)': {
    bundler: 'vite',
    async build(project, outDir, plugin) {
      const { build } = await import('vite')
      await build({
        configFile: false,
        root: project.dir,
        logLevel: 'silent',
        cacheDir: project.path('node_modules/.vite'),
        plugins: [plugin],
        ssr: { target: 'webworker', noExternal: true },
        build: { ssr: ENTRY, outDir, minify: false, rolldownOptions: { output: { entryFileNames: 'worker.mjs' } } },
      })
      return join(outDir, 'worker.mjs')
    },
  },
  'esbuild (platform neutral)': { bundler: 'esbuild', build: (project, outDir, plugin) => esbuild(project, outDir, plugin, 'neutral') },
  'esbuild (platform browser)': { bundler: 'esbuild', build: (project, outDir, plugin) => esbuild(project, outDir, plugin, 'browser') },
  'rolldown (platform browser)': {
    bundler: 'rolldown',
    async build(project, outDir, plugin) {
      const { rolldown } = await import('rolldown')
      const bundle = await rolldown({ input: project.path(ENTRY), cwd: project.dir, platform: 'browser', logLevel: 'silent', plugins: [plugin] })
      const file = join(outDir, 'worker.mjs')
      await bundle.write({ file, format: 'es' })
      await bundle.close()
      return file
    },
  },
  'rollup (package exports only)': {
    bundler: 'rollup',
    async build(project, outDir, plugin) {
      const { rollup } = await import('rollup')
      const { transform } = await import('esbuild')
      const runtime = join(PACKAGE_ROOT, 'dist/runtime.mjs')
      const bundle = await rollup({
        input: project.path(ENTRY),
        onwarn: () => {},
        plugins: [
          plugin,
          // What @rollup/plugin-node-resolve does for the one package the worker imports: its `exports` default.
          { name: 'resolve-runtime', resolveId: (id) => (id === 'unplugin-poet/runtime' ? runtime : null) },
          {
            name: 'strip-ts',
            async transform(code, id) {
              if (!id.endsWith('.ts')) return null
              return (await transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: id })).code
            },
          },
        ],
      })
      const file = join(outDir, 'worker.mjs')
      await bundle.write({ file, format: 'es' })
      await bundle.close()
      return file
    },
  },
  'webpack (target webworker)': {
    bundler: 'webpack',
    async build(project, outDir, plugin) {
      const { default: webpack } = await import('webpack')
      await runCompiler(
        webpack({
          ...webpackFamily(project, outDir, plugin),
          experiments: { outputModule: true },
          module: { rules: [{ test: /\.ts$/, loader: STRIP_TS_LOADER }] },
        }),
      )
      return join(outDir, 'worker.mjs')
    },
  },
  'rspack (target webworker)': {
    bundler: 'rspack',
    async build(project, outDir, plugin) {
      const { rspack } = await import('@rspack/core')
      await runCompiler(
        rspack({
          ...webpackFamily(project, outDir, plugin),
          module: {
            rules: [{ test: /\.ts$/, loader: 'builtin:swc-loader', options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }, type: 'javascript/auto' }],
          },
        }),
      )
      return join(outDir, 'worker.mjs')
    },
  },
}

async function esbuild(project: Project, outDir: string, plugin: Plugin, platform: 'neutral' | 'browser'): Promise<string> {
  const { build } = await import('esbuild')
  const outfile = join(outDir, 'worker.mjs')
  await build({ absWorkingDir: project.dir, entryPoints: [ENTRY], outfile, bundle: true, platform, format: 'esm', target: 'es2022', logLevel: 'silent', plugins: [plugin] })
  return outfile
}

function webpackFamily(project: Project, outDir: string, plugin: Plugin) {
  return {
    context: project.dir,
    mode: 'none' as const,
    target: 'webworker' as const,
    entry: `./${ENTRY}`,
    output: { path: outDir, filename: 'worker.mjs', module: true, chunkFormat: 'module' as const, library: { type: 'module' as const } },
    resolve: { extensions: ['.ts', '.js'] },
    plugins: [plugin],
    infrastructureLogging: { level: 'error' as const },
  }
}

/** `promise`, or a rejection saying `what` once `ms` have passed (a hang fails the test instead of stalling it). */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** Resolves once `done()` holds, checking every few milliseconds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5))
}

let collector: Awaited<ReturnType<typeof startServer>>
let poetServe: RunningCollector
beforeAll(async () => {
  collector = await startServer()
  poetServe = await serve({ port: 0, db: join(mkdtempSync(join(tmpdir(), 'poet-edge-')), 'feedback.db') })
})
afterAll(async () => {
  await collector.close()
  await poetServe?.close()
  if (poetServe) rmSync(dirname(poetServe.collector.store.file), { recursive: true, force: true })
})

const CODE: Record<string, string> = {}
/** A bundler's output for the edge, built once for both kinds of isolate. */
async function built(name: string, { bundler, build }: EdgeBuild): Promise<string> {
  if (CODE[name] === undefined) {
    const project = createProject(`edge-${bundler}`, { fixture: FIXTURE })
    try {
      const poet = await loadPlugin(project, bundler)
      CODE[name] = readFileSync(await build(project, project.path('dist'), poet(bundler === 'rollup' ? { root: project.dir } : undefined)), 'utf8')
    } finally {
      project.remove()
    }
  }
  return CODE[name]!
}

const ISOLATES = [
  ['a WinterCG runtime', false],
  ['workerd (a WorkerGlobalScope)', true],
] as const

describe.each(Object.entries(BUILDS))('%s', (name, edge) => {
  it('bundles everything: no import, require or Node built-in is left for the Worker to resolve', async () => {
    expect(await built(name, edge)).not.toMatch(/^\s*import\b|\bimport\(|\brequire\(|["']node:/m)
  })

  describe.each(ISOLATES)('in %s', (_isolate, workerScope) => {
    let worker: EdgeIsolate
    beforeAll(async () => {
      worker = await edgeIsolate(await built(name, edge), { workerScope })
    })

    it('answers a request with calls validated, retried and timed out, and sends their events before the request ends (ctx.waitUntil)', async () => {
      // No interval within a request: what it sends, flush sends.
      const env = { COLLECTOR: `${collector.url}/v1/events`, INTERVAL: 60_000 }
      const before = collector.received.length
      const items = [{ name: 'tea', price: 3 }, { name: 'cake', price: 4.5 }]
      const ok = await worker.request('https://shop.example/total', { method: 'POST', body: JSON.stringify(items) }, env)
      expect(ok).toEqual({ status: 200, body: { total: 7.5, flaky: 3, timeout: 20 } })
      const bad = await worker.request('https://shop.example/total', { method: 'POST', body: JSON.stringify([{ name: 'tea', price: '3' }]) }, env)
      expect(bad).toEqual({ status: 200, body: { input: [{ path: 'args[0][0].price', expected: 'number', received: 'string' }], flaky: 6, timeout: 20 } })
      expect(worker.waitUntilCalls).toBe(1)
      // Everything was sent within the requests, one POST each (a subrequest per task would spend a Worker's 50 on
      // telemetry); their timers are gone with them, and nothing was said.
      expect(collector.received.length - before).toBe(2)
      const events = collector.received.slice(before).flatMap((r) => JSON.parse(r.body) as ExecutionEvent[])
      expect(events.map((e) => `${e.functionId} ${e.outcome} ${e.attempts}`)).toEqual([
        'src/shop.ts#total ok 1',
        'src/shop.ts#flaky ok 3',
        'src/shop.ts#slow timeout 1',
        'src/shop.ts#total input_error 0',
        'src/shop.ts#flaky ok 3',
        'src/shop.ts#slow timeout 1',
      ])
      expect(worker.pendingTimers).toBe(0)
      expect(worker.said).toEqual([])
    })

    it('sends at its interval in a request that outlives it, after a request whose interval timer was cancelled with it', async () => {
      const isolate = await edgeIsolate(await built(name, edge), { workerScope })
      const env = { COLLECTOR: `${collector.url}/v1/events`, INTERVAL: 50 }
      expect(await isolate.request('https://shop.example/total', { method: 'POST', body: '[]' }, env)).toMatchObject({ status: 200 })
      expect(await isolate.request('https://shop.example/linger', {}, env)).toEqual({ status: 200, body: { sent: 1 } })
    })

    it('times calls out after a request that ended with a call pending (its timers cancelled with it)', async () => {
      const env = { COLLECTOR: `${collector.url}/v1/events` }
      expect(await worker.request('https://shop.example/detach', {}, env)).toEqual({ status: 204, body: undefined })
      // The detached call armed its deadline before its request ended, so for now + 20 ms at the latest.
      const detached = Date.now()
      // The shared deadline timer, set for the detached call's 20 ms, died with its request. Once that time is past, a
      // new deadline sees the timer is dead (it has not fired) and sets another; before it, it cannot tell (see deadline.ts).
      await within(5_000, until(() => Date.now() > detached + 21), 'the clock did not move')
      const next = worker.request('https://shop.example/total', { method: 'POST', body: '[]' }, env)
      expect(await within(5_000, next, 'a timeout of 20 ms had not fired after 5 s')).toMatchObject({ status: 200, body: { total: 0, timeout: 20 } })
    })
  })
})

describe.each(ISOLATES)('the whole runtime set up at the global scope of a Worker, in %s', (_isolate, workerScope) => {
  it('imports, configures every sink and listens with no timer, fetch or crypto, then sends within the request', async () => {
    const project = createProject('edge-global', { fixture: FIXTURE })
    let code: string
    try {
      const poet = await loadPlugin(project, 'esbuild')
      const { build } = await import('esbuild')
      const out = await build({
        absWorkingDir: project.dir,
        entryPoints: ['src/global.ts'],
        bundle: true,
        platform: 'neutral',
        format: 'esm',
        write: false,
        logLevel: 'silent',
        define: { COLLECTOR: JSON.stringify(poetServe.url), OTLP: JSON.stringify(collector.url) },
        plugins: [poet()],
      })
      code = out.outputFiles[0]!.text
    } finally {
      project.remove()
    }
    const worker = await edgeIsolate(code, { workerScope })
    const before = collector.received.length
    const { store } = poetServe.collector
    const stored = [store.count('executions'), store.count('feedback')]
    expect(await worker.request('https://shop.example/', {}, {})).toEqual({ status: 200, body: { total: 42, kinds: ['execution', 'feedback'], execution: 'src/global.ts#quote' } })
    // poet serve took both events (202 only once they are in SQLite) before the request ended.
    expect([store.count('executions') - stored[0]!, store.count('feedback') - stored[1]!]).toEqual([1, 1])
    const otlpRequests = collector.received.slice(before)
    expect(otlpRequests.map((r) => r.path)).toEqual(['/v1/logs'])
    expect(JSON.parse(otlpRequests[0]!.body).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(2)
    expect(worker.said).toEqual(['poet: httpSink needs an absolute url outside a browser, got "/v1/events"; its events are dropped'])
    expect(worker.pendingTimers).toBe(0)
  })
})
