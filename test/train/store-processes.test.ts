// The feedback store with two processes on one file (vite dev and poet serve, or poet train beside them), as child
// processes on real SQLite files: concurrent batches, and the migration of a schema-1 file.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FeedbackStore } from '../../src/train/store'
import { tempDir } from './helpers'

const CHILD = join(import.meta.dirname, '../.tmp/train/store-child.mjs')

beforeAll(async () => {
  mkdirSync(join(import.meta.dirname, '../.tmp/train'), { recursive: true })
  await build({
    entryPoints: [join(import.meta.dirname, 'store-child.ts')],
    outfile: CHILD,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
})

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

interface Run {
  child: ChildProcess
  out: string
  err: string
  /** Resolves with the exit code (or signal) once the child ends. */
  done: Promise<number | string>
}

function child(args: string[]): Run {
  const c = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(c)
  const run: Run = {
    child: c,
    out: '',
    err: '',
    done: new Promise((resolve) => c.on('exit', (code, signal) => resolve(code ?? signal ?? -1))),
  }
  c.stdout!.on('data', (d: Buffer) => (run.out += d))
  c.stderr!.on('data', (d: Buffer) => (run.err += d))
  return run
}

describe('two processes writing one store', () => {
  it('both store every batch: a batch waits for the other process’s commit instead of failing as locked', async () => {
    const file = join(tempDir(), 'feedback.db')
    new FeedbackStore(file).close()
    const runs = ['a', 'b'].map((tag) => child([file, 'insert', '1500', '2', tag]))
    for (const r of runs) expect(await r.done, r.err).toBe(0)
    for (const r of runs) expect(JSON.parse(r.out.split('\n')[1]!)).toEqual({ failed: 0, first: '' })
    const store = new FeedbackStore(file)
    try {
      expect(store.count('executions')).toBe(6_000)
      expect(store.metrics('src/f.ts#f', {}, { percentiles: false }).map((m) => m.calls)).toEqual([6_000])
    } finally {
      store.close()
    }
  }, 60_000)
})
