// The symbol under which poet attaches execution metadata to the errors it rethrows unchanged.

/** `err[POET]` on an error a poet function rethrew: which function, execution and version it came from. */
export const POET: unique symbol = Symbol.for('unplugin-poet') as never

export interface PoetErrorMeta {
  functionId: string
  executionId: string
  /** Attempts made before giving up. */
  attempts: number
  version: string
}
