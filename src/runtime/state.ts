// The runtime's shared state: listeners, the global sample, and the reporter that onEvent installs.
import type { Call } from './call'
import type { PoetEvent } from './types'

export type PoetEventListener = (event: PoetEvent) => void

export const listeners: PoetEventListener[] = []

export const settings: {
  /** Global sample rate (configure), multiplied with each function's. */
  sample: number
  /**
   * Called as each execution ends while anyone listens. Installed by onEvent, so a bundle that never listens
   * never carries the code that builds events.
   */
  end?: (c: Call, ok: boolean, value: unknown) => void
  /** Called as each execution starts, once onEvent was called: samples it and starts its clock. */
  start?: (c: Call) => void
} = { sample: 1 }

export function emit(event: PoetEvent): void {
  // A copy, so a listener may unsubscribe while being called.
  for (const l of listeners.slice()) {
    try {
      // An async listener fails by rejecting: unhandled, that ended a Node process.
      unheard(l(event))
    } catch {
      // Telemetry must never break the call it describes.
    }
  }
}

/** Lets a rejection of what a listener or sink returned go unheard (never an unhandled rejection): its failure is its own. */
export function unheard(r: unknown): void {
  if (typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') (r as PromiseLike<unknown>).then(undefined, () => {})
}
