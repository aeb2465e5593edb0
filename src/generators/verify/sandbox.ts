// Runs phase code against sample values inside QuickJS (WebAssembly), with a deadline and a memory cap.
import { newQuickJSWASMModule, shouldInterruptAfterDeadline } from 'quickjs-emscripten'
import type { PhaseParts } from '../spec'

export const SANDBOX_LIMITS = {
  /** Wall time for one whole run (every case of one candidate). */
  timeMs: 1_000,
  memoryBytes: 32 * 1024 * 1024,
  /** Kept small so that QuickJS reports a stack overflow long before the host's own stack runs out. */
  stackBytes: 128 * 1024,
  /** A phase returning more issues than this is "giant output", not validation. */
  maxIssues: 50,
  maxIssueChars: 300,
} as const

export interface SandboxCase {
  phase: 'perceive' | 'enforce'
  /** A JS expression built by trusted code: the arguments array (perceive) or the result (enforce). */
  value: string
}

export interface SandboxVerdict {
  /** No issues returned. */
  valid: boolean
  /** At least one issue without a `rule`: a type error rather than a domain rule. */
  typeIssue: boolean
  /** The first few issues, as `path: expected, received`. */
  issues: string[]
  /** `TypeError: …` when the phase threw. */
  threw?: string
  /** The phase changed its input although repair is off. */
  mutated?: boolean
  /** Why the return value is not an issue list. */
  malformed?: string
}

export type SandboxOutcome = { verdicts: SandboxVerdict[] } | { error: string }

/** The module body a phase module would contain, minus its export: trusted wrapper around the candidate parts. */
export function phaseScript(parts: Pick<PhaseParts, 'helpers' | 'perceive' | 'enforce'>): string {
  return [
    '"use strict";',
    parts.helpers ?? '',
    parts.perceive !== undefined ? `function perceive(args, ctx) {\n${parts.perceive}\n}` : 'const perceive = undefined;',
    parts.enforce !== undefined ? `function enforce(result, ctx) {\n${parts.enforce}\n}` : 'const enforce = undefined;',
  ].join('\n')
}

const HARNESS = String.raw`
function __poet_snap(v, depth) {
  if (depth > 8) return '…'
  if (v === undefined) return 'u'
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'bigint') return v + 'n'
  if (typeof v !== 'object' || v === null) return typeof v + ':' + String(v)
  if (v instanceof Date) return 'D' + v.getTime()
  if (Array.isArray(v)) return '[' + v.map(function (x) { return __poet_snap(x, depth + 1) }).join(',') + ']'
  return '{' + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ':' + __poet_snap(v[k], depth + 1) }).join(',') + '}'
}
function __poet_run(cases, repair, maxIssues, maxChars) {
  const out = []
  for (const c of cases) {
    let value
    try { value = c.make() } catch (e) { out.push({ valid: false, typeIssue: false, issues: [], threw: 'sample: ' + String(e) }); continue }
    const fn = c.phase === 'perceive' ? perceive : enforce
    if (fn === undefined) { out.push({ valid: true, typeIssue: false, issues: [] }); continue }
    const ctx = { functionId: 'verify', executionId: 'verify', repair: repair }
    if (c.phase === 'enforce') ctx.result = value
    const before = __poet_snap(value, 0)
    let r
    try { r = fn(value, ctx) } catch (e) {
      out.push({ valid: false, typeIssue: false, issues: [], threw: (e && e.name ? e.name : 'Error') + ': ' + String(e && e.message !== undefined ? e.message : e).slice(0, 200) })
      continue
    }
    const verdict = { valid: true, typeIssue: false, issues: [] }
    if (!repair && __poet_snap(value, 0) !== before) verdict.mutated = true
    if (r !== undefined) {
      if (!Array.isArray(r)) verdict.malformed = 'returned ' + typeof r + ' instead of an issue array or undefined'
      else if (r.length > maxIssues) verdict.malformed = 'returned ' + r.length + ' issues (giant output; at most ' + maxIssues + ')'
      else {
        for (const i of r) {
          if (!i || typeof i.path !== 'string' || typeof i.expected !== 'string' || typeof i.received !== 'string') { verdict.malformed = 'an issue is not { path, expected, received } strings'; break }
          if (i.path.length + i.expected.length + i.received.length + String(i.rule || '').length > maxChars) { verdict.malformed = 'an issue is longer than ' + maxChars + ' characters (giant output)'; break }
        }
        if (!verdict.malformed) {
          verdict.valid = r.length === 0
          verdict.typeIssue = r.some(function (i) { return !i.rule })
          verdict.issues = r.slice(0, 3).map(function (i) { return i.path + ': expected ' + i.expected + ', received ' + i.received + (i.rule ? ' [' + i.rule + ']' : '') })
        }
      }
    }
    out.push(verdict)
  }
  return JSON.stringify(out)
}
`

/**
 * Evaluates `script` (from `phaseScript`) and then every case, in a fresh QuickJS runtime that has no host
 * functions at all: nothing inside can reach Node, the file system or the network. An infinite loop is cut at
 * the deadline; an allocation past the memory cap fails inside the sandbox.
 */
export async function runInSandbox(script: string, cases: SandboxCase[], repair: boolean): Promise<SandboxOutcome> {
  // A fresh WebAssembly instance per run: no state survives from one candidate to the next, and a QuickJS
  // abort (which poisons its instance) cannot affect later runs.
  const quickjs = await newQuickJSWASMModule()
  const runtime = quickjs.newRuntime()
  runtime.setMemoryLimit(SANDBOX_LIMITS.memoryBytes)
  runtime.setMaxStackSize(SANDBOX_LIMITS.stackBytes)
  runtime.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + SANDBOX_LIMITS.timeMs))
  const vm = runtime.newContext()
  try {
    const caseList = cases.map((c) => `{ phase: ${JSON.stringify(c.phase)}, make: function () { return (${c.value}) } }`).join(',\n')
    const program = `${script}\n${HARNESS}\n__poet_run([${caseList}], ${repair}, ${SANDBOX_LIMITS.maxIssues}, ${SANDBOX_LIMITS.maxIssueChars})`
    const result = vm.evalCode(program, 'phases.js')
    if (result.error) {
      const err = vm.dump(result.error) as { name?: string; message?: string } | string
      result.error.dispose()
      const message = typeof err === 'object' && err ? `${err.name ?? 'Error'}: ${err.message ?? ''}` : String(err)
      if (/interrupted/.test(message)) return { error: `ran longer than ${SANDBOX_LIMITS.timeMs} ms in the sandbox (endless loop or catastrophic regex?)` }
      if (/out of memory|InternalError: stack overflow/i.test(message)) return { error: `exceeded the sandbox's memory or stack limit (${message})` }
      return { error: `failed in the sandbox: ${message.slice(0, 300)}` }
    }
    const json = vm.dump(result.value) as string
    result.value.dispose()
    return { verdicts: JSON.parse(json) as SandboxVerdict[] }
  } finally {
    try {
      vm.dispose()
      runtime.dispose()
    } catch {
      // A run cut short can leave objects QuickJS refuses to free; the whole instance is dropped anyway.
    }
  }
}
