// Formats perceive/enforce issues into the one-issue-per-line message of PoetInputError and PoetOutputError.
import type { Issue } from '../types'

export function formatIssues(what: string, functionId: string, issues: readonly Issue[]): string {
  let message = `poet: ${what} of ${functionId}:`
  for (const i of issues) message += `\n  ${i.path}: expected ${i.expected}, received ${i.received}${i.rule ? ` (${i.rule})` : ''}`
  return message
}
