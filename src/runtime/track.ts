// Which execution produced a result: object results weakly, the last execution ids in a ring (for feedback).
import type { EventField } from './types'

export interface ExecutionRef {
  functionId: string
  version: string
  executionId: string
}

export const byResult = new WeakMap<object, ExecutionRef>()
// A ring of the last executions, scanned only by feedback(id): tracking must cost next to nothing per call,
// feedback by id is rare. (A Map keyed by id costs a string hash per call, and evicting from it worse.)
/** Event fields each function's domain forbids (healthcare: comment, label …), so feedback drops them too. */
export const forbidden = new Map<string, EventField[]>()

const RECENT = 1000
const ring: ExecutionRef[] = []
let next = 0

export function track(ref: ExecutionRef, result: unknown): void {
  if (result !== null && (typeof result === 'object' || typeof result === 'function')) byResult.set(result, ref)
  ring[next] = ref
  next = (next + 1) % RECENT
}

/** The execution behind one of the last 1000 tracked ids. */
export function byId(executionId: string): ExecutionRef | undefined {
  return ring.find((r) => r.executionId === executionId)
}
