// Which execution produced a result: object results weakly, recent execution ids in a bounded map (for feedback).
import type { EventField } from './types'

export interface ExecutionRef {
  functionId: string
  version: string
  executionId: string
}

export const byResult = new WeakMap<object, ExecutionRef>()
export const byId = new Map<string, ExecutionRef>()
const RECENT = 1000
/** Event fields each function's domain forbids (healthcare: comment, label …), so feedback drops them too. */
export const forbidden = new Map<string, EventField[]>()

export function track(ref: ExecutionRef, result: unknown): void {
  if (result !== null && (typeof result === 'object' || typeof result === 'function')) byResult.set(result, ref)
  byId.set(ref.executionId, ref)
  if (byId.size > RECENT) byId.delete(byId.keys().next().value as string)
}
