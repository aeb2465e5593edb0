// The verify gate's plain samples are values of the declared types: the builtin validator accepts every one of them.
import { describe, expect, it } from 'vitest'
import { sampleArgs } from '../../../src/generators/verify/samples'
import { perceive, phasesFor } from '../builtin/harness'

describe('plain samples of the declared types', () => {
  it('are accepted by the builtin validator, a callable type with properties included', async () => {
    const m = await phasesFor(
      `interface Formatter { (x: number): string; label: string }
       class Account { constructor(public id: string) {} greet() { return 'hi' } }
       function f(fmt: Formatter, account: Account, list: Formatter[]) {}`,
      'f',
    )
    const plain = sampleArgs(m.spec).filter((s) => s.plain)
    expect(plain.length).toBeGreaterThan(0)
    // Sample values are JS expressions the gate evaluates in its sandbox; here they are evaluated the same way.
    const rejected = plain.filter((s) => perceive(m, new Function(`return ${s.value}`)() as unknown[]) !== undefined).map((s) => s.value)
    expect(rejected).toEqual([])
  })
})
