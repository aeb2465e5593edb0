// A misuse of poet() as each bundler's own command line prints it (webpack's and rspack's default stats text): the place, the reason, and the code frame once.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const exec = promisify(execFile)
const bin = (rel: string) => join(PACKAGE_ROOT, 'node_modules', rel)

/** Each CLI with a config as its README row says, building the fixture's src/broken.ts (`poet({ atempts: 3 })`). */
const CLIS = {
  rollup: {
    args: [bin('rollup/dist/bin/rollup'), '-c', 'rollup.config.mjs'],
    config: ['rollup.config.mjs', "import poet from 'unplugin-poet/rollup'\nexport default { input: 'src/broken.ts', output: { dir: 'dist-cli' }, plugins: [poet()] }\n"],
  },
  rolldown: {
    args: [bin('rolldown/bin/cli.mjs'), '-c', 'rolldown.config.mjs'],
    config: ['rolldown.config.mjs', "import poet from 'unplugin-poet/rolldown'\nexport default { input: 'src/broken.ts', output: { dir: 'dist-cli' }, plugins: [poet()] }\n"],
  },
  vite: {
    args: [bin('vite/bin/vite.js'), 'build', '--config', 'vite.config.mjs'],
    config: ['vite.config.mjs', "import poet from 'unplugin-poet/vite'\nexport default { plugins: [poet()], logLevel: 'error', build: { ssr: 'src/broken.ts', outDir: 'dist-cli' } }\n"],
  },
  // No webpack-cli here: a script printing the stats as webpack-cli does by default (the `normal` preset), with the
  // persistent cache most webpack 5 projects turn on.
  webpack: {
    args: ['build.mjs'],
    config: ['build.mjs', webpackScript("import webpack from 'webpack'\nimport poet from 'unplugin-poet/webpack'", 'webpack', "{ type: 'filesystem' }")],
  },
  rspack: {
    args: ['build.mjs'],
    config: ['build.mjs', webpackScript("import { rspack } from '@rspack/core'\nimport poet from 'unplugin-poet/rspack'", 'rspack', 'true')],
  },
} as const

function webpackScript(imports: string, factory: string, cache: string): string {
  return `${imports}
const compiler = ${factory}({ context: process.cwd(), mode: 'none', entry: './src/broken.ts', output: { path: process.cwd() + '/dist-cli' }, cache: ${cache}, plugins: [poet()] })
compiler.run((err, stats) => {
  if (err) throw err
  console.log(stats.toString({ colors: false }))
  process.exitCode = stats.hasErrors() ? 1 : 0
  compiler.close(() => {})
})
`
}

describe.each(Object.keys(CLIS) as (keyof typeof CLIS)[])('%s command line', (cli) => {
  let project: Project
  let output: string

  beforeAll(async () => {
    project = createProject(`${cli}-cli-error`)
    const [file, content] = CLIS[cli].config
    project.write(file, content)
    const failed = await exec(process.execPath, [...CLIS[cli].args], { cwd: project.dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
    expect(failed, 'the build must fail').toBeDefined()
    expect(failed!.code).not.toBe(0)
    // Colour codes stripped, in case a CLI colours regardless.
    output = (failed!.stdout + failed!.stderr).replace(/\x1b\[[0-9;]*m/g, '')
  }, 30_000)
  afterAll(() => project.remove())

  it('says where and what, without the plugin\'s own call stack (it says nothing about the mistake)', () => {
    expect(output).not.toMatch(new RegExp(`^\\s+at .*${PACKAGE_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}dist/`, 'm'))
    expect(output, output).toContain("src/broken.ts:4:30: unknown poet() option 'atempts'. Did you mean 'attempts'? [POET_UNKNOWN_OPTION]")
  })

  it('adds no complaint of its own (webpack\'s persistent cache could not store the error: "No serializer registered for PoetBuildError")', () => {
    expect(output).not.toContain('No serializer registered')
  })

  it('shows the code frame once (the bundler prints the error\'s frame under its message; it printed twice)', () => {
    // rspack draws its own gutter (`│`) in front of an error's lines.
    const marked = output.split('\n').filter((l) => /^[\s│]*> 4 \| export const broken = poet\(\{ atempts: 3 \}\)/.test(l))
    expect(marked, output).toHaveLength(1)
  })
})

/** The TS loaders of the fixture builds (test/helpers/project.ts): a warning is about TypeScript source that must build. */
const TS_RULES = {
  webpack: `[{ test: /\\.ts$/, loader: ${JSON.stringify(join(PACKAGE_ROOT, 'test/helpers/strip-ts-loader.cjs'))} }]`,
  rspack: `[{ test: /\\.ts$/, loader: 'builtin:swc-loader', type: 'javascript/auto', options: { jsc: { parser: { syntax: 'typescript' } } } }]`,
}

describe.each(['webpack', 'rspack'] as const)('%s warnings, as printed by default', (bundler) => {
  let project: Project
  let output: string

  beforeAll(async () => {
    project = createProject(`${bundler}-cli-warning`, { extras: true })
    const { imports, factory } = bundler === 'webpack'
      ? { imports: "import webpack from 'webpack'\nimport poet from 'unplugin-poet/webpack'", factory: 'webpack' }
      : { imports: "import { rspack } from '@rspack/core'\nimport poet from 'unplugin-poet/rspack'", factory: 'rspack' }
    project.write('build.mjs', `${imports}
const compiler = ${factory}({ context: process.cwd(), mode: 'none', entry: './src/sync.ts', output: { path: process.cwd() + '/dist-cli' }, module: { rules: ${TS_RULES[bundler]} }, plugins: [poet()] })
compiler.run((err, stats) => {
  if (err) throw err
  console.log(stats.toString({ colors: false }))
  compiler.close(() => {})
})
`)
    const { stdout, stderr } = await exec(process.execPath, ['build.mjs'], { cwd: project.dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
    output = stdout + stderr
  }, 30_000)
  afterAll(() => project.remove())

  it('says where and what, and nothing more (rspack printed the plugin\'s call stack under it, webpack a note that details were hidden)', () => {
    expect(output).toContain("src/sync.ts:4:30: 'timeout' has no effect on src/sync.ts#addOne")
    expect(output).not.toMatch(/^[\s│]*at /m)
    expect(output).not.toContain('detailed information that is not shown')
  })
})
