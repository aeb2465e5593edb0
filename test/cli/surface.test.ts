// The `poet` bin as a user meets it in a terminal and a CI script: one exit-code convention, help on stdout, mistakes
// on stderr naming the option and the usage line, and the README's command list. Runs the built dist/cli.mjs.
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { FeedbackStore } from '../../src/train/store'
import { CLI_BIN as BIN, runCli, type CliRun } from '../helpers/cli'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const COMMANDS = ['generate', 'status', 'diff', 'domains', 'serve', 'train', 'rollback'] as const

let project: Project | undefined
afterEach(() => {
  project?.remove()
  project = undefined
})

const poet = (cwd: string, argv: string[]) => runCli(cwd, argv, { timeout: 20_000 })

/** A usage error as every command words it: the message, the usage line, where the options are; nothing on stdout. */
function expectUsage(r: CliRun, command: string, message: string | RegExp): void {
  expect(r.code, r.stderr).toBe(2)
  expect(r.stdout).toBe('')
  const [first, usageLine, pointer, ...rest] = r.stderr.split('\n')
  if (typeof message === 'string') expect(first).toBe(`poet ${command}: ${message}`)
  else expect(first).toMatch(message)
  expect(usageLine).toMatch(new RegExp(`^Usage: poet ${command} `))
  expect(pointer).toBe(`Run \`poet ${command} --help\` for its options.`)
  expect(rest).toEqual([''])
}

/** The fixture project with its lock written twice: src/slow.ts#slow has an older version, of another source. */
async function twoVersions(): Promise<{ p: Project; first: string; second: string }> {
  const p = (project = createProject('cli-surface'))
  // The fixture's file that misuses poet(), for the build tests: here it would stop every generate.
  rmSync(p.path('src/broken.ts'))
  expect((await poet(p.dir, ['generate'])).code).toBe(0)
  const first = new LockStore(p.lockDir).read().functions['src/slow.ts#slow']!.current
  p.write('src/slow.ts', p.read('src/slow.ts').replace(/timeout: \d+/, 'timeout: 77'))
  expect((await poet(p.dir, ['generate'])).code).toBe(0)
  const second = new LockStore(p.lockDir).read().functions['src/slow.ts#slow']!.current
  expect(second).not.toBe(first)
  return { p, first, second }
}

describe('poet exit codes: 0 done, 1 what was asked failed, 2 the command line is wrong', () => {
  it('an unknown id or version is 2 in diff and rollback alike; a refused rollback is 1', async () => {
    const { p, first, second } = await twoVersions()
    expectUsage(await poet(p.dir, ['diff', 'src/slow.ts#slwo']), 'diff', /^poet diff: src\/slow\.ts#slwo is not in .*lock\.json\. Did you mean src\/slow\.ts#slow\?$/)
    expectUsage(await poet(p.dir, ['rollback', 'src/slow.ts#slwo']), 'rollback', /^poet rollback: src\/slow\.ts#slwo is not in .*lock\.json\. Did you mean src\/slow\.ts#slow\?$/)
    expectUsage(await poet(p.dir, ['diff', 'src/slow.ts#slow', '--from', 'zzz']), 'diff', /^poet diff: --from zzz: src\/slow\.ts#slow has no such version/)
    expectUsage(await poet(p.dir, ['rollback', 'src/slow.ts#slow', '--to', 'zzz']), 'rollback', /^poet rollback: unknown version "zzz" of src\/slow\.ts#slow; versions: /)
    // Both take a unique prefix of a version, as copied from a log.
    const short = await poet(p.dir, ['diff', 'src/slow.ts#slow', '--from', first.slice(0, 4), '--to', second.slice(0, 5)])
    expect(short).toMatchObject({ code: 0, stderr: '' })
    expect(short.stdout).toMatch(new RegExp(`^--- src/slow\\.ts#slow@${first} \\(previous, .*\n\\+\\+\\+ src/slow\\.ts#slow@${second} \\(current, `))
    // Refused, not misused: the only older version is of another source.
    const refused = await poet(p.dir, ['rollback', 'src/slow.ts#slow'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^poet rollback: src\/slow\.ts#slow has no earlier version of its current source to roll back to/)
    expect(new LockStore(p.lockDir).read().functions['src/slow.ts#slow']!.current).toBe(second)
  })

  it('an unknown id gets the same hint from diff, rollback and generate --only: the id meant, by typo or by bare name', async () => {
    const { p } = await twoVersions()
    const lockFile = join(p.lockDir, 'lock.json')
    for (const [typed, meant] of [
      ['src/pricing.ts#Pricing.qoute', 'src/pricing.ts#Pricing.quote'],
      ['slow', 'src/slow.ts#slow'],
      ['quote', 'src/pricing.ts#Pricing.quote'],
    ]) {
      const [diff, rollback, only] = await Promise.all([poet(p.dir, ['diff', typed!]), poet(p.dir, ['rollback', typed!]), poet(p.dir, ['generate', '--only', typed!])])
      expectUsage(diff, 'diff', `${typed} is not in ${lockFile}. Did you mean ${meant}?`)
      expectUsage(rollback, 'rollback', `${typed} is not in ${lockFile}. Did you mean ${meant}?`)
      expectUsage(only, 'generate', `--only ${typed}: no poet() function has this id. Did you mean ${meant}?`)
    }
    const far = await poet(p.dir, ['rollback', 'nothing-like-it'])
    expectUsage(far, 'rollback', `nothing-like-it is not in ${lockFile}. Functions: src/aliased.ts#double, src/flaky.ts#flaky, src/namespaced.ts#shout, src/orders.ts#priceOrder, src/pricing.ts#Pricing.quote and 1 more (\`poet status\` lists them).`)
  })

  it('without a lock, diff and rollback both say there is none, exit 2, and leave no trace; train says so, exit 1', async () => {
    const p = (project = createProject('cli-surface-nolock'))
    const lockFile = join(p.lockDir, 'lock.json')
    // Run from the wrong directory with the store named: an empty lock would pass as 'nothing to train'.
    new FeedbackStore(p.path('feedback.db')).close()
    expect(await poet(p.dir, ['train', '--db', 'feedback.db'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `poet train: no lock at ${lockFile}, so nothing to train. Run it from the project root (or pass --root or --lock-dir); a build or \`poet generate\` writes the lock.\n`,
    })
    expectUsage(await poet(p.dir, ['diff', 'src/slow.ts#slow']), 'diff', `no lock at ${lockFile}, so no src/slow.ts#slow in it (run it from the project root, or pass --root)`)
    expectUsage(await poet(p.dir, ['rollback', 'src/slow.ts#slow']), 'rollback', `no lock at ${lockFile}, so no src/slow.ts#slow in it (run it from the project root, or pass --root or --lock-dir)`)
    expect(existsSync(p.lockDir)).toBe(false)
  })

  it('README states the convention the top-level help states', async () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')
    const help = (await poet(PACKAGE_ROOT, ['--help'])).stdout
    const flat = (s: string) => s.replace(/\s+/g, ' ')
    const stated = /Exit codes: (0 done[\s\S]*?)\.\s*$/.exec(help)?.[1]
    expect(stated).toBeDefined()
    expect(flat(readme)).toContain(flat(stated!))
  })
})

describe('poet --help', () => {
  it('prints the top-level help to stdout with exit 0, and the help to stderr with exit 2 when no command is given', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['help', 'help']]) {
      const r = await poet(PACKAGE_ROOT, argv)
      expect(r, argv.join(' ')).toMatchObject({ code: 0, stderr: '' })
      expect(r.stdout).toMatch(/^poet — generate, review and train/)
    }
    // A script that runs `poet` with an empty "$COMMAND" must not get the help in its output file and exit 0.
    const none = await poet(PACKAGE_ROOT, [])
    expect(none).toMatchObject({ code: 2, stdout: '' })
    expect(none.stderr).toMatch(/^poet — generate, review and train/)
  })

  it('prints the version with --version and -v', async () => {
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
    for (const flag of ['--version', '-v']) expect(await poet(PACKAGE_ROOT, [flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it.each(COMMANDS)('poet %s: -h, --help and `poet help` print its help to stdout with exit 0, and it accepts every option its help lists', async (command) => {
    const help = await poet(PACKAGE_ROOT, [command, '--help'])
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toMatch(new RegExp(`^poet ${command} — .+\n\nUsage: poet ${command} `))
    expect(await poet(PACKAGE_ROOT, [command, '-h'])).toEqual(help)
    expect(await poet(PACKAGE_ROOT, ['help', command])).toEqual(help)
    // --help wins over a mistake beside it, as a user reaching for it after a typo expects.
    expect(await poet(PACKAGE_ROOT, [command, '--bogus', '--help'])).toEqual(help)
    const listed = [...new Set(help.stdout.match(/(?<![\w-])--[a-z][a-z-]*/g))].filter((f) => f !== '--help')
    expect(listed.length).toBeGreaterThan(0)
    // Each listed option followed by an unknown one: the parser gets past it (or asks for its value) without calling it unknown.
    const results = await Promise.all(listed.map((flag) => poet(PACKAGE_ROOT, [command, flag, '--zzz-not-an-option'])))
    for (const [i, r] of results.entries()) {
      expect(r.code, `${command} ${listed[i]}`).toBe(2)
      expect(r.stderr, `${command} ${listed[i]}`).not.toContain(`unknown option ${listed[i]}.`)
    }
  })

  it.each(COMMANDS)('poet %s --help states its exit codes and shows examples of the command itself', async (command) => {
    const { stdout } = await poet(PACKAGE_ROOT, [command, '--help'])
    expect(stdout).toMatch(/\nExit code 0\b|exits 0\b/)
    expect(stdout).toMatch(/\b2 for\b/)
    const examples = /\nExamples:\n((?: {2}.+\n?)+)/.exec(stdout)?.[1]?.trimEnd().split('\n')
    expect(examples?.length, stdout).toBeGreaterThan(0)
    for (const line of examples!) expect(line).toMatch(new RegExp(`^ {2}poet ${command}\\b`))
  })

  it("lists each command with the README's synopsis", async () => {
    const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8')
    const synopsis = (line: string) => line.trim().split(/ {2,}/)[0]!
    const section = readme.slice(readme.indexOf('## The `poet` command'))
    const block = section.slice(section.indexOf('```\n') + 4, section.indexOf('\n```', section.indexOf('```\n') + 4))
    const documented = block.split('\n').map((l) => synopsis(l).replace(/^poet /, ''))
    const help = (await poet(PACKAGE_ROOT, ['--help'])).stdout
    const listed = help.slice(help.indexOf('Commands:\n'), help.indexOf('\n\n', help.indexOf('Commands:\n'))).split('\n').slice(1).map(synopsis)
    expect(listed).toEqual(documented)
    expect(listed.map((l) => l.split(' ')[0])).toEqual([...COMMANDS])
    // Each description starts at one column, in the help and in the README (the longest synopsis once pushed its own out).
    const columns = (lines: string[]) => new Set(lines.map((l) => l.length - l.replace(/^.*? {2,}/, '').length))
    expect(columns(help.slice(help.indexOf('Commands:\n'), help.indexOf('\n\n', help.indexOf('Commands:\n'))).split('\n').slice(1)).size).toBe(1)
    expect(columns(block.split('\n')).size).toBe(1)
  })
})

describe('poet usage errors', () => {
  it('an unknown command or option is named, with the close one, the usage line, on stderr with exit 2', async () => {
    const typos: [string, string, string][] = [
      ['generate', '--chekc', '--check'],
      ['status', '--roto', '--root'],
      ['diff', '--form', '--from'],
      ['domains', '--jsno', '--json'],
      ['serve', '--prot', '--port'],
      ['train', '--aply', '--apply'],
      ['rollback', '--ot', '--to'],
    ]
    const results = await Promise.all(typos.map(([command, typo]) => poet(PACKAGE_ROOT, [command, typo, 'x'])))
    for (const [i, [command, typo, meant]] of typos.entries()) expectUsage(results[i]!, command, `unknown option ${typo}. Did you mean ${meant}?`)
    expectUsage(await poet(PACKAGE_ROOT, ['status', '-x']), 'status', 'unknown option -x.')

    const command = await poet(PACKAGE_ROOT, ['stauts'])
    expect(command).toMatchObject({ code: 2, stdout: '' })
    expect(command.stderr).toBe('poet: unknown command "stauts". Did you mean `poet status`?\nUsage: poet <command> [options]\nRun `poet --help` for the commands.\n')
    const before = await poet(PACKAGE_ROOT, ['--root', 'app', 'status'])
    expect(before.code).toBe(2)
    expect(before.stderr.split('\n')[0]).toBe('poet: unknown option --root. Options go after the command: poet <command> [options].')
    // A slip of poet's own options is that, not a command's option out of place.
    const own: [string, string][] = [
      ['--verison', 'poet: unknown option --verison. Did you mean --version?'],
      ['--hlep', 'poet: unknown option --hlep. Did you mean --help?'],
      ['-V', 'poet: unknown option -V. Did you mean -v?'],
      ['version', 'poet: unknown command "version". Did you mean `poet --version`?'],
      ['check', 'poet: unknown command "check". Did you mean `poet generate --check`?'],
    ]
    const ownResults = await Promise.all(own.map(([argv]) => poet(PACKAGE_ROOT, [argv])))
    for (const [i, [argv, message]] of own.entries()) {
      expect(ownResults[i], argv).toMatchObject({ code: 2, stdout: '' })
      expect(ownResults[i]!.stderr.split('\n')[0], argv).toBe(message)
    }
  })

  it('a missing, malformed or dangling value says which option and what it needs, without a stack trace', async () => {
    const { p, second } = await twoVersions()
    const cases: [string[], string][] = [
      [['serve', '--db'], 'poet serve: --db needs a value: --db <file>'],
      [['serve', '--db', '--port', '1'], 'poet serve: --db needs a value: --db <file> (received the option --port instead; write --db=--port if that is the value)'],
      [['serve', '--port', 'abc'], 'poet serve: --port must be an integer from 0 to 65535, received "abc"'],
      [['serve', '--token', ''], 'poet serve: --token is empty (is $POET_TOKEN set?). Pass a token, or leave --token out to accept events without one.'],
      // Else Node listens on every interface, not on the 127.0.0.1 the default promises.
      [['serve', '--host', ''], 'poet serve: --host is empty (is $HOST set?). Pass an address (0.0.0.0 for every interface), or leave --host out to listen on 127.0.0.1.'],
      // An unset variable: an empty path would be the working directory (a directory as the store), an empty id nothing.
      [['train', '--db='], 'poet train: --db is empty (is the variable you passed set?). Pass --db <file>, or leave --db out.'],
      [['rollback', 'src/slow.ts#slow', '--db', ''], 'poet rollback: --db is empty (is the variable you passed set?). Pass --db <file>, or leave --db out.'],
      [['serve', '--port', ' '], 'poet serve: --port is empty (is the variable you passed set?). Pass --port <n>, or leave --port out.'],
      [['generate', '--only', ''], 'poet generate: --only is empty (is the variable you passed set?). Pass --only <id>, or leave --only out.'],
      [['serve', 'extra'], 'poet serve: unexpected argument "extra": this command takes none'],
      [['generate', '--only'], 'poet generate: --only needs a value: --only <id>'],
      // The same words for a number as serve's: an integer, with its bounds.
      [['generate', '--concurrency', 'abc'], 'poet generate: --concurrency must be an integer ≥ 1, received "abc"'],
      [['generate', '--check=yes'], 'poet generate: --check takes no value, received "yes"'],
      [['generate', 'src/slow.ts#slow'], 'poet generate: unexpected argument "src/slow.ts#slow": this command takes none (one function: --only src/slow.ts#slow)'],
      [['train', '--share', '2'], 'poet train: --share must be a number between 0 and 1 (exclusive), received "2"'],
      [['rollback', 'src/slow.ts#slow', '--lock-dir', 'src'], `poet rollback: no lock at ${p.path('src/lock.json')}, so no src/slow.ts#slow in it (run it from the project root, or pass --root or --lock-dir)`],
      [['rollback'], 'poet rollback: which function? Pass its id, e.g. poet rollback src/drift.ts#detectDrift'],
      [['rollback', 'a', 'b'], 'poet rollback: one id at a time, received also "b"'],
    ]
    const results = await Promise.all(cases.map(([argv]) => poet(p.dir, argv)))
    for (const [i, [argv, message]] of cases.entries()) {
      const r = results[i]!
      expect(r.stderr.split('\n')[0], argv.join(' ')).toBe(message)
      expectUsage(r, argv[0]!, message.slice(`poet ${argv[0]}: `.length))
      expect(r.stderr).not.toContain('    at ')
    }
    // A path that names nothing, or a value the config resolves: the message alone says what to fix, as for every command.
    const brief: [string[], string][] = [
      [['status', '--root', 'nowhere'], `poet status: --root nowhere: no such directory (${p.path('nowhere')})`],
      [['train', '--root', 'nowhere'], `poet train: --root nowhere: no such directory (${p.path('nowhere')})`],
      [['serve', '--root', 'nowhere'], `poet serve: --root nowhere: no such directory (${p.path('nowhere')})`],
      [['train', '--lock-dir', 'nowhere'], `poet train: --lock-dir nowhere: no such directory (${p.path('nowhere')})`],
      [['serve', '--lock-dir', 'nowhere'], `poet serve: --lock-dir nowhere: no such directory (${p.path('nowhere')})`],
      [['train', '--db', 'nowhere.db'], `poet train: --db nowhere.db: no such file (${p.path('nowhere.db')})`],
      [['rollback', 'src/slow.ts#slow', '--lock-dir', 'nowhere'], `poet rollback: --lock-dir nowhere: no such directory (${p.path('nowhere')})`],
      [['rollback', 'src/slow.ts#slow', '--root', 'src/slow.ts'], `poet rollback: --root src/slow.ts: not a directory (${p.path('src/slow.ts')})`],
      // A decision the named store cannot record would be offered again by the trainer: refused before the lock moves.
      [['rollback', 'src/slow.ts#slow', '--to', second, '--db', 'nowhere.db'], `poet rollback: --db nowhere.db: no such file (${p.path('nowhere.db')})`],
      [['train', '--generator', 'claude'], 'poet train: --generator must be builtin or openai, received "claude"'],
      [['generate', '--generator', 'claude'], 'poet generate: --generator must be builtin or openai, received "claude"'],
    ]
    const briefResults = await Promise.all(brief.map(([argv]) => poet(p.dir, argv)))
    for (const [i, [argv, message]] of brief.entries()) expect(briefResults[i], argv.join(' ')).toEqual({ code: 2, stdout: '', stderr: `${message}\n` })
    expect(new LockStore(p.lockDir).read().functions['src/slow.ts#slow']!.current).toBe(second)
    // A store that cannot open is a failure (1), said once: not 'cannot start: poet: cannot open …'.
    const store = await poet(p.dir, ['serve', '--port', '0', '--db', 'src'])
    expect(store).toMatchObject({ code: 1, stdout: '' })
    expect(store.stderr).toMatch(new RegExp(`^poet serve: cannot start: cannot open the feedback store ${p.path('src').replace(/[.]/g, '\\.')}: .+\n$`))
  })
})

describe('poet output for scripts', () => {
  it('--json is JSON alone on stdout, and nothing off a terminal carries an escape code', async () => {
    const p = (project = createProject('cli-surface-json'))
    for (const argv of [['domains', '--json'], ['domains', 'healthcare', '--json']]) {
      const r = await poet(p.dir, argv)
      expect(r, argv.join(' ')).toMatchObject({ code: 0, stderr: '' })
      expect(() => JSON.parse(r.stdout) as unknown, argv.join(' ')).not.toThrow()
    }
    // status --json for a script: the JSON alone on stdout even when a source file has errors (those on stderr, exit 1).
    const broken = await poet(p.dir, ['status', '--json'])
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/^src\/broken\.ts:4:30: unknown poet\(\) option 'atempts'/)
    const before = JSON.parse(broken.stdout) as { functions: { id: string; state: string; version: string | null }[]; orphans: string[] }
    expect(before.functions.map((f) => [f.id, f.state, f.version])).toContainEqual(['src/slow.ts#slow', 'missing', null])
    rmSync(p.path('src/broken.ts'))
    const runs = await Promise.all([['generate'], ['status'], ['domains'], ['generate', '--check']].map((argv) => poet(p.dir, argv)))
    for (const r of runs) expect(r.stdout + r.stderr).not.toContain('\x1b')
    const after = await poet(p.dir, ['status', '--json'])
    expect(after).toMatchObject({ code: 0, stderr: '' })
    const status = JSON.parse(after.stdout) as typeof before
    expect(status.orphans).toEqual([])
    expect(status.functions.find((f) => f.id === 'src/slow.ts#slow')).toMatchObject({ state: 'fresh', version: expect.stringMatching(/^[0-9a-f]{10}$/), generator: 'builtin', fallback: false, candidate: null })
  })

  it('status with a file that misuses poet() says its functions went uncounted, rather than "8 functions, 0 stale" beside the error', async () => {
    const p = (project = createProject('cli-surface-status-broken'))
    const broken = p.read('src/broken.ts')
    // Generated while the file was right: the lock has its function, which the status below cannot read.
    p.write('src/broken.ts', broken.replace('atempts', 'attempts'))
    expect((await poet(p.dir, ['generate'])).code).toBe(0)
    p.write('src/broken.ts', broken)
    const r = await poet(p.dir, ['status'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^src\/broken\.ts:4:30: unknown poet\(\) option 'atempts'/)
    expect(r.stdout).not.toMatch(/functions, 0 stale or missing\.$/m)
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(
      '6 functions read, 0 stale or missing; 1 file with errors (src/broken.ts) could not be read, so its functions are ' +
        'not counted and their state is unknown (the lock lists 1 from it). Fix it first.',
    )
  })

  it('generate --check in a project whose lock has entries but whose source has no poet() function left says so (exit 0, as for any deleted function)', async () => {
    const p = (project = createProject('cli-surface-check-empty'))
    rmSync(p.path('src/broken.ts'))
    expect((await poet(p.dir, ['generate'])).code).toBe(0)
    rmSync(p.path('src'), { recursive: true })
    const r = await poet(p.dir, ['generate', '--check'])
    expect(r).toEqual({
      code: 0,
      stdout:
        `No poet() functions found under ${p.dir}: nothing to check. .poet/lock.json lists 6 functions (src/aliased.ts#double, ` +
        'src/flaky.ts#flaky, src/namespaced.ts#shout and 3 more) whose source is gone or left out by include/exclude.\n',
      stderr: '',
    })
  })

  it('rollback and serve take --root like the other project commands', async () => {
    const { p, first, second } = await twoVersions()
    const elsewhere = dirname(p.dir)
    const r = await poet(elsewhere, ['rollback', 'src/slow.ts#slow', '--to', first, '--root', p.dir])
    expect(r).toEqual({ code: 0, stdout: `src/slow.ts#slow: current ${second} → ${first}\n`, stderr: expect.stringMatching(/^poet rollback: note: /) })
    expect(new LockStore(p.lockDir).read().functions['src/slow.ts#slow']!.current).toBe(first)
    // serve takes it (a wrong one is refused before anything listens).
    expect(await poet(elsewhere, ['serve', '--root', 'nowhere'])).toEqual({ code: 2, stdout: '', stderr: `poet serve: --root nowhere: no such directory (${join(elsewhere, 'nowhere')})\n` })
  })
})

describe('progress on a terminal', () => {
  /** Runs `poet generate` on a pseudo-terminal (util-linux `script`), so stdout is a TTY as in a user's shell. */
  function onTerminal(cwd: string, term: string): Promise<string> {
    return new Promise((done, fail) => {
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} generate --force`
      execFile('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, CI: '', TERM: term }, timeout: 30_000 }, (error, stdout) =>
        error ? fail(error) : done(stdout),
      )
    })
  }

  it('redraws a bar in place on a terminal, and prints plain lines where TERM=dumb says the cursor cannot move', async () => {
    const p = (project = createProject('cli-tty'))
    rmSync(p.path('src/broken.ts'))
    const xterm = await onTerminal(p.dir, 'xterm')
    expect(xterm).toContain('\r\x1b[K[')
    const dumb = await onTerminal(p.dir, 'dumb')
    expect(dumb).toMatch(/Generated \d+ functions? with builtin/)
    expect(dumb).not.toContain('\x1b[')
  })
})
