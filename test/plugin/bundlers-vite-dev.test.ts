// The Vite dev server: hot-swappable phase modules, swaps on type and lock changes, and events collected from a real page.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModuleRunner } from 'vite/module-runner'
import { LockStore } from '../../src/generators/lock'
import { createProject, loadPlugin, PACKAGE_ROOT, promoteInLock, viteDevServer, type Project } from '../helpers/project'

interface Geometry {
  norm(p: { x: unknown; y: unknown }): number
  servedVersion(): string | undefined
}

const ID = 'src/geometry.ts#norm'

describe('vite dev server', () => {
  let project: Project
  let server: import('vite').ViteDevServer
  let runner: ModuleRunner

  beforeAll(async () => {
    const { createServerModuleRunner } = await import('vite')
    project = createProject('vite-dev', { extras: true })
    const poet = await loadPlugin(project, 'vite')
    server = await viteDevServer(project, { appType: 'custom', plugins: [poet()] })
    runner = createServerModuleRunner(server.environments.ssr, { hmr: { logger: false } })
  })
  afterAll(async () => {
    await runner?.close()
    await server?.close()
    project?.remove()
  })

  it('swaps new phases into the running function when its types or the lock change, without re-importing it', async () => {
    // One import for the whole test: every later behaviour comes through this same function object.
    const app = await runner.import<Geometry>('/src/geometry.ts')
    expect(() => app.norm({ x: '3', y: 4 })).toThrow('args[0].x: expected number, received string')
    const served = await server.environments.ssr.transformRequest('virtual:poet/src~2fgeometry.ts~23norm')
    expect(served?.code).toMatch(/\.hot\.accept\(\)/)

    project.write('src/shapes.ts', project.read('src/shapes.ts').replace('x: number', 'x: number | string'))
    await eventually(() => app.norm({ x: '3', y: 4 }) === 5)

    // The swap regenerated the phases and wrote the lock; the file watcher folds changes to one file that come
    // within 50 ms into one event, so the next write waits: a trainer's promotion never follows that closely.
    await new Promise((r) => setTimeout(r, 300))
    const store = new LockStore(project.lockDir)
    const entry = store.read().functions[ID]!
    const source = store.source(ID, entry.current)!.replace(`version: "${entry.current}"`, 'version: "trained0002"')
    const { inputHash, generator } = entry.versions[entry.current]!
    store.write(ID, { version: 'trained0002', source, inputHash, generator, reason: 'train: test promotion' })
    await eventually(() => {
      app.norm({ x: 3, y: 4 })
      return app.servedVersion() === 'trained0002'
    })
  })
})

describe('vite dev server with a page in Chromium', () => {
  let project: Project
  let server: import('vite').ViteDevServer
  let browser: import('playwright-core').Browser

  beforeAll(async () => {
    const { launchChromium } = await import('../helpers/chromium')
    project = createProject('vite-dev-page', { extras: true })
    const poet = await loadPlugin(project, 'vite')
    server = await viteDevServer(project, { server: { host: '127.0.0.1', port: 0, hmr: false }, plugins: [poet()] })
    await server.listen()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    project?.remove()
  })

  it("takes the events of a page that set nothing up at /__poet/events, and serves them at /__poet/v1/functions", async () => {
    const base = server.resolvedUrls!.local[0]!
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(base)
    await page.waitForFunction(() => (window as unknown as { doubled?: number }).doubled === 42)
    expect(errors).toEqual([])

    interface Row {
      id: string
      role?: string
      calls: number
    }
    let rows: Row[] = []
    await eventuallyAsync(async () => {
      rows = ((await (await fetch(new URL('__poet/v1/functions', base))).json()) as { functions: Row[] }).functions
      return rows.some((r) => r.id === 'src/aliased.ts#double' && r.calls === 1)
    })
    expect(rows.find((r) => r.id === 'src/aliased.ts#double')).toMatchObject({ role: 'current', calls: 1 })

    const refused = await fetch(new URL('__poet/events', base), { method: 'POST', body: '{"not":"a batch"}' })
    expect(refused.status).toBe(400)
  })
})

describe('vite dev server without HMR (server.hmr: false, as Vitest runs it)', () => {
  it("serves new phases after an edit of a function's own types, and the version the lock makes current: no hotUpdate hook runs to swap them", async () => {
    const project = createProject('vite-dev-no-hmr')
    const poet = await loadPlugin(project, 'vite')
    const server = await viteDevServer(project, { plugins: [poet()], server: { middlewareMode: true, ws: false, hmr: false } })
    const env = server.environments.client
    // As a page reloaded after the edit asks for them: the module first, then the phase module it imports.
    const phases = async () => {
      await env.transformRequest('/src/orders.ts')
      return (await env.transformRequest('virtual:poet/src~2forders.ts~23priceOrder'))!.code
    }
    try {
      const before = await phases()
      expect(before).toContain('// price: number\n')
      project.write('src/orders.ts', project.read('src/orders.ts').replace('price: number }', 'price: number | string }'))
      let after = before
      await eventuallyAsync(async () => (after = await phases()) !== before)
      expect(after).toContain('// price: number | string\n')
      // A version Train makes current, in the lock alone.
      promoteInLock(project.lockDir, 'src/orders.ts#priceOrder', 'trained0002')
      await eventuallyAsync(async () => (await phases()).includes('version: "trained0002"'))
    } finally {
      await server.close()
      project.remove()
    }
  })
})

describe('vite library build', () => {
  it("says once that feedback.endpoint does nothing there, and to leave sinks to the app (configure() in a library, as it advised, replaced the app's sinks)", async () => {
    const { build, createLogger } = await import('vite')
    const project = createProject('vite-lib-build', { extras: true })
    const poet = await loadPlugin(project, 'vite')
    const endpoint = 'https://collector.example/v1/events'
    const said: string[] = []
    const logger = { ...createLogger('silent'), warn: (m: string) => void said.push(m), warnOnce: (m: string) => void said.push(m) }
    try {
      const outDir = project.path('dist-lib')
      // Two entries with poet functions: one warning for the build, not one per module.
      await build({
        configFile: false,
        root: project.dir,
        customLogger: logger,
        plugins: [poet({ feedback: { endpoint } })],
        build: { outDir, minify: false, lib: { entry: { orders: 'src/orders.ts', slow: 'src/slow.ts' }, formats: ['es'] }, rolldownOptions: { external: /^unplugin-poet/ } },
      })
      const warned = said.filter((m) => m.includes('feedback.endpoint'))
      expect(warned, said.join('\n')).toHaveLength(1)
      expect(warned[0]).toContain(`feedback.endpoint (${endpoint}) does nothing in a Vite library build`)
      expect(warned[0]).toContain('Leave feedback out of the library\'s plugin options, and configure no sink in the library')
      expect(warned[0]).not.toContain('configure({ sink')
      // The library itself is built and runs.
      const file = readdirSync(outDir).find((f) => f.startsWith('orders.'))!
      const orders = (await import(join(outDir, file))) as { priceOrder(o: unknown): number }
      expect(orders.priceOrder({ items: [{ name: 'a', price: 2 }] })).toBe(2)
      expect(() => orders.priceOrder({ items: [{ name: 'a', price: '2' }] })).toThrow('expected number')
    } finally {
      project.remove()
    }
  })
})

describe('vite build of a page', () => {
  it('points the page at feedback.endpoint when one is set, without a warning, and sends nothing anywhere when feedback is off', async () => {
    const { build, createLogger } = await import('vite')
    const project = createProject('vite-page-build', { extras: true })
    const poet = await loadPlugin(project, 'vite')
    const said: string[] = []
    const logger = { ...createLogger('silent'), warn: (m: string) => void said.push(m), warnOnce: (m: string) => void said.push(m) }
    const bundle = async (feedback: unknown) => {
      const outDir = project.path(`dist-${feedback ? 'on' : 'off'}`)
      await build({ configFile: false, root: project.dir, customLogger: logger, plugins: [poet({ feedback } as never)], build: { outDir, minify: false } })
      const assets = join(outDir, 'assets')
      return readdirSync(assets).map((f) => readFileSync(join(assets, f), 'utf8')).join('\n')
    }
    try {
      const on = await bundle({ endpoint: 'https://collector.example/v1/events', sample: 0.5 })
      expect(on).toContain('url: "https://collector.example/v1/events"')
      expect(on).toMatch(/sample: 0?\.5\b/)
      expect(said.filter((m) => m.includes('feedback.endpoint'))).toEqual([])
      const off = await bundle(false)
      expect(off).not.toContain('collector.example')
      expect(off).not.toContain('/__poet/events')
    } finally {
      project.remove()
    }
  })
})

describe('vite dev server started from a terminal command, its output piped', () => {
  it('prints the dashboard URL without color codes when Vite prints its own lines without them (a CI log, a file)', async () => {
    const project = createProject('vite-dev-cli')
    project.write('vite.config.mjs', "import poet from 'unplugin-poet/vite'\nexport default { plugins: [poet()], logLevel: 'info' }\n")
    const env = { ...process.env }
    for (const key of ['FORCE_COLOR', 'NO_COLOR', 'CI']) delete env[key]
    const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'node_modules/vite/bin/vite.js'), '--port', '0', '--strictPort', 'false'], {
      cwd: project.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    try {
      await eventually(() => /POET/.test(out) && /__poet\/\n/.test(out))
      expect(out).toMatch(/Local: +http:\/\/localhost:\d+\//)
      expect(out).toMatch(/➜  POET: +http:\/\/localhost:\d+\/__poet\//)
      expect(out).not.toContain('\x1b[')
    } finally {
      child.kill()
      await new Promise((r) => child.once('exit', r))
      project.remove()
    }
  })
})

/** Polls async `check` until it returns true, for at most `timeout` ms. */
async function eventuallyAsync(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not within ${timeout} ms`)
}

/** Polls `check` until it returns true (a throw counts as not yet), for at most `timeout` ms. */
async function eventually(check: () => boolean, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  let last: unknown
  while (Date.now() < deadline) {
    try {
      if (check()) return
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`not within ${timeout} ms${last ? `; last error: ${(last as Error).message}` : ''}`)
}
