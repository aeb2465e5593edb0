// `poet serve` stopped as a terminal (Ctrl-C: SIGINT) or a service manager (SIGTERM) stops it: the store closed, the
// port free, the conventional exit code. Runs the built dist/cli.mjs in child processes.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FeedbackStore } from '../../src/train/store'
import { createProject, PACKAGE_ROOT, type Project } from '../helpers/project'

const BIN = join(PACKAGE_ROOT, 'dist/cli.mjs')
/** Generous: CI is a shared 2-core machine. */
const WAIT_MS = 20_000

let project: Project | undefined
let child: ChildProcess | undefined
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  project?.remove()
  project = child = undefined
})

interface Serving {
  child: ChildProcess
  url: string
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `poet serve` in `cwd` and resolves once it says where it listens; fails cleanly if it never does. */
function serve(cwd: string, argv: string[] = []): Promise<Serving> {
  const c = (child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...argv], { cwd, env: { ...process.env, CI: '', POET_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] }))
  let stdout = ''
  let stderr = ''
  c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => c.on('exit', (code, signal) => done({ code, signal })))
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`poet serve did not say where it listens within ${WAIT_MS} ms.\nstdout: ${stdout}\nstderr: ${stderr}`)), WAIT_MS)
    const look = () => {
      const url = /collecting events at (http:\/\/\S+)\/v1\/events/.exec(stdout)?.[1]
      if (!url) return
      clearTimeout(timer)
      c.stdout!.off('data', look)
      done({ child: c, url, stdout: () => stdout, stderr: () => stderr, exited })
    }
    c.stdout!.on('data', look)
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      fail(new Error(`poet serve exited (${code ?? signal}) before listening.\nstdout: ${stdout}\nstderr: ${stderr}`))
    })
  })
}

async function exitOf(s: Serving): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`poet serve did not exit within ${WAIT_MS} ms.\nstdout: ${s.stdout()}\nstderr: ${s.stderr()}`)), WAIT_MS)))
  try {
    return await Promise.race([s.exited, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Whether the port can be listened on again. */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer()
    probe.once('error', () => done(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)))
  })
}

const event = (i: number) => ({ v: 1, kind: 'execution', functionId: 'src/slow.ts#slow', version: 'abc', executionId: `e${i}`, ts: Date.now(), duration: 1, outcome: 'ok', attempts: 1 })

describe('poet serve stopped by a signal', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: stops listening, closes the store with every acknowledged event in it, and exits 0', async (signal) => {
    const p = (project = createProject(`cli-signal-${signal.toLowerCase()}`))
    const s = await serve(p.dir)
    const posted = await fetch(`${s.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([event(1), event(2)]) })
    expect(posted.status).toBe(202)
    // A client holding a keep-alive connection open must not keep the collector running.
    await fetch(`${s.url}/healthz`)
    s.child.kill(signal)
    expect(await exitOf(s)).toEqual({ code: 0, signal: null })
    expect(s.stdout()).toMatch(/poet serve: stopped\n$/)
    expect(s.stderr()).toBe('')
    expect(await portFree(Number(new URL(s.url).port))).toBe(true)
    // SQLite removes the write-ahead log when the last connection closes: left behind, the store was not closed.
    const db = join(p.lockDir, 'feedback.db')
    expect(existsSync(`${db}-wal`)).toBe(false)
    const store = new FeedbackStore(db)
    try {
      expect(store.count('executions')).toBe(2)
    } finally {
      store.close()
    }
  })
})

describe('poet writing to a reader that stopped reading', () => {
  /** Runs the bin with its stdout a pipe whose reading end is already closed, as `poet … | head -1` leaves it. */
  function intoClosedPipe(cwd: string, argv: string[]): Promise<{ code: number | null; stderr: string }> {
    const c = (child = spawn(process.execPath, [BIN, ...argv], { cwd, env: { ...process.env, CI: '' }, stdio: ['ignore', 'pipe', 'pipe'] }))
    c.stdout!.destroy()
    let stderr = ''
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    return new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`poet ${argv.join(' ')} did not exit within ${WAIT_MS} ms.\nstderr: ${stderr}`)), WAIT_MS)
      c.on('close', (code) => {
        clearTimeout(timer)
        done({ code, stderr })
      })
    })
  }

  it.each(['--help', 'generate', 'status --json'])('poet %s stops quietly with the status of a process SIGPIPE stops, not with an EPIPE stack trace', async (command) => {
    const p = (project = createProject('cli-epipe'))
    // The fixture's file that misuses poet(), for the build tests: here its error would go to stderr.
    rmSync(p.path('src/broken.ts'))
    const argv = command.split(' ')
    expect(await intoClosedPipe(p.dir, argv)).toEqual({ code: 141, stderr: '' })
  })
})
