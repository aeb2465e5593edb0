// A user's vite.config.ts with poet() under Vitest: the real vitest CLI in a child process on a fixture project.
import { execFile, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { createProject, PACKAGE_ROOT, promoteInLock, type Project } from '../helpers/project'
import { startOpenAIServer, reply, type OpenAIServer } from '../helpers/openai-server'

const FIXTURE = join(PACKAGE_ROOT, 'test/fixtures/vitest')
const VITEST = join(PACKAGE_ROOT, 'node_modules/vitest/vitest.mjs')
const FUNCTIONS = ['src/boom.ts#check', 'src/geometry.ts#norm', 'src/orders.ts#priceOrder']

interface Run {
  code: number | null
  /** stdout and stderr together, as the user's terminal shows them. */
  output: string
}

/**
 * Starts vitest in `project` as a user's terminal would (no CI, no color, no variables of the vitest running this
 * test). `onOutput` is called with the output so far at every chunk; the run ends when the process exits, or is killed
 * (its whole process group: vitest's workers too) by `stop()` or after `timeoutMs`, so a vitest that does not exit
 * fails the test instead of hanging it.
 */
function vitest(
  project: Project,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; onOutput?: (output: string, stop: () => void) => void } = {},
): Promise<Run & { killed: boolean }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'TEST' && k !== 'NODE_ENV'))
  const child = spawn(process.execPath, [VITEST, ...args, '--root', project.dir], {
    cwd: project.dir,
    env: { ...env, CI: '', NO_COLOR: '1', ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let killed = false
  const kill = () => {
    if (killed || child.exitCode !== null) return
    killed = true
    process.kill(-child.pid!, 'SIGKILL')
  }
  const timer = setTimeout(kill, opts.timeoutMs ?? 30_000)
  const take = (chunk: Buffer) => {
    output += chunk.toString()
    opts.onOutput?.(output, kill)
  }
  child.stdout.on('data', take)
  child.stderr.on('data', take)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output, killed })
    })
  })
}

/** An HTTP collector on 127.0.0.1 that records every request. */
async function recordingCollector(): Promise<{ url: string; requests: string[]; server: Server }> {
  const requests: string[] = []
  const server = createServer((req, res) => {
    req.resume()
    requests.push(`${req.method} ${req.url}`)
    res.writeHead(202, { 'access-control-allow-origin': '*' }).end('{"accepted":0,"stored":0}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/events`, requests, server }
}

function viteConfig(options: string): string {
  return `import poet from 'unplugin-poet/vite'\nimport { defineConfig } from 'vite'\n\nexport default defineConfig({ plugins: [poet(${options})] })\n`
}

describe('vitest on a project whose vite.config.ts has poet()', () => {
  let project: Project | undefined
  const closers: (() => unknown)[] = []
  afterEach(async () => {
    for (const close of closers.splice(0)) await close()
    project?.remove()
    project = undefined
  })

  it('runs the tests with generated validation, locks what vite build would, and sends no test call anywhere', async () => {
    project = createProject('vitest-run', { fixture: FIXTURE })
    const collector = await recordingCollector()
    closers.push(() => new Promise((resolve) => collector.server.close(resolve)))
    project.write('vite.config.ts', viteConfig(`{ feedback: { endpoint: ${JSON.stringify(collector.url)} } }`))

    const first = await vitest(project, ['run'])
    expect(first.killed, first.output).toBe(false)
    expect(first.code, first.output).toBe(0)
    expect(first.output).toMatch(/Tests\s+8 passed \(8\)/)
    // Test calls are not production traffic: none reached feedback.endpoint (nor the dev server's endpoint, which
    // Vitest does not serve: every test file said that its relative URL went nowhere).
    expect(collector.requests).toEqual([])
    expect(first.output).not.toMatch(/httpSink|__poet/)
    // No dev collector, so no event store either.
    expect(existsSync(join(project.lockDir, 'feedback.db'))).toBe(false)

    // A cold lock is generated as `vite build` does: builtin, offline, current for `poet generate --check`.
    const lock = JSON.parse(project.read('.poet/lock.json')) as { functions: Record<string, unknown> }
    expect(Object.keys(lock.functions).sort()).toEqual(FUNCTIONS)
    const check = await promisify(execFile)(process.execPath, [join(PACKAGE_ROOT, 'dist/cli.mjs'), 'generate', '--check'], { cwd: project.dir, env: { ...process.env, CI: '' } })
    expect(check.stdout + check.stderr).not.toMatch(/stale/i)

    // A warm run reads the lock and writes nothing.
    const before = readFileSync(join(project.lockDir, 'lock.json'))
    const second = await vitest(project, ['run'])
    expect(second.code, second.output).toBe(0)
    expect(readFileSync(join(project.lockDir, 'lock.json')).equals(before)).toBe(true)
    expect(collector.requests).toEqual([])
  })

  it('serves new phases in watch mode when a function’s types change', async () => {
    project = createProject('vitest-watch', { fixture: FIXTURE })
    project.write('src/watch.test.ts', [
      `import { expect, it } from 'vitest'`,
      `import { norm } from './geometry'`,
      `it('accepts a numeric string', () => expect(norm({ x: '3', y: 4 } as never)).toBe(5))`,
      '',
    ].join('\n'))
    const p = project
    let edited = false
    let passedAt: number | undefined
    const run = await vitest(p, ['watch', 'watch.test'], {
      timeoutMs: 30_000,
      onOutput: (output, stop) => {
        if (!edited && /Tests\s+1 failed/.test(output)) {
          edited = true
          p.write('src/geometry.ts', p.read('src/geometry.ts').replace('x: number;', 'x: number | string;'))
        }
        if (edited && passedAt === undefined && /Tests\s+1 passed/.test(output)) {
          passedAt = Date.now()
          // Long enough for the watcher to report the lock the new phases were written to.
          setTimeout(stop, 2000)
        }
      },
    })
    expect(run.output).toContain('args[0].x: expected number, received string')
    expect(edited, run.output).toBe(true)
    expect(passedAt, run.output).toBeDefined()
    // The plugin's own write of the lock is no change to test again: the run for the edit was the only one.
    expect(run.output.match(/Tests\s+1 passed/g), run.output).toHaveLength(1)
    expect(run.output).not.toContain('lock.json')
  })

  it('serves the version a lock moved under it makes current (poet rollback, poet train --apply) at the next run', async () => {
    project = createProject('vitest-watch-lock', { fixture: FIXTURE })
    const test = [
      `import { expect, it } from 'vitest'`,
      `import { onEvent } from 'unplugin-poet/runtime'`,
      `import { norm } from './geometry'`,
      `it('runs the current version', () => {`,
      `  let version: string | undefined`,
      `  const stop = onEvent((event) => (version = event.version))`,
      `  norm({ x: 3, y: 4 })`,
      `  stop()`,
      `  expect(version).toBe('trained0002')`,
      `})`,
      '',
    ].join('\n')
    project.write('src/version.test.ts', test)
    const p = project
    let moved = false
    const run = await vitest(p, ['watch', 'version.test'], {
      onOutput: (output, stop) => {
        if (!moved && /Tests\s+1 failed/.test(output)) {
          moved = true
          // What Train's promotion writes: a new current version of the same inputs.
          promoteInLock(p.lockDir, 'src/geometry.ts#norm', 'trained0002')
          // The next run: an edit of the test file.
          setTimeout(() => p.write('src/version.test.ts', `${test}// edited\n`), 500)
        }
        if (moved && /Tests\s+1 passed/.test(output)) stop()
      },
    })
    expect(moved, run.output).toBe(true)
    expect(run.output).toMatch(/Tests\s+1 passed/)
  })

  it('times out async calls under fake timers and after them, without vi.runOnlyPendingTimers()', async () => {
    project = createProject('vitest-fake-timers', { fixture: FIXTURE })
    project.write('src/timers.ts', [
      `import { poet } from 'unplugin-poet/runtime'`,
      '',
      `export const sleep = poet({ timeout: 1000, attempts: 1 })(async function sleep(ms: number): Promise<number> {`,
      '  await new Promise((resolve) => setTimeout(resolve, ms))',
      '  return ms',
      '})',
      '',
      `export const echo = poet({ timeout: 1000, attempts: 1 })(async function echo(n: number): Promise<number> {`,
      '  return n',
      '})',
      '',
    ].join('\n'))
    // In this order, each timing-out test starts with the runtime's shared timer armed (and left armed, for reuse, by
    // a call that settled in time) by the other setTimeout: the fake one, then the real one. Before, the call after fake
    // timers resolved 3 s late instead of timing out after 1 s, and the one under them stayed pending.
    project.write('src/timers.test.ts', [
      `import { afterEach, expect, it, vi } from 'vitest'`,
      `import { PoetTimeoutError } from 'unplugin-poet/runtime'`,
      `import { echo, sleep } from './timers'`,
      '',
      'afterEach(() => vi.useRealTimers())',
      '',
      `it('arms the timer under fake timers', async () => {`,
      '  vi.useFakeTimers()',
      '  expect(await echo(1)).toBe(1)',
      '})',
      '',
      `it('times out once fake timers are switched off', async () => {`,
      '  await expect(sleep(3000)).rejects.toBeInstanceOf(PoetTimeoutError)',
      '})',
      '',
      `it('times out under fake timers switched on after the timer was armed', async () => {`,
      '  expect(await echo(2)).toBe(2)',
      '  vi.useFakeTimers()',
      `  let outcome: unknown = 'pending'`,
      '  sleep(60_000).then((v) => (outcome = v), (e) => (outcome = e))',
      '  await vi.advanceTimersByTimeAsync(1000)',
      '  expect(outcome).toBeInstanceOf(PoetTimeoutError)',
      '})',
      '',
    ].join('\n'))
    const run = await vitest(project, ['run', 'timers.test'])
    expect(run.killed, run.output).toBe(false)
    expect(run.output).toMatch(/Tests\s+3 passed \(3\)/)
    expect(run.code, run.output).toBe(0)
    // Vitest clears the timers of the other kind for us, silently.
    expect(run.output).not.toContain('FakeTimers:')
  })

  describe('with an LLM generator configured', () => {
    let llm: OpenAIServer
    afterEach(() => llm?.close())

    const setUp = async (name: string) => {
      const p = createProject(name, { fixture: FIXTURE })
      llm = await startOpenAIServer(() => reply.status(500))
      p.write('vite.config.ts', viteConfig(`{ generator: { provider: 'openai', model: 'gpt-test', baseURL: ${JSON.stringify(llm.baseURL)}, apiKey: 'k' } }`))
      return p
    }

    it('never asks it: a function without current phases in the lock is tested with builtin phases, kept out of the lock', async () => {
      project = await setUp('vitest-llm')
      const run = await vitest(project, ['run'])
      expect(run.code, run.output).toBe(0)
      expect(run.output).toMatch(/Tests\s+8 passed \(8\)/)
      expect(llm.requests.length).toBe(0)
      expect(run.output).toContain("src/geometry.ts#norm")
      expect(run.output).toContain("poet generate --only 'src/geometry.ts#norm'")
      const lock = existsSync(join(project.lockDir, 'lock.json')) ? (JSON.parse(project.read('.poet/lock.json')) as { functions: object }) : { functions: {} }
      expect(lock.functions).toEqual({})
    })

    it('fails a strict run (CI) as a strict build does, naming the function and the command', async () => {
      project = await setUp('vitest-llm-strict')
      const run = await vitest(project, ['run', 'poet.test'], { env: { CI: 'true' } })
      expect(run.code, run.output).toBe(1)
      expect(run.output).toContain('strict builds never call an LLM')
      expect(run.output).toContain("poet generate --only '")
      expect(llm.requests.length).toBe(0)
    })
  })

  it('validates the poet functions of a Vue component’s script, compiled by @vitejs/plugin-vue', async () => {
    project = createProject('vitest-vue', { fixture: FIXTURE })
    project.write('vite.config.ts', `import poet from 'unplugin-poet/vite'\nimport vue from '@vitejs/plugin-vue'\n\nexport default { plugins: [vue(), poet()] }\n`)
    project.write('src/Cart.vue', [
      '<script lang="ts">',
      `import { poet } from 'unplugin-poet/runtime'`,
      'interface Line { sku: string; qty: number }',
      'export const count = poet()(function count(lines: Line[]): number {',
      '  return lines.reduce((sum, line) => sum + line.qty, 0)',
      '})',
      '</script>',
      '',
      '<template><p>{{ count([]) }}</p></template>',
      '',
    ].join('\n'))
    project.write('src/cart.test.ts', [
      `import { expect, it } from 'vitest'`,
      `import { count } from './Cart.vue'`,
      '',
      `it('counts valid lines and rejects a string quantity', () => {`,
      `  expect(count([{ sku: 'a', qty: 2 }])).toBe(2)`,
      `  expect(() => count([{ sku: 'a', qty: '2' }] as never)).toThrow('args[0][0].qty: expected number, received string')`,
      '})',
      '',
    ].join('\n'))
    const run = await vitest(project, ['run', 'cart.test'])
    expect(run.code, run.output).toBe(0)
    expect(run.output).toMatch(/Tests\s+1 passed \(1\)/)
  })

  it('shows a bad poet() option as a build error with its place and a code frame', async () => {
    project = createProject('vitest-error', { fixture: FIXTURE })
    project.write('src/bad.ts', [
      `import { poet } from 'unplugin-poet/runtime'`,
      '',
      `export const bad = poet({ domian: 'financial_services' })(function bad(n: number): number {`,
      '  return n',
      '})',
      '',
    ].join('\n'))
    project.write('src/bad.test.ts', `import { expect, it } from 'vitest'\nimport { bad } from './bad'\n\nit('bad', () => expect(bad(1)).toBe(1))\n`)
    const run = await vitest(project, ['run', 'bad.test'])
    expect(run.code).toBe(1)
    expect(run.output).toContain("src/bad.ts:3:27: unknown poet() option 'domian'. Did you mean 'domain'?")
    expect(run.output).toMatch(/> 3 \| export const bad = poet\(\{ domian: 'financial_services' \}\)/)
  })
})
