// Reads a `Retry-After` header (seconds or HTTP date) from a response or from an error that carries one.

/** Milliseconds to wait for a `Retry-After` value (delay-seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (value) {
    const s = +value
    const ms = s === s ? s * 1000 : Date.parse(value) - Date.now()
    if (ms === ms) return Math.max(0, ms)
  }
}

/** A `Headers`-like object with `get`, or a plain record. */
type HeadersLike = { get?(name: string): string | null; [name: string]: unknown }

/** `Retry-After` from `err.headers` or `err.response.headers`: a `Headers`-like object with `get`, or a plain record. */
export function retryAfterOf(err: unknown): number | undefined {
  // Whatever throws (no error, no headers, a getter or Proxy trap that throws) is a header it cannot read: none.
  try {
    const h = (err as { headers?: HeadersLike }).headers || (err as { response: { headers: HeadersLike } }).response.headers
    return parseRetryAfter(h.get?.('retry-after') ?? (h['retry-after'] as string | undefined))
  } catch {}
}
