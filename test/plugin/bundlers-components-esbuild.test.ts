// Vue and Svelte components in esbuild: the framework's plugin loads them itself, so the poet plugin says which of
// them hold poet functions it could not validate.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pathToFileURL } from 'node:url'
import type { Plugin } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, loadPlugin, PACKAGE_ROOT, type Project } from '../helpers/project'

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/components')

/** What esbuild-plugin-vue or esbuild-svelte do, in a few lines: load each component in their own onLoad and compile it. */
async function frameworkPlugin(framework: 'vue' | 'svelte'): Promise<Plugin> {
  if (framework === 'svelte') {
    const { compile } = await import('svelte/compiler')
    return {
      name: 'svelte',
      setup(build) {
        build.onLoad({ filter: /\.svelte$/ }, async ({ path }) => {
          const { readFile } = await import('node:fs/promises')
          return { contents: compile(await readFile(path, 'utf8'), { filename: path, generate: 'server' }).js.code, loader: 'js' }
        })
      },
    }
  }
  const { compileScript, parse } = await import('vue/compiler-sfc')
  return {
    name: 'vue',
    setup(build) {
      build.onLoad({ filter: /\.vue$/ }, async ({ path }) => {
        const { readFile } = await import('node:fs/promises')
        const { descriptor } = parse(await readFile(path, 'utf8'), { filename: path })
        return { contents: compileScript(descriptor, { id: 'cart', inlineTemplate: true }).content, loader: 'ts' }
      })
    },
  }
}

describe.each([
  { framework: 'vue' as const, component: 'src/components/Cart.vue' },
  { framework: 'svelte' as const, component: 'src/components/Badge.svelte' },
])('$framework components in an esbuild build', ({ framework, component }) => {
  let project: Project
  beforeAll(() => {
    project = createProject(`components-esbuild-${framework}`, { fixture: FIXTURE })
    // A component that does not use the runtime is none of the plugin's business.
    project.write('src/components/Plain.vue', '<script setup lang="ts">\nconst n = 1\n</script>\n\n<template><p>{{ n }}</p></template>\n')
    project.write('src/components/Plain.svelte', '<script lang="ts">\nconst n = 1\n</script>\n\n<p>{n}</p>\n')
    const plain = framework === 'vue' ? 'Plain.vue' : 'Plain.svelte'
    project.write(`src/${framework}-entry.ts`, `${project.read(`src/${framework}-entry.ts`)}export { default as Plain } from './components/${plain}'\n`)
  })
  afterAll(() => project?.remove())

  async function build(poetFirst: boolean, metafile: boolean) {
    const esbuild = await import('esbuild')
    const poet = (await loadPlugin(project, 'esbuild'))() as Plugin
    const framed = await frameworkPlugin(framework)
    const outfile = project.path(`dist-esbuild-${framework}-${poetFirst}-${metafile}/main.mjs`)
    const result = await esbuild.build({
      absWorkingDir: project.dir,
      entryPoints: [`src/${framework}-entry.ts`],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['vue', 'vue/*', 'svelte', 'svelte/*', 'unplugin-poet', 'unplugin-poet/*'],
      logLevel: 'silent',
      metafile,
      plugins: poetFirst ? [poet, framed] : [framed, poet],
    })
    return { result, app: (await import(pathToFileURL(outfile).href)) as { price(m: unknown): string } }
  }

  it.each([true, false])('says once which component holds poet functions it cannot validate (poet listed first: %s)', async (poetFirst) => {
    const { result, app } = await build(poetFirst, false)
    // The user's build gets no metafile it did not ask for.
    expect(result.metafile).toBeUndefined()
    expect(result.warnings.map((w) => w.text)).toEqual([
      `poet() functions in ${component} run without generated validation: in esbuild, the plugin that compiles this ` +
        'component loads it itself, and esbuild passes what one plugin loaded to no other, so the poet plugin never sees it. ' +
        'Move the functions to a .ts file next to the component and import them from there, or build with Vite, Rollup, ' +
        'Rolldown, webpack or rspack, where components are rewritten.',
    ])
    // What the warning is about: the function takes what its types forbid.
    expect(app.price({ cents: 250, currency: 'GBP' })).toBe('2.50 GBP')
  })

  it('keeps the metafile of a build that asked for one', async () => {
    const { result } = await build(true, true)
    expect(Object.keys(result.metafile?.inputs ?? {})).toContain(component)
    expect(result.warnings).toHaveLength(1)
  })
})

describe('a component warning in an esbuild build at its default log level', () => {
  let project: Project
  beforeAll(() => {
    project = createProject('components-esbuild-log', { fixture: FIXTURE })
  })
  afterAll(() => project?.remove())

  it('is printed once on stderr, as esbuild prints its own warnings (it logs none an onEnd callback returns)', async () => {
    project.write(
      'build.mjs',
      [
        "import { build } from 'esbuild'",
        "import poet from 'unplugin-poet/esbuild'",
        "const vue = { name: 'vue', setup: (b) => b.onLoad({ filter: /\\.vue$/ }, () => ({ contents: 'export default {}', loader: 'js' })) }",
        "await build({ entryPoints: ['src/vue-entry.ts'], bundle: true, write: false, platform: 'node', format: 'esm', external: ['vue', 'vue/*', 'unplugin-poet/*'], plugins: [poet(), vue] })",
        '',
      ].join('\n'),
    )
    const { stderr } = await promisify(execFile)(process.execPath, ['build.mjs'], { cwd: project.dir, timeout: 30_000 })
    expect(stderr.match(/\[WARNING\]/g)).toHaveLength(1)
    expect(stderr).toContain('[WARNING] poet() functions in src/components/Cart.vue run without generated validation')
    expect(stderr).toContain('[plugin unplugin-poet]')
  })
})
