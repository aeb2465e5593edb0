// Closest-name suggestions used by option and domain errors.
import { describe, expect, it } from 'vitest'
import { closest, didYouMean, editDistance } from '../../src/plugin/suggest'

describe('closest-name suggestions', () => {
  it('counts an adjacent swap as one edit', () => {
    expect(editDistance('attempts', 'attmepts')).toBe(1)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('kitten', 'sitting')).toBe(3)
  })

  it('suggests plausible typos, ignoring case, dashes and underscores', () => {
    const keys = ['domain', 'optimizeFor', 'attempts', 'timeout', 'backoff', 'retryOn', 'repair', 'sample']
    expect(closest('atempts', keys)).toBe('attempts')
    expect(closest('optimize_for', keys)).toBe('optimizeFor')
    expect(closest('RetryOn', keys)).toBe('retryOn')
    expect(closest('colour', keys)).toBeUndefined()
    expect(closest('ml-monitoring', ['ml_monitoring', 'security'])).toBe('ml_monitoring')
  })

  it('lists the valid names when none is close', () => {
    expect(didYouMean('timout', ['timeout'])).toBe(" Did you mean 'timeout'?")
    expect(didYouMean('zzz', ['a', 'b'])).toBe(" Expected one of: 'a', 'b'.")
    expect(didYouMean('zzz', [])).toBe('')
  })
})
