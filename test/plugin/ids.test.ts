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
})
