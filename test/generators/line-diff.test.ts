// The one line diff behind `poet diff` and the dashboard: exact operations and positions, and a unified diff a reviewer reads.
import { describe, expect, it } from 'vitest'
import { unifiedDiff } from '../../src/cli/unified-diff'
import { diffLines } from '../../src/generators/line-diff'

describe('diffLines', () => {
  it('keeps the common prefix and suffix, and puts a removal before its replacement, with positions in both texts', () => {
    const ops = diffLines(['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'X', 'Y', 'd', 'e'])
    expect(ops.map((o) => o.op + o.text)).toEqual([' a', ' b', '-c', '+X', '+Y', ' d', ' e'])
    expect(ops.map((o) => [o.a, o.b])).toEqual([[0, 0], [1, 1], [2, 2], [3, 2], [3, 3], [3, 4], [4, 5]])
  })

  it('finds the longest common subsequence in the middle', () => {
    const ops = diffLines(['x', '1', '2', '3', 'y'], ['x', '2', '3', '4', 'y'])
    expect(ops.map((o) => o.op + o.text)).toEqual([' x', '-1', ' 2', ' 3', '+4', ' y'])
  })
})

describe('unifiedDiff', () => {
  it('writes hunks with 1-based ranges and three lines of context, and nothing for equal texts', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'].join('\n')
    const after = before.replace('5', 'five')
    expect(unifiedDiff(before, after, 'a@v1', 'a@v2')).toBe(
      ['--- a@v1', '+++ a@v2', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    )
    expect(unifiedDiff(before, before, 'a', 'b')).toBe('')
  })

  it('reads files ending in a newline as diff -u does: no empty last line in the counts or the context', () => {
    // What `diff -u` prints for these two files, so `patch` applies it without fuzz.
    expect(unifiedDiff('a\nb\nc\n', 'a\nb\nd\n', 'x', 'y')).toBe(['--- x', '+++ y', '@@ -1,3 +1,3 @@', ' a', ' b', '-c', '+d', ''].join('\n'))
    expect(unifiedDiff('', 'a\n', 'x', 'y')).toBe(['--- x', '+++ y', '@@ -0,0 +1,1 @@', '+a', ''].join('\n'))
  })
})
