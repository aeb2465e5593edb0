// The `api_integration` pack: retry only transient failures (honouring Retry-After), sane URLs and HTTP status codes.
import type { DomainPack, RuleSite } from '../domain'
import { isNumber, isString, issue, isUrlKey, words } from './emit'

const URL_RULE = 'api_integration.absolute_url'
const CREDENTIALS = 'api_integration.no_credentials_in_url'
const STATUS = 'api_integration.status_code'

/** `status`, `statusCode`, `httpStatus` — but not `statusText` or `statusMessage`. */
const isStatusKey = (key: string | undefined): boolean => {
  const ws = words(key)
  return ws.includes('status') && (ws.length === 1 || ws.includes('code') || ws.includes('http')) && !ws.includes('text')
}

const helpers = `// api_integration: the URL, when the string is an absolute http(s) one; undefined otherwise.
function apiUrl(s) {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined
  } catch {
    return undefined
  }
}`

function urlChecks(site: RuleSite): string | undefined {
  if (!isUrlKey(site.key) || !isString(site.type)) return undefined
  const v = site.value
  return [
    `// ${URL_RULE}, ${CREDENTIALS}`,
    `if (typeof ${v} === 'string') {`,
    `  const u = apiUrl(${v})`,
    `  if (u === undefined) ${issue(site.path, 'absolute http(s) URL', v, URL_RULE)}`,
    `  else if (u.username || u.password) ${issue(site.path, 'URL without credentials (send them in a header)', v, CREDENTIALS)}`,
    `}`,
  ].join('\n')
}

function statusCheck(site: RuleSite): string | undefined {
  if (!isStatusKey(site.key) || !isNumber(site.type)) return undefined
  const v = site.value
  return `if (typeof ${v} === 'number' && !(Number.isInteger(${v}) && ${v} >= 100 && ${v} <= 599)) ${issue(site.path, 'HTTP status code 100–599', v, STATUS)}`
}

export const apiIntegration: DomainPack = {
  name: 'api_integration',
  version: '1.0.0',
  description:
    'Calls to remote APIs: retries only transient failures (timeouts, network errors, 429 and 5xx), waiting as long as a `Retry-After` asks; well-formed URLs and status codes.',
  // The runtime waits max(backoff, Retry-After) between attempts when the error carries one (a 429/503 response).
  policy: { attempts: 4, timeout: 10_000, retryOn: 'transient', backoff: { initial: 250, max: 10_000, factor: 2, jitter: true } },
  neverInEvents: ['values'],
  helpers,
  perceive: [
    { id: URL_RULE, description: 'URL-like keys (`url`, `endpoint`, `href`, `webhook`, `callback` …) hold an absolute http(s) URL', check: urlChecks },
    { id: CREDENTIALS, description: 'URLs never embed `user:password@` credentials (they would end up in logs and proxies)' },
    { id: STATUS, description: '`status`/`statusCode` numbers are integer HTTP codes 100–599', check: statusCheck },
  ],
  enforce: [
    { id: STATUS, description: 'status codes in the result are integer HTTP codes 100–599', check: statusCheck },
    { id: URL_RULE, description: 'URLs in the result are absolute http(s) without credentials', check: urlChecks },
  ],
}
