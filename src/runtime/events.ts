// onEvent(): subscribe to execution and feedback events (sinks subscribe through configure).
import { report } from './report'
import { listeners, settings, type EventListener } from './state'

export type { EventListener }

/** Calls `listener` with every sampled execution event and every feedback event. Returns an unsubscribe function. */
export function onEvent(listener: EventListener): () => void {
  settings.end = report
  listeners.push(listener)
  return () => {
    const i = listeners.indexOf(listener)
    if (i >= 0) listeners.splice(i, 1)
  }
}
