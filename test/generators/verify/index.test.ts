import { describe, expect, it } from 'vitest'
import { verifyCandidate, verifyVariant } from '../../../src/generators/verify'
import { goodReply, scaleBaseline, scaleSpec } from './fixture'
import { hostilePayloads, hostileReply } from './hostile'

const candidate = (r: typeof goodReply) => ({
  helpers: r.helpers ?? undefined,
  perceive: r.perceive ?? undefined,
  enforce: r.enforce ?? undefined,
  argExamples: r.argExamples,
  resultExamples: r.resultExamples,
})

describe('verifyCandidate', () => {
  it('passes a good candidate and keeps the trusted helpers in front of its own', async () => {
    const v = await verifyCandidate(scaleSpec, scaleBaseline, candidate(goodReply))
    expect(v).toMatchObject({ ok: true })
    if (!v.ok) return
    expect(v.parts.helpers).toContain('function add(')
    expect(v.parts.helpers).toContain('function isFiniteNumber(')
    expect(v.parts.perceive).toBe(goodReply.perceive)
  })

  it('rejects examples that contradict the candidate or the declared types, naming the example', async () => {
    const v = await verifyCandidate(scaleSpec, scaleBaseline, {
      ...candidate(goodReply),
      argExamples: [...goodReply.argExamples, { json: '[[1, 2], "3"]', valid: true, why: 'wrong' }, { json: '[[1], 3]', valid: false, why: 'wrong' }],
    })
    expect(v.ok).toBe(false)
    if (v.ok) return
    expect(v.reasons).toContain('arguments example #5 ([[1, 2], "3"]) is marked valid but does not match the declared types (args[1]: expected finite number, received string)')
    expect(v.reasons).toContain('arguments example #6 ([[1], 3]) is marked invalid but perceive accepts it')
  })

  it('rejects examples that are not JSON, or not an arguments array', async () => {
    const v = await verifyCandidate(scaleSpec, scaleBaseline, {
      ...candidate(goodReply),
      argExamples: [...goodReply.argExamples, { json: '[1, 2', valid: true, why: '' }, { json: '{"a": 1}', valid: false, why: '' }],
    })
    expect(v).toEqual({
      ok: false,
      reasons: ['arguments example #5 ([1, 2) is not valid JSON', 'arguments example #6 ({"a": 1}) must be a JSON array of arguments'],
    })
  })

  it('asks for at least one valid and one invalid arguments example', async () => {
    const v = await verifyCandidate(scaleSpec, scaleBaseline, { ...candidate(goodReply), argExamples: [], resultExamples: [] })
    expect(v.ok || v.reasons).toEqual([
      'examples: give at least one valid arguments example',
      'examples: give at least one invalid arguments example',
      'examples: give at least one valid result example',
    ])
  })

  it('rejects a type check the baseline makes but the candidate drops (the sampler finds NaN)', async () => {
    const loose = goodReply.perceive.replace('if (!isFiniteNumber(args[1]))', 'if (typeof args[1] !== "number")')
    const v = await verifyCandidate(scaleSpec, scaleBaseline, { ...candidate(goodReply), perceive: loose })
    expect(v.ok).toBe(false)
    if (v.ok) return
    expect(v.reasons.join('\n')).toMatch(/perceive accepts the sample args\[1\] = NaN, which the declared types reject \(args\[1\]: expected finite number, received NaN\)/)
  })

  it('rejects a candidate that calls a plain valid input a type error', async () => {
    const strict = goodReply.perceive.replace('else if (args[1] > 1e6) issues = add(issues, "args[1]", "factor at most 1e6", args[1], "scale.reasonable_factor")', 'else if (args[1] > 2) issues = add(issues, "args[1]", "factor at most 2", args[1])')
    const v = await verifyCandidate(scaleSpec, scaleBaseline, { ...candidate(goodReply), perceive: strict, argExamples: goodReply.argExamples.slice(0, 3) })
    expect(v.ok).toBe(false)
    if (v.ok) return
    expect(v.reasons.join('\n')).toMatch(/perceive rejects a plain valid input \(\[\[1, 2\.5\], 2\.5\]\) as a type error \(args\[1\]: expected factor at most 2, received number\), but it matches the declared types/)
  })

  it('allows a stricter rule when it names a domain rule', async () => {
    const strict = goodReply.perceive.replace('args[1] > 1e6', 'args[1] > 2')
    const v = await verifyCandidate(scaleSpec, scaleBaseline, { ...candidate(goodReply), perceive: strict })
    expect(v.ok).toBe(true)
  })
})

describe('the hostile corpus', () => {
  const payloads = hostilePayloads()

  it('has at least 25 payloads, each carrying its marker', () => {
    expect(payloads.length).toBeGreaterThanOrEqual(25)
    for (const p of payloads) expect(p.code, p.name).toContain(p.marker)
  })

  it.each(payloads.map((p) => [p.name, p] as const))('rejects %s with a reason that says why', async (_name, p) => {
    const v = await verifyCandidate(scaleSpec, scaleBaseline, candidate(hostileReply(p)))
    expect(v.ok).toBe(false)
    if (v.ok) return
    expect(v.reasons.join('\n')).toMatch(p.expect)
  })
})

describe('verifyVariant', () => {
  it('accepts a plain operate variant and rejects one that escapes or throws', async () => {
    const ok = await verifyVariant(scaleSpec, scaleBaseline, 'const out = []\nfor (let i = 0; i < values.length; i++) out.push(values[i] * factor)\nreturn out', ['[[1, 2], 3]'])
    expect(ok).toEqual([])
    const escape = await verifyVariant(scaleSpec, scaleBaseline, 'return globalThis.process', ['[[1], 2]'])
    expect(escape.join('\n')).toMatch(/globalThis/)
    const throws = await verifyVariant(scaleSpec, scaleBaseline, 'return values.nope.length', ['[[1], 2]'])
    expect(throws.join('\n')).toMatch(/the variant threw TypeError/)
  })
})
