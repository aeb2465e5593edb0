// One shared timer for every pending attempt timeout: armed for the earliest deadline, it settles whatever has expired.
// A per-call setTimeout (or AbortController) costs microseconds; registering here costs an array push.

export interface Deadline {
  at: number
  timeout(): void
  /** Index in `pending`. */
  i: number
}

// An array with swap-remove rather than a Set: arming and disarming on every async call must not hash.
const pending: Deadline[] = []
let timer: ReturnType<typeof setTimeout> | undefined
let armedAt = Infinity
// The setTimeout that set `timer`: a timer set by one swapped out since (Vitest's fake timers) may never fire.
let armedWith: typeof setTimeout | undefined

/** Calls `timeout` once `ms` milliseconds have passed, unless `disarm` comes first; never before it returns. */
export function arm(ms: number, timeout: () => void): Deadline {
  const now = Date.now()
  const d = { at: now + ms, timeout, i: pending.length }
  pending.push(d)
  // Also when setTimeout is another than the timer's (fake timers switched on or off), or when the timer is past its
  // time without having fired: workerd cancels the timers of a request as it ends, a call of it still pending (one
  // nobody awaited, a client gone), and every later timeout waited on that dead timer for good. Before its time,
  // nothing tells a dead timer from a live one: a deadline armed then waits for the next one after. One set again for
  // that counts as armed for now: while the event loop is too busy to run timers (a loop of awaited calls that never
  // yields), calls in the same millisecond find it live, where comparing with its old time set a timer per call.
  if (d.at < armedAt || armedAt < now || armedWith !== setTimeout) schedule(d.at < armedAt ? d.at : Math.max(armedAt, now))
  return d
}

/** Cancels a deadline that has not expired; at most once (the engine's attempts guarantee it). */
export function disarm(d: Deadline): void {
  const last = pending.pop()!
  if (last !== d) pending[(last.i = d.i)] = last
  // Nothing left to time out: a timer without unref (Deno's) would keep the process alive until it fires. One with
  // unref stays armed, so that sequential calls reuse it instead of each setting a timer of its own.
  else if (!(pending.length || (timer as { unref?(): void }).unref)) clearTimeout(timer), (armedAt = Infinity)
}

function schedule(at: number): void {
  clearTimeout(timer)
  armedAt = at
  timer = (armedWith = setTimeout)(fire, at - Date.now())
  // Never keep a Node process alive just to time out work nobody is waiting on any more.
  ;(timer as { unref?(): void }).unref?.()
}

function fire(): void {
  const now = Date.now()
  let next = (armedAt = Infinity)
  // Backwards: a swap-remove moves an already visited entry into the current slot.
  for (let i = pending.length; i--; ) {
    const d = pending[i]
    if (d.at <= now) {
      disarm(d)
      d.timeout()
    } else if (d.at < next) next = d.at
  }
  // A timeout that armed a new deadline has scheduled the timer for it already.
  if (next < armedAt) schedule(next)
}
