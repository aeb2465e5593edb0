// Reads a `Retry-After` header (seconds or HTTP date) from a response or from an error that carries one.

/** Milliseconds to wait for a `Retry-After` value (delay-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return
  const s = +value
  const ms = s === s ? s * 1000 : Date.parse(value) - Date.now()
  return ms === ms ? Math.max(0, ms) : undefined
}

type HeadersLike = { get(name: string): string | null } | Record<string, string | undefined>

/** `Retry-After` from `err.headers` or `err.response.headers`: a `Headers`-like object with `get`, or a plain record. */
export function retryAfterOf(err: unknown): number | undefined {
  const e = err as { headers?: HeadersLike; response?: { headers?: HeadersLike } } | null
  const h = e?.headers || e?.response?.headers
  if (h) return parseRetryAfter(typeof h.get === 'function' ? (h.get as (name: string) => string | null)('retry-after') : (h as Record<string, string>)['retry-after'])
}
