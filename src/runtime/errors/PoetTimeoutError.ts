// PoetTimeoutError: an async attempt did not settle within the policy's timeout and was abandoned.
import { PoetError } from './PoetError'

export class PoetTimeoutError extends PoetError {
  /** The per-attempt limit that expired, in milliseconds. */
  declare readonly timeout: number

  constructor(timeout: number, functionId: string, executionId: string) {
    super(`poet: ${functionId} timed out after ${timeout} ms`, functionId, executionId, 'operate')
    this.timeout = timeout
    this.name = 'PoetTimeoutError'
  }
}
