// Formats perceive/enforce issues into the one-issue-per-line message of PoetInputError and PoetOutputError.
import type { IssueList } from '../types'

export function formatIssues(what: string, functionId: string, issues: IssueList): string {
  let message = `poet: ${what} of ${functionId}:`
  for (const i of issues) message += `\n  ${i.path}: expected ${i.expected}, received ${i.received}${i.rule ? ` (${i.rule})` : ''}`
  // The issues past the listed ones are only counted: the message says so, rather than reading as the whole story.
  if (issues.more) message += `\n  …and ${issues.more} more`
  return message
}
