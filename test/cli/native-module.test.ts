// Where better-sqlite3 cannot load: installed without running its install script (no native module), or not installed
// at all (it is an optional dependency, which npm leaves out when its native build fails). Only the event store needs it.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../helpers/project'

const run = promisify(execFile)
const dirs: string[] = []

/** A project with the package as installed (a copy: its imports resolve from here) and every dependency as installed, except better-sqlite3. */
function project(sqlite: 'unbuilt' | 'absent'): string {
  // Outside this repository: Node would find its node_modules/better-sqlite3 by walking up.
  const dir = mkdtempSync(join(tmpdir(), `poet-sqlite-${sqlite}-`))
  dirs.push(dir)
  const modules = join(dir, 'node_modules')
  const pkg = join(modules, 'unplugin-poet')
  mkdirSync(pkg, { recursive: true })
  cpSync(join(PACKAGE_ROOT, 'package.json'), join(pkg, 'package.json'))
  cpSync(join(PACKAGE_ROOT, 'dist'), join(pkg, 'dist'), { recursive: true })
  const shared = join(PACKAGE_ROOT, 'node_modules')
  for (const name of readdirSync(shared)) {
    if (name === 'better-sqlite3' || name.startsWith('.')) continue
    symlinkSync(join(shared, name), join(modules, name))
  }
  // What `--ignore-scripts` leaves behind: its JavaScript, and no build/.
  if (sqlite === 'unbuilt') {
    for (const part of ['package.json', 'lib']) cpSync(join(shared, 'better-sqlite3', part), join(modules, 'better-sqlite3', part), { recursive: true })
  }
  return dir
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function serveFails(dir: string): Promise<{ code?: number; stderr?: string }> {
  const failed = await run(process.execPath, [join(dir, 'node_modules/unplugin-poet/dist/cli.mjs'), 'serve', '--port', '0'], { cwd: dir, timeout: 20_000 }).then(
    () => undefined,
    (e: { code?: number; stderr?: string }) => e,
  )
  expect(failed, 'poet serve must not start').toBeDefined()
  return failed!
}

describe('poet serve without better-sqlite3 built', () => {
  it('exits 1 saying to rebuild better-sqlite3, not with the list of paths its loader tried', async () => {
    const failed = await serveFails(project('unbuilt'))
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`has no native module built for this Node (${process.version}). Run \`npm rebuild better-sqlite3\``)
    expect(failed.stderr).not.toContain(' → ')
  })
})

describe('without better-sqlite3 installed (an optional dependency whose build failed)', () => {
  const dir = project('absent')

  it('poet serve exits 1 saying to install it, without a stack', async () => {
    const failed = await serveFails(dir)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain('better-sqlite3, which stores POET\'s events, is not installed.')
    expect(failed.stderr).toContain('run `npm install better-sqlite3`')
    expect(failed.stderr).not.toMatch(/\n\s+at /)
  })

  it('a build, its validation and the Vite dev server with its validation still work; /__poet/ says why the dashboard is off', async () => {
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(
      join(dir, 'src/main.ts'),
      [
        "import { poet } from 'unplugin-poet/runtime'",
        'export const double = poet()(function double(n: number): number { return n * 2 })',
        '',
      ].join('\n'),
    )
    writeFileSync(
      join(dir, 'check.mjs'),
      `import { build, createServer } from 'vite'
import poet from 'unplugin-poet/vite'
const root = ${JSON.stringify(dir)}
await build({ root, logLevel: 'silent', plugins: [poet()], build: { ssr: 'src/main.ts', outDir: 'dist', minify: false } })
const { double } = await import(root + '/dist/main.js')
let rejected = ''
try { double('2') } catch (e) { rejected = e.name }
const warnings = []
const server = await createServer({ root, logLevel: 'warn', customLogger: { info() {}, warn: (m) => warnings.push(m), warnOnce: (m) => warnings.push(m), error: (m) => warnings.push(m), clearScreen() {}, hasWarned: false, hasErrorLogged: () => false }, plugins: [poet()], server: { port: 0, host: '127.0.0.1' } })
await server.listen()
const dev = await server.ssrLoadModule('/src/main.ts')
let devRejected = ''
try { dev.double('2') } catch (e) { devRejected = e.name }
const res = await fetch(server.resolvedUrls.local[0] + '__poet/')
const page = { status: res.status, text: await res.text() }
await server.close()
console.log(JSON.stringify({ value: double(2), rejected, devRejected, page, warnings }))
`,
    )
    const { stdout } = await run(process.execPath, [join(dir, 'check.mjs')], { cwd: dir, timeout: 60_000 })
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as {
      value: number
      rejected: string
      devRejected: string
      page: { status: number; text: string }
      warnings: string[]
    }
    expect(out.value).toBe(4)
    expect(out.rejected).toBe('PoetInputError')
    expect(out.devRejected).toBe('PoetInputError')
    expect(out.page.status).toBe(503)
    expect(out.page.text).toContain('the POET dashboard and event store are off')
    expect(out.page.text).toContain('is not installed')
    expect(out.warnings.join('\n')).toContain('run `npm install better-sqlite3`')
  }, 90_000)
})
