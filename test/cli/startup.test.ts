// What each `poet` command loads: `--version`, `--help` and the commands that only read the lock load no openai SDK,
// zod, sandbox or parser; a builtin `generate` parses but still loads no LLM client. Runs the built dist/cli.mjs.
import { execFile } from 'node:child_process'
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const BIN = join(PACKAGE_ROOT, 'dist/cli.mjs')

// Preloaded before the CLI: every ES module is reported by a loader hook as it loads, every CommonJS one (@babel/parser
// is required) from the require cache when the process exits.
const LIST_LOADED =
  'data:text/javascript,' +
  encodeURIComponent(`
import { createRequire, register } from 'node:module'
register('data:text/javascript,' + encodeURIComponent('export async function load(url, context, next) { process.stderr.write("LOADED " + url + "\\\\n"); return next(url, context) }'))
// The cache is one for the process; a data: URL cannot anchor a require, a path can.
process.on('exit', () => { for (const f of Object.keys(createRequire('/').cache)) process.stderr.write('LOADED ' + f + '\\n') })
`)

/** The LLM generator's dependencies: `poet generate` with an OpenAI generator needs them, nothing else does. */
const LLM_PACKAGES = ['openai', 'zod', 'quickjs-emscripten', 'quickjs-emscripten-core']

interface Loaded {
  code: number
  stdout: string
  stderr: string
  packages: Set<string>
}

function poet(cwd: string, argv: string[]): Promise<Loaded> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', LIST_LOADED, BIN, ...argv],
      { cwd, env: { ...process.env, CI: '' }, timeout: 30_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const files = stderr
          .split('\n')
          .filter((l) => l.startsWith('LOADED '))
          .map((l) => l.slice('LOADED '.length))
          .map((u) => (u.startsWith('file:') ? fileURLToPath(u) : u))
        const packages = new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p) => p !== undefined))
        const rest = stderr
          .split('\n')
          .filter((l) => !l.startsWith('LOADED '))
          .join('\n')
        done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr: rest, packages })
      },
    )
  })
}

describe('poet startup', () => {
  let project: Project

  beforeAll(() => {
    project = createProject('cli-startup')
    // The fixture's file that misuses poet(), for the build tests: here it would stop generate.
    rmSync(project.path('src/broken.ts'))
  })
  afterAll(() => project.remove())

  it('generate with the builtin generator parses the sources but loads no LLM client', async () => {
    const r = await poet(project.dir, ['generate'])
    expect(r.code, r.stderr).toBe(0)
    // The listing sees CommonJS packages too: the parser is one.
    expect(r.packages).toContain('@babel/parser')
    for (const pkg of LLM_PACKAGES) expect(r.packages, pkg).not.toContain(pkg)
  })

  it.each(['--version', '--help', 'help generate', 'generate --help', 'domains', 'diff src/slow.ts#slow', 'serve --help', 'train --help', 'rollback --help'])(
    'poet %s loads neither the LLM client nor the parser',
    async (command) => {
      const argv = command.split(' ')
      const r = await poet(project.dir, argv)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).not.toBe('')
      for (const pkg of [...LLM_PACKAGES, '@babel/parser']) expect(r.packages, pkg).not.toContain(pkg)
    },
  )

  it('status scans the sources without the LLM client', async () => {
    const r = await poet(project.dir, ['status'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('src/slow.ts#slow')
    expect(r.packages).toContain('@babel/parser')
    for (const pkg of LLM_PACKAGES) expect(r.packages, pkg).not.toContain(pkg)
  })
})
