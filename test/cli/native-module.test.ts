// `poet serve` where better-sqlite3 was installed without running its install script: no native module to load.
import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from '../helpers/project'

const run = promisify(execFile)
let dir: string

beforeAll(() => {
  mkdirSync(join(PACKAGE_ROOT, 'test/.tmp'), { recursive: true })
  dir = mkdtempSync(join(PACKAGE_ROOT, 'test/.tmp/no-native-'))
  // The package as installed (a copy: its imports resolve from here), every dependency as installed, except
  // better-sqlite3, whose JavaScript is there and whose build/ is not: what `--ignore-scripts` leaves behind.
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
  const sqlite = join(modules, 'better-sqlite3')
  for (const part of ['package.json', 'lib']) cpSync(join(shared, 'better-sqlite3', part), join(sqlite, part), { recursive: true })
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('poet serve without better-sqlite3 built', () => {
  it('exits 1 saying to rebuild better-sqlite3, not with the list of paths its loader tried', async () => {
    const failed = await run(process.execPath, [join(dir, 'node_modules/unplugin-poet/dist/cli.mjs'), 'serve', '--port', '0'], { cwd: dir, timeout: 20_000 }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    )
    expect(failed, 'poet serve must not start').toBeDefined()
    expect(failed!.code).toBe(1)
    expect(failed!.stderr).toContain(`has no native module built for this Node (${process.version}). Run \`npm rebuild better-sqlite3\``)
    expect(failed!.stderr).not.toContain(' → ')
  })
})
