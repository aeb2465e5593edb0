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
      try {
        if (Array.isArray(v)) return 'array'
      } catch {
        // Array.isArray throws for a revoked Proxy, and for nothing else.
        return 'revoked Proxy'
      }
      try {
        // By tag, not instanceof: one of another realm (an iframe, a vm context) is no instance of this realm's classes.
        const tag = Object.prototype.toString.call(v).slice(8, -1)
        if (tag === 'Date') {
          // Only a real Date has the slot getTime reads: a look-alike (a toStringTag of 'Date') throws here.
          const t = Date.prototype.getTime.call(v)
          return t !== t ? 'invalid Date' : 'Date'
        }
        // Where a record or an array is declared, "received object" would not say what is wrong with one of these.
        if (tag === 'Map' || tag === 'Set' || ArrayBuffer.isView(v)) return tag
      } catch {
        // A Proxy whose getPrototypeOf trap throws, a Date whose getTime does: an object all the same, and the issue
        // about it must still be told.
      }
      return 'object'
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

/**
 * Records that a check could not read the value at `path` (a parameter, or the result): a getter or a Proxy trap threw,
 * or the Proxy was revoked. The caller gets a PoetInputError naming where, not the TypeError of a check deep inside.
 */
export function addUnreadable(issues: Issues, path: string, expected: string, value: unknown, error: unknown): IssueList {
  const what = describeValue(value)
  return addIssueReceived(issues, path, expected, what === 'revoked Proxy' ? what : what + ' that threw when read (' + thrownText(error) + ')')
}

/** What was thrown, in at most 100 characters: `name: message`, or what it is. */
function thrownText(e: unknown): string {
  let text: string
  try {
    const m = e !== null && typeof e === 'object' && (e as { message?: unknown }).message
    text = typeof m === 'string' ? String((e as { name?: unknown }).name) + ': ' + m : typeof e === 'string' ? JSON.stringify(e) : describeValue(e)
  } catch {
    text = describeValue(e)
  }
  return text.length > 100 ? text.slice(0, 99) + '…' : text
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
