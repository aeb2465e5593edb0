// Event listeners (onEvent, and sinks through configure) and the global sample rate.
import type { PoetEvent } from './types'

export type EventListener = (event: PoetEvent) => void

export const listeners: EventListener[] = []

/** Global settings that `configure` changes; the engine reads them per call. */
export const settings = { sample: 1 }

/** Calls `listener` with every sampled execution event and every feedback event. Returns an unsubscribe function. */
export function onEvent(listener: EventListener): () => void {
  listeners.push(listener)
  return () => {
    const i = listeners.indexOf(listener)
    if (i >= 0) listeners.splice(i, 1)
  }
}

export function emit(event: PoetEvent): void {
  // A copy, so a listener may unsubscribe while being called.
  for (const l of listeners.slice()) {
    try {
      l(event)
    } catch {
      // Telemetry must never break the call it describes.
    }
  }
}
