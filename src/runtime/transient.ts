// Decides whether a failure is transient (worth retrying under `retryOn: 'transient'`): timeouts, network errors, 408/429/5xx.
import { PoetTimeoutError } from './errors/PoetTimeoutError'

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
const FETCH_FAILURE = /fetch|network|load failed/i

export function isTransient(err: unknown): boolean {
  if (err instanceof PoetTimeoutError) return true
  if (!err || typeof err !== 'object') return false
  const e = err as ErrorLike
  const status = Number(e.status ?? e.statusCode ?? (e.response && e.response.status))
  if (status) return status === 408 || status === 429 || status >= 500
  const code = e.code ?? (e.cause && e.cause.code)
  return (
    e.name === 'TimeoutError' ||
    (typeof code === 'string' && NETWORK_CODES.test(code)) ||
    (e instanceof TypeError && FETCH_FAILURE.test(e.message))
  )
}
