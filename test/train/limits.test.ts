// The collector's event limits on a real lock: what a domain forbids is dropped, and what clients make up is not remembered.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EventLimits } from '../../src/train/limits'
import { execution, feedback, lockWith, tempDir } from './helpers'

describe('EventLimits', () => {
  it('holds the limits of versions the lock holds only, however many ids and versions clients make up, and still applies them', () => {
    const lockDir = join(tempDir(), '.poet')
    const vitals = lockWith(lockDir, 'src/vitals.ts#triage', { neverInEvents: ['stats', 'comment', 'label'] })
    lockWith(lockDir, 'src/drift.ts#detectDrift')
    const limits = new EventLimits(vitals.lock)
    for (let b = 0; b < 20; b++) {
      const made = Array.from({ length: 500 }, (_, i) => [
        feedback({ functionId: `src/forged-${b}-${i}.ts#f`, label: 'kept' }),
        feedback({ functionId: 'src/vitals.ts#triage', version: `v${b}-${i}`, label: 'tachycardia', comment: 'bed 4' }),
        execution({ functionId: 'src/vitals.ts#triage', version: `v${b}-${i}`, stats: { n: 1 } }),
      ]).flat()
      limits.apply(made)
      // Unknown ids keep what they sent; an unknown version of a known function gets its current version's limits.
      expect(made.filter((e) => e.kind === 'feedback' && e.label === 'kept')).toHaveLength(500)
      expect(made.filter((e) => e.functionId === 'src/vitals.ts#triage').every((e) => !('label' in e) && !('comment' in e) && !('stats' in e))).toBe(true)
    }
    expect(limits.cached).toBe(1)
    const known = [feedback({ functionId: 'src/vitals.ts#triage', version: vitals.version, label: 'x' }), feedback({ version: 'unknown', label: 'missed-drift' })]
    limits.apply(known)
    expect(known.map((e) => (e.kind === 'feedback' ? e.label : e.kind))).toEqual([undefined, 'missed-drift'])
    expect(limits.cached).toBe(2)
  })

  it("holds events a renamed function's old clients send to its limits, also once a new function took its former id", () => {
    const lockDir = join(tempDir(), '.poet')
    const triage = lockWith(lockDir, 'src/triage.ts#triage', { neverInEvents: ['comment', 'label'] })
    expect(triage.lock.rename('src/triage.ts#triage', 'src/clinic/triage.ts#triage')).toBe(true)
    const limits = new EventLimits(triage.lock)
    const before = [feedback({ functionId: 'src/triage.ts#triage', version: triage.version, label: 'tachycardia', comment: 'bed 4' })]
    limits.apply(before)
    expect(before[0]).not.toHaveProperty('label')
    // A new function without a domain in the old file, under the old id: its own events keep what they carry, the
    // renamed function's (its version) are still held to its limits.
    const other = lockWith(lockDir, 'src/triage.ts#triage', { policy: { attempts: 5 } })
    expect(other.version).not.toBe(triage.version)
    const after = [
      feedback({ functionId: 'src/triage.ts#triage', version: other.version, label: 'ok', comment: 'fine' }),
      feedback({ functionId: 'src/triage.ts#triage', version: triage.version, label: 'tachycardia', comment: 'bed 4' }),
    ]
    limits.apply(after)
    expect(after.map((e) => (e.kind === 'feedback' ? [e.label, e.comment] : []))).toEqual([
      ['ok', 'fine'],
      [undefined, undefined],
    ])
  })

  it('holds an event of a version no entry holds, under an id two renamed functions had in turn, to the limits of both', () => {
    const lockDir = join(tempDir(), '.poet')
    const triage = lockWith(lockDir, 'src/triage.ts#triage', { neverInEvents: ['comment'] })
    expect(triage.lock.rename('src/triage.ts#triage', 'src/clinic/triage.ts#triage')).toBe(true)
    lockWith(lockDir, 'src/triage.ts#triage', { neverInEvents: ['label'] })
    expect(triage.lock.rename('src/triage.ts#triage', 'src/ward/triage.ts#triage')).toBe(true)
    const limits = new EventLimits(triage.lock)
    const sent = [feedback({ functionId: 'src/triage.ts#triage', version: 'from-an-old-build', label: 'tachycardia', comment: 'bed 4', score: 0.5 })]
    limits.apply(sent)
    expect(sent[0]).toMatchObject({ score: 0.5 })
    expect(sent[0]).not.toHaveProperty('label')
    expect(sent[0]).not.toHaveProperty('comment')
  })
})
