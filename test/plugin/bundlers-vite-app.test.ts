// `vite build --app` (createBuilder().buildApp()): a page with a web worker, SSR and a custom environment built in one process from the same functions.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { InlineConfig } from 'vite'
import { describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { goodReply, scaleSource } from '../generators/verify/fixture'
import { reply, startOpenAIServer } from '../helpers/openai-server'
import { createProject, type Project } from '../helpers/project'

const SENSOR = [
  "import { poet } from 'unplugin-poet/runtime'",
  // A timeout on a sync function: a warning every bundle that transforms this module gives.
  'export const normalize = poet({ attempts: 1, timeout: 100 })(function normalize(r: { value: number }): number {',
  '  return r.value',
  '})',
].join('\n')

const CONFIG = `import poet from 'unplugin-poet/vite'
export default {
  plugins: [poet()],
  environments: {
    client: { build: { outDir: 'dist/client' } },
    ssr: { build: { outDir: 'dist/server', rolldownOptions: { input: 'src/server.ts' } } },
    edge: { resolve: { conditions: ['worker', 'browser'], noExternal: true }, build: { outDir: 'dist/edge', rolldownOptions: { input: 'src/edge.ts' } } },
  },
  builder: {},
}
`

function appProject(): Project {
  const project = createProject('vite-app')
  project.write('index.html', '<script type="module" src="/src/main.ts"></script>')
  project.write('src/sensor.ts', SENSOR)
  project.write('src/main.ts', "import { normalize } from './sensor'\n;(globalThis as any).normalize = normalize\nnew Worker(new URL('./worker.ts', import.meta.url), { type: 'module' })\n")
  project.write('src/worker.ts', "import { normalize } from './sensor'\nself.onmessage = (e: MessageEvent) => postMessage(normalize(e.data))\n")
  project.write('src/server.ts', "export { normalize } from './sensor'\n")
  project.write('src/edge.ts', "export { normalize } from './sensor'\n")
  project.write('vite.config.mjs', CONFIG)
  return project
}

/** Builds every environment of the project as `vite build --app` does, and returns the warnings. */
async function buildApp(project: Project, inline: InlineConfig): Promise<string[]> {
  const { createBuilder, createLogger } = await import('vite')
  const warnings: string[] = []
  const collect = (message: string) => void warnings.push(message)
  inline.customLogger = { ...createLogger('silent'), warn: collect, warnOnce: collect }
  await (await createBuilder(inline)).buildApp()
  return warnings
}

async function normalizeOf(project: Project, dir: string): Promise<(r: unknown) => number> {
  const file = readdirSync(project.path(dir)).find((f) => /\.m?js$/.test(f))!
  return ((await import(pathToFileURL(join(project.path(dir), file)).href)) as { normalize(r: unknown): number }).normalize
}

describe.each(['inline', 'config file'])('vite build --app, its config %s', (kind) => {
  it('generates each function once for every environment, and says a warning once, not once per environment or worker', async () => {
    const project = appProject()
    try {
      const inline: InlineConfig =
        kind === 'inline'
          ? { configFile: false, root: project.dir, ...((await import(pathToFileURL(project.path('vite.config.mjs')).href)) as { default: InlineConfig }).default }
          : { configFile: project.path('vite.config.mjs'), root: project.dir }
      const warnings = await buildApp(project, inline)
      const timeouts = warnings.filter((w) => w.includes("'timeout' has no effect on src/sensor.ts#normalize"))
      // The page, its worker, SSR and the edge environment each transform the module: it was said three or four times.
      expect(timeouts, warnings.join('\n')).toHaveLength(1)

      const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
      expect(Object.keys(lock.functions)).toEqual(['src/sensor.ts#normalize'])
      const entry = lock.functions['src/sensor.ts#normalize']!
      expect(Object.keys(entry.versions)).toEqual([entry.current])
      for (const dir of ['dist/server', 'dist/edge']) {
        const normalize = await normalizeOf(project, dir)
        expect(normalize({ value: 2 })).toBe(2)
        expect(() => normalize({ value: '2' })).toThrow('args[0].value: expected number, received string')
      }
      const assets = project.path('dist/client/assets')
      const client = readdirSync(assets).map((f) => readFileSync(join(assets, f), 'utf8'))
      // The page's chunk and its worker's, each with the same version.
      expect(client.filter((code) => new RegExp(`id:\\s*["'\`]src/sensor\\.ts#normalize["'\`],\\s*version:\\s*["'\`]${entry.current}`).test(code))).toHaveLength(2)

      // Building again is a new build: it says again what still holds.
      const again = await buildApp(project, inline)
      expect(again.filter((w) => w.includes("'timeout' has no effect"))).toHaveLength(1)
    } finally {
      project.remove()
    }
  })
})

describe('vite build --app building its environments at once (builder.buildApp), phases written by an LLM', () => {
  it('asks the LLM once for a function every environment imports, and bundles that one version everywhere', async () => {
    // Each answer differs (a comment), as a real model's would: three requests made three versions.
    const llm = await startOpenAIServer((_, i) => reply.slow(200, { ...goodReply, perceive: `// answer ${i}\n${goodReply.perceive}` }))
    const project = createProject('vite-app-llm')
    try {
      project.write('index.html', '<script type="module" src="/src/main.ts"></script>')
      project.write('src/scale.ts', scaleSource())
      project.write('src/main.ts', "import { scale } from './scale'\n;(globalThis as any).scale = scale\n")
      project.write('src/server.ts', "export { scale, PoetInputError } from './scale'\n")
      // From a config file, each environment's config (and its plugin) is made apart.
      project.write(
        'vite.config.mjs',
        CONFIG.replace('poet()', `poet({ strict: false, generator: { provider: 'openai', model: 'test-model', baseURL: ${JSON.stringify(llm.baseURL)}, apiKey: 'k' } })`)
          .replaceAll('src/edge.ts', 'src/server.ts')
          .replace('builder: {}', 'builder: { buildApp: (b) => Promise.all(Object.values(b.environments).map((e) => b.build(e))) }'),
      )
      await buildApp(project, { configFile: project.path('vite.config.mjs'), root: project.dir })
      expect(llm.requests).toHaveLength(1)
      const entry = (JSON.parse(project.read('.poet/lock.json')) as LockFile).functions['src/scale.ts#scale']!
      expect(Object.keys(entry.versions)).toEqual([entry.current])
      const bundled = new Set<string>()
      for (const dir of ['dist/client/assets', 'dist/server', 'dist/edge']) {
        for (const f of readdirSync(project.path(dir))) {
          for (const m of readFileSync(join(project.path(dir), f), 'utf8').matchAll(/src\/scale\.ts#scale["'`],\s*version:\s*["'`](\w+)/g)) bundled.add(m[1]!)
        }
      }
      expect([...bundled]).toEqual([entry.current])
    } finally {
      await llm.close()
      project.remove()
    }
  })
})
