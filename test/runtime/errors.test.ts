import { describe, expect, it } from 'vitest'
import { PoetError, PoetInputError, PoetOutputError, PoetTimeoutError } from '../../src/runtime/index'

describe('errors', () => {
  it('PoetInputError lists every issue, one per line, with path, expected and received', () => {
    const e = new PoetInputError(
      [
        { path: 'args[0].items[2].price', expected: 'number', received: 'string' },
        { path: 'args[1]', expected: 'finite number', received: 'NaN', rule: 'ml_monitoring.finite' },
      ],
      'src/shop.ts#total',
      'exec-1',
    )
    expect(e.message).toBe(
      'poet: invalid input of src/shop.ts#total:\n' +
        '  args[0].items[2].price: expected number, received string\n' +
        '  args[1]: expected finite number, received NaN (ml_monitoring.finite)',
    )
    expect(e).toBeInstanceOf(PoetError)
    expect(e).toBeInstanceOf(Error)
    expect([e.name, e.phase, e.functionId, e.executionId, e.issues.length]).toEqual(['PoetInputError', 'perceive', 'src/shop.ts#total', 'exec-1', 2])
  })

  it('PoetOutputError names the result path and the enforce phase', () => {
    const e = new PoetOutputError([{ path: 'result.total', expected: 'number >= 0', received: 'negative number' }], 'f', 'x')
    expect(e.message).toBe('poet: invalid output of f:\n  result.total: expected number >= 0, received negative number')
    expect([e.name, e.phase]).toEqual(['PoetOutputError', 'enforce'])
  })

  it('PoetTimeoutError says which function and how long', () => {
    const e = new PoetTimeoutError(20, 'src/a.ts#slow', 'x')
    expect(e.message).toBe('poet: src/a.ts#slow timed out after 20 ms')
    expect([e.name, e.phase, e.timeout]).toEqual(['PoetTimeoutError', 'operate', 20])
  })
})
