// configure(): where events go (sinks) and what fraction of executions emits them, for the whole runtime.
import { onEvent } from './events'
import { settings, unheard } from './state'
import type { Sink } from './sink'
import type { PoetEvent } from './types'

export interface ConfigureOptions {
  /**
   * Sinks for every event (httpSink, otlpSink, consoleSink, or any function). `false` removes them. Replaces earlier
   * sinks, closing those that have a `close` (httpSink, otlpSink): what they hold is still sent.
   */
  sink?: Sink | Sink[] | false
  /** Fraction of executions that emit events, multiplied with each function's own `sample`. @default 1 */
  sample?: number
}

let detach: (() => void) | undefined
let current: Sink[] = []

export function configure(options: ConfigureOptions): void {
  if (options.sample !== undefined) {
    if (!(options.sample >= 0 && options.sample <= 1)) throw new RangeError(`poet: configure sample must be between 0 and 1, got ${options.sample}`)
    settings.sample = options.sample
  }
  if (options.sink === undefined) return
  if (detach) detach()
  detach = undefined
  const sinks = options.sink ? ([] as Sink[]).concat(options.sink) : []
  // A replaced sink is done with. Closing one (httpSink, otlpSink) sends what it still holds and drops its page and
  // process listeners, which would otherwise pile up with every configure: a module run again by HMR, or per request.
  for (const old of current) if (!sinks.includes(old)) closeSink(old)
  current = sinks
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

function closeSink(sink: Sink): void {
  try {
    unheard((sink as { close?(): unknown }).close?.())
  } catch {
    // A custom sink's close that throws: it is let go all the same.
  }
}

function deliver(sink: Sink, events: PoetEvent[]): void {
  try {
    unheard(sink(events))
  } catch {
    // A broken sink loses its batch, never the application's call.
  }
}
