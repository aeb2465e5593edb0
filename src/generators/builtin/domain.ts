// The DomainPack contract: what a domain adds to generated phases (rules as code emitters), to policy, and to events.
import type { EventField, Policy } from '../../runtime/types'
import type { FunctionSpec, TypeIR } from '../spec'

/**
 * Conventions every emitter follows, so type checks (the validator compiler) and domain rules compose:
 * - Generated perceive/enforce bodies declare `let issues` (undefined until the first issue) and end with `return issues`.
 * - A rule records a violation with the module helper `issues = add(issues, path, expected, value, rule)`;
 *   `add` describes `value` without leaking it and caps the list (first 20 issues, the rest counted in `issues.more`).
 *   When the rule knows better what it received (`"3 elements"`), `issues = addReceived(issues, path, expected,
 *   received, rule)` takes that text instead.
 * - `path` in emitted code is a JS expression that evaluates to the path string (e.g. `"args[0]"`,
 *   `p + "[" + i + "]"`), `value` a JS expression for the value at that path.
 * - Under `repair`, a rule may replace the value by assigning to `target` (an assignable expression) and must
 *   record it: `(ctx.repairs ??= []).push({ path, action, rule })`.
 * - Input statistics go to `ctx.stats` (numbers only, never values).
 */
export interface RuleSite {
  /** The resolved type of the value at this site. */
  type: TypeIR
  /** JS expression for the value. */
  value: string
  /** Assignable JS expression for the value (for repairs), when there is one. */
  target?: string
  /** JS expression evaluating to the path string. */
  path: string
  /** The property or parameter name this value sits under, if any (rules may key on names like `amount`, `currency`). */
  key?: string
  /**
   * The object this value is a property of, when it is one: lets a rule read siblings (a `currency` next to an
   * `amount`). Absent for parameters, elements and the result itself.
   */
  parent?: { value: string; type: TypeIR }
  /** 'perceive' checks arguments, 'enforce' checks the result. */
  phase: 'perceive' | 'enforce'
  /** Whether repair is on for this function. */
  repair: boolean
}

export interface CodeRule {
  /** `<domain>.<rule>`, e.g. `financial_services.non_negative_total`; shown in issues and docs. */
  id: string
  /** One line for the README table and `poet domains`. */
  description: string
  /** Emits checks for one value after its type check passed; `undefined` when the rule does not apply here. */
  check?(site: RuleSite): string | undefined
  /**
   * Emits a normalisation for one value *before* its type check (e.g. numeric string → number where the type wants
   * a number, upper-casing a currency code, parsing JSON text where an object is expected). Called only when repair
   * is on and the site has a `target`; the code assigns to `target` and records every change in `ctx.repairs`.
   */
  coerce?(site: RuleSite): string | undefined
  /** Emits checks over the whole input (perceive: `args`) or output (enforce: `ctx.result`) after all type checks. */
  whole?(spec: FunctionSpec, phase: 'perceive' | 'enforce'): string | undefined
}

/** What may never appear in this domain's events, whatever the function's options say (defined with the runtime, which enforces it). */
export type { EventField } from '../../runtime/types'

export interface DomainPack {
  /** `ml_monitoring`; a custom child of a pack is named `parent:child` (e.g. `financial_services:payments`). */
  name: string
  /** Bumped when rules change: part of every lock entry's input hash. */
  version: string
  /** One line for the README table and `poet domains`. */
  description: string
  /** Name of the pack this one extends: its policy, rules and event limits apply first. */
  parent?: string
  /** Policy defaults; the function's own options win. */
  policy?: Partial<Pick<Policy, 'attempts' | 'timeout' | 'retryOn' | 'backoff'>>
  perceive?: CodeRule[]
  enforce?: CodeRule[]
  /** Module-level declarations (helper functions, constant sets, baselines) the rules' code uses. */
  helpers?: string
  /** Fields events may never carry. */
  neverInEvents?: EventField[]
  /**
   * Thresholds Train may rewrite (builtin packs only: the trainer knows what each one means and which evidence moves
   * it). Keys are `<domain>.<threshold>`; the generator renders them as one line, `const learned = {...}`, at the top
   * of the module's helpers, and the pack's code reads them from there instead of from constants.
   */
  learned?(spec: FunctionSpec): Record<string, LearnedValue>
}

/** A learnable threshold's value: JSON, so the trainer can read and rewrite the rendered line. */
export type LearnedValue = number | { [key: string]: number | string | null }
