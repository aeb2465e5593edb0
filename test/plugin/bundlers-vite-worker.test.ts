// poet() functions in web workers of a Vite build: Vite bundles each worker apart with `worker.plugins`, not
// `plugins`, so they got no phases (no validation) without a word unless the user repeated the plugin there.
import { readdirSync, readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import type { Options } from '../../src'
import { createProject, loadPlugin, viteDevServer, type Project } from '../helpers/project'

const WORKER = (name: string) =>
  [
    "import { poet } from 'unplugin-poet/runtime'",
    `const ${name} = poet()((n: number): number => n * 2)`,
    `self.onmessage = (e: MessageEvent) => postMessage(${name}(e.data))`,
  ].join('\n')

async function buildApp(project: Project, options: Options | undefined, userWorkerPlugin: boolean): Promise<string[]> {
  const warnings: string[] = []
  const { build } = await import('vite')
  const poet = await loadPlugin(project, 'vite')
  const collect = (message: string) => void warnings.push(message)
  await build({
    configFile: false,
    root: project.dir,
    customLogger: { info: () => {}, warn: collect, warnOnce: collect, error: () => {}, clearScreen: () => {}, hasErrorLogged: () => false, hasWarned: false },
    plugins: [poet(options)],
    // A user who already followed Vite's docs: the plugin must not run twice on the worker.
    worker: userWorkerPlugin ? { plugins: () => [poet(options)] } : undefined,
    build: { outDir: 'out', minify: false },
  })
  return warnings
}

/** Runs a built worker chunk in this process as a worker would: `self.onmessage` called with a message, `postMessage` answering. */
async function callWorker(file: string, data: unknown): Promise<unknown> {
  const g = globalThis as unknown as { self?: unknown; postMessage?: unknown; onmessage?: (e: { data: unknown }) => void }
  let answer: unknown
  g.self = globalThis
  g.postMessage = (v: unknown) => (answer = v)
  try {
    await import(`${pathToFileURL(file).href}?t=${Math.random()}`)
    g.onmessage!({ data })
    return answer
  } finally {
    delete g.self
    delete g.postMessage
    delete g.onmessage
  }
}

describe.each([false, true])('a Vite build with web workers (poet also in worker.plugins: %s)', (userWorkerPlugin) => {
  let project: Project
  let warnings: string[]

  beforeAll(async () => {
    project = createProject(`vite-worker-${userWorkerPlugin}`)
    project.write('index.html', '<script type="module" src="/src/app.ts"></script>')
    project.write('src/app.ts', "new Worker(new URL('./url-worker.ts', import.meta.url), { type: 'module' })\nimport Query from './query-worker.ts?worker'\nnew Query()\nimport './reliable'\n")
    project.write('src/url-worker.ts', `${WORKER('double')}\nimport './reliable'\n`)
    // A module the page and a worker both import: the page's bundle and the worker's transform it apart.
    project.write('src/reliable.ts', "export { poet } from 'unplugin-poet/runtime'\n")
    project.write('src/query-worker.ts', WORKER('twice'))
    warnings = await buildApp(project, { feedback: { endpoint: 'https://collector.example/v1/events' } }, userWorkerPlugin)
  })
  afterAll(() => project.remove())

  const chunk = (prefix: string) => project.path(`out/assets/${readdirSync(project.path('out/assets')).find((f) => f.startsWith(prefix))!}`)

  it('generates the phases of the functions in both kinds of worker', () => {
    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    expect(Object.keys(lock.functions).sort()).toEqual(['src/query-worker.ts#twice', 'src/url-worker.ts#double'])
    expect(readFileSync(chunk('url-worker'), 'utf8')).toContain('src/url-worker.ts#double')
  })

  it('checks input inside the worker', async () => {
    await expect(callWorker(chunk('url-worker'), 2)).resolves.toBe(4)
    await expect(callWorker(chunk('query-worker'), '2')).rejects.toThrow(/args\[0\]: expected number, received string/)
  })

  it("says once that feedback.endpoint does not reach a worker's runtime, and how to send its events", () => {
    const said = warnings.filter((w) => w.includes('feedback.endpoint'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('a web worker runs a runtime of its own')
    expect(said[0]).toContain("configure({ sink: httpSink({ url: 'https://collector.example/v1/events' }) })")
    expect(said[0]).toMatch(/\(src\/(?:url|query)-worker\.ts, in a worker that configures no sink\)/)
  })

  it('warns once about a module the page and a worker both import, not once per bundle', () => {
    const said = warnings.filter((w) => w.includes('src/reliable.ts'))
    expect(said).toHaveLength(1)
    expect(said[0]).toContain('this module re-exports poet')
  })
})

describe('a Vite build whose worker configures its own sink', () => {
  it('does not tell it that its events go nowhere: it did what the warning asks', async () => {
    const project = createProject('vite-worker-sink')
    try {
      project.write('index.html', '<script type="module" src="/src/app.ts"></script>')
      project.write('src/app.ts', "new Worker(new URL('./url-worker.ts', import.meta.url), { type: 'module' })\n")
      // The sink set up in a module of the worker's own, as an app with several workers would.
      project.write('src/sink.ts', "import { configure, httpSink } from 'unplugin-poet/runtime'\nconfigure({ sink: httpSink({ url: 'https://collector.example/v1/events' }) })\n")
      project.write('src/url-worker.ts', `import './sink'\n${WORKER('double')}`)
      const warnings = await buildApp(project, { feedback: { endpoint: 'https://collector.example/v1/events' } }, false)
      expect(warnings.filter((w) => w.includes('feedback.endpoint'))).toEqual([])
      expect(JSON.parse(project.read('.poet/lock.json')).functions).toHaveProperty(['src/url-worker.ts#double'])
    } finally {
      project.remove()
    }
  })
})

describe('a Vite dev server serving a web worker', () => {
  it("rewrites the worker module it serves (?worker_file), so its functions check input as in the build", async () => {
    const project = createProject('vite-dev-worker')
    const poet = await loadPlugin(project, 'vite')
    project.write('src/url-worker.ts', WORKER('double'))
    const server = await viteDevServer(project, { plugins: [poet()] })
    try {
      // What `new Worker(new URL('./url-worker.ts', import.meta.url), { type: 'module' })` requests in dev.
      const served = await server.environments.client.transformRequest('/src/url-worker.ts?worker_file&type=module')
      expect(served?.code).toContain('poet:src~2furl-worker.ts~23double')
      // Left alone, as before: other queries (a raw string of the source) are not modules to rewrite.
      const raw = await server.environments.client.transformRequest('/src/url-worker.ts?raw')
      expect(raw?.code).not.toContain('poet:src~2furl-worker.ts')
    } finally {
      await server.close()
      project.remove()
    }
  })
})
