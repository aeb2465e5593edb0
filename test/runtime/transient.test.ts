import { describe, expect, it } from 'vitest'
import { PoetTimeoutError } from '../../src/runtime/errors/PoetTimeoutError'
import { isTransient } from '../../src/runtime/transient'

const withCode = (code: string) => Object.assign(new Error(code), { code })

describe('isTransient', () => {
  it.each([
    ['a poet timeout', new PoetTimeoutError(20, 'f', 'x')],
    ['AbortSignal.timeout', new DOMException('timed out', 'TimeoutError')],
    ['ECONNRESET', withCode('ECONNRESET')],
    ['ECONNREFUSED', withCode('ECONNREFUSED')],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['EAI_AGAIN', withCode('EAI_AGAIN')],
    ['EPIPE', withCode('EPIPE')],
    ["Node fetch's TypeError with an undici cause", new TypeError('fetch failed', { cause: withCode('UND_ERR_SOCKET') })],
    ["Chromium's fetch failure", new TypeError('Failed to fetch')],
    ["Safari's fetch failure", new TypeError('Load failed')],
    ["Firefox's fetch failure", new TypeError('NetworkError when attempting to fetch resource.')],
    ['status 429', Object.assign(new Error('slow down'), { status: 429 })],
    ['statusCode 503', Object.assign(new Error('unavailable'), { statusCode: 503 })],
    ['response.status 502', Object.assign(new Error('bad gateway'), { response: { status: 502 } })],
    ['status 408', { status: 408 }],
  ])('retries %s', (_, err) => {
    expect(isTransient(err)).toBe(true)
  })

  it.each([
    ['a plain Error', new Error('bug')],
    ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'x')")],
    // A bug whose message merely names something fetch- or network-like would be retried, with backoff, for nothing.
    ['a TypeError about a fetch method', new TypeError('this.api.fetchUser is not a function')],
    ['a TypeError reading a network field', new TypeError("Cannot read properties of null (reading 'network')")],
    ['a TypeError about fetch arguments', new TypeError("Failed to execute 'fetch' on 'Window': Invalid name")],
    ['a TypeError about a failed load of a module', new TypeError("Cannot read properties of undefined (reading 'load failed')")],
    ['status 400', Object.assign(new Error('bad request'), { status: 400 })],
    ['status 404 even with a network-like code', Object.assign(new Error('x'), { status: 404, code: 'ECONNRESET' })],
    ['ENOENT', withCode('ENOENT')],
    ['an AbortError (the caller gave up)', new DOMException('aborted', 'AbortError')],
    ['a thrown string', 'ECONNRESET'],
    ['an error whose code is a symbol', Object.assign(new Error('x'), { code: Symbol('ECONNRESET') })],
    ['undefined', undefined],
  ])('does not retry %s', (_, err) => {
    expect(isTransient(err)).toBe(false)
  })
})
