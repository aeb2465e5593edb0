// The `security` pack: hostile strings and objects stopped at the door, secrets kept out of results, nothing in events.
import type { DomainPack, RuleSite } from '../domain'
import { core, isString, issue, isUrlKey, keyHas } from './emit'

const CONTROL = 'security.control_chars'
const TRAVERSAL = 'security.path_traversal'
const SIZE = 'security.max_string_length'
const POLLUTION = 'security.prototype_pollution'
const SECRET = 'security.secret_leak'
const INTERNAL_URL = 'security.internal_url'

/** 1 MiB of UTF-16 code units: above it a string is a payload, not a field, and costs every later check. */
const MAX_STRING = 1_048_576

const PATH_WORDS = new Set(['path', 'paths', 'file', 'files', 'filename', 'filepath', 'dir', 'dirname', 'directory', 'folder', 'key', 'location'])

const helpers = `// security: NUL and C0/DEL control characters (tab, newline and carriage return are text).
const SEC_CONTROL = /[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]/
// A \`..\` segment under either separator, raw or percent-encoded.
const SEC_TRAVERSAL = /(^|[\\\\/]|%2f|%5c)(\\.|%2e){2}([\\\\/]|%2f|%5c|$)/i
const SEC_POLLUTING = ['__proto__', 'constructor', 'prototype']
// Where the first own key that would pollute a prototype when merged sits (\`.a[0].__proto__\`), searched depth-first
// through plain data; \`seen\` keeps shared or cyclic objects from being walked twice.
function secPolluted(v, depth, seen) {
  if (v === null || typeof v !== 'object' || depth > 64 || seen.has(v)) return undefined
  seen.add(v)
  for (const k of SEC_POLLUTING) if (Object.prototype.hasOwnProperty.call(v, k)) return '.' + k
  for (const k of Object.keys(v)) {
    const inner = secPolluted(v[k], depth + 1, seen)
    if (inner !== undefined) return (Array.isArray(v) ? '[' + k + ']' : /^[A-Za-z_$][\\w$]*$/.test(k) ? '.' + k : '[' + JSON.stringify(k) + ']') + inner
  }
  return undefined
}
// A URL the server would call inside its own network (SSRF): another scheme than http(s), or a loopback, private,
// carrier-grade NAT, link-local (cloud metadata) or unspecified host. The URL parser has already turned \`0x7f.1\` or
// \`2130706433\` into 127.0.0.1. Text that is no absolute URL is left to other rules.
function secInternalUrl(s) {
  let u
  try {
    u = new URL(s)
  } catch {
    return false
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return true
  const h = u.hostname.replace(/^\\[|\\]$/g, '').toLowerCase()
  if (h === 'localhost' || h.endsWith('.localhost') || h === '0.0.0.0' || h === '::' || h === '::1') return true
  const m = /^(\\d+)\\.(\\d+)\\.\\d+\\.\\d+$/.exec(h)
  if (m) {
    const a = +m[1], b = +m[2]
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
  }
  return /^f[cd][0-9a-f]{0,2}:/.test(h) || /^fe[89ab][0-9a-f]?:/.test(h) || h.startsWith('::ffff:')
}
// Private keys and access tokens that must never leave in a result.
const SEC_SECRET = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----|\\bAKIA[0-9A-Z]{16}\\b|\\bgh[pousr]_[A-Za-z0-9]{36,}\\b|\\bxox[abpr]-[A-Za-z0-9-]{10,}/`

function stringChecks(site: RuleSite): string | undefined {
  if (!isString(site.type)) return undefined
  const v = site.value
  const lines = [
    `// also ${[SIZE, keyHas(site.key, PATH_WORDS) && TRAVERSAL, isUrlKey(site.key) && INTERNAL_URL].filter(Boolean).join(', ')}`,
    `if (typeof ${v} === 'string') {`,
    `  if (${v}.length > ${MAX_STRING}) ${issue(site.path, `string of at most ${MAX_STRING} characters`, v, SIZE)}`,
    `  else if (SEC_CONTROL.test(${v})) ${issue(site.path, 'text without NUL or control characters', v, CONTROL)}`,
  ]
  if (keyHas(site.key, PATH_WORDS)) lines.push(`  else if (SEC_TRAVERSAL.test(${v})) ${issue(site.path, "path without '..' segments", v, TRAVERSAL)}`)
  if (isUrlKey(site.key)) lines.push(`  else if (secInternalUrl(${v})) ${issue(site.path, 'URL of a public http(s) host', v, INTERNAL_URL)}`)
  lines.push('}')
  return lines.join('\n')
}

function pollutionCheck(site: RuleSite): string | undefined {
  const t = core(site.type)
  const v = site.value
  // The compiler checks the members of object types and records as sites of their own: one level is enough there.
  // \`unknown\`, \`any\` and \`object\` it does not descend into, so they are searched through.
  if (t.kind === 'unknown' || t.kind === 'any' || t.kind === 'object') {
    return [
      `const polluted = secPolluted(${v}, 0, new Set())`,
      `if (polluted !== undefined) ${issue(`${site.path} + polluted`, 'no __proto__, constructor or prototype key', v, POLLUTION)}`,
    ].join('\n')
  }
  if (t.kind !== 'objectType' && t.kind !== 'record') return undefined
  return [
    `const polluted = SEC_POLLUTING.find((k) => Object.prototype.hasOwnProperty.call(${v}, k))`,
    `if (polluted !== undefined) ${issue(`${site.path} + "." + polluted`, 'no __proto__, constructor or prototype key', v, POLLUTION)}`,
  ].join('\n')
}

export const security: DomainPack = {
  name: 'security',
  version: '1.0.0',
  description: 'Untrusted input: control characters, path traversal, oversized strings and prototype pollution rejected; secrets never returned; no values in events.',
  // Few tries and a short timeout: retrying a security decision mostly retries an attack or masks an outage.
  policy: { attempts: 2, timeout: 5_000, retryOn: 'transient' },
  neverInEvents: ['values', 'comment', 'label'],
  helpers,
  perceive: [
    { id: CONTROL, description: 'strings hold no NUL or control characters (tab, CR and LF allowed)', check: stringChecks },
    { id: SIZE, description: `strings hold at most ${MAX_STRING} characters` },
    { id: TRAVERSAL, description: "path-like keys (`path`, `file`, `dir`, `key` …) have no `..` segment, raw or percent-encoded" },
    {
      id: INTERNAL_URL,
      description:
        'URL-like keys (`url`, `webhook`, `callback` …) point at no loopback, private, link-local (cloud metadata) or unspecified address and use http(s) only, against SSRF (names are not resolved: DNS rebinding needs a check at request time)',
    },
    { id: POLLUTION, description: 'objects have no own `__proto__`, `constructor` or `prototype` key (searched through `unknown`, `any` and `object` values)', check: pollutionCheck },
  ],
  enforce: [
    {
      id: SECRET,
      description: 'result strings carry no private key, AWS access key id, GitHub or Slack token',
      check(site) {
        if (!isString(site.type)) return undefined
        return `if (typeof ${site.value} === 'string' && SEC_SECRET.test(${site.value})) ${issue(site.path, 'no credentials in output', site.value, SECRET)}`
      },
    },
  ],
}
