// The `data_processing` pack: non-empty, bounded batches of finite numbers and ISO 8601 dates; batch size as a stat.
import type { DomainPack, RuleSite } from '../domain'
import { core, isNumber, isString, issue, issueReceived, keyHas, paramSites, repaired, words } from './emit'

const NON_EMPTY = 'data_processing.non_empty_batch'
const MAX_BATCH = 'data_processing.max_batch_size'
const FINITE = 'data_processing.finite_numbers'
const DATE = 'data_processing.iso_date'
const UNIQUE = 'data_processing.unique_ids'

/** Bigger batches belong in a stream or in chunks: one call holding them blows memory and every timeout (Train may raise it). */
export const MAX_BATCH_SIZE = 100_000
/** Key of the learnable batch limit in the `learned` line of a rendered module. */
export const LEARNED_MAX_BATCH = 'data_processing.max_batch_size'

const DATE_WORDS = new Set(['date', 'dates', 'timestamp', 'datetime', 'time', 'at', 'on', 'since', 'until', 'deadline', 'birthday', 'dob'])
/** `createdAt`, `start_date`, `timestamp` — not `dateFormat`, `timeout` or `timezone`. */
const isDateKey = (key: string | undefined): boolean => {
  const ws = words(key)
  if (ws.length === 1 && (ws[0] === 'at' || ws[0] === 'on')) return false
  return keyHas(key, DATE_WORDS, new Set(['format', 'zone', 'ms', 'seconds', 'count', 'type', 'unit']))
}

const helpers = `// data_processing: ISO 8601 calendar date or date-time (with optional fraction and offset), and a real day.
const DP_ISO = /^(\\d{4})-(\\d{2})-(\\d{2})(?:[Tt ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.\\d{1,9})?)?(?:[Zz]|[+-]\\d{2}:?\\d{2})?)?$/
function dpIsoDate(s) {
  const m = DP_ISO.exec(s)
  if (!m) return false
  const y = +m[1], mo = +m[2], d = +m[3]
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  return mo >= 1 && mo <= 12 && d >= 1 && d <= dim && (m[4] === undefined || (+m[4] <= 23 && +m[5] <= 59 && (m[6] === undefined || +m[6] <= 60)))
}`

function finiteCheck(site: RuleSite): string | undefined {
  if (!isNumber(site.type)) return undefined
  return `if (typeof ${site.value} === 'number' && !Number.isFinite(${site.value})) ${issue(site.path, 'finite number', site.value, FINITE)}`
}

function dateCheck(site: RuleSite): string | undefined {
  if (!isDateKey(site.key) || !isString(site.type) || core(site.type).kind === 'literal') return undefined
  return `if (typeof ${site.value} === 'string' && !dpIsoDate(${site.value})) ${issue(site.path, 'ISO 8601 date (2024-05-31 or 2024-05-31T12:00:00Z)', site.value, DATE)}`
}

export const dataProcessing: DomainPack = {
  name: 'data_processing',
  // 1.1.0: the batch limit is learnable (the `learned` line).
  version: '1.1.0',
  description: 'Batch and ETL steps: batches non-empty and bounded, numbers finite, dates ISO 8601; batch size reported.',
  // Batch steps are long and usually idempotent: a generous timeout and retries on transient failures.
  policy: { attempts: 3, timeout: 120_000, retryOn: 'transient' },
  helpers,
  learned: () => ({ [LEARNED_MAX_BATCH]: MAX_BATCH_SIZE }),
  perceive: [
    {
      id: NON_EMPTY,
      description: 'array parameters (batches) hold at least one item; stat `batch_size` (items over all batches)',
      whole(spec, phase) {
        const batches = phase === 'perceive' ? paramSites(spec).filter((p) => core(p.type, spec.types).kind === 'array') : []
        if (batches.length === 0) return undefined
        return [
          `// ${NON_EMPTY}, ${MAX_BATCH}: ${batches.map((b) => b.name).join(', ')}`,
          `{`,
          `  let batchSize = 0`,
          ...batches.flatMap((b) => [
            `  if (Array.isArray(${b.value})) {`,
            `    batchSize += ${b.value}.length`,
            `    if (${b.value}.length === 0) ${issueReceived(b.path, '"non-empty batch"', '"empty array"', NON_EMPTY)}`,
            `    else if (${b.value}.length > learned[${JSON.stringify(LEARNED_MAX_BATCH)}]) ${issueReceived(b.path, `"batch of at most " + learned[${JSON.stringify(LEARNED_MAX_BATCH)}] + " items"`, `${b.value}.length + " items"`, MAX_BATCH)}`,
            `  }`,
          ]),
          `  const st = (ctx.stats ??= {})`,
          `  st.batch_size = batchSize`,
          `}`,
        ].join('\n')
      },
    },
    { id: MAX_BATCH, description: `a batch holds at most ${MAX_BATCH_SIZE} items` },
    {
      id: UNIQUE,
      description: 'in a batch of records with an `id` (or `uuid`) field, no id appears twice',
      whole(spec, phase) {
        if (phase !== 'perceive') return undefined
        const keyed = paramSites(spec).flatMap((b) => {
          const batch = core(b.type, spec.types)
          const row = batch.kind === 'array' ? core(batch.element, spec.types) : undefined
          const id = row?.kind === 'objectType' ? row.properties.find((p) => p.name === 'id' || p.name === 'uuid') : undefined
          return id ? [{ ...b, id: id.name }] : []
        })
        return keyed.length === 0
          ? undefined
          : keyed
              .map((b) =>
                [
                  `// ids of ${b.name}, by first position`,
                  `if (Array.isArray(${b.value})) {`,
                  `  const seen = new Map()`,
                  `  for (let i = 0; i < ${b.value}.length; i++) {`,
                  `    const row = ${b.value}[i]`,
                  `    const id = row !== null && typeof row === 'object' ? row.${b.id} : undefined`,
                  `    if (id === undefined || id === null) continue`,
                  `    const first = seen.get(id)`,
                  `    if (first === undefined) seen.set(id, i)`,
                  `    else ${issueReceived(`${b.path} + "[" + i + "].${b.id}"`, `"unique ${b.id} (first at [" + first + "])"`, '"a duplicate"', UNIQUE)}`,
                  `  }`,
                  `}`,
                ].join('\n'),
              )
              .join('\n')
      },
    },
    { id: FINITE, description: 'every number is finite (no NaN or ±Infinity)', check: finiteCheck },
    {
      id: DATE,
      description: 'date-like string keys (`date`, `timestamp`, `createdAt`, `start_date` …) hold a real ISO 8601 date or date-time; repair turns a `Date` into its ISO string',
      check: dateCheck,
      coerce(site) {
        if (!site.target || !isDateKey(site.key) || !isString(site.type)) return undefined
        const v = site.value
        return [
          `if (${v} instanceof Date && !Number.isNaN(${v}.getTime())) {`,
          `  ${site.target} = ${v}.toISOString();`,
          `  ${repaired(site.path, 'Date → ISO 8601 string', DATE)}`,
          `}`,
        ].join('\n')
      },
    },
  ],
  enforce: [
    { id: FINITE, description: 'every number in the result is finite', check: finiteCheck },
    { id: DATE, description: 'date-like strings in the result are ISO 8601', check: dateCheck },
  ],
}
