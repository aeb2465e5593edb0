// Shared test helpers for Train: temp dirs that clean up, and well-formed events to post.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterEach } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { renderPhaseModule } from '../../src/generators/render'
import type { EventField, ExecutionEvent, FeedbackEvent, Policy } from '../../src/runtime/types'

/**
 * Bundles `test/train/<name>.ts`, a script a test runs as a child process (another collector or store on the same
 * file), to `test/.tmp/train/<name>.mjs`, its packages left to node_modules; returns that path.
 */
export async function bundleChild(name: string): Promise<string> {
  const outfile = join(import.meta.dirname, `../.tmp/train/${name}.mjs`)
  mkdirSync(join(import.meta.dirname, '../.tmp/train'), { recursive: true })
  const { outputFiles } = await build({
    entryPoints: [join(import.meta.dirname, `${name}.ts`)],
    outfile,
    write: false,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  })
  // Written aside and renamed over: test files running in parallel bundle the same child, and one of them may be
  // starting it while another writes it (esbuild writes in place, so a child could read half a file).
  const aside = `${outfile}.${process.pid}.tmp`
  writeFileSync(aside, outputFiles[0]!.contents)
  renameSync(aside, outfile)
  return outfile
}

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** A fresh directory under the OS temp dir, removed after the current test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'poet-train-'))
  dirs.push(d)
  return d
}

let seq = 0
export function execution(over: Partial<ExecutionEvent> = {}): ExecutionEvent {
  return {
    v: 1,
    kind: 'execution',
    functionId: 'src/drift.ts#detectDrift',
    version: 'aaaaaaaaaa',
    executionId: `exec-${process.pid}-${++seq}`,
    ts: Date.now(),
    duration: 12,
    outcome: 'ok',
    attempts: 1,
    ...over,
  }
}

export function feedback(over: Partial<FeedbackEvent> = {}): FeedbackEvent {
  return {
    v: 1,
    kind: 'feedback',
    functionId: 'src/drift.ts#detectDrift',
    version: 'aaaaaaaaaa',
    executionId: `exec-${process.pid}-${seq}`,
    ts: Date.now(),
    score: 1,
    ...over,
  }
}

/** A lock holding one builtin-rendered function (optionally with optimizeFor), as `poet generate` would leave it. */
export function lockWith(
  dir: string,
  id: string,
  o: { optimizeFor?: string; policy?: Partial<Policy>; neverInEvents?: EventField[]; async?: boolean; perceive?: string } = {},
): { lock: LockStore; version: string } {
  const lock = new LockStore(dir)
  const rendered = renderPhaseModule(id, {
    generator: 'builtin',
    policy: { attempts: 3, timeout: 30_000, backoff: { initial: 100, max: 5000, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1, ...o.policy },
    perceive: o.perceive ?? 'let issues\nif (!Array.isArray(args[0])) issues = [{ path: "args[0]", expected: "array", received: typeof args[0] }]\nreturn issues',
    neverInEvents: o.neverInEvents,
  }, { async: o.async })
  lock.write(id, { version: rendered.version, source: rendered.source, inputHash: 'input-hash-1', generator: 'builtin', reason: 'build', optimizeFor: o.optimizeFor })
  return { lock, version: rendered.version }
}
