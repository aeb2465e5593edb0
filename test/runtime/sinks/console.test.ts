import { describe, expect, it } from 'vitest'
import { configure, consoleSink, poet, type PoetEvent } from '../../../src/runtime/index'

const base = { v: 1, functionId: 'src/a.ts#quote', version: 'v7', executionId: 'x-1', ts: 0 } as const

describe('consoleSink', () => {
  it('prints one readable line per event', () => {
    const lines: string[] = []
    const sink = consoleSink({ log: (l) => lines.push(l) })
    const events: PoetEvent[] = [
      { ...base, kind: 'execution', duration: 1.234, outcome: 'ok', attempts: 1 },
      { ...base, kind: 'execution', duration: 0.3, outcome: 'input_error', attempts: 1, issues: [{ path: 'args[0].price', rule: 'financial_services.money' }, { path: 'args[1]' }] },
      { ...base, kind: 'execution', duration: 40, outcome: 'error', attempts: 3, error: 'TypeError' },
      { ...base, kind: 'execution', duration: 2, outcome: 'ok', attempts: 2, repairs: [{ path: 'args[0]', action: 'numeric string → number' }] },
      { ...base, kind: 'feedback', score: 0.5, label: 'late' },
    ]
    sink(events)
    expect(lines).toEqual([
      'poet ✓ src/a.ts#quote@v7 ok 1.2 ms, 1 attempt',
      'poet ✗ src/a.ts#quote@v7 input_error 0.3 ms, 1 attempt: args[0].price [financial_services.money], args[1]',
      'poet ✗ src/a.ts#quote@v7 error 40.0 ms, 3 attempts (TypeError)',
      'poet ✓ src/a.ts#quote@v7 ok 2.0 ms, 2 attempts; repaired args[0] (numeric string → number)',
      'poet ★ src/a.ts#quote@v7 feedback score 0.5, label late (x-1)',
    ])
  })

  it('prints the rest of a batch when a custom log throws on one event', async () => {
    const lines: string[] = []
    let calls = 0
    configure({
      sink: consoleSink({
        log: (line) => {
          if (calls++ === 0) throw new Error('log is down')
          lines.push(line)
        },
      }),
    })
    try {
      const double = poet()(function double(x: number) {
        return x * 2
      })
      // One microtask: the three events reach the sink as one batch.
      double(1), double(2), double(3)
      await new Promise((r) => setTimeout(r, 10))
      expect(calls).toBe(3)
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatch(/^poet ✓ double@unversioned ok /)
    } finally {
      configure({ sink: false })
    }
  })
})
