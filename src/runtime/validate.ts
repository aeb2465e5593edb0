// The helpers generated phase modules share (`import { addIssue as add, … } from 'unplugin-poet/runtime'`), so each module holds only its own checks.
import type { IssueList } from './types'

/** Issues listed per phase call; the rest are only counted (`more`), so a huge bad input cannot flood messages and events. */
export const MAX_ISSUES = 20

type Issues = IssueList | undefined

/** What a value is, without revealing it. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'number':
      return v !== v ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : 'number'
    case 'object':
      if (Array.isArray(v)) return 'array'
      if (v instanceof Date) return v.getTime() !== v.getTime() ? 'invalid Date' : 'Date'
      // Where a record or an array is declared, "received object" would not say what is wrong with one of these.
      if (v instanceof Map) return 'Map'
      if (v instanceof Set) return 'Set'
      return ArrayBuffer.isView(v) ? Object.prototype.toString.call(v).slice(8, -1) : 'object'
    default:
      return typeof v
  }
}

/** Records one issue whose `received` text is given (the first 20 are listed, the others counted in `more`). */
export function addIssueReceived(issues: Issues, path: string, expected: string, received: string, rule?: string): IssueList {
  if (issues === undefined) issues = []
  if (issues.length < MAX_ISSUES) issues.push(rule === undefined ? { path, expected, received } : { path, expected, received, rule })
  else issues.more = (issues.more || 0) + 1
  return issues
}

/** Records one issue about `value` (the first 20 are listed, the others counted in `more`). */
export function addIssue(issues: Issues, path: string, expected: string, value: unknown, rule?: string): IssueList {
  return addIssueReceived(issues, path, expected, describeValue(value), rule)
}

/** Names a mismatching literal-like value (short strings are shown, quoted), so `expected "a" | "b", received "c"` reads well. */
export function literalText(v: unknown): string {
  if (typeof v === 'string') return v.length <= 32 ? JSON.stringify(v) : 'a string of ' + v.length + ' characters'
  if (typeof v === 'boolean' || (typeof v === 'number' && v === v && v !== Infinity && v !== -Infinity)) return String(v)
  if (typeof v === 'bigint') return v + 'n'
  return describeValue(v)
}

/**
 * Replaces the issues found inside a value since `from` (how many there were before it, listed or counted in `more`)
 * with one issue about the value itself.
 */
export function collapseIssues(issues: IssueList, from: number, path: string, expected: string, value: unknown): IssueList {
  issues.length = Math.min(from, MAX_ISSUES)
  if (from > MAX_ISSUES) issues.more = from - MAX_ISSUES
  else delete issues.more
  return addIssue(from === 0 ? undefined : issues, path, expected, value)
}
