import { describe, expectTypeOf, it } from 'vitest'
import { poet, POET, type PoetErrorMeta } from '../../src/runtime/index'

interface Report {
  drift: boolean
}

describe('poet() keeps the exact type of what it wraps', () => {
  it('sync stays sync', () => {
    const detect = poet({ domain: 'ml_monitoring' })(function detect(current: number[], reference: number[]): Report {
      return { drift: current.length !== reference.length }
    })
    expectTypeOf(detect).toEqualTypeOf<(current: number[], reference: number[]) => Report>()
    expectTypeOf(detect([1], [2])).toEqualTypeOf<Report>()
  })

  it('async stays async', () => {
    const fetchIt = poet({ timeout: 20 })(async (url: string, init?: { retries: number }) => url.length + (init?.retries ?? 0))
    expectTypeOf(fetchIt).toEqualTypeOf<(url: string, init?: { retries: number }) => Promise<number>>()
  })

  it('keeps `this` parameters, generics and overload-free signatures', () => {
    const scaled = poet()(function (this: { k: number }, x: number) {
      return this.k * x
    })
    expectTypeOf(scaled).thisParameter.toEqualTypeOf<{ k: number }>()
    const first = poet()(<T>(xs: T[]): T | undefined => xs[0])
    expectTypeOf(first([1, 2])).toEqualTypeOf<number | undefined>()
  })

  it('is a standard method decorator that keeps the method type', () => {
    class Pricing {
      rate = 2
      @poet({ domain: 'financial_services', optimizeFor: 'accuracy' })
      async quote(amount: number): Promise<{ total: number }> {
        return { total: amount * this.rate }
      }
      @poet()
      total(xs: number[]): number {
        return xs.reduce((a, b) => a + b, 0)
      }
    }
    expectTypeOf(new Pricing().quote).toEqualTypeOf<(amount: number) => Promise<{ total: number }>>()
    expectTypeOf(new Pricing().total([1])).toEqualTypeOf<number>()
  })

  it('rejects options that do not exist or have the wrong type', () => {
    // @ts-expect-error unknown option
    poet({ retries: 3 })
    // @ts-expect-error retryOn is 'transient' | 'any'
    poet({ retryOn: 'sometimes' })
    // @ts-expect-error only functions can be wrapped
    poet()(42)
  })

  it('types the metadata on rethrown errors', () => {
    const e = new Error('x') as Error & { [POET]?: PoetErrorMeta }
    expectTypeOf(e[POET]).toEqualTypeOf<PoetErrorMeta | undefined>()
  })
})
