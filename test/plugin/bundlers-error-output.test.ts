// A misuse of poet() as each bundler's own command line prints it (webpack's and rspack's default stats text): the place, the reason, and the code frame once.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const exec = promisify(execFile)
const bin = (rel: string) => join(PACKAGE_ROOT, 'node_modules', rel)

/**
 * Each CLI with a config as its README row says, building the fixture's src/broken.ts (`poet({ atempts: 3 })`); Vitest
 * running a test that imports it. `place`: where the CLI says the error is (beside the message, or in it).
 */
const CLIS: Record<string, { args: string[]; config: [string, string]; test?: [string, string]; place: (dir: string) => string }> = {
  rollup: {
    args: [bin('rollup/dist/bin/rollup'), '-c', 'rollup.config.mjs'],
    config: ['rollup.config.mjs', "import poet from 'unplugin-poet/rollup'\nexport default { input: 'src/broken.ts', output: { dir: 'dist-cli' }, plugins: [poet()] }\n"],
    place: () => 'src/broken.ts (4:30)',
  },
  rolldown: {
    args: [bin('rolldown/bin/cli.mjs'), '-c', 'rolldown.config.mjs'],
    config: ['rolldown.config.mjs', "import poet from 'unplugin-poet/rolldown'\nexport default { input: 'src/broken.ts', output: { dir: 'dist-cli' }, plugins: [poet()] }\n"],
    place: (dir) => `[plugin unplugin-poet] ${dir}/src/broken.ts:4:30`,
  },
  vite: {
    args: [bin('vite/bin/vite.js'), 'build', '--config', 'vite.config.mjs'],
    config: ['vite.config.mjs', "import poet from 'unplugin-poet/vite'\nexport default { plugins: [poet()], logLevel: 'error', build: { ssr: 'src/broken.ts', outDir: 'dist-cli' } }\n"],
    place: (dir) => `[plugin unplugin-poet] ${dir}/src/broken.ts:4:30`,
  },
  vitest: {
    args: [bin('vitest/vitest.mjs'), 'run', '--config', 'vitest.config.mjs'],
    config: ['vitest.config.mjs', "import poet from 'unplugin-poet/vite'\nexport default { plugins: [poet()], test: { include: ['src/broken.test.ts'] } }\n"],
    test: ['src/broken.test.ts', "import { expect, it } from 'vitest'\nimport { broken } from './broken'\n\nit('doubles', () => expect(broken(1)).toBe(1))\n"],
    place: (dir) => `File: ${dir}/src/broken.ts:4:30`,
  },
  // esbuild's JavaScript API logs a failed build as its command line does.
  esbuild: {
    args: ['build.mjs'],
    config: ['build.mjs', "import { build } from 'esbuild'\nimport poet from 'unplugin-poet/esbuild'\nawait build({ entryPoints: ['src/broken.ts'], bundle: true, outdir: 'dist-cli', plugins: [poet()] }).catch(() => process.exit(1))\n"],
    place: () => 'src/broken.ts:4:30: ',
  },
  // No webpack-cli here: a script printing the stats as webpack-cli does by default (the `normal` preset), with the
  // persistent cache most webpack 5 projects turn on.
  webpack: {
    args: ['build.mjs'],
    config: ['build.mjs', webpackScript("import webpack from 'webpack'\nimport poet from 'unplugin-poet/webpack'", 'webpack', "{ type: 'filesystem' }")],
    place: () => 'src/broken.ts:4:30: ',
  },
  rspack: {
    args: ['build.mjs'],
    config: ['build.mjs', webpackScript("import { rspack } from '@rspack/core'\nimport poet from 'unplugin-poet/rspack'", 'rspack', 'true')],
    place: () => 'src/broken.ts:4:30: ',
  },
}

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

describe.each(Object.keys(CLIS))('%s command line', (cli) => {
  let project: Project
  let output: string

  beforeAll(async () => {
    project = createProject(`${cli}-cli-error`)
    for (const [file, content] of [CLIS[cli]!.config, CLIS[cli]!.test ?? []]) if (file) project.write(file, content!)
    // Vitest, itself run by Vitest, would take the outer run's variables for its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TEST' && k !== 'NODE_ENV'))
    const failed = await exec(process.execPath, [...CLIS[cli]!.args], { cwd: project.dir, env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0' } }).then(
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

  it('adds no note about the bundler\'s own code, nor a call stack (esbuild: "This error came from the "onLoad" callback registered here", in its main.js, and unplugin\'s frames)', () => {
    expect(output).not.toContain('This error came from')
    // Rolldown (and Vite on it) prints its own call stack under every error.
    if (cli !== 'rolldown' && cli !== 'vite') expect(output).not.toMatch(/^[\s│]*at /m)
  })

  it('adds no complaint of its own (webpack\'s persistent cache could not store the error: "No serializer registered for PoetBuildError")', () => {
    expect(output).not.toContain('No serializer registered')
  })

  it('says the place it prints beside the message as the message does (Rollup, Rolldown, Vite and Vitest printed column 29)', () => {
    expect(output, output).toContain(CLIS[cli]!.place(project.dir))
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

/** A sync function with a timeout, in plain JavaScript so that every CLI builds it without a TypeScript plugin. */
const SYNC_JS = "import { poet } from 'unplugin-poet/runtime'\n\nexport const addOne = poet({ timeout: 50 })(function addOne(n) {\n  return n + 1\n})\n"
const REASON = "'timeout' has no effect on src/sync.js#addOne: the function is synchronous"

/** Rollup's, Rolldown's and Vite's own command lines, building src/sync.js; Vite as an SSR build (no index.html needed). */
const ROLLUP_LIKE = {
  rollup: {
    args: [bin('rollup/dist/bin/rollup'), '-c', 'rollup.config.mjs'],
    config: ['rollup.config.mjs', "import poet from 'unplugin-poet/rollup'\nexport default { input: 'src/sync.js', output: { dir: 'dist-cli' }, external: /^unplugin-poet/, plugins: [poet()] }\n"],
    // Rollup's own form of a place (with the column every message of poet's has), then the absolute path and the frame.
    place: 'src/sync.js (3:30): ',
  },
  rolldown: {
    args: [bin('rolldown/bin/cli.mjs'), '-c', 'rolldown.config.mjs'],
    config: ['rolldown.config.mjs', "import poet from 'unplugin-poet/rolldown'\nexport default { input: 'src/sync.js', output: { dir: 'dist-cli' }, external: /^unplugin-poet/, plugins: [poet()] }\n"],
    place: 'src/sync.js (3:30) ',
  },
  // Vite 8's build prints a plugin warning's message alone: the place must be in it.
  vite: {
    args: [bin('vite/bin/vite.js'), 'build', '--config', 'vite.config.mjs'],
    config: ['vite.config.mjs', "import poet from 'unplugin-poet/vite'\nexport default { plugins: [poet()], build: { ssr: 'src/sync.js', outDir: 'dist-cli' } }\n"],
    place: 'src/sync.js:3:30: ',
  },
} as const

describe.each(Object.keys(ROLLUP_LIKE) as (keyof typeof ROLLUP_LIKE)[])('%s warnings, as printed by default', (cli) => {
  let project: Project
  const outputs: string[] = []

  beforeAll(async () => {
    project = createProject(`${cli}-cli-warning`)
    project.write('src/sync.js', SYNC_JS)
    const [file, content] = ROLLUP_LIKE[cli].config
    project.write(file, content)
    // Twice: the second build replays the warning from the transform cache.
    for (let i = 0; i < 2; i++) {
      const { stdout, stderr } = await exec(process.execPath, [...ROLLUP_LIKE[cli].args], { cwd: project.dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } })
      outputs.push((stdout + stderr).replace(/\x1b\[[0-9;]*m/g, ''))
    }
  }, 60_000)
  afterAll(() => project.remove())

  it('says the place once, in the form the bundler gives its own (Rollup printed "src/sync.js: src/sync.js:3:30: …"), cold and from the cache alike', () => {
    const said = outputs.map((output) => {
      const lines = output.split('\n').filter((l) => l.includes(REASON))
      expect(lines, output).toHaveLength(1)
      expect(lines[0], output).toContain(ROLLUP_LIKE[cli].place + REASON)
      // The function id in the reason names the file too; the place, once.
      expect(lines[0]!.match(/src\/sync\.js(?!#)/g), lines[0]).toHaveLength(1)
      return lines[0]
    })
    expect(said[1]).toBe(said[0])
  })
})

describe('Vite dev server warnings', () => {
  let project: Project
  afterAll(() => project.remove())

  it('show the place once, as Vite shows its own (File: path:line:column and the frame; it named the file twice)', async () => {
    project = createProject('vite-dev-warning')
    project.write('src/sync.js', SYNC_JS)
    const { createServer, createLogger } = await import('vite')
    const poet = (await import(join(PACKAGE_ROOT, 'dist/vite.mjs'))) as { default: (o?: object) => import('vite').Plugin }
    const said: string[] = []
    const logger = { ...createLogger('silent'), warn: (m: string) => void said.push(m), warnOnce: (m: string) => void said.push(m) }
    const server = await createServer({ configFile: false, root: project.dir, logLevel: 'silent', customLogger: logger, plugins: [poet.default()], server: { middlewareMode: true, ws: false } })
    try {
      await server.environments.ssr.transformRequest('/src/sync.js')
    } finally {
      await server.close()
    }
    const warning = said.map((m) => m.replace(/\x1b\[[0-9;]*m/g, '')).find((m) => m.includes(REASON))
    expect(warning, said.join('\n')).toMatch(new RegExp(`^warning: ${REASON.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
    expect(warning).toContain(`File: ${project.path('src/sync.js')}:3:30\n`)
    expect(warning).toContain('> 3 | export const addOne = poet({ timeout: 50 })(function addOne(n) {')
    expect(warning!.match(/src\/sync\.js(?!#)/g)).toHaveLength(1)
  }, 30_000)
})

describe('Vite dev server errors', () => {
  let project: Project
  afterAll(() => project.remove())

  it('show the place as the message says it, in the terminal and in the overlay (both said column 29 under a message saying 30)', async () => {
    project = createProject('vite-dev-error')
    const { createServer, createLogger } = await import('vite')
    const poet = (await import(join(PACKAGE_ROOT, 'dist/vite.mjs'))) as { default: (o?: object) => import('vite').Plugin }
    const said: string[] = []
    const logger = { ...createLogger('silent'), error: (m: string) => void said.push(m) }
    const server = await createServer({ configFile: false, root: project.dir, logLevel: 'silent', customLogger: logger, plugins: [poet.default()], server: { port: 0, host: '127.0.0.1', ws: false } })
    let overlay: { loc?: { file: string; line: number; column: number }; message: string } | undefined
    try {
      await server.listen()
      const { port } = server.httpServer!.address() as { port: number }
      const response = await fetch(`http://127.0.0.1:${port}/src/broken.ts`)
      expect(response.status).toBe(500)
      // The overlay prints `file:line:column` from the error's loc (Vite's client: `${file}:${err.loc.line}:${err.loc.column}`).
      overlay = await server.environments.client.transformRequest('/src/broken.ts').then(() => undefined, (e: typeof overlay) => e)
    } finally {
      await server.close()
    }
    const terminal = said.map((m) => m.replace(/\x1b\[[0-9;]*m/g, '')).find((m) => m.includes('[POET_UNKNOWN_OPTION]'))
    expect(terminal, said.join('\n')).toContain('src/broken.ts:4:30: unknown poet() option')
    expect(terminal).toContain(`File: ${project.path('src/broken.ts')}:4:30\n`)
    expect(overlay?.message).toContain('src/broken.ts:4:30: ')
    expect(overlay?.loc).toEqual({ file: project.path('src/broken.ts'), line: 4, column: 30 })
  }, 30_000)
})
