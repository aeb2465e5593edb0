// onEvent(): subscribe to execution and feedback events (sinks subscribe through configure).
import { report } from './report'
import { listeners, settings, type PoetEventListener } from './state'

export type { PoetEventListener }

/** Calls `listener` with every sampled execution event and every feedback event. Returns an unsubscribe function. */
export function onEvent(listener: PoetEventListener): () => void {
  settings.end = report
  listeners.push(listener)
  return () => {
    const i = listeners.indexOf(listener)
    if (i >= 0) listeners.splice(i, 1)
  }
}
