// onEvent(): subscribe to execution and feedback events (sinks subscribe through configure).
import { report } from './report'
import { listeners, settings, type PoetEventListener } from './state'

export type { PoetEventListener }

/** Calls `listener` with every sampled execution event and every feedback event. Returns an unsubscribe function. */
export function onEvent(listener: PoetEventListener): () => void {
  // The engine's listener-only work lives here, so a bundle that never listens never carries it.
  settings.start = (c) => {
    if (listeners.length && Math.random() < c.policy.sample * settings.sample) {
      c.emit = true
      c.t0 = performance.now()
    }
  }
  settings.end = (c, ok, value) => {
    if (listeners.length) report(c, ok, value)
  }
  listeners.push(listener)
  return () => {
    const i = listeners.indexOf(listener)
    if (i >= 0) listeners.splice(i, 1)
  }
}
