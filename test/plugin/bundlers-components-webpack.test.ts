// Vue and Svelte single-file components in webpack and rspack builds: vue-loader and svelte-loader configured as their READMEs say, the output run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Options } from '../../src'
import type { LockFile } from '../../src/generators/lock'
import { expectComponentValidation, type ComponentApp } from '../helpers/components'
import { createProject, loadPlugin, PACKAGE_ROOT, runCompiler, STRIP_TS_LOADER, type Project } from '../helpers/project'

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/components')

type Bundler = 'webpack' | 'rspack'
type Framework = 'vue' | 'svelte'

type App = ComponentApp

interface Setup {
  bundler: Bundler
  framework: Framework
  /** vue-loader's `experimentalInlineMatchResource`, added for rspack (Rsbuild's Vue plugin turns it on). */
  inlineMatchResource?: boolean
  /** @default `src/<framework>-entry.ts` */
  entry?: string
  /** webpack's `mode`: `production` hashes a Vue component's scope id from its text. */
  mode?: 'none' | 'production'
  /** The poet plugin's. */
  options?: Options
  /** The plugin listed after the framework's (VueLoaderPlugin): a `pre` loader, it runs first either way. */
  poetLast?: boolean
}

let builds = 0

/**
 * An ES module for Node from `entry`, the frameworks left external as a server build leaves them. TypeScript, in
 * components' blocks too, is compiled by the project's rule for `.ts`: the fixtures' esbuild loader in webpack (as
 * ts-loader would), rspack's builtin swc-loader in rspack.
 */
async function buildComponents<T = App>(project: Project, setup: Setup) {
  const { bundler, framework, inlineMatchResource = false, entry = `src/${framework}-entry.ts`, mode = 'none', options, poetLast = false } = setup
  const poet = await loadPlugin(project, bundler)
  // A directory per build: the test runner keeps a module it imported once, under another query too.
  const outDir = project.path(`dist-${++builds}`)
  const frameworkRule =
    framework === 'vue'
      ? { test: /\.vue$/, loader: 'vue-loader', options: { experimentalInlineMatchResource: inlineMatchResource } }
      : { test: /\.svelte$/, loader: 'svelte-loader', options: { compilerOptions: { generate: 'server' } } }
  const frameworkPlugins = framework === 'vue' ? [new (await import('vue-loader')).VueLoaderPlugin()] : []
  const tsRule =
    bundler === 'webpack'
      ? { test: /\.ts$/, loader: STRIP_TS_LOADER }
      : { test: /\.ts$/, loader: 'builtin:swc-loader', options: { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }, type: 'javascript/auto' }
  const config = {
    context: project.dir,
    mode,
    target: 'node20',
    entry: `./${entry}`,
    devtool: 'source-map',
    output: { path: outDir, filename: 'main.mjs', module: true, chunkFormat: 'module', library: { type: 'module' } },
    externalsType: 'module',
    externals: [/^(?:vue|svelte)(?:\/|$)/],
    optimization: { minimize: false },
    resolve: { extensions: ['.ts', '.js'] },
    // A style block is text to a server build.
    module: { rules: [tsRule, frameworkRule, { test: /\.css$/, type: 'asset/source' }] },
    plugins: poetLast ? [...frameworkPlugins, poet(options)] : [poet(options), ...frameworkPlugins],
    infrastructureLogging: { level: 'error' },
  }
  const compiler =
    bundler === 'webpack'
      ? (await import('webpack')).default({ ...config, experiments: { outputModule: true } } as import('webpack').Configuration)
      : (await import('@rspack/core')).rspack(config as import('@rspack/core').RspackOptions)
  const warnings = await runCompiler(compiler)
  const file = join(outDir, 'main.mjs')
  return { file, map: `${file}.map`, warnings, app: (await import(pathToFileURL(file).href)) as T }
}

const lockOf = (project: Project) => JSON.parse(project.read('.poet/lock.json')) as LockFile

describe.each([
  { bundler: 'webpack' as const, framework: 'vue' as const, inlineMatchResource: false, component: 'src/components/Cart.vue', mapSource: /\/src\/components\/Cart\.vue$/ },
  { bundler: 'webpack' as const, framework: 'vue' as const, inlineMatchResource: true, poetLast: true, component: 'src/components/Cart.vue', mapSource: /\/src\/components\/Cart\.vue$/ },
  { bundler: 'rspack' as const, framework: 'vue' as const, inlineMatchResource: false, component: 'src/components/Cart.vue', mapSource: /\/src\/components\/Cart\.vue$/ },
  { bundler: 'rspack' as const, framework: 'vue' as const, inlineMatchResource: true, poetLast: true, component: 'src/components/Cart.vue', mapSource: /\/src\/components\/Cart\.vue$/ },
  // svelte-loader names a component in the map by its base name, as Svelte's compiler does, with or without the plugin.
  { bundler: 'webpack' as const, framework: 'svelte' as const, component: 'src/components/Badge.svelte', mapSource: /\/Badge\.svelte$/ },
  { bundler: 'rspack' as const, framework: 'svelte' as const, component: 'src/components/Badge.svelte', mapSource: /\/Badge\.svelte$/ },
])('$framework components in a $bundler build (inline match resource: $inlineMatchResource, poet listed last: $poetLast)', (setup) => {
  const { component, mapSource } = setup
  let project: Project
  let built: Awaited<ReturnType<typeof buildComponents<App>>>

  beforeAll(async () => {
    project = createProject(`components-${setup.bundler}-${setup.framework}`, { fixture: FIXTURE })
    built = await buildComponents(project, setup)
  })
  afterAll(() => project?.remove())

  it('validates the typed parameters of poet functions in both script blocks, naming the path of a wrong argument', async () => {
    await expectComponentValidation(built.app, component)
    expect(built.warnings).toEqual([])
  })

  it('records the functions in the lock under the component file', () => {
    expect(Object.keys(lockOf(project).functions).sort()).toEqual([`${component}#count`, `${component}#price`])
  })

  it('maps a position in the built code back to its line in the component', () => {
    const source = project.read(component)
    const code = readFileSync(built.file, 'utf8')
    // The TypeScript compilers may rename the function expression (`count2`), so its start is looked for.
    const traced = originalPositionFor(new TraceMap(readFileSync(built.map, 'utf8')), positionOf(code, 'function count'))
    expect(traced.source).toMatch(mapSource)
    expect(traced.line).toBe(positionOf(source, 'function count(').line)
  })
})

describe.each(['webpack', 'rspack'] as const)('vue components in a %s build, transformed for the component and again for its script', (bundler) => {
  let project: Project
  beforeAll(() => {
    project = createProject(`components-${bundler}-vue-twice`, { fixture: FIXTURE })
  })
  afterAll(() => project?.remove())

  it('rewrites the script of a component that include names by its extension, and not of one that exclude names', async () => {
    // The script's request ends in its query (`Cart.vue?vue&type=script&setup=true&lang.ts`), not in `.vue`.
    const included = await buildComponents(project, { bundler, framework: 'vue', options: { include: [/\.vue$/] } })
    expect(() => included.app.price({ cents: 250, currency: 'GBP' })).toThrow('args[0].currency: expected "EUR" | "USD", received "GBP"')
    // and the other way round: `lang.ts` at its end is no `.ts` file.
    const excluded = await buildComponents(project, { bundler, framework: 'vue', options: { exclude: [/Cart\.vue$/] } })
    expect(excluded.app.price({ cents: 250, currency: 'GBP' })).toBe('2.50 GBP')
  })

  it('says a warning about the component once', async () => {
    project.write(
      'src/components/Marked.vue',
      `<script setup lang="ts">\nimport { poet } from 'unplugin-poet/runtime'\n\nconst twice = poet()(function twice(x: number): number {\n  return x * 2\n})\n</script>\n\n<template>\n  <p>{{ twice(1) }} {{ poet()(String)(2) }}</p>\n</template>\n`,
    )
    project.write('src/marked-entry.ts', `import Marked from './components/Marked.vue'\nexport default Marked\n`)
    const { warnings } = await buildComponents(project, { bundler, framework: 'vue', entry: 'src/marked-entry.ts' })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('src/components/Marked.vue:10:')
    expect(warnings[0]).toContain('poet() in a template or markup expression is not transformed')
  })

  it('fails on a syntax error in a script block once, at its line of the component, with a code frame', async () => {
    project.write(
      'src/components/Broken.vue',
      `<template><p>{{ n }}</p></template>\n\n<script setup lang="ts">\nimport { poet } from 'unplugin-poet/runtime'\n\nconst n = 1\nconst twice = poet()(function twice(x: number): number {\n  return x * * 2\n})\n</script>\n`,
    )
    project.write('src/broken-entry.ts', `import Broken from './components/Broken.vue'\nexport default Broken\n`)
    const error = await buildComponents(project, { bundler, framework: 'vue', entry: 'src/broken-entry.ts' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    const reason = 'src/components/Broken.vue:8:14: cannot parse this module to find poet() calls: Unexpected token.'
    expect(error?.message.split(reason)).toHaveLength(2)
    expect(error?.message).toMatch(/> {0,2}8 \|\s+return x \* \* 2/)
  })

  it('keeps a scoped component\'s scope id in a production build, where Vue hashes it from the component\'s text', async () => {
    // vue-loader hashes the text its component request and its script request each read: the template compiled into
    // the script marks elements with the id the component's styles are scoped by only if both read the same.
    project.write(
      'src/components/Scoped.vue',
      `<script setup lang="ts">\nimport { poet } from 'unplugin-poet/runtime'\n\nconst label = poet()(function label(n: number): string {\n  return \`\${n} items\`\n})\n</script>\n\n<template>\n  <p class="cart">{{ label(2) }}</p>\n</template>\n\n<style scoped>\n.cart { color: teal }\n</style>\n`,
    )
    project.write(
      'src/scoped-entry.ts',
      `import { createSSRApp, h } from 'vue'\nimport { renderToString } from 'vue/server-renderer'\nimport Scoped from './components/Scoped.vue'\n\nexport const scopeId = (Scoped as { __scopeId?: string }).__scopeId\nexport const render = () => renderToString(createSSRApp({ render: () => h(Scoped) }))\n`,
    )
    const { app } = await buildComponents<{ scopeId: string; render(): Promise<string> }>(project, { bundler, framework: 'vue', entry: 'src/scoped-entry.ts', mode: 'production' })
    expect(app.scopeId).toMatch(/^data-v-[0-9a-f]{8}$/)
    expect(await app.render()).toBe(`<p class="cart" ${app.scopeId}>2 items</p>`)
  })
})

/** 1-based line and 0-based column (trace-mapping's convention) of `text` in `code`. */
function positionOf(code: string, text: string): { line: number; column: number } {
  const index = code.indexOf(text)
  if (index < 0) throw new Error(`"${text}" is not in the code`)
  const before = code.slice(0, index)
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') - 1 }
}
