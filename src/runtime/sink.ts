// The Sink contract: anything that takes a batch of events. configure() delivers to it once per microtask.
import type { PoetEvent } from './types'

/** Receives batches of events; must not throw (if it does, or rejects, the batch is dropped quietly). */
export type Sink = (events: PoetEvent[]) => void | PromiseLike<unknown>
