// Vue and Svelte single-file components in Vite: poet functions in their script blocks, built with the framework's plugin and run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import type { LockFile } from '../../src/generators/lock'
import type { PoetBuildError } from '../../src/plugin/errors'
import { encodeKey } from '../../src/plugin/ids'
import { expectComponentValidation, type ComponentApp } from '../helpers/components'
import { createProject, loadPlugin, PACKAGE_ROOT, viteDevServer, type Project } from '../helpers/project'

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/components')
const VUE_IDS = ['src/components/Cart.vue#count', 'src/components/Cart.vue#price']
const SVELTE_IDS = ['src/components/Badge.svelte#count', 'src/components/Badge.svelte#price']

type App = ComponentApp

type Framework = 'vue' | 'svelte'

/** A copy of test/fixtures/components under test/.tmp, the package linked in. */
const componentsProject = (name: string): Project => createProject(name, { fixture: FIXTURE })

async function frameworkPlugin(framework: Framework) {
  if (framework === 'vue') return (await import('@vitejs/plugin-vue')).default()
  return (await import('@sveltejs/vite-plugin-svelte')).svelte()
}

/**
 * An SSR build of `src/<framework>-entry.ts`. Svelte's plugin is listed first, Vue's after poet(): the order in which
 * a user lists them does not matter.
 */
async function buildApp(project: Project, framework: Framework, entry = `src/${framework}-entry.ts`, sourcemap: true | 'inline' = true) {
  const { build } = await import('vite')
  const poet = await loadPlugin(project, 'vite')
  const outDir = project.path(`dist-${framework}${sourcemap === true ? '' : `-${sourcemap}`}`)
  const warnings: string[] = []
  const collect = (message: string) => void warnings.push(message)
  await build({
    configFile: false,
    root: project.dir,
    customLogger: { info: () => {}, warn: collect, warnOnce: collect, error: () => {}, clearScreen: () => {}, hasErrorLogged: () => false, hasWarned: false },
    cacheDir: project.path('node_modules/.vite'),
    plugins: framework === 'svelte' ? [await frameworkPlugin(framework), poet()] : [poet(), await frameworkPlugin(framework)],
    build: { ssr: entry, outDir, sourcemap, minify: false, rolldownOptions: { output: { entryFileNames: 'main.mjs' } } },
  })
  const file = join(outDir, 'main.mjs')
  return { file, map: `${file}.map`, warnings, app: (await import(`${pathToFileURL(file).href}?t=${Date.now()}`)) as App }
}

async function cli(project: Project, argv: string[]) {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd: project.dir, tty: false, env: {}, write: () => {} })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

const lockOf = (project: Project) => JSON.parse(project.read('.poet/lock.json')) as LockFile

describe.each([
  { framework: 'vue' as const, component: 'src/components/Cart.vue', ids: VUE_IDS },
  { framework: 'svelte' as const, component: 'src/components/Badge.svelte', ids: SVELTE_IDS },
])('$framework components in a Vite build', ({ framework, component, ids }) => {
  let project: Project
  let built: Awaited<ReturnType<typeof buildApp>>

  beforeAll(async () => {
    project = componentsProject(`components-${framework}`)
    built = await buildApp(project, framework)
  })
  afterAll(() => project?.remove())

  it('validates the typed parameters of poet functions in both script blocks, naming the path of a wrong argument', async () => {
    await expectComponentValidation(built.app, component)
    expect(built.warnings).toEqual([])
  })

  it('records the functions in the lock under the component file', () => {
    expect(Object.keys(lockOf(project).functions).sort()).toEqual(ids)
  })

  it('maps positions on and around a rewritten poet(...) back to their line and column in the component', () => {
    const source = project.read(component)
    const code = readFileSync(built.file, 'utf8')
    const map = new TraceMap(readFileSync(built.map, 'utf8'))
    // On the line of a rewritten poet(...) (after the call, in both blocks), then in its body and after it. Vue's plugin
    // maps a script block against the text it was given, and Svelte's folds the plugin's map into its own, which Vite
    // then applies again: columns after the call were 26 to the right in Vue and 3 to the left in Svelte.
    for (const marker of ['function count(', 'function price(', 'lines.reduce', '`${count(']) {
      const traced = originalPositionFor(map, positionOf(code, marker))
      expect(traced.source).toMatch(new RegExp(`${component.replace('.', '\\.')}$`))
      expect({ marker, line: traced.line, column: traced.column }).toEqual({ marker, ...positionOf(source, marker) })
    }
  })
  it.each([true, 'inline'] as const)("lists the component once in the source map, with the text the user wrote, not the plugin's rewrite (sourcemap: %s)", async (sourcemap) => {
    const { file } = sourcemap === true ? built : await buildApp(project, framework, undefined, sourcemap)
    const code = readFileSync(file, 'utf8')
    const json = sourcemap === true ? readFileSync(built.map, 'utf8') : Buffer.from(code.slice(code.lastIndexOf('base64,') + 7), 'base64').toString('utf8')
    const map = JSON.parse(json) as { sources: string[]; sourcesContent: string[] }
    const name = component.split('/').pop()!
    const entries = map.sources.flatMap((source, i) => (source.endsWith(`/${name}`) ? [map.sourcesContent[i]] : []))
    // Vue's plugin serves a TypeScript script block apart, mapped against the rewritten component: a second entry
    // showed `_p0_(…)` and the appended imports.
    expect(entries).toEqual([project.read(component)])
    // Positions still trace into it.
    const traced = originalPositionFor(new TraceMap(json), positionOf(code, 'lines.reduce'))
    expect(traced.source?.endsWith(`/${name}`)).toBe(true)
    expect({ line: traced.line, column: traced.column }).toEqual(positionOf(project.read(component), 'lines.reduce'))
  })
})

describe.each([
  { framework: 'vue' as const, component: 'src/components/Cart.vue' },
  { framework: 'svelte' as const, component: 'src/components/Badge.svelte' },
])('$framework components on the Vite dev server', ({ framework, component }) => {
  let project: Project
  let server: import('vite').ViteDevServer
  let runner: import('vite/module-runner').ModuleRunner

  beforeAll(async () => {
    const { createServerModuleRunner } = await import('vite')
    project = componentsProject(`components-dev-${framework}`)
    const poet = await loadPlugin(project, 'vite')
    server = await viteDevServer(project, {
      appType: 'custom',
      // The client's dependency optimizer would write vue's bundle after the server closed, into a removed project.
      optimizeDeps: { noDiscovery: true },
      plugins: [poet(), await frameworkPlugin(framework)],
    })
    runner = createServerModuleRunner(server.environments.ssr, { hmr: { logger: false } })
  })
  afterAll(async () => {
    await runner?.close()
    await server?.close()
    project?.remove()
  })

  it("validates the component's functions, and still does with the new code after an edit of a function and of its types", async () => {
    const entry = `/src/${framework}-entry.ts`
    const app = await runner.import<App>(entry)
    expect(await app.render([{ name: 'apple', qty: '2' }])).toContain(`${component}#count:\n  args[0][0].qty: expected number, received string`)
    expect(() => app.price({ cents: 250, currency: 'GBP' })).toThrow('args[0].currency: expected "EUR" | "USD", received "GBP"')

    // The body of a function: the component is updated with the new code, still validated.
    project.write(component, project.read(component).replace('(m.cents / 100).toFixed(2)', '(m.cents / 100).toFixed(1)'))
    await eventuallyAsync(async () => (await runner.import<App>(entry)).price({ cents: 250, currency: 'EUR' }) === '2.5 EUR')
    const edited = await runner.import<App>(entry)
    expect(() => edited.price({ cents: '250', currency: 'EUR' })).toThrow('args[0].cents: expected number, received string')
    expect(await edited.render([{ name: 'apple', qty: '2' }])).toContain('args[0][0].qty: expected number, received string')

    // Its types: the new phases are served.
    project.write(component, project.read(component).replace("currency: 'EUR' | 'USD'", "currency: 'EUR' | 'USD' | 'GBP'"))
    await eventuallyAsync(async () => {
      try {
        return (await runner.import<App>(entry)).price({ cents: 250, currency: 'GBP' }) === '2.5 GBP'
      } catch {
        return false
      }
    })
    const latest = await runner.import<App>(entry)
    expect(() => latest.price({ cents: 250, currency: 'JPY' })).toThrow('args[0].currency: expected "EUR" | "USD" | "GBP", received "JPY"')
  })

  it('hands the browser new phases after an edit of the types in the component, past the framework\'s own update', async () => {
    // Vue's plugin answers an edit of a .vue file with the modules it updates itself: the phase modules the poet plugin
    // listed before it were dropped, not invalidated, and the component it reloaded imported the old phases again.
    const client = server.environments.client
    const key = encodeKey(`${component}#price`)
    await client.transformRequest(`/${component}`)
    expect((await client.transformRequest(`virtual:poet/${key}`))!.code).not.toContain('"JPY"')
    const phases = client.moduleGraph.getModuleById(`\0poet:${key}`)!
    const own = client.moduleGraph.getModuleById(project.path(component))!
    const [phasesBefore, ownBefore] = [phases.lastHMRTimestamp, own.lastHMRTimestamp]
    project.write(component, project.read(component).replace("currency: 'EUR'", "currency: 'JPY' | 'EUR'"))
    // Done once either is updated: Vue's plugin reloads the component, Svelte's leaves it (its JS is unchanged) and
    // lets the phase module take the update alone.
    await eventuallyAsync(async () => phases.lastHMRTimestamp > phasesBefore || own.lastHMRTimestamp > ownBefore)
    expect(phases.lastHMRTimestamp).toBeGreaterThan(phasesBefore)
    expect((await client.transformRequest(`virtual:poet/${key}`))!.code).toContain('"JPY"')
    // The page imports the phase module under a new URL, so it evaluates the new phases, not the ones it holds.
    if (framework === 'vue') expect((await client.transformRequest(`/${component}`))!.code).toContain(`${key}?import&t=${phases.lastHMRTimestamp}`)
  })
})

describe('components on the Vite dev server, in a Chromium page', () => {
  let project: Project
  let server: import('vite').ViteDevServer
  let browser: import('playwright-core').Browser

  beforeAll(async () => {
    const { launchChromium } = await import('../helpers/chromium')
    project = componentsProject('components-page')
    project.write('svelte.html', '<!doctype html><body><script type="module" src="/src/svelte-page.ts"></script></body>')
    project.write('src/svelte-page.ts', "import { mount } from 'svelte'\nimport Badge from './components/Badge.svelte'\n\nmount(Badge, { target: document.body, props: { lines: [{ name: 'pear', qty: 3 }] } })\n")
    project.write('vue.html', '<!doctype html><body><script type="module" src="/src/vue-page.ts"></script></body>')
    project.write('src/vue-page.ts', "import { createApp, h } from 'vue'\nimport Cart from './components/Cart.vue'\n\ncreateApp({ render: () => h(Cart, { lines: [{ name: 'pear', qty: 3 }] }) }).mount(document.body)\n")
    const poet = await loadPlugin(project, 'vite')
    server = await viteDevServer(project, {
      // The dependency optimizer would write its bundles after the server closed, into a removed project.
      optimizeDeps: { noDiscovery: true },
      server: { host: '127.0.0.1', port: 0, hmr: false },
      plugins: [poet(), await frameworkPlugin('vue'), await frameworkPlugin('svelte')],
    })
    await server.listen()
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
    project?.remove()
  })

  it.each([
    { framework: 'svelte', component: 'src/components/Badge.svelte', page: 'svelte.html' },
    { framework: 'vue', component: 'src/components/Cart.vue', page: 'vue.html' },
  ])('$framework: the map Chromium gets with the component leads each point of a rewritten poet(...) line back to its line and column', async ({ component, page: html }) => {
    const page = await browser.newPage()
    const cdp = await page.context().newCDPSession(page)
    const parsed: { scriptId: string; url: string; sourceMapURL?: string }[] = []
    cdp.on('Debugger.scriptParsed', (script) => void parsed.push(script))
    await cdp.send('Debugger.enable')
    await page.goto(new URL(html, server.resolvedUrls!.local[0]!).href)
    await page.waitForFunction(() => document.body.textContent?.includes('3 items'))
    const script = parsed.find((p) => p.url.split('?')[0]!.endsWith(`/${component}`))
    expect(script?.sourceMapURL).toMatch(/^data:application\/json;/)
    const { scriptSource } = await cdp.send('Debugger.getScriptSource', { scriptId: script!.scriptId })
    const map = new TraceMap(await (await fetch(script!.sourceMapURL!)).text())
    const source = project.read(component)
    // Svelte's plugin folds the plugin's map into its own and Vite applies it again: 3 columns to the left, before.
    for (const marker of ['function count(', 'function price(', 'lines.reduce']) {
      const traced = originalPositionFor(map, positionOf(scriptSource, marker))
      expect({ marker, source: traced.source?.endsWith(component.slice(component.lastIndexOf('/') + 1)), line: traced.line, column: traced.column }).toEqual({
        marker,
        source: true,
        ...positionOf(source, marker),
      })
    }
    await page.close()
  })
})

describe.each(['rollup', 'rolldown'] as const)('svelte components in a %s build', (bundler) => {
  let project: Project
  beforeAll(() => {
    project = componentsProject(`components-${bundler}`)
  })
  afterAll(() => project?.remove())

  it('hands the rewritten component to the Svelte plugin listed before it, which compiles it; its functions validate', async () => {
    const { compile } = await import('svelte/compiler')
    const poet = await loadPlugin(project, bundler)
    // What rollup-plugin-svelte does, in a few lines: compile every .svelte module it is given (Svelte 5 strips TS).
    const svelte = {
      name: 'svelte',
      transform(code: string, id: string) {
        return id.endsWith('.svelte') ? compile(code, { filename: id, generate: 'server' }).js : null
      },
    }
    project.write('src/entry.js', project.read('src/svelte-entry.ts').replace('render(lines: unknown): string', 'render(lines)'))
    const options = { input: project.path('src/entry.js'), external: (id: string) => /^(svelte|unplugin-poet)(\/|$)/.test(id), plugins: [svelte, poet({ root: project.dir })] }
    const file = project.path(`dist-${bundler}/main.mjs`)
    if (bundler === 'rollup') {
      const bundle = await (await import('rollup')).rollup(options)
      await bundle.write({ file, format: 'es' })
    } else {
      const bundle = await (await import('rolldown')).rolldown({ ...options, cwd: project.dir })
      await bundle.write({ file, format: 'es' })
    }
    const app = (await import(pathToFileURL(file).href)) as App
    expect(await app.render([{ name: 'apple', qty: '2' }])).toContain('args[0][0].qty: expected number, received string')
    expect(() => app.price({ cents: 250, currency: 'GBP' })).toThrow('args[0].currency: expected "EUR" | "USD", received "GBP"')
    expect(Object.keys(lockOf(project).functions).sort()).toEqual(SVELTE_IDS)
  })
})

describe('components with the poet command', () => {
  let project: Project
  beforeAll(() => {
    project = componentsProject('components-cli')
  })
  afterAll(() => project?.remove())

  it('generate and status find the poet functions of components, and a build then serves them from the lock', async () => {
    const generated = await cli(project, ['generate'])
    expect(generated.err).toBe('')
    expect(generated.code).toBe(0)
    const lock = lockOf(project)
    expect(Object.keys(lock.functions).sort()).toEqual([...VUE_IDS, ...SVELTE_IDS].sort())

    const status = await cli(project, ['status'])
    expect(status.code).toBe(0)
    for (const id of [...VUE_IDS, ...SVELTE_IDS]) expect(status.out).toMatch(new RegExp(`^${id.replace(/\./g, '\\.')} +[0-9a-f]{10} +builtin +no +—$`, 'm'))

    // A warm build: every function's phases are the lock's current version, and the lock is not written.
    const before = project.read('.poet/lock.json')
    for (const framework of ['vue', 'svelte'] as const) {
      const { file, app } = await buildApp(project, framework)
      const code = readFileSync(file, 'utf8')
      for (const id of framework === 'vue' ? VUE_IDS : SVELTE_IDS) expect(code).toContain(`version: "${lock.functions[id]!.current}"`)
      expect(() => app.price({ cents: '250', currency: 'EUR' })).toThrow('args[0].cents: expected number, received string')
    }
    expect(project.read('.poet/lock.json')).toBe(before)
    expect((await cli(project, ['generate', '--check'])).code).toBe(0)
  })
})

describe('errors in components', () => {
  let project: Project
  beforeAll(() => {
    project = componentsProject('components-errors')
  })
  afterAll(() => project?.remove())

  it.each([
    { framework: 'vue' as const, component: 'src/components/Broken.vue', open: '<template><p>{{ n }}</p></template>\n\n<script setup lang="ts">' },
    { framework: 'svelte' as const, component: 'src/components/Broken.svelte', open: '<p>{n}</p>\n\n<script lang="ts">' },
  ])('a syntax error in a $framework script block fails the build at its line of the component, with a code frame', async ({ framework, component, open }) => {
    project.write(
      component,
      `${open}\nimport { poet } from 'unplugin-poet/runtime'\n\nconst n = 1\nconst twice = poet()(function twice(x: number): number {\n  return x * * 2\n})\n</script>\n`,
    )
    project.write(`src/broken-${framework}.ts`, `import Broken from './components/Broken.${framework}'\nexport default Broken\n`)
    const error = (await buildApp(project, framework, `src/broken-${framework}.ts`).then(
      () => undefined,
      (e: unknown) => e,
    )) as (PoetBuildError & { errors?: PoetBuildError[] }) | undefined
    // Vite on Rolldown wraps a hook's error; its first one is the plugin's.
    const poetError = error?.errors?.[0] ?? error
    expect(poetError?.message).toContain(`${component}:8:14: cannot parse this module to find poet() calls: Unexpected token.`)
    expect(poetError?.frame).toContain(`>  8 |   return x * * 2\n     | ${' '.repeat(13)}^`)
    // Where Vite prints the place beside the message (`[plugin unplugin-poet] …/Broken.vue:8:14`), as the message says it.
    expect(poetError?.loc).toEqual({ file: project.path(component), line: 8, column: 14 })
  })
})

async function eventuallyAsync(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not within ${timeout} ms`)
}

/** 1-based line and 0-based column (trace-mapping's convention) of `text` in `code`. */
function positionOf(code: string, text: string): { line: number; column: number } {
  const index = code.indexOf(text)
  if (index < 0) throw new Error(`"${text}" is not in the code`)
  const before = code.slice(0, index)
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') - 1 }
}
