// PoetError: the base of every error the runtime itself raises, naming the function, the execution and the phase.
export type PoetPhase = 'perceive' | 'operate' | 'enforce'

export class PoetError extends Error {
  // `declare`d and assigned below: field declarations would cost the tiny runtime a define-property helper.
  /** `<path>#<name>` of the poet function. */
  declare readonly functionId: string
  /** The execution this error belongs to (matches its events and feedback). */
  declare readonly executionId: string
  declare readonly phase: PoetPhase

  constructor(message: string, functionId: string, executionId: string, phase: PoetPhase) {
    super(message)
    this.functionId = functionId
    this.executionId = executionId
    this.phase = phase
    // Set explicitly: minifiers rename classes, and users log `err.name`.
    this.name = 'PoetError'
  }
}
