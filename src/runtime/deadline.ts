// One shared timer for every pending attempt timeout: armed for the earliest deadline, it settles whatever has expired.
// A per-call setTimeout (or AbortController) costs microseconds; registering here costs a Set insert.

export interface Deadline {
  at: number
  expire(): void
}

const pending = new Set<Deadline>()
let timer: ReturnType<typeof setTimeout> | undefined
let armedAt = Infinity

/** Calls `expire` once `ms` milliseconds have passed, unless `disarm` comes first. */
export function arm(ms: number, expire: () => void): Deadline {
  const d = { at: Date.now() + ms, expire }
  pending.add(d)
  if (d.at < armedAt) schedule(d.at)
  return d
}

export function disarm(d: Deadline): void {
  pending.delete(d)
}

function schedule(at: number): void {
  clearTimeout(timer)
  armedAt = at
  timer = setTimeout(fire, at - Date.now())
  // Never keep a Node process alive just to time out work nobody is waiting on any more.
  const t = timer as { unref?(): void }
  if (t.unref) t.unref()
}

function fire(): void {
  timer = undefined
  armedAt = Infinity
  const now = Date.now()
  let next = Infinity
  for (const d of pending) {
    if (d.at <= now) {
      pending.delete(d)
      d.expire()
    } else if (d.at < next) next = d.at
  }
  if (next < Infinity) schedule(next)
}
