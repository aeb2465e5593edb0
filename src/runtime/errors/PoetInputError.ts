// PoetInputError: perceive rejected the arguments; never retried, since the same input would fail again.
import type { Issue } from '../types'
import { formatIssues } from './issues'
import { PoetError } from './PoetError'

export class PoetInputError extends PoetError {
  /** Every violation perceive found, with its path (`args[0].items[2].price`). */
  declare readonly issues: Issue[]

  constructor(issues: Issue[], functionId: string, executionId: string) {
    super(formatIssues('invalid input', functionId, issues), functionId, executionId, 'perceive')
    this.issues = issues
    this.name = 'PoetInputError'
  }
}
