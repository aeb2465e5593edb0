// Server-side rendering with Vite as its users build it: `vite build` and `vite build --ssr` sharing one lock, the server run with node, the page in Chromium.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import type { InlineConfig } from 'vite'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import type { ExecutionEvent } from '../../src/runtime/types'
import { goodReply, scaleSource } from '../generators/verify/fixture'
import { launchChromium } from '../helpers/chromium'
import { LIB_TOTAL } from '../helpers/monorepo'
import { reply, startOpenAIServer } from '../helpers/openai-server'
import { createProject, loadPlugin, PACKAGE_ROOT, type Project } from '../helpers/project'

const VITE_BIN = join(createRequire(import.meta.url).resolve('vite/package.json'), '../bin/vite.js')

const PRICE = `import { poet } from 'unplugin-poet/runtime'

export const price = poet({ attempts: 1 })(function price(line: { qty: number; unit: number }): number {
  return line.qty * line.unit
})
`

// In Node there is no page to resolve a relative URL against: the server says where it listens.
const TELEMETRY = `import { configure, httpSink } from 'unplugin-poet/runtime'

configure({ sink: httpSink({ url: process.env.POET_EVENTS_URL as string, interval: 50 }) })
`

const ENTRY_SERVER = `import './telemetry'
import { price } from './price'

export function render(qty: unknown): string {
  try {
    return '<p id="total">' + price({ qty: qty as number, unit: 2 }) + '</p>'
  } catch (e) {
    return '<p id="error">' + (e as Error).name + '</p>'
  }
}
`

const ENTRY_CLIENT = `import { price } from './price'

;(window as unknown as { price: typeof price }).price = price
document.body.dataset.ready = '1'
`

/** The production server of Vite's SSR templates, cut down: the page rendered by the server bundle, the client's assets, and an events endpoint that keeps what it gets. */
const SERVER = `import { createServer } from 'node:http'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

const events = []
const file = (path) => readFileSync(new URL(path, import.meta.url))
const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  if (req.method === 'POST' && url.pathname === '/__poet/events') {
    let body = ''
    for await (const chunk of req) body += chunk
    events.push(...JSON.parse(body))
    return res.writeHead(202, { 'content-type': 'application/json' }).end('{}')
  }
  if (url.pathname === '/recorded') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(events))
  if (url.pathname.startsWith('/assets/')) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(file('./dist/client/assets/' + basename(url.pathname)))
  // Not the favicon a browser asks for: a render of its own.
  if (url.pathname !== '/') return res.writeHead(404).end()
  const { render } = await import('./dist/server/entry-server.js')
  const html = file('./dist/client/index.html').toString().replace('<!--app-html-->', render(url.searchParams.has('text') ? 'three' : 3))
  res.writeHead(200, { 'content-type': 'text/html' }).end(html)
})
server.listen(0, '127.0.0.1', () => {
  process.env.POET_EVENTS_URL = 'http://127.0.0.1:' + server.address().port + '/__poet/events'
  console.log('listening ' + server.address().port)
})
`

const CONFIG = `import poet from 'unplugin-poet/vite'
export default { plugins: [poet({ feedback: { endpoint: '/__poet/events' } })] }
`

/**
 * A project with unplugin-poet installed as a registry install leaves it (a copy in node_modules, not the link other
 * tests use): Vite's SSR build then leaves the runtime external, as in a user's app.
 */
function ssrProject(name: string): Project {
  const project = createProject(name)
  const installed = project.path('node_modules/unplugin-poet')
  rmSync(installed)
  for (const entry of ['package.json', 'dist', 'client.d.ts']) cpSync(join(PACKAGE_ROOT, entry), join(installed, entry), { recursive: true })
  project.write('index.html', '<!doctype html><html><head><title>ssr</title></head><body><div id="app"><!--app-html--></div><script type="module" src="/src/entry-client.ts"></script></body></html>\n')
  project.write('src/price.ts', PRICE)
  project.write('src/telemetry.ts', TELEMETRY)
  project.write('src/entry-server.ts', ENTRY_SERVER)
  project.write('src/entry-client.ts', ENTRY_CLIENT)
  project.write('vite.config.mjs', CONFIG)
  project.write('server.mjs', SERVER)
  return project
}

/** Runs the vite command line in the project; rejects with what it printed when it fails. */
function vite(project: Project, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [VITE_BIN, ...args], { cwd: project.dir, timeout: 120_000, env: { ...process.env, NO_COLOR: '1', CI: '' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`vite ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`))
      else resolve(stdout + stderr)
    })
  })
}

/** Starts `node server.mjs` and resolves with its origin once it listens (fails cleanly if it exits or stays silent). */
function startServer(project: Project): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['server.mjs'], { cwd: project.dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`node server.mjs did not listen within 30 s:\n${output}`)), 30_000)
    const fail = (error: Error) => {
      clearTimeout(timer)
      child.kill()
      reject(error)
    }
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk
      const port = /listening (\d+)/.exec(output)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve({ origin: `http://127.0.0.1:${port}`, child })
      }
    })
    child.once('exit', (code) => fail(new Error(`node server.mjs exited (${code}) before it listened:\n${output}`)))
  })
}

/** Reads until `ok` holds; past `timeout`, fails naming what was last read. */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeout = 30_000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > end) throw new Error(`${what}: not within ${timeout} ms; last read ${JSON.stringify(value)}`)
    await new Promise((done) => setTimeout(done, 100))
  }
}

describe('vite build and vite build --ssr, run at once from no lock, then served by node', () => {
  let project: Project
  let client: string
  let ssr: string
  let server: { origin: string; child: ChildProcess } | undefined
  let browser: Browser | undefined

  beforeAll(async () => {
    project = ssrProject('vite-ssr')
    ;[client, ssr] = await Promise.all([
      vite(project, ['build', '--outDir', 'dist/client']),
      vite(project, ['build', '--ssr', 'src/entry-server.ts', '--outDir', 'dist/server']),
    ])
    server = await startServer(project)
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    server?.child.kill()
    project.remove()
  })

  const current = () => (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/price.ts#price']!.current

  it('locks the function once, and both bundles hold that version', () => {
    const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/price.ts#price']!
    expect(Object.keys(entry.versions)).toEqual([entry.current])
    const version = new RegExp(`version:\\s*["'\`]${entry.current}["'\`]`)
    expect(project.read('dist/server/entry-server.js')).toMatch(version)
    const page = /src="(\/assets\/[^"]+\.js)"/.exec(project.read('dist/client/index.html'))![1]!
    expect(project.read(`dist/client${page}`)).toMatch(version)
  })

  it("leaves the runtime to node in the server bundle: one copy, whose sink the entry's configure sets", () => {
    const bundle = project.read('dist/server/entry-server.js')
    expect(bundle).toMatch(/from "unplugin-poet\/runtime"/)
    expect(bundle).not.toContain('httpSink needs an absolute url')
  })

  it("says nothing of feedback.endpoint to an SSR build whose entry configures its sink (it was told its events go nowhere, and how to do what it did)", () => {
    expect(client).not.toContain('feedback.endpoint')
    expect(ssr).not.toContain('feedback.endpoint')
  })

  it('validates on the server and in the page, and the events of both reach the endpoint', async () => {
    expect(await (await fetch(`${server!.origin}/?text`)).text()).toContain('<p id="error">PoetInputError</p>')
    browser = await launchChromium()
    const page = await browser.newPage()
    await page.goto(server!.origin)
    expect(await page.textContent('#total')).toBe('6')
    await page.waitForSelector('body[data-ready="1"]')
    const called = await page.evaluate(() => {
      const { price } = window as unknown as { price(line: unknown): number }
      let refused: { name: string; message: string } | undefined
      try {
        price({ qty: '3', unit: 2 })
      } catch (e) {
        refused = { name: (e as Error).name, message: (e as Error).message }
      }
      return { total: price({ qty: 3, unit: 2 }), refused }
    })
    expect(called.total).toBe(6)
    expect(called.refused?.name).toBe('PoetInputError')
    expect(called.refused?.message).toContain('args[0].qty: expected number, received string')
    // Two renders on the server, two calls in the page: an ok and an input error each.
    const recorded = () => fetch(`${server!.origin}/recorded`).then((r) => r.json() as Promise<ExecutionEvent[]>)
    const events = await until(recorded, (e) => e.length >= 4, 'the events of the server and the page')
    expect(events.map((e) => `${e.functionId} ${e.version} ${e.outcome}`).sort()).toEqual(
      [`src/price.ts#price ${current()} input_error`, `src/price.ts#price ${current()} input_error`, `src/price.ts#price ${current()} ok`, `src/price.ts#price ${current()} ok`],
    )
  }, 60_000)
})

describe('feedback.endpoint in one vite build of the page and the server (builder, environments client and ssr)', () => {
  /** Builds both environments as `vite build --app` does, and returns what was said of feedback.endpoint. */
  async function buildApp(project: Project, endpoint: string): Promise<string[]> {
    const { createBuilder, createLogger } = await import('vite')
    const poet = await loadPlugin(project, 'vite')
    const warnings: string[] = []
    const collect = (message: string) => void warnings.push(message)
    const config: InlineConfig = {
      configFile: false,
      root: project.dir,
      customLogger: { ...createLogger('silent'), warn: collect, warnOnce: collect },
      plugins: [poet({ feedback: { endpoint } })],
      environments: {
        client: { build: { outDir: 'dist/client' } },
        ssr: { build: { outDir: 'dist/server', rolldownOptions: { input: 'src/entry-server.ts' } } },
      },
      builder: {},
    }
    await (await createBuilder(config)).buildApp()
    return warnings.filter((w) => w.includes('feedback.endpoint'))
  }

  it('tells a server that configures no sink to give httpSink an absolute URL: a relative one means nothing in node', async () => {
    const project = ssrProject('vite-ssr-endpoint')
    try {
      project.write('src/entry-server.ts', ENTRY_SERVER.replace("import './telemetry'\n", ''))
      const said = await buildApp(project, '/__poet/events')
      expect(said).toHaveLength(1)
      expect(said[0]).toContain('a Vite SSR build has none, so its events go nowhere')
      // The advice the build gave before: the sink it makes refuses that URL outside a browser, dropping every event.
      expect(said[0]).not.toContain("httpSink({ url: '/__poet/events' })")
      expect(said[0]).toContain("httpSink({ url: 'https://")
      // An absolute endpoint is advised as it is.
      const absolute = await buildApp(project, 'https://collector.example/v1/events')
      expect(absolute).toHaveLength(1)
      expect(absolute[0]).toContain("configure({ sink: httpSink({ url: 'https://collector.example/v1/events' }) })")
    } finally {
      project.remove()
    }
  }, 120_000)

  it('says nothing when a module of the server bundle configures its sink', async () => {
    const project = ssrProject('vite-ssr-endpoint-sink')
    try {
      expect(await buildApp(project, '/__poet/events')).toEqual([])
    } finally {
      project.remove()
    }
  }, 120_000)
})

describe('an SSR build using a library from node_modules that uses poet (prebuilt, the runtime left to the app)', () => {
  let lib: Project
  let app: Project

  beforeAll(async () => {
    lib = createProject('vite-ssr-lib')
    lib.write('package.json', JSON.stringify({ name: '@acme/lib', type: 'module', exports: './dist/index.js', peerDependencies: { 'unplugin-poet': '*' } }))
    lib.write('src/index.ts', LIB_TOTAL)
    const { build } = await import('vite')
    const poet = await loadPlugin(lib, 'vite')
    await build({
      configFile: false,
      root: lib.dir,
      logLevel: 'silent',
      plugins: [poet()],
      build: { lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' }, rolldownOptions: { external: [/^unplugin-poet\//] } },
    })
    app = ssrProject('vite-ssr-lib-app')
    for (const entry of ['package.json', 'dist']) cpSync(lib.path(entry), app.path(`node_modules/@acme/lib/${entry}`), { recursive: true })
    app.write(
      'src/entry-server.ts',
      [
        "import { onEvent } from 'unplugin-poet/runtime'",
        "import { total } from '@acme/lib'",
        "import { price } from './price'",
        'export const seen: string[] = []',
        'onEvent((e) => void seen.push(e.functionId))',
        'export const render = () => `${price({ qty: 1, unit: 2 })} ${total({ items: [{ price: 3 }] })}`',
      ].join('\n'),
    )
  }, 120_000)
  afterAll(() => {
    lib.remove()
    app.remove()
  })

  /** Builds the server with this `ssr` config, renders once in node, and returns what the app's onEvent heard, and the build's warnings. */
  async function serve(ssr: InlineConfig['ssr'], outDir: string): Promise<{ heard: string[]; warnings: string[] }> {
    const { build, createLogger } = await import('vite')
    const poet = await loadPlugin(app, 'vite')
    const warnings: string[] = []
    const collect = (message: string) => void warnings.push(message)
    await build({
      configFile: false,
      root: app.dir,
      customLogger: { ...createLogger('silent'), warn: collect, warnOnce: collect },
      plugins: [poet()],
      ssr,
      build: { ssr: 'src/entry-server.ts', outDir, rolldownOptions: { output: { entryFileNames: 'entry-server.mjs' } } },
    })
    const script = `const m = await import(${JSON.stringify(app.path(`${outDir}/entry-server.mjs`))}); if (m.render() !== '2 3') throw new Error('rendered ' + m.render()); console.log(JSON.stringify(m.seen))`
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: app.dir, timeout: 60_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
    )
    return { heard: JSON.parse(out) as string[], warnings }
  }

  const oneRuntime: [string, string, InlineConfig['ssr']][] = [
    ['left external (the default)', 'dist-default', undefined],
    ['bundled with the runtime (noExternal: true)', 'dist-all', { noExternal: true }],
    ['bundled, the runtime external (noExternal: [the library])', 'dist-lib', { noExternal: ['@acme/lib'] }],
  ]
  it.each(oneRuntime)("%s: its functions and the app's run in one runtime, and the build says nothing of it", async (_, outDir, ssr) => {
    const { heard, warnings } = await serve(ssr, outDir)
    expect(heard).toEqual(['src/price.ts#price', 'src/index.ts#total'])
    expect(warnings.filter((w) => w.includes('unplugin-poet/runtime'))).toEqual([])
  }, 120_000)

  it('says so when the runtime alone is bundled (noExternal: [unplugin-poet]) and the library left external runs in a copy of its own', async () => {
    const { heard, warnings } = await serve({ noExternal: ['unplugin-poet'] }, 'dist-runtime')
    // What the warning is about: the library's call reached none of the app's listeners, without a word.
    expect(heard).toEqual(['src/price.ts#price'])
    const said = warnings.filter((w) => w.includes('unplugin-poet/runtime'))
    expect(said, warnings.join('\n')).toHaveLength(1)
    expect(said[0]).toContain('@acme/lib')
    expect(said[0]).toContain('ssr.noExternal')
  }, 120_000)
})

describe('vite build and vite build --ssr at once, phases written by an LLM', () => {
  it('bundles one version on both sides, though each process asked the LLM and got its own answer', async () => {
    // Each answer differs (a comment), as a real model's would. Slow enough that both processes ask before either writes.
    const llm = await startOpenAIServer((_, i) => reply.slow(1000, { ...goodReply, perceive: `// answer ${i}\n${goodReply.perceive}` }))
    const project = ssrProject('vite-ssr-llm')
    try {
      project.write('src/scale.ts', scaleSource())
      project.write('src/entry-server.ts', "export { scale, PoetInputError } from './scale'\n")
      project.write('src/entry-client.ts', "import { scale } from './scale'\n;(window as unknown as { scale: typeof scale }).scale = scale\n")
      project.write('vite.config.mjs', CONFIG.replace('poet({', `poet({ strict: false, generator: { provider: 'openai', model: 'test-model', baseURL: ${JSON.stringify(llm.baseURL)}, apiKey: 'k' }, `))
      await Promise.all([vite(project, ['build', '--outDir', 'dist/client']), vite(project, ['build', '--ssr', 'src/entry-server.ts', '--outDir', 'dist/server'])])
      expect(llm.requests.length).toBeGreaterThan(0)
      const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/scale.ts#scale']!
      const bundled = new Set<string>()
      for (const dir of ['dist/client/assets', 'dist/server']) {
        for (const f of readdirSync(project.path(dir))) {
          for (const m of project.read(`${dir}/${f}`).matchAll(/src\/scale\.ts#scale["'`],\s*version:\s*["'`](\w+)/g)) bundled.add(m[1]!)
        }
      }
      expect([...bundled]).toEqual([entry.current])
      expect(Object.keys(entry.versions)).toEqual([entry.current])
    } finally {
      await llm.close()
      project.remove()
    }
  }, 240_000)
})
