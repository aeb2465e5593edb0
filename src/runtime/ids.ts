// Execution ids: unique and cheap (random per-process prefix + counter), and a stable hash of one for A/B splits.

// About 50 random bits per process: collisions between processes are negligible for telemetry joins.
const prefix = Math.random().toString(36).slice(2) + '-'
let counter = 0

export function nextExecutionId(): string {
  return prefix + ++counter
}

/**
 * A multiplicative (golden-ratio) string hash with a xorshift-multiply finish, into [0, 1). Ids differ only in
 * their last characters; the finish carries that into the high bits. Small on purpose: it ships in every bundle.
 */
export function hashUnit(id: string): number {
  let h = 0
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x9e3779b1)
  h = Math.imul(h ^ (h >>> 15), 0x9e3779b1)
  return (h >>> 0) / 2 ** 32
}
