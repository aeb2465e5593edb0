// PoetInputError: perceive rejected the arguments; never retried, since the same input would fail again.
import type { Issue, IssueList } from '../types'
import { formatIssues } from './issues'
import { PoetError } from './PoetError'

export class PoetInputError extends PoetError {
  /** Every violation perceive found, with its path (`args[0].items[2].price`). */
  declare readonly issues: Issue[]
  /** How many issues perceive found in all: more than `issues` lists when there were too many to list (`…and 37 more`). */
  declare readonly issueCount: number

  constructor(issues: IssueList, functionId: string, executionId: string) {
    super(formatIssues('invalid input', functionId, issues), functionId, executionId, 'perceive')
    this.issues = issues
    this.issueCount = issues.length + (issues.more || 0)
    this.name = 'PoetInputError'
  }
}
