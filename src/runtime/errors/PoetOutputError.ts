// PoetOutputError: enforce rejected a result; counts as a failed attempt (retried when retryOn is 'any').
import type { Issue, IssueList } from '../types'
import { formatIssues } from './issues'
import { PoetError } from './PoetError'

export class PoetOutputError extends PoetError {
  /** Every violation enforce found, with its path (`result.total`). */
  declare readonly issues: Issue[]
  /** How many issues enforce found in all: more than `issues` lists when there were too many to list (`…and 37 more`). */
  declare readonly issueCount: number

  constructor(issues: IssueList, functionId: string, executionId: string) {
    super(formatIssues('invalid output', functionId, issues), functionId, executionId, 'enforce')
    this.issues = issues
    this.issueCount = issues.length + (issues.more || 0)
    this.name = 'PoetOutputError'
  }
}
