// The engine's per-call cost: an execution id is drawn only when something reads it, and every reader sees the same one.
import { describe, expect, it } from 'vitest'
import { poet, PoetInputError, type PhaseContext, type PhaseModule } from '../../src/runtime/index'

const policy = { attempts: 1, timeout: 30_000, backoff: { initial: 1, max: 5, factor: 2, jitter: false }, retryOn: 'any', repair: false, sample: 1 } as const

/** Phases that reject a negative number, and remember the context each perceive received. */
function phases(seen: PhaseContext[] = [], read = false): PhaseModule {
  return {
    id: 'src/math.ts#half',
    version: 'v1',
    generator: 'test',
    policy,
    perceive(args, ctx) {
      seen.push(ctx)
      if (read) void ctx.executionId
      if ((args[0] as number) < 0) return [{ path: 'args[0]', expected: 'number >= 0', received: 'negative number' }]
    },
  }
}

function inputError(f: () => unknown): PoetInputError {
  try {
    f()
  } catch (e) {
    if (e instanceof PoetInputError) return e
    throw e
  }
  throw new Error('expected a PoetInputError')
}

/** Ids are `<process prefix>-<counter>`: the counter says how many were drawn in between. */
const counter = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1))

describe('execution ids', () => {
  it('are not drawn for calls nothing observes', () => {
    const half = poet({}, phases())((n: number) => n / 2)
    const first = inputError(() => half(-1))
    for (let i = 0; i < 1000; i++) expect(half(i)).toBe(i / 2)
    const second = inputError(() => half(-2))
    expect(counter(second.executionId) - counter(first.executionId)).toBe(1)
  })

  it('are drawn for a phase that reads one, and the phase, the error and its metadata agree', () => {
    const seen: PhaseContext[] = []
    const half = poet({}, phases(seen, true))((n: number) => n / 2)
    const before = inputError(() => half(-1))
    half(4)
    const after = inputError(() => half(-3))
    expect(counter(after.executionId) - counter(before.executionId)).toBe(2)
    expect(seen[2]!.executionId).toBe(after.executionId)
    expect(seen[1]!.executionId).not.toBe(seen[2]!.executionId)
  })
})
