// Reads a `Retry-After` header (seconds or HTTP date) from a response or from an error that carries one.

/** Milliseconds to wait for a `Retry-After` value, or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (value == null || value === '') return
  const ms = /^\s*\d+(\.\d+)?\s*$/.test(value) ? +value * 1000 : Date.parse(value) - Date.now()
  return ms === ms ? Math.max(0, ms) : undefined
}

type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>

/** `Retry-After` from `err.headers` or `err.response.headers`, as a `Headers` object or a plain record. */
export function retryAfterOf(err: unknown): number | undefined {
  const e = err as { headers?: HeadersLike; response?: { headers?: HeadersLike } } | null
  const h = e && (e.headers || (e.response && e.response.headers))
  if (!h || typeof h !== 'object') return
  const v = typeof h.get === 'function' ? (h.get as (n: string) => string | null)('retry-after') : (h as Record<string, unknown>)['retry-after'] ?? (h as Record<string, unknown>)['Retry-After']
  return parseRetryAfter(Array.isArray(v) ? v[0] : (v as string | null | undefined))
}
