// The `ml_monitoring` pack: finite, non-empty, equally long samples; sample statistics and drift against a running baseline.
import type { FunctionSpec } from '../../spec'
import type { DomainPack, RuleSite } from '../domain'
import { block, core, elementOf, isNumber, isNumberArray, issue, issueReceived, keyHas, paramSites } from './emit'

const FINITE = 'ml_monitoring.finite_numbers'
const NON_EMPTY = 'ml_monitoring.non_empty_sample'
const EQUAL = 'ml_monitoring.equal_sample_lengths'
const PROBABILITY = 'ml_monitoring.probability_range'
const STATS = 'ml_monitoring.sample_stats'

/** Drift is flagged when the sample mean is this many standard errors away from the baseline mean (Train may learn it). */
export const DRIFT_Z = 3
/** The baseline must hold this many values before drift is judged (too few make any z meaningless). */
export const MIN_BASELINE = 30
/** The baseline's weight is capped at this many values so it keeps following slow change. */
export const MAX_BASELINE = 100_000
/** Keys of the thresholds Train learns for this pack (the `learned` line of a rendered module). */
export const LEARNED_DRIFT_Z = 'ml_monitoring.drift_z'
export const LEARNED_BASELINE = 'ml_monitoring.baseline'

const PROBABILITY_WORDS = new Set(['probability', 'probabilities', 'prob', 'probs', 'confidence', 'likelihood', 'pvalue'])

function isProbabilityKey(key: string | undefined): boolean {
  return keyHas(key, PROBABILITY_WORDS) || /p_?value$/i.test(key ?? '')
}

/** Samples are the number-array parameters (a rest parameter of numbers is one sample too). */
function samples(spec: FunctionSpec): { name: string; value: string; path: string }[] {
  return paramSites(spec).filter((p) => isNumberArray(p.type, spec.types))
}

const helpers = `// ml_monitoring: one pass over a sample (Welford), and the running baseline drift is judged against.
function mlStats(xs) {
  let n = 0, mean = 0, m2 = 0, min = Infinity, max = -Infinity
  for (const x of xs) {
    n++
    const d = x - mean
    mean += d / n
    m2 += d * (x - mean)
    if (x < min) min = x
    if (x > max) max = x
  }
  return { n, mean, m2, std: n > 1 ? Math.sqrt(m2 / (n - 1)) : 0, min, max }
}
// Module state: lives as long as this phase module, i.e. per function and process (reset by a new version). It starts
// from the baseline Train learned from earlier calls, if any, so a fresh page or isolate judges drift from its first call.
const mlBaseline = { n: learned["${LEARNED_BASELINE}"].n, mean: learned["${LEARNED_BASELINE}"].mean, m2: learned["${LEARNED_BASELINE}"].m2 }
const ML_MIN_BASELINE = ${MIN_BASELINE}
// Caps the baseline's weight so it keeps following slow change instead of freezing after a long run.
const ML_MAX_BASELINE = ${MAX_BASELINE}
// z of the sample mean against the baseline (undefined while the baseline is too small), then merges the sample in.
function mlDrift(base, s) {
  let z
  if (base.n >= ML_MIN_BASELINE) {
    const sd = Math.max(Math.sqrt(base.m2 / (base.n - 1)), Number.EPSILON * Math.max(1, Math.abs(base.mean)))
    z = (s.mean - base.mean) / (sd / Math.sqrt(s.n))
  }
  const n = base.n + s.n
  const d = s.mean - base.mean
  base.mean += (d * s.n) / n
  base.m2 += s.m2 + (d * d * base.n * s.n) / n
  base.n = n
  if (base.n > ML_MAX_BASELINE) {
    base.m2 *= ML_MAX_BASELINE / base.n
    base.n = ML_MAX_BASELINE
  }
  return z
}`

export const mlMonitoring: DomainPack = {
  name: 'ml_monitoring',
  // 1.1.0: the drift threshold and the baseline's seed are learnable (the `learned` line).
  version: '1.1.0',
  description: 'Model and data monitoring: clean numeric samples, sample statistics, drift against a running baseline.',
  policy: { attempts: 2, timeout: 10_000, retryOn: 'transient' },
  neverInEvents: ['values'],
  helpers,
  // The baseline names the sample it describes, so the trainer pools that sample's stats (`<name>.n/.mean/.std`).
  learned: (spec) => ({
    [LEARNED_DRIFT_Z]: DRIFT_Z,
    [LEARNED_BASELINE]: { sample: samples(spec)[0]?.name ?? null, n: 0, mean: 0, m2: 0 },
  }),
  perceive: [
    {
      id: FINITE,
      description: 'every number is finite (no NaN or ±Infinity), in samples and in objects',
      check: finiteCheck,
    },
    {
      id: NON_EMPTY,
      description: 'a number array (a sample) holds at least one value',
      check(site) {
        if (!isNumberArray(site.type)) return undefined
        return `if (Array.isArray(${site.value}) && ${site.value}.length === 0) ${issueReceived(site.path, '"non-empty sample"', '"empty array"', NON_EMPTY)}`
      },
    },
    {
      id: EQUAL,
      description: 'when a function takes several samples (e.g. current and reference), they have equal length',
      whole(spec, phase) {
        const ss = phase === 'perceive' ? samples(spec) : []
        if (ss.length < 2) return undefined
        const [first, ...others] = ss
        return [
          `// samples: ${ss.map((s) => s.name).join(', ')}`,
          `if (${ss.map((s) => `Array.isArray(${s.value})`).join(' && ')}) {`,
          block(
            others.map(
              (s) =>
                `if (${s.value}.length !== ${first!.value}.length) ` +
                issueReceived(s.path, `${JSON.stringify(`${first!.name}'s length, `)} + ${first!.value}.length`, `${s.value}.length + " elements"`, EQUAL),
            ),
          ),
          `}`,
        ].join('\n')
      },
    },
    {
      id: STATS,
      description: 'stats per sample `<param>.n/.mean/.std/.min/.max`; `drift_z` and `drift` (|z| > 3) of the first sample against a running baseline',
      whole(spec, phase) {
        const ss = phase === 'perceive' ? samples(spec) : []
        if (ss.length === 0) return undefined
        const lines = ['// only clean inputs feed the statistics and the baseline', `if (issues === undefined) {`, `  const st = (ctx.stats ??= {})`]
        ss.forEach((s, i) => {
          lines.push(
            `  const s${i} = mlStats(${s.value})`,
            ...['n', 'mean', 'std', 'min', 'max'].map((k) => `  st[${JSON.stringify(`${s.name}.${k}`)}] = s${i}.${k}`),
          )
        })
        lines.push(
          `  if (s0.n > 0) {`,
          `    const z = mlDrift(mlBaseline, s0)`,
          `    if (z !== undefined) {`,
          `      st.drift_z = z`,
          `      st.drift = Math.abs(z) > learned[${JSON.stringify(LEARNED_DRIFT_Z)}] ? 1 : 0`,
          `    }`,
          `  }`,
          `}`,
        )
        return lines.join('\n')
      },
    },
    {
      id: PROBABILITY,
      description: 'probability-like numbers (`probability`, `confidence`, `pValue` …) lie in [0, 1]',
      check: probabilityCheck,
    },
  ],
  enforce: [
    { id: FINITE, description: 'every number in the result is finite', check: finiteCheck },
    { id: PROBABILITY, description: 'probability-like numbers in the result lie in [0, 1]', check: probabilityCheck },
  ],
}

function finiteCheck(site: RuleSite): string | undefined {
  if (!isNumber(site.type)) return undefined
  return `if (typeof ${site.value} === 'number' && !Number.isFinite(${site.value})) ${issue(site.path, 'finite number', site.value, FINITE)}`
}

function probabilityCheck(site: RuleSite): string | undefined {
  if (!isProbabilityKey(site.key)) return undefined
  const test = (v: string) => `typeof ${v} === 'number' && !(${v} >= 0 && ${v} <= 1)`
  if (isNumber(site.type)) return `if (${test(site.value)}) ${issue(site.path, 'probability in [0, 1]', site.value, PROBABILITY)}`
  const el = elementOf(site.type)
  if (el && isNumber(core(el))) {
    return [
      `if (Array.isArray(${site.value})) for (let i = 0; i < ${site.value}.length; i++) {`,
      `  if (${test(`${site.value}[i]`)}) ${issue(`${site.path} + "[" + i + "]"`, 'probability in [0, 1]', `${site.value}[i]`, PROBABILITY)}`,
      `}`,
    ].join('\n')
  }
  return undefined
}
