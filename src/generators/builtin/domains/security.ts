// The `security` pack: hostile strings and objects stopped at the door, secrets kept out of results, nothing in events.
import type { DomainPack, RuleSite } from '../domain'
import { core, isString, issue, keyHas } from './emit'

const CONTROL = 'security.control_chars'
const TRAVERSAL = 'security.path_traversal'
const SIZE = 'security.max_string_length'
const POLLUTION = 'security.prototype_pollution'
const SECRET = 'security.secret_leak'

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
// Private keys and access tokens that must never leave in a result.
const SEC_SECRET = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----|\\bAKIA[0-9A-Z]{16}\\b|\\bgh[pousr]_[A-Za-z0-9]{36,}\\b|\\bxox[abpr]-[A-Za-z0-9-]{10,}/`

function stringChecks(site: RuleSite): string | undefined {
  if (!isString(site.type)) return undefined
  const v = site.value
  const lines = [
    `// ${CONTROL}, ${SIZE}${keyHas(site.key, PATH_WORDS) ? `, ${TRAVERSAL}` : ''}`,
    `if (typeof ${v} === 'string') {`,
    `  if (${v}.length > ${MAX_STRING}) ${issue(site.path, `string of at most ${MAX_STRING} characters`, v, SIZE)}`,
    `  else if (SEC_CONTROL.test(${v})) ${issue(site.path, 'text without NUL or control characters', v, CONTROL)}`,
  ]
  if (keyHas(site.key, PATH_WORDS)) lines.push(`  else if (SEC_TRAVERSAL.test(${v})) ${issue(site.path, "path without '..' segments", v, TRAVERSAL)}`)
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
