import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { executionOf, feedback, onEvent, poet, type ExecutionEvent, type Feedback, type FeedbackEvent, type PhaseModule, type PoetEvent } from '../../src/runtime/index'
import { validateBatch } from '../../src/train/validate'

const events: PoetEvent[] = []
let off: () => void
beforeEach(() => (off = onEvent((e) => events.push(e))))
afterEach(() => {
  off()
  events.length = 0
})

const detect = poet()(function detect(xs: number[]) {
  return { drift: xs.length > 2 }
})

describe('feedback', () => {
  it('ties feedback on a result to the execution and version that produced it', () => {
    const r = detect([1, 2, 3])
    const run = events[0] as ExecutionEvent
    expect(executionOf(r)).toEqual({ functionId: 'detect', version: 'unversioned', executionId: run.executionId })
    feedback(r, { score: 0.2, label: 'missed-drift', metrics: { latency_ms: 12 }, comment: 'too late' })
    expect(events[1]).toEqual({
      v: 1,
      kind: 'feedback',
      functionId: 'detect',
      version: 'unversioned',
      executionId: run.executionId,
      ts: expect.any(Number),
      score: 0.2,
      label: 'missed-drift',
      metrics: { latency_ms: 12 },
      comment: 'too late',
    } satisfies FeedbackEvent)
  })

  it('keeps a metric of any name, __proto__ and constructor included, as the collector takes it', () => {
    const r = detect([1, 2, 3])
    // A metric map as it comes from JSON (a client's rating, a metric job): `__proto__` is an own key there.
    feedback(r, { metrics: JSON.parse('{ "__proto__": 0.5, "constructor": 2, "ok": 1 }') as Record<string, number> })
    const sent = events[1] as FeedbackEvent
    expect(JSON.parse(JSON.stringify(sent)).metrics).toEqual(JSON.parse('{ "__proto__": 0.5, "constructor": 2, "ok": 1 }'))
    expect(Object.keys(sent.metrics!)).toEqual(['__proto__', 'constructor', 'ok'])
    expect(validateBatch([JSON.parse(JSON.stringify(sent))])).toMatchObject({ ok: true })
  })

  it('accepts a recent execution id, an ExecutionRef that travelled as JSON, and a rethrown error', async () => {
    const r = detect([1])
    const id = executionOf(r)!.executionId
    feedback(id, { score: 1 })
    feedback(JSON.parse(JSON.stringify(executionOf(r))), { score: 0 })
    const failing = poet({ attempts: 1 })(async function failing() {
      throw new Error('nope')
    })
    const err = await failing().catch((e: unknown) => e)
    feedback(err, { label: 'should-not-fail' })
    const fb = events.filter((e): e is FeedbackEvent => e.kind === 'feedback')
    const failed = events.find((e) => e.kind === 'execution' && e.functionId === 'failing')!
    expect(fb.map((e) => e.executionId)).toEqual([id, id, failed.executionId])
    expect(fb[2]).toMatchObject({ functionId: 'failing', label: 'should-not-fail' })
  })

  it('accepts the execution id of a recent failed execution, as carried by its error or its event', async () => {
    const rejecting = poet({ attempts: 1 })(async function rejecting() {
      throw new Error('nope')
    })
    const err = (await rejecting().catch((e: unknown) => e)) as Error
    const failed = events.find((e) => e.kind === 'execution' && e.functionId === 'rejecting')!
    feedback(failed.executionId, { score: 1, label: 'good' })
    expect(events.at(-1)).toMatchObject({ kind: 'feedback', functionId: 'rejecting', executionId: executionOf(err)!.executionId, label: 'good' })

    // A frozen error cannot carry poet's metadata, yet feedback can still name its execution by it.
    const frozen = poet({ attempts: 1 })(function frozen() {
      throw Object.freeze(new Error('frozen'))
    })
    let thrown: unknown
    try {
      frozen()
    } catch (e) {
      thrown = e
    }
    feedback(thrown, { score: 0 })
    expect(events.at(-1)).toMatchObject({ kind: 'feedback', functionId: 'frozen', executionId: events.at(-2)!.executionId })
  })

  it('says clearly when it cannot tell which execution is meant', () => {
    expect(() => feedback({ drift: true }, { score: 1 })).toThrow(/feedback\(\) cannot tell which execution this is about/)
    expect(() => feedback('no-such-id', { score: 1 })).toThrow(TypeError)
    expect(executionOf(42)).toBeUndefined()
  })

  it('is a quiet no-op when no sink or listener is configured, as in a build without a feedback endpoint', () => {
    off()
    const r = detect([1])
    expect(() => feedback(r, { score: 1 })).not.toThrow()
    expect(() => feedback('no-such-id', { label: 'good' })).not.toThrow()
    expect(events).toEqual([])
  })

  it('refuses malformed feedback, naming the field', () => {
    const r = detect([1])
    expect(() => feedback(r, { score: NaN })).toThrow('poet: feedback score must be a finite number')
    expect(() => feedback(r, { metrics: { cost: 'high' as unknown as number } })).toThrow('poet: feedback metrics.cost must be a finite number')
    expect(() => feedback(r, { label: 3 as unknown as string })).toThrow('poet: feedback label must be a string')
  })

  it('emits only feedback the collector accepts: one event it refuses would lose its whole batch', () => {
    const r = detect([1])
    // A user's free text is kept to the collector's 2000 characters rather than refused.
    feedback(r, { comment: 'x'.repeat(5000) })
    expect((events.at(-1) as FeedbackEvent).comment).toHaveLength(2000)
    // What a developer passes wrong is refused here, where it can be seen, like a wrong type.
    expect(() => feedback(r, {})).toThrow('poet: feedback needs a score, label, metrics or comment')
    expect(() => feedback(r, { label: '' })).toThrow('poet: feedback label must be 1 to 100 characters')
    expect(() => feedback(r, { label: 'l'.repeat(101) })).toThrow('poet: feedback label must be 1 to 100 characters')
    expect(() => feedback(r, { metrics: { ['k'.repeat(101)]: 1 } })).toThrow('poet: feedback metric names must be 1 to 100 characters')
    expect(() => feedback(r, { metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}`, i])) })).toThrow(
      'poet: feedback carries at most 64 metrics',
    )
    const fb = events.filter((e) => e.kind === 'feedback')
    expect(fb).toHaveLength(1)
    expect(validateBatch(fb)).toMatchObject({ ok: true })
  })

  it('says what it takes when given no object (from JavaScript: a score alone, or nothing), not a TypeError of its own', () => {
    const r = detect([1])
    const wrong: [unknown, string][] = [[0.8, 'number'], [undefined, 'undefined'], [null, 'null'], ['good', 'string']]
    for (const [fb, what] of wrong) {
      expect(() => feedback(r, fb as Feedback)).toThrow(`poet: feedback takes an object ({ score, label, metrics, comment }), got ${what}`)
    }
    expect(events.filter((e) => e.kind === 'feedback')).toHaveLength(0)
  })
})

describe("a domain's neverInEvents", () => {
  /** A triage function whose phases (as a healthcare-like domain generates them) forbid `never` in events. */
  const triageWith = (id: string, never: NonNullable<PhaseModule['neverInEvents']>, perceive?: PhaseModule['perceive']) =>
    poet(
      {},
      {
        id,
        version: 'h1',
        generator: 'test',
        policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 1, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
        neverInEvents: never,
        ...(perceive ? { perceive } : {}),
      },
    )((hr: number) => ({ urgent: hr > 150 }))

  it('keeps forbidden fields out of execution and feedback events', () => {
    const vitals = triageWith('src/ward.ts#triage', ['values', 'stats', 'comment', 'label'], (_, ctx) => void (ctx.stats = { heartRate: 180 }))
    const r = vitals(180)
    feedback(r, { score: 1, label: 'patient-x', comment: 'Mr X, bed 4' })
    const [run, fb] = events
    expect(run).not.toHaveProperty('stats')
    expect(fb).toMatchObject({ kind: 'feedback', score: 1 })
    expect(fb).not.toHaveProperty('label')
    expect(fb).not.toHaveProperty('comment')
    expect(JSON.stringify(events)).not.toMatch(/heartRate|patient|bed 4/)
  })

  it('sends no feedback event when all it carried is forbidden (an empty one is refused by the collector)', () => {
    const triage = triageWith('src/ward.ts#triage2', ['comment', 'label'])
    feedback(triage(180), { label: 'wrong', comment: 'Mr X' })
    expect(events.map((e) => e.kind)).toEqual(['execution'])
  })
})
