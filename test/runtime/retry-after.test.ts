import { describe, expect, it } from 'vitest'
import { parseRetryAfter, retryAfterOf } from '../../src/runtime/retry-after'

describe('Retry-After', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(' 0 ')).toBe(0)
  })

  it('reads an HTTP date as the time left until it', () => {
    const ms = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())!
    expect(ms).toBeGreaterThan(8000)
    expect(ms).toBeLessThanOrEqual(10_000)
    expect(parseRetryAfter(new Date(Date.now() - 10_000).toUTCString())).toBe(0)
  })

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined()
    expect(parseRetryAfter('')).toBeUndefined()
    expect(parseRetryAfter('soon')).toBeUndefined()
  })

  it('finds the header on errors shaped like fetch, axios and got errors', () => {
    expect(retryAfterOf({ headers: new Headers({ 'Retry-After': '2' }) })).toBe(2000)
    expect(retryAfterOf({ response: { headers: { 'retry-after': '1' } } })).toBe(1000)
    expect(retryAfterOf(new Error('plain'))).toBeUndefined()
    expect(retryAfterOf('a string')).toBeUndefined()
  })
})
