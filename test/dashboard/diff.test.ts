// Line diffs of phase modules: exact changes, folded context, and the same text on both sides.
import { describe, expect, it } from 'vitest'
import { lineDiff } from '../../src/dashboard/diff'

const lines = (n: number, at = 0) => Array.from({ length: n }, (_, i) => `line ${i + at}`)

describe('lineDiff', () => {
  it('marks a changed line as removed, then added, with three lines of context and the rest folded', () => {
    const before = lines(20)
    const after = [...before]
    after[10] = 'line ten'
    expect(lineDiff(before.join('\n'), after.join('\n'))).toEqual([
      { op: '…', text: '7 unchanged lines' },
      { op: ' ', text: 'line 7' },
      { op: ' ', text: 'line 8' },
      { op: ' ', text: 'line 9' },
      { op: '-', text: 'line 10' },
      { op: '+', text: 'line ten' },
      { op: ' ', text: 'line 11' },
      { op: ' ', text: 'line 12' },
      { op: ' ', text: 'line 13' },
      { op: '…', text: '6 unchanged lines' },
    ])
  })

  it('finds insertions and deletions in the middle of otherwise equal text', () => {
    const before = ['a', 'b', 'c', 'd', 'e'].join('\n')
    const after = ['a', 'c', 'x', 'y', 'd', 'e'].join('\n')
    const ops = lineDiff(before, after, 10).map((l) => `${l.op}${l.text}`)
    expect(ops).toEqual([' a', '-b', ' c', '+x', '+y', ' d', ' e'])
  })

  it('returns the text unchanged, unfolded, when both sides are equal', () => {
    const text = lines(30).join('\n')
    const diff = lineDiff(text, text)
    expect(diff).toHaveLength(30)
    expect(diff.every((l) => l.op === ' ')).toBe(true)
  })

  it('diffs whole files that share nothing', () => {
    const diff = lineDiff('one\ntwo', 'three')
    expect(diff.filter((l) => l.op === '-').map((l) => l.text)).toEqual(['one', 'two'])
    expect(diff.filter((l) => l.op === '+').map((l) => l.text)).toEqual(['three'])
  })

  it('still shows a change past the lines it compares line by line, rather than calling the versions equal', () => {
    const before = lines(3100)
    const after = [...before]
    after[3050] = 'line changed'
    const diff = lineDiff(before.join('\n'), after.join('\n'))
    expect(diff.filter((l) => l.op === '-' || l.op === '+').map((l) => `${l.op}${l.text}`)).toContain('+line changed')
    expect(diff.filter((l) => l.op === '-').map((l) => l.text)).toContain('line 3050')
    const same = lineDiff(before.join('\n'), before.join('\n'))
    expect(same.every((l) => l.op === ' ')).toBe(true)
  })

  it('counts a file ending in a newline by its lines, with no empty line after the last', () => {
    expect(lineDiff('a\nb\n', 'a\nc\n').map((l) => `${l.op}${l.text}`)).toEqual([' a', '-b', '+c'])
  })
})
