// The `poet` bin in a CI pipeline: what a lock it cannot take makes each command say and do. Runs the built
// dist/cli.mjs in child processes.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FeedbackStore } from '../../src/train/store'
import { runCli } from '../helpers/cli'
import { createProject, readOnly, type Project } from '../helpers/project'


let project: Project | undefined
afterEach(() => {
  project?.remove()
  project = undefined
})

const poet = (cwd: string, argv: string[]) => runCli(cwd, argv, { ci: true })

/** The fixture project with its lock written, less the file that misuses poet() (for the build tests). */
async function generated(name: string): Promise<Project> {
  const p = (project = createProject(name))
  rmSync(p.path('src/broken.ts'))
  const r = await poet(p.dir, ['generate'])
  expect(r.code, r.stderr).toBe(0)
  return p
}

describe('a lock written by a newer unplugin-poet', () => {
  it('every command refuses it, saying which file and to upgrade, and none rewrites it', async () => {
    const p = await generated('cli-ci-newer')
    const file = join(p.lockDir, 'lock.json')
    const newer = readFileSync(file, 'utf8').replace('"lockfileVersion": 1', '"lockfileVersion": 2')
    writeFileSync(file, newer)
    // So that train gets as far as the lock.
    new FeedbackStore(join(p.lockDir, 'feedback.db')).close()
    // A body edit: generate would otherwise write this function's new version into the lock.
    p.write('src/slow.ts', p.read('src/slow.ts').replace(/timeout: \d+/, 'timeout: 77'))
    const message = (command: string) =>
      `poet ${command}: cannot read ${file}: it was written by a newer unplugin-poet (lockfileVersion 2; this one reads 1). ` +
      'Upgrade unplugin-poet to the version that wrote it; nothing was changed.\n'
    for (const argv of [['generate'], ['generate', '--check'], ['generate', '--force'], ['status'], ['status', '--json'], ['diff', 'src/slow.ts#slow'], ['rollback', 'src/slow.ts#slow'], ['train', '--apply']]) {
      const r = await poet(p.dir, argv)
      expect(r, argv.join(' ')).toEqual({ code: 1, stdout: '', stderr: message(argv[0]!) })
      expect(readFileSync(file, 'utf8'), argv.join(' ')).toBe(newer)
    }
  })
})

describe('a read-only .poet/ (a read-only checkout or mount)', () => {
  it('poet serve says the store cannot be made there and why, and to pass --db elsewhere (exit 1)', async () => {
    const p = await generated('cli-ci-readonly')
    const writable = readOnly(p.lockDir)
    try {
      const r = await poet(p.dir, ['serve', '--port', '0'])
      expect(r.code, r.stderr).toBe(1)
      expect(r.stdout).toBe('')
      expect(r.stderr).toMatch(
        new RegExp(
          `^poet serve: cannot start: cannot open the feedback store ${join(p.lockDir, 'feedback.db').replace(/[.]/g, '\\.')}: cannot write \\.poet/ \\(.+/\\.poet\\): ` +
            '(read-only file system|permission denied|operation not permitted)\\. Make the directory writable, or pass --db <file> in a writable place\\.\\n$',
        ),
      )
    } finally {
      writable()
    }
  })
})

describe('poet serve on an address it cannot take', () => {
  it('a --host that is no address of this machine is named as the mistake (exit 2), not as a listen error', async () => {
    const p = (project = createProject('cli-ci-host'))
    // 192.0.2.0/24 is reserved for documentation (RFC 5737): no machine has it.
    const r = await poet(p.dir, ['serve', '--port', '0', '--host', '192.0.2.1'])
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: 'poet serve: --host 192.0.2.1: not an address of this machine, so nothing can listen on it. Pass one of its addresses (0.0.0.0 for every interface), or leave --host out to listen on 127.0.0.1.\n',
    })
  })
})
