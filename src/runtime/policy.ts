// Level-1 policy without the plugin: options over the global defaults of DESIGN §4 (the plugin resolves domains at build time).
import type { PoetOptions, Policy } from './types'

export function resolvePolicy(o: PoetOptions): Policy {
  return {
    // Unchecked without the plugin: Infinity or 1e12 would retry a sync function that always throws forever. Within
    // the plugin's range (at most 100) as given, else (NaN, beyond, absent) the default; 0 or less make one try.
    attempts: o.attempts! < 101 ? o.attempts! : 3,
    timeout: o.timeout ?? 30_000,
    backoff: { initial: 100, max: 5000, factor: 2, jitter: true, ...o.backoff },
    retryOn: o.retryOn ?? 'any',
    repair: !!o.repair,
    sample: o.sample ?? 1,
  }
}
