// PoetOutputError: enforce rejected a result; counts as a failed attempt (retried when retryOn is 'any').
import type { Issue } from '../types'
import { formatIssues } from './issues'
import { PoetError } from './PoetError'

export class PoetOutputError extends PoetError {
  /** Every violation enforce found, with its path (`result.total`). */
  declare readonly issues: Issue[]

  constructor(issues: Issue[], functionId: string, executionId: string) {
    super(formatIssues('invalid output', functionId, issues), functionId, executionId, 'enforce')
    this.issues = issues
    this.name = 'PoetOutputError'
  }
}
