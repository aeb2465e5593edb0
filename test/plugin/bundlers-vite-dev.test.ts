// The Vite dev server: phase modules are served hot-swappable, and a change to types or to the lock swaps them in place.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModuleRunner } from 'vite/module-runner'
import { LockStore } from '../../src/generators/lock'
import { createProject, loadPlugin, type Project } from '../helpers/project'

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
    const { createServer, createServerModuleRunner } = await import('vite')
    project = createProject('vite-dev', { extras: true })
    const poet = await loadPlugin(project, 'vite')
    server = await createServer({
      configFile: false,
      root: project.dir,
      logLevel: 'silent',
      appType: 'custom',
      cacheDir: project.path('node_modules/.vite'),
      server: { middlewareMode: true, ws: false },
      plugins: [poet()],
    })
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
