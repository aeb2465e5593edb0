// configure(): where events go (sinks) and what fraction of executions emits them, for the whole runtime.
import { onEvent } from './events'
import { settings } from './state'
import type { Sink } from './sink'
import type { PoetEvent } from './types'

export interface ConfigureOptions {
  /** Sinks for every event (httpSink, otlpSink, consoleSink, or any function). `false` removes them. Replaces earlier sinks. */
  sink?: Sink | Sink[] | false
  /** Fraction of executions that emit events, multiplied with each function's own `sample`. @default 1 */
  sample?: number
}

let detach: (() => void) | undefined

export function configure(options: ConfigureOptions): void {
  if (options.sample !== undefined) {
    if (!(options.sample >= 0 && options.sample <= 1)) throw new RangeError(`poet: configure sample must be between 0 and 1, got ${options.sample}`)
    settings.sample = options.sample
  }
  if (options.sink === undefined) return
  if (detach) detach()
  detach = undefined
  const sinks = options.sink ? ([] as Sink[]).concat(options.sink) : []
  if (!sinks.length) return
  let batch: PoetEvent[] | undefined
  // One delivery per microtask: a burst of calls reaches each sink as one batch, never inside the call itself.
  detach = onEvent((event) => {
    if (!batch) {
      batch = []
      queueMicrotask(() => {
        const events = batch!
        batch = undefined
        for (const sink of sinks) deliver(sink, events)
      })
    }
    batch.push(event)
  })
}

function deliver(sink: Sink, events: PoetEvent[]): void {
  try {
    const r = sink(events)
    if (r && typeof r.then === 'function') r.then(undefined, () => {})
  } catch {
    // A broken sink loses its batch, never the application's call.
  }
}
