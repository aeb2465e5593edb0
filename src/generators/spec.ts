// The contract between the plugin and the generators: a function's spec in, phase-module source out.
import type { EventField, PoetOptions, Policy } from '../runtime/types'

/**
 * A TypeScript type as the builtin generator understands it, resolved syntactically.
 * Anything that cannot be resolved is `unknown` with a reason (accepted at run time, reported by `poet status`).
 */
export type TypeIR =
  | { kind: 'unknown'; reason?: string; text?: string }
  | { kind: 'any' }
  | { kind: 'never' }
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'boolean' }
  | { kind: 'bigint' }
  | { kind: 'symbol' }
  | { kind: 'null' }
  | { kind: 'undefined' }
  /** `void` returns: anything is accepted. */
  | { kind: 'void' }
  /** `object`: any non-null object or function. */
  | { kind: 'object' }
  /** A function type: checked as `typeof === 'function'`. */
  | { kind: 'function' }
  | { kind: 'literal'; value: string | number | boolean | bigint }
  /** `T[]`, `Array<T>`, `ReadonlyArray<T>`. */
  | { kind: 'array'; element: TypeIR; readonly?: boolean }
  | { kind: 'tuple'; elements: TupleElementIR[]; readonly?: boolean }
  /** Object type literal, interface, or the result of Partial/Pick/… on one. */
  | { kind: 'objectType'; properties: PropertyIR[]; indexSignatures?: IndexSignatureIR[]; name?: string }
  /** `Record<K, V>` with K a finite union of literals becomes an objectType; otherwise this. */
  | { kind: 'record'; key: TypeIR; value: TypeIR }
  | { kind: 'union'; types: TypeIR[] }
  | { kind: 'intersection'; types: TypeIR[] }
  | { kind: 'date' }
  | { kind: 'enum'; name: string; members: { name: string; value: string | number }[] }
  /**
   * Template literal type, as an anchored regular expression source. `parts`, when present, is the exact form:
   * literal texts around `string`/`number`/`bigint` holes (texts.length === holes.length + 1), matched as TypeScript does.
   */
  | { kind: 'template'; pattern: string; text: string; parts?: { texts: string[]; holes: ('string' | 'number' | 'bigint')[] } }
  /** A reference into `FunctionSpec.types` (named, possibly recursive, declarations). */
  | { kind: 'ref'; name: string }

export interface PropertyIR {
  name: string
  type: TypeIR
  optional: boolean
  readonly?: boolean
  /** Named by a number (`0: T`, or a key of `Record<0 | 1, T>`): `keyof` gives the number, not the string. */
  numeric?: boolean
  /** Optional under `exactOptionalPropertyTypes`: it may be absent, but when present it holds a T (undefined only if T has it). */
  exact?: boolean
}

export interface IndexSignatureIR {
  key: TypeIR
  value: TypeIR
}

export interface TupleElementIR {
  type: TypeIR
  optional?: boolean
  /** Optional under `exactOptionalPropertyTypes` (see PropertyIR). */
  exact?: boolean
  rest?: boolean
  name?: string
}

export interface ParamSpec {
  name: string
  type: TypeIR
  /** `x?: T` or `x = default`. */
  optional: boolean
  /** `...xs: T[]`: `type` is the array/tuple type of the rest. */
  rest: boolean
}

/** Something the resolver could not turn into a checkable type. */
export interface UnresolvedType {
  /** Where it appears, e.g. `args[0].meta` or `result`. */
  path: string
  /** The annotation as written. */
  text: string
  reason: string
  /** The reason in a few words, where it is long, for `poet status`'s table (`../api not built (dist/index.d.ts missing)`). */
  brief?: string
}

/** Everything a generator knows about one `poet(...)`-marked function. */
export interface FunctionSpec {
  /** `<path relative to root, posix>#<name>`. */
  id: string
  /** Absolute path of the file that holds it. */
  file: string
  /** `detectDrift`, `Pricing.quote`, `default`. */
  name: string
  kind: 'function' | 'method'
  /** Declared `async`, or its return annotation is `Promise<T>`. */
  async: boolean
  params: ParamSpec[]
  /** The return type; for async functions the awaited type (`T` of `Promise<T>`). */
  returns: TypeIR
  /** Named declarations that `ref` types point to. */
  types: Record<string, TypeIR>
  /** The options literal as written (already validated). */
  options: PoetOptions
  /** The function's own source text, for hashing and prompts. */
  source: string
  /** The signature as written, e.g. `(current: number[], reference: number[]): DriftReport`. */
  signature: string
  unresolved: UnresolvedType[]
}

/** What a generator produces for one function, before it is rendered into a module. */
export interface PhaseParts {
  /** `builtin`, `openai:<model>` … */
  generator: string
  /** The fully resolved policy. */
  policy: Policy
  /**
   * Body of `function perceive(args, ctx) { … }`: straight-line JS that returns an `Issue[]` or `undefined`.
   * May refer to helpers declared in `helpers`.
   */
  perceive?: string
  /** Body of `function enforce(result, ctx) { … }`, same conventions. */
  enforce?: string
  /** Module-level declarations (helper functions, constant sets, baselines) shared by both phases. */
  helpers?: string
  /** Event fields the function's domain forbids (the pack's `neverInEvents`, its parents' included). */
  neverInEvents?: EventField[]
}

/** Follows `ref`s through `types` to the declaration they point to (an unknown name, or a cycle of aliases, is `unknown`). */
export function derefType(types: Record<string, TypeIR>, t: TypeIR): TypeIR {
  let cur = t
  for (let i = 0; cur.kind === 'ref' && i < 50; i++) cur = types[cur.name] ?? { kind: 'unknown' }
  return cur
}
