// The verify gate: nothing a model wrote reaches the lock or a bundle unless it passes the static check and the sandbox.
import { parse } from '../parser'
import type { FunctionSpec, PhaseParts } from '../spec'
import { runInSandbox, phaseScript, type SandboxCase, type SandboxVerdict } from './sandbox'
import { bindingNames, checkFunctionBody, checkStatic } from './static'
import { sampleArgs, sampleResults, type Sample } from './samples'

export { ALLOWED_GLOBALS, FORBIDDEN_NAMES, LIMITS } from './static'
export { SANDBOX_LIMITS } from './sandbox'

/** One example the model gives: a JSON value and whether the phase should accept it. */
export interface Example {
  /** JSON text: the arguments array (perceive) or the result (enforce). */
  json: string
  valid: boolean
}

/** What the model proposed, as untrusted text. */
export interface Candidate {
  helpers?: string
  perceive?: string
  enforce?: string
  argExamples: Example[]
  resultExamples: Example[]
}

export type Verdict = { ok: true; parts: Pick<PhaseParts, 'helpers' | 'perceive' | 'enforce'> } | { ok: false; reasons: string[] }

const MAX_EXAMPLES = 20
const MAX_REASONS = 12

/** Top-level names the trusted builtin helpers declare (`add` …): the candidate may call them, never redeclare them. */
export function trustedNames(helpers: string | undefined): string[] {
  if (!helpers) return []
  const program = parse(helpers, { sourceType: 'module' }).program
  const names: string[] = []
  for (const s of program.body) {
    if (s.type === 'FunctionDeclaration' && s.id) names.push(s.id.name)
    if (s.type === 'VariableDeclaration') for (const d of s.declarations) names.push(...bindingNames(d.id))
  }
  return names
}

/**
 * Judges a candidate against the function's declared types, with the builtin generator's parts as the reference:
 * static allow-list first (nothing runs before it passes), then examples and sampled values in the sandbox.
 * A candidate must accept every plain valid sample the builtin accepts (unless it names a domain `rule`),
 * reject everything the builtin rejects as a type error, agree with its own examples, never throw, never mutate
 * its input without repair, and finish within the sandbox's limits.
 */
export async function verifyCandidate(spec: FunctionSpec, baseline: PhaseParts, candidate: Candidate): Promise<Verdict> {
  const trusted = trustedNames(baseline.helpers)
  const reasons = checkStatic({ trusted, repair: baseline.policy.repair, helpers: candidate.helpers, perceive: candidate.perceive, enforce: candidate.enforce })
  if (reasons.length) return { ok: false, reasons: reasons.slice(0, MAX_REASONS) }

  const helpers = [baseline.helpers, candidate.helpers].filter(Boolean).join('\n')
  const parts = { helpers: helpers || undefined, perceive: candidate.perceive, enforce: candidate.enforce }
  const repair = baseline.policy.repair

  const examples = [
    ...exampleCases('perceive', candidate.argExamples, reasons),
    ...exampleCases('enforce', candidate.resultExamples, reasons),
  ]
  if (candidate.perceive !== undefined && !candidate.argExamples.some((e) => e.valid)) reasons.push('examples: give at least one valid arguments example')
  if (candidate.perceive !== undefined && !candidate.argExamples.some((e) => !e.valid)) reasons.push('examples: give at least one invalid arguments example')
  if (candidate.enforce !== undefined && !candidate.resultExamples.some((e) => e.valid)) reasons.push('examples: give at least one valid result example')
  if (reasons.length) return { ok: false, reasons: reasons.slice(0, MAX_REASONS) }

  const samples: (Sample & { phase: 'perceive' | 'enforce' })[] = [
    ...sampleArgs(spec).map((s) => ({ ...s, phase: 'perceive' as const })),
    ...sampleResults(spec).map((s) => ({ ...s, phase: 'enforce' as const })),
  ]
  const cases: SandboxCase[] = [...examples.map((e) => e.case), ...samples.map((s) => ({ phase: s.phase, value: s.value }))]

  const [mine, reference] = await Promise.all([runInSandbox(phaseScript(parts), cases, repair), runInSandbox(phaseScript(baseline), cases, repair)])
  if ('error' in mine) return { ok: false, reasons: [`the candidate ${mine.error}`] }
  if ('error' in reference) throw new Error(`poet: the builtin phases of ${spec.id} failed in the verify sandbox: ${reference.error}`)

  examples.forEach((e, i) => judgeExample(e, mine.verdicts[i]!, reference.verdicts[i]!, reasons))
  samples.forEach((s, j) => judgeSample(s, mine.verdicts[examples.length + j]!, reference.verdicts[examples.length + j]!, reasons))
  const unique = [...new Set(reasons)]
  return unique.length ? { ok: false, reasons: unique.slice(0, MAX_REASONS) } : { ok: true, parts }
}

interface ExampleCase {
  case: SandboxCase
  valid: boolean
  label: string
}

function exampleCases(phase: 'perceive' | 'enforce', examples: Example[], reasons: string[]): ExampleCase[] {
  const what = phase === 'perceive' ? 'arguments' : 'result'
  if (examples.length > MAX_EXAMPLES) reasons.push(`examples: at most ${MAX_EXAMPLES} ${what} examples, got ${examples.length}`)
  const out: ExampleCase[] = []
  examples.slice(0, MAX_EXAMPLES).forEach((e, i) => {
    const label = `${what} example #${i + 1} (${e.json.length > 80 ? e.json.slice(0, 77) + '...' : e.json})`
    let value: unknown
    try {
      value = JSON.parse(e.json)
    } catch {
      reasons.push(`${label} is not valid JSON`)
      return
    }
    if (phase === 'perceive' && !Array.isArray(value)) {
      reasons.push(`${label} must be a JSON array of arguments`)
      return
    }
    // The example enters the sandbox as a JSON string literal that the sandbox parses: data, never code.
    out.push({ case: { phase, value: `JSON.parse(${JSON.stringify(e.json)})` }, valid: e.valid, label })
  })
  return out
}

function judgeExample(e: ExampleCase, mine: SandboxVerdict, ref: SandboxVerdict, reasons: string[]): void {
  const fn = e.case.phase
  if (problem(mine)) return void reasons.push(`${fn} on ${e.label}: ${problem(mine)}`)
  if (e.valid && ref.typeIssue) return void reasons.push(`${e.label} is marked valid but does not match the declared types (${ref.issues.join('; ')})`)
  if (e.valid && !mine.valid) return void reasons.push(`${e.label} is marked valid but ${fn} rejects it (${mine.issues.join('; ')})`)
  if (!e.valid && mine.valid) reasons.push(`${e.label} is marked invalid but ${fn} accepts it`)
}

function judgeSample(s: Sample & { phase: string }, mine: SandboxVerdict, ref: SandboxVerdict, reasons: string[]): void {
  if (ref.threw || ref.malformed) return
  const where = s.plain ? `a plain valid ${s.phase === 'perceive' ? 'input' : 'result'} (${s.value.slice(0, 80)})` : `the sample ${s.label}`
  if (problem(mine)) return void reasons.push(`${s.phase} on ${where}: ${problem(mine)}`)
  if (ref.typeIssue && mine.valid) {
    reasons.push(`${s.phase} accepts ${where}, which the declared types reject (${ref.issues.join('; ')})`)
    return
  }
  if (s.plain && ref.valid && !mine.valid && mine.typeIssue) reasons.push(`${s.phase} rejects ${where} as a type error (${mine.issues.join('; ')}), but it matches the declared types`)
}

function problem(v: SandboxVerdict): string | undefined {
  if (v.threw) return `threw ${v.threw}`
  if (v.malformed) return v.malformed
  if (v.mutated) return 'changed its input (phases must not mutate arguments or results unless repair is on)'
  return undefined
}

/**
 * Checks an operate variant (`function operate(...params) { body }`): the static gate, then a run on the valid
 * argument examples in the sandbox that must not throw. Variants are stored for review; they never enter a bundle here.
 */
export async function verifyVariant(spec: FunctionSpec, baseline: PhaseParts, body: string, validArgs: string[]): Promise<string[]> {
  const reasons: string[] = []
  const params = spec.params.map((p, i) => (p.rest ? `...${safeParam(p.name, i)}` : safeParam(p.name, i)))
  const trusted = trustedNames(baseline.helpers)
  checkFunctionBody('variant operate', body, params, trusted, reasons, trusted)
  if (reasons.length) return reasons
  // The variant runs as the perceive phase of a throwaway script, so the sandbox reports throws and input mutation.
  const script = `${phaseScript({ helpers: baseline.helpers, perceive: 'operate(...args)\nreturn undefined' })}\nfunction operate(${params.join(', ')}) {\n${body}\n}`
  const out = await runInSandbox(script, validArgs.map((json) => ({ phase: 'perceive', value: `JSON.parse(${JSON.stringify(json)})` })), false)
  if ('error' in out) return [`the variant ${out.error}`]
  for (const v of out.verdicts) if (problem(v)) reasons.push(`the variant ${problem(v)} on a valid example`)
  return reasons
}

function safeParam(name: string, i: number): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : `p${i}`
}
