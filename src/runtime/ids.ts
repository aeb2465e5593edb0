// Execution ids: unique and cheap (random per-process prefix + counter), and a stable hash of one for A/B splits.

const prefix = Date.now().toString(36) + Math.random().toString(36).slice(2, 8) + '-'
let counter = 0

export function nextExecutionId(): string {
  return prefix + (++counter).toString(36)
}

/** FNV-1a with a murmur3 finaliser: ids differ only in their last characters, the finaliser spreads that. In [0, 1). */
export function hashUnit(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296
}
