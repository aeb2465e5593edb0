import { describe, expect, it } from 'vitest'
import { decodeKey, encodeKey, functionId } from '../../src/plugin/ids'

describe('virtual-module keys', () => {
  it('survive URLs and file systems and round-trip to the function id', () => {
    const ids = [functionId('src/drift.ts', 'detectDrift'), 'src/a b/ü.ts#Pricing.quote@12', 'x.ts#default']
    for (const id of ids) {
      const key = encodeKey(id)
      expect(key).toMatch(/^[A-Za-z0-9_.~-]+$/)
      expect(decodeKey(key)).toBe(id)
    }
    expect(encodeKey('src/drift.ts#detectDrift')).toBe('src~2fdrift.ts~23detectDrift')
  })

  it('encodes every character outside the safe set as its UTF-8 bytes, astral ones whole', () => {
    expect(encodeKey('src/ü/😀.ts#f')).toBe('src~2f~c3~bc~2f~f0~9f~98~80.ts~23f')
    expect(decodeKey(encodeKey('src/😀ü.ts#a😀'))).toBe('src/😀ü.ts#a😀')
    // A lone surrogate cannot be UTF-8: it becomes U+FFFD, as TextEncoder writes it.
    expect(encodeKey('a\ud800b')).toBe('a~ef~bf~bdb')
  })
})
