// The `healthcare` pack: physiologically plausible vital signs, and events that never carry patient values.
import type { DomainPack, RuleSite } from '../domain'
import { core, isNumber, issue, propPath, propValue, words } from './emit'

const VITAL = 'healthcare.vital_range'
const BP_ORDER = 'healthcare.blood_pressure_order'

interface Vital {
  what: string
  min: number
  max: number
  /** Whether the key names this vital (by its words, joined lower-case). */
  matches(ws: string[], joined: string): boolean
}

/**
 * Bounds are what a living patient can show (wide on purpose): a value outside them is a unit mix-up or a typo
 * (°F sent as °C, kPa as mmHg), not a clinical finding.
 */
const VITALS: Vital[] = [
  { what: 'heart rate (bpm)', min: 20, max: 300, matches: (ws, j) => /heartrate|pulse(rate)?$|^bpm$|^hr$/.test(j) || ws.includes('bpm') },
  { what: 'systolic blood pressure (mmHg)', min: 50, max: 300, matches: (ws) => ws.includes('systolic') || ws.includes('sbp') },
  { what: 'diastolic blood pressure (mmHg)', min: 20, max: 200, matches: (ws) => ws.includes('diastolic') || ws.includes('dbp') },
  {
    what: 'body temperature (°C)',
    min: 25,
    max: 45,
    matches: (ws) => (ws.includes('temperature') || ws.includes('temp')) && !ws.some((w) => w === 'f' || w === 'fahrenheit' || w === 'k' || w === 'kelvin'),
  },
  { what: 'SpO2 (%)', min: 50, max: 100, matches: (ws, j) => /spo2|oxygensaturation|o2sat/.test(j) },
  { what: 'respiratory rate (breaths/min)', min: 4, max: 80, matches: (ws, j) => /respiratoryrate|resprate|breathingrate|^rr$/.test(j) },
  // Weight and height only with their unit in the key: a bare `weight` may be pounds, grams or a model weight.
  { what: 'body weight (kg)', min: 0.2, max: 700, matches: (ws) => ws.includes('weight') && ws.includes('kg') },
  { what: 'height (cm)', min: 20, max: 280, matches: (ws) => ws.includes('height') && ws.includes('cm') },
]

function vitalOf(key: string | undefined): Vital | undefined {
  const ws = words(key)
  const joined = ws.join('')
  return ws.length ? VITALS.find((v) => v.matches(ws, joined)) : undefined
}

function vitalCheck(site: RuleSite): string | undefined {
  const vital = vitalOf(site.key)
  if (!vital || !isNumber(site.type)) return undefined
  const v = site.value
  return [
    `// ${VITAL}: ${vital.what} in [${vital.min}, ${vital.max}]`,
    `if (typeof ${v} === 'number' && !(${v} >= ${vital.min} && ${v} <= ${vital.max})) ${issue(site.path, `${vital.what} in [${vital.min}, ${vital.max}]`, v, VITAL)}`,
  ].join('\n')
}

/** Both pressures in one object: systolic must exceed diastolic (a swapped pair is a data-entry error). */
function bpOrderCheck(site: RuleSite): string | undefined {
  const t = core(site.type)
  if (t.kind !== 'objectType') return undefined
  const sys = t.properties.find((p) => vitalOf(p.name)?.what.startsWith('systolic') && isNumber(p.type))
  const dia = t.properties.find((p) => vitalOf(p.name)?.what.startsWith('diastolic') && isNumber(p.type))
  if (!sys || !dia) return undefined
  const s = propValue(site.value, sys.name)
  const d = propValue(site.value, dia.name)
  return [
    `if (typeof ${s} === 'number' && typeof ${d} === 'number' && !(${s} > ${d})) ${issue(propPath(site.path, sys.name), 'systolic above diastolic', s, BP_ORDER)}`,
  ].join('\n')
}

export const healthcare: DomainPack = {
  name: 'healthcare',
  version: '1.0.0',
  description: 'Clinical data: plausible vital signs by key name; no patient value or free text ever leaves in events.',
  policy: { attempts: 2, timeout: 10_000, retryOn: 'transient' },
  neverInEvents: ['values', 'comment', 'label'],
  perceive: [
    {
      id: VITAL,
      description: `vitals by key name lie in plausible ranges: ${VITALS.map((v) => `${v.what} ${v.min}–${v.max}`).join(', ')}`,
      check: vitalCheck,
    },
    { id: BP_ORDER, description: 'an object holding both pressures has systolic above diastolic', check: bpOrderCheck },
  ],
  enforce: [
    { id: VITAL, description: 'vitals in the result lie in the same plausible ranges', check: vitalCheck },
    { id: BP_ORDER, description: 'systolic above diastolic in the result', check: bpOrderCheck },
  ],
}
