// Shared test helpers for Train: temp dirs that clean up, and well-formed events to post.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { ExecutionEvent, FeedbackEvent } from '../../src/runtime/types'

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
