// The shapes the engine shares with its reporter: a decorated function's target and one execution's state.
import type { PhaseContext, PhaseModule, PhaseVersion, Policy } from './types'

/**
 * What `poet(...)` fixed for one decorated function. Without a phase module it stands in for one, unversioned and
 * without phases, so that an execution reads the same fields either way.
 */
export interface Target extends PhaseVersion {
  fn: (...args: unknown[]) => unknown
  /** Function id when there is no phase module. */
  id: string
  /** Level-1 policy from the options, used only when there is no phase module. */
  policy: Policy
  variants?: undefined
  /** Read on every call, never cached: Vite dev hot-swaps a new version into this very object. */
  phases?: PhaseModule
}

/** One execution. It is also the context perceive and enforce receive: one object per call, not two. */
export interface Call extends PhaseContext {
  t: Target
  self: unknown
  args: unknown[]
  policy: Policy
  enforce?: PhaseVersion['enforce']
  version: string
  /** Attempts made so far. */
  n: number
  /** Whether this execution emits its event (someone listens, and it was sampled); absent while nobody listens. */
  emit?: boolean
  /** Start, `performance.now()` (only when emitting). */
  t0?: number
}
