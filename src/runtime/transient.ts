// Decides whether a failure is transient (worth retrying under `retryOn: 'transient'`): timeouts, network errors, 408/429/5xx.
interface ErrorLike {
  name?: unknown
  message?: unknown
  code?: unknown
  status?: unknown
  statusCode?: unknown
  response?: { status?: unknown }
  cause?: { code?: unknown }
}

// Node's socket and DNS failures (ECONNRESET/REFUSED/ABORTED, ENETUNREACH/DOWN, EHOSTUNREACH …), and undici's
// (what Node's fetch throws as `cause`).
const NETWORK_CODES = /^(E(CONN|TIMEDOUT|AI_AGAIN|PIPE|NET|HOST)|UND_ERR)/
// How fetch reports a network failure in Node/Chromium ("fetch failed", "Failed to fetch"), Firefox and Safari.
const FETCH_FAILURE = /^(fetch|failed to f|network|load f)/i

export function isTransient(err: unknown): boolean {
  // Object(): primitives get a wrapper without these properties, null and undefined an empty object.
  const e = Object(err) as ErrorLike
  const status = Number(e.status ?? e.statusCode ?? e.response?.status)
  if (status) return status === 408 || status === 429 || status >= 500
  const code = e.code ?? e.cause?.code
  return (
    // PoetTimeoutError, and AbortSignal.timeout()'s DOMException.
    /TimeoutError$/.test(e.name as string) ||
    // String(): a code that is no string matches no pattern (and a symbol cannot make test() throw).
    NETWORK_CODES.test(String(code)) ||
    (e instanceof TypeError && FETCH_FAILURE.test(e.message))
  )
}
