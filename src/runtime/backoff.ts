// Exponential backoff with optional full jitter: the delay before retry number `retry` (1 = before the second attempt).
import type { Policy } from './types'

export function backoffDelay(b: Policy['backoff'], retry: number): number {
  const d = Math.min(b.max, b.initial * b.factor ** (retry - 1))
  return b.jitter ? d * Math.random() : d
}
