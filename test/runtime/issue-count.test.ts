// More issues than a phase lists (20): the error and the event say how many there were in all, through real generated
// phase modules, the engine, a real httpSink and a real `poet serve` on a SQLite file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { configure, consoleSink, httpSink, onEvent, poet, PoetInputError, PoetOutputError, type ExecutionEvent, type PhaseModule, type PoetEvent } from '../../src/runtime/index'
import { addIssue, collapseIssues, MAX_ISSUES } from '../../src/runtime/validate'
import { serve } from '../../src/train/collector'
import { phasesFor } from '../generators/builtin/harness'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  configure({ sink: false })
  while (cleanup.length) await cleanup.pop()!()
})

function recorded(): PoetEvent[] {
  const events: PoetEvent[] = []
  cleanup.push(onEvent((e) => events.push(e)))
  return events
}

function caught(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}

const SUM = `function sum(xs: number[]): number { return 0 }`

describe('a call with more issues than a phase lists', () => {
  it('throws a PoetInputError that lists the first 20, says "…and 37 more" and counts 57 in issueCount', async () => {
    const sum = poet({}, await phasesFor(SUM, 'sum'))((xs: number[]) => xs.length)
    const e = caught(() => sum(Array.from({ length: 57 }, () => 'x') as never)) as PoetInputError
    expect(e).toBeInstanceOf(PoetInputError)
    expect(e.issues).toHaveLength(20)
    expect(e.issueCount).toBe(57)
    const lines = e.message.split('\n')
    expect(lines).toHaveLength(1 + 20 + 1)
    expect(lines[20]).toBe('  args[0][19]: expected number, received string')
    expect(lines[21]).toBe('  …and 37 more')
  })

  it('says nothing more when every issue is listed: issueCount is the length of issues', async () => {
    const sum = poet({}, await phasesFor(SUM, 'sum'))((xs: number[]) => xs.length)
    const e = caught(() => sum(Array.from({ length: 20 }, () => 'x') as never)) as PoetInputError
    expect([e.issues.length, e.issueCount]).toEqual([20, 20])
    expect(e.message).not.toContain('more')
  })

  it('counts the issues of a result enforce rejects the same way (PoetOutputError)', async () => {
    const list = poet({ attempts: 1 }, await phasesFor(`function list(n: number): number[] { return [] }`, 'list'))((n: number) =>
      Array.from({ length: n }, () => null),
    )
    const e = caught(() => list(25)) as PoetOutputError
    expect(e).toBeInstanceOf(PoetOutputError)
    expect([e.issues.length, e.issueCount]).toEqual([20, 25])
    expect(e.message.endsWith('\n  …and 5 more')).toBe(true)
  })

  it('counts the issues inside a recursive type, and those of the closest union member, which the phase nests into its list', async () => {
    const TREE = `interface Tree { value: number; children: Tree[] }
function walk(t: Tree, v: number[] | string[]): number { return 0 }`
    const walk = poet({}, await phasesFor(TREE, 'walk'))((t: unknown, v: unknown) => 0)
    const children = Array.from({ length: 30 }, () => ({ value: 'x', children: [] }))
    const e = caught(() => walk({ value: 1, children }, [1, 2])) as PoetInputError
    expect([e.issues.length, e.issueCount]).toEqual([20, 30])
    expect(e.issues[19]!.path).toBe('args[0].children[19].value')
    // As numbers, 25 issues; as strings, 22: both lists are full, and the count says which member is closer.
    const mixed = [...Array.from({ length: 25 }, () => 'x'), ...Array.from({ length: 22 }, () => 0)]
    const u = caught(() => walk({ value: 1, children: [] }, mixed)) as PoetInputError
    expect([u.issues.length, u.issueCount, u.issues[0]!.path]).toEqual([20, 22, 'args[1][25]'])
    expect(u.message.endsWith('\n  …and 2 more')).toBe(true)
  })

  it('counts a value of the wrong kind as one issue, as a list with room lists it, when the list is already full', async () => {
    const PLACE = `interface Point { x: number; y: number }
function place(xs: number[], at: Point): number { return 0 }`
    const place = poet({}, await phasesFor(PLACE, 'place'))((xs: unknown, at: unknown) => 0)
    const roomy = caught(() => place([], 'here' as never)) as PoetInputError
    expect(roomy.issues).toEqual([{ path: 'args[1]', expected: 'Point', received: 'string' }])
    // 25 issues in xs, and `at` is one more: a string has no x and no y, which is still one issue about `at`.
    const full = caught(() => place(Array.from({ length: 25 }, () => 'x') as never, 'here' as never)) as PoetInputError
    expect([full.issues.length, full.issueCount]).toEqual([20, 26])
  })

  it('puts issueCount in the event, which a real collector stores with the rest of its batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poet-issue-count-'))
    const running = await serve({ port: 0, db: join(dir, 'feedback.db') })
    cleanup.push(
      () => rmSync(dir, { recursive: true, force: true }),
      () => running.close(),
    )
    const sink = httpSink({ url: `${running.url}/v1/events`, batchSize: 100, retries: 0 })
    const lines: string[] = []
    configure({ sink: [sink, consoleSink({ log: (line: string) => lines.push(line) })] })
    const events = recorded()
    const sum = poet({}, await phasesFor(SUM, 'sum'))((xs: number[]) => xs.length)
    sum([1, 2])
    caught(() => sum(Array.from({ length: 57 }, () => 'x') as never))
    caught(() => sum(['x'] as never))
    const [ok, many, one] = events as ExecutionEvent[]
    expect(ok!.issueCount).toBeUndefined()
    expect([many!.outcome, many!.issues!.length, many!.issueCount]).toEqual(['input_error', 20, 57])
    // Only a list that is not the whole story carries a count.
    expect(one!.issues).toEqual([{ path: 'args[0][0]' }])
    expect(one).not.toHaveProperty('issueCount')
    await sink.flush()
    expect([sink.sent, sink.failed]).toEqual([3, 0])
    expect(running.collector.store.count('executions')).toBe(3)
    expect(lines.find((l) => l.includes('input_error') && l.includes('args[0][19]'))).toMatch(/args\[0\]\[19\] …and 37 more$/)
  })
})

describe('a phase module of its own that lists more issues than an event takes (100)', () => {
  it('gets them all in the message, and the event lists 100 with issueCount saying how many there were', () => {
    const events = recorded()
    const phases: PhaseModule = {
      id: 'src/own.ts#f',
      version: 'v1',
      generator: 'llm:test',
      policy: { attempts: 1, timeout: 0, backoff: { initial: 1, max: 5, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
      perceive: () => Array.from({ length: 150 }, (_, i) => ({ path: `args[0][${i}]`, expected: 'number', received: 'string' })),
    }
    const f = poet({}, phases)((xs: unknown) => xs)
    const e = caught(() => f([])) as PoetInputError
    expect([e.issues.length, e.issueCount, e.message.split('\n').length]).toEqual([150, 150, 151])
    const event = events[0] as ExecutionEvent
    expect([event.issues!.length, event.issueCount]).toEqual([100, 150])
  })
})

describe('the issue helpers', () => {
  it('count what they do not list in `more`, and a collapse of a list that was not full forgets what it counted', () => {
    let issues: ReturnType<typeof addIssue> | undefined
    for (let i = 0; i < MAX_ISSUES + 5; i++) issues = addIssue(issues, `args[0][${i}]`, 'number', 'x')
    expect([issues!.length, issues!.more]).toEqual([MAX_ISSUES, 5])
    // The 25 issues were all inside the value checked from index 3 on: one issue about the value replaces them.
    const collapsed = collapseIssues(issues!, 3, 'args[0]', 'Point', [])
    expect([collapsed.length, collapsed.more]).toEqual([4, undefined])
    expect(collapsed[3]).toEqual({ path: 'args[0]', expected: 'Point', received: 'array' })
  })
})
