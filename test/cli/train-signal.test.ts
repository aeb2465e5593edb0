// `poet train --apply` stopped (Ctrl-C: SIGINT, or SIGTERM) while it waits for the LLM: nothing applied, the store
// closed, the conventional exit code, said. Runs the built dist/cli.mjs in child processes against a scripted
// OpenAI-compatible server.
import { execFile, spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { PoetEvent } from '../../src/runtime/types'
import { LockStore } from '../../src/generators/lock'
import { FeedbackStore } from '../../src/train/store'
import { goodReply, scaleSource } from '../generators/verify/fixture'
import { reply, startOpenAIServer, type OpenAIServer } from '../helpers/openai-server'
import { PACKAGE_ROOT } from '../helpers/project'
import { tempDir } from '../train/helpers'

const BIN = join(PACKAGE_ROOT, 'dist/cli.mjs')
const ID = 'src/scale.ts#scale'
/** Generous: CI is a shared 2-core machine. */
const WAIT_MS = 20_000

let server: OpenAIServer | undefined
let release: (() => void) | undefined
afterEach(async () => {
  release?.()
  await server?.close()
  server = release = undefined
})

/** Starts `poet <argv>` in `cwd`; `signalled(signal)` sends it and waits for the exit, failing after WAIT_MS with its output. */
function start(argv: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('close', (code, sig) => done({ code, signal: sig })))
  const signalled = async (signal: NodeJS.Signals) => {
    let timer: NodeJS.Timeout | undefined
    try {
      child.kill(signal)
      return await Promise.race([
        exited,
        new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`poet ${argv[0]} did not exit within ${WAIT_MS} ms.\nstdout: ${out.stdout}\nstderr: ${out.stderr}`)), WAIT_MS))),
      ])
    } finally {
      clearTimeout(timer)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }
  return { out, signalled }
}

/** Waits for `ready()`, failing with `what` if it does not come within WAIT_MS. */
async function until(ready: () => boolean, what: string): Promise<void> {
  const start = Date.now()
  while (!ready()) {
    if (Date.now() - start > WAIT_MS) throw new Error(`${what} did not happen within ${WAIT_MS} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/**
 * A project whose `scale` phases the LLM wrote, and events that make Train ask it again (inputs the phases rejected that
 * users rated good). The server answers the generation, and holds Train's request until the test ends.
 */
async function llmProject(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const held = new Promise<void>((r) => (release = r))
  server = await startOpenAIServer((_, i) => (i === 0 ? reply.json(goodReply) : reply.held(held, goodReply)))
  const dir = tempDir()
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
  writeFileSync(join(dir, 'poet.config.json'), JSON.stringify({ generator: { provider: 'openai', model: 'test-model' } }))
  mkdirSync(join(dir, 'src'))
  writeFileSync(join(dir, 'src/scale.ts'), scaleSource("{ optimizeFor: 'accuracy' }"))
  const env = { ...process.env, CI: '', OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' }
  const generated = await new Promise<{ code: number; stderr: string }>((done) =>
    execFile(process.execPath, [BIN, 'generate'], { cwd: dir, env, timeout: WAIT_MS }, (e, _out, stderr) => done({ code: e ? Number(e.code) : 0, stderr })),
  )
  expect(generated.code, generated.stderr).toBe(0)
  const version = new LockStore(join(dir, '.poet')).read().functions[ID]!.current
  const t0 = Date.now() - 20 * 60_000
  const events: PoetEvent[] = []
  for (let i = 0; i < 300; i++) events.push({ v: 1, kind: 'execution', functionId: ID, version, executionId: `ok-${i}`, ts: t0 + i * 1000, duration: 3, outcome: 'ok', attempts: 1 })
  for (let i = 0; i < 8; i++) {
    events.push({ v: 1, kind: 'execution', functionId: ID, version, executionId: `rejected-${i}`, ts: t0 + i * 1000 + 500, duration: 1, outcome: 'input_error', attempts: 0, issues: [{ path: 'args[1]', rule: 'scale.reasonable_factor' }], error: 'PoetInputError' })
    events.push({ v: 1, kind: 'feedback', functionId: ID, version, executionId: `rejected-${i}`, ts: t0 + i * 1000 + 900, score: 1 })
  }
  const store = new FeedbackStore(join(dir, '.poet/feedback.db'))
  store.insert(events)
  store.close()
  return { dir, env }
}

describe('poet train --apply stopped while the LLM is asked', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: applies nothing, closes the store, says so, and exits %i', async (signal, status) => {
    const { dir, env } = await llmProject()
    const lock = readFileSync(join(dir, '.poet/lock.json'), 'utf8')
    const run = start(['train', '--apply'], dir, env)
    const { out } = run
    await until(() => server!.requests.length === 2, "Train's request to the LLM").catch(async (e) => {
      await run.signalled('SIGKILL')
      throw e
    })
    expect(await run.signalled(signal), out.stderr).toEqual({ code: status, signal: null })
    const { stdout, stderr } = out
    expect(stdout).toContain('asking the LLM generator for 1 candidate with the evidence')
    expect(stderr).toBe(`poet train: stopped (${signal}) while the LLM was asked: nothing was applied.\n`)
    expect(readFileSync(join(dir, '.poet/lock.json'), 'utf8')).toBe(lock)
    // SQLite removes the write-ahead log when the last connection closes: left behind, the store was not closed.
    expect(existsSync(join(dir, '.poet/feedback.db-wal'))).toBe(false)
  })
})

describe('poet generate stopped while the LLM is asked', () => {
  it('keeps what was written, says which functions were and which were not, and exits 130', async () => {
    const held = new Promise<void>((r) => (release = r))
    // The first function's answer comes at once, the second's never (until the test ends).
    server = await startOpenAIServer((_, i) => (i === 0 ? reply.json(goodReply) : reply.held(held, goodReply)))
    const dir = tempDir()
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }')
    writeFileSync(join(dir, 'poet.config.json'), JSON.stringify({ generator: { provider: 'openai', model: 'test-model', concurrency: 1 } }))
    mkdirSync(join(dir, 'src'))
    writeFileSync(join(dir, 'src/a.ts'), scaleSource())
    writeFileSync(join(dir, 'src/b.ts'), scaleSource())
    const env = { ...process.env, CI: '', OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test-key' }
    const run = start(['generate'], dir, env)
    const { out } = run
    await until(() => server!.requests.length === 2, 'the request for the second function').catch(async (e) => {
      await run.signalled('SIGKILL')
      throw e
    })
    expect(await run.signalled('SIGINT'), out.stderr).toEqual({ code: 130, signal: null })
    const { stdout, stderr } = out
    expect(stdout).toMatch(/^\[1\/2\] src\/a\.ts#scale {2}openai:test-model [0-9a-f]{10}\n$/)
    expect(stderr).toBe('poet generate: stopped (SIGINT): written to the lock: src/a.ts#scale; not generated: src/b.ts#scale. Run `poet generate` again for the rest.\n')
    expect(Object.keys(new LockStore(join(dir, '.poet')).read().functions)).toEqual(['src/a.ts#scale'])
  })
})
