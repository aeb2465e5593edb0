// Regressions the differential tests against tsc found: per type, the verdict a user sees on a valid call and the path of a real mismatch.
import { describe, expect, it } from 'vitest'
import { perceive, phasesFor } from './harness'

describe('type verdicts the TypeScript compiler agrees with', () => {
  it('interface accessors `get x(): T` / `set x(v: T)` are properties of type T, not methods', async () => {
    const m = await phasesFor(
      `interface Order { readonly id: string; get total(): number; set note(v: string); get items(): { price: number }[]; set items(v: { price: number }[]) }
       function checkout(order: Order) {}`,
      'checkout',
    )
    expect(perceive(m, [new (class { id = 'c1'; note = ''; get total() { return 3 } get items() { return [{ price: 1 }, { price: 2 }] } })()])).toBeUndefined()
    expect(perceive(m, [{ id: 'o1', total: 3, note: 'gift', items: [] }])).toBeUndefined()
    expect(perceive(m, [{ id: 'o1', total: 3, note: 'gift', items: [{ price: 1 }, { price: 2 }, { price: '3' }] }])).toEqual([
      { path: 'args[0].items[2].price', expected: 'number', received: 'string' },
    ])
    expect(perceive(m, [{ id: 'o1', total: () => 3, note: 1, items: [] }])).toEqual([
      { path: 'args[0].total', expected: 'number', received: 'function' },
      { path: 'args[0].note', expected: 'string', received: 'number' },
    ])
  })
})
