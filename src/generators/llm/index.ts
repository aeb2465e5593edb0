// The LLM generator: asks an OpenAI-compatible model for phases, re-asks with the verifier's reasons, falls back to builtin.
import type { Policy } from '../../runtime/types'
import type { DomainPack } from '../builtin/domain'
import type { FunctionSpec, PhaseParts } from '../spec'
import { verifyCandidate, verifyVariant } from '../verify'
import { inlineRuntimeHelpers } from '../builtin/compile'
import { LlmClient, LlmTransportError, type LlmClientOptions } from './client'
import { buildMessages, reaskMessage, type ChatMessage, type DomainSummary, type TrainingEvidence } from './prompt'
import { PhaseReply } from './schema'
import type { OpenAIGeneratorOptions } from '../../plugin/options'

export { PROMPT_VERSION, type DomainSummary, type TrainingEvidence } from './prompt'
export { LlmTransportError } from './client'

/** `generator: { provider: 'openai', … }` in the plugin options and `poet.config`: one definition, with the plugin's options. */
export type LlmGeneratorOptions = OpenAIGeneratorOptions

export interface LlmTuning {
  /** Re-asks after a rejected answer before falling back. @default 2 */
  reasks?: number
  /** Retries of one request on 429/5xx/timeouts. @default 2 */
  retries?: number
  /** Cap on any wait between retries, whatever `Retry-After` says. @default 20000 */
  maxRetryDelay?: number
  /** Where fallback warnings go. @default console.warn */
  warn?: (message: string) => void
}

export interface LlmRequest {
  spec: FunctionSpec
  /** The builtin generator's parts: baseline for the prompt, reference for the verifier, fallback. */
  baseline: PhaseParts
  domain?: DomainSummary
  feedback?: string[]
  /** Production evidence, when Train asks for a better version. */
  evidence?: TrainingEvidence
  /** Overrides the generator's `warn` for this request (a bundler's own warning channel). */
  warn?: (message: string) => void
}

export interface OperateVariant {
  name: string
  body: string
  rationale: string
}

export interface LlmResult {
  parts: PhaseParts
  /** The model asked (also on fallback, so the lock records what was tried). */
  model: string
  usage?: { promptTokens: number; completionTokens: number }
  /** Why the builtin parts were used instead; set only on fallback. */
  fallback?: string
  /** Verified operate variants (optimizeFor), for review and A/B tests; never rendered into a bundle here. */
  variants?: OperateVariant[]
}

export interface LlmGenerator {
  readonly generator: string
  readonly model: string
  generate(request: LlmRequest): Promise<LlmResult>
}

export function createLlmGenerator(options: LlmGeneratorOptions, tuning: LlmTuning = {}): LlmGenerator {
  const clientOptions: LlmClientOptions = {
    model: options.model,
    baseURL: options.baseURL,
    apiKey: options.apiKey,
    concurrency: Math.max(1, options.concurrency ?? 4),
    timeout: options.timeout ?? 60_000,
    retries: tuning.retries ?? 2,
    maxRetryDelay: tuning.maxRetryDelay ?? 20_000,
  }
  const client = new LlmClient(clientOptions)
  const reasks = tuning.reasks ?? 2
  const warn = tuning.warn ?? ((m: string) => console.warn(m))
  const generator = `openai:${options.model}`

  async function generate(given: LlmRequest): Promise<LlmResult> {
    // LLM phases stand alone, with the builtin helpers declared in place: the verifier runs them as a script in a
    // sandbox, where the runtime import the builtin phases use does not exist.
    const request = given.baseline.helpers ? { ...given, baseline: { ...given.baseline, helpers: inlineRuntimeHelpers(given.baseline.helpers) } } : given
    const { spec, baseline } = request
    let messages: ChatMessage[] = buildMessages(request)
    const usage = { promptTokens: 0, completionTokens: 0 }
    let reasons: string[] = []
    let asks = 0
    for (; asks <= reasks; asks++) {
      let reply
      try {
        reply = await client.complete(messages)
      } catch (e) {
        if (!(e instanceof LlmTransportError)) throw e
        reasons = [e.message]
        asks++
        break
      }
      if (reply.usage) {
        usage.promptTokens += reply.usage.promptTokens
        usage.completionTokens += reply.usage.completionTokens
      }
      const judged = await judge(spec, baseline, reply)
      if ('parts' in judged) {
        return {
          parts: {
            ...judged.parts,
            generator,
            policy: mergePolicy(spec, baseline.policy, judged.policy),
            // The domain's event limits are the pack's, never the model's to drop: carried over from the baseline.
            ...(baseline.neverInEvents ? { neverInEvents: baseline.neverInEvents } : {}),
          },
          model: options.model,
          usage,
          ...(judged.variants.length ? { variants: judged.variants } : {}),
        }
      }
      reasons = judged.reasons
      messages = [...buildMessages(request), reaskMessage(reasons)]
    }
    const why = reasons[0]!.replace(/[.\s]+$/, '') + (reasons.length > 1 ? ` (and ${reasons.length - 1} more)` : '')
    ;(request.warn ?? warn)(
      `[poet] ${spec.id}: ${generator} gave no verified phases after ${asks} request${asks === 1 ? '' : 's'}: ${why}. ` +
        `Using the builtin generator; run \`poet generate --only ${spec.id}\` to try again.`,
    )
    return { parts: given.baseline, model: options.model, usage: usage.promptTokens ? usage : undefined, fallback: why }
  }

  return { generator, model: options.model, generate }
}

const shared = new WeakMap<LlmGeneratorOptions, LlmGenerator>()

/**
 * The dispatch's entry: one generator (so one concurrency limit) per resolved options object, shared by every
 * function of a build.
 */
export function generateWithLlm(
  spec: FunctionSpec,
  config: LlmGeneratorOptions,
  baseline: PhaseParts,
  ctx: { pack?: DomainPack; warn(message: string): void; feedback?: string[]; evidence?: TrainingEvidence },
): Promise<LlmResult> {
  let gen = shared.get(config)
  if (!gen) shared.set(config, (gen = createLlmGenerator(config)))
  return gen.generate({ spec, baseline, domain: ctx.pack && domainSummary(ctx.pack), feedback: ctx.feedback, evidence: ctx.evidence, warn: ctx.warn })
}

/** What the prompt says about a (resolved) domain pack: its rules, by id and description. */
export function domainSummary(pack: DomainPack): DomainSummary {
  const rules = [...(pack.perceive ?? []), ...(pack.enforce ?? [])].map((r) => ({ id: r.id, description: r.description }))
  return { name: pack.name, version: pack.version, description: pack.description, rules }
}

type Judged =
  | { parts: Pick<PhaseParts, 'helpers' | 'perceive' | 'enforce'>; policy: PhaseReply['policy']; variants: OperateVariant[] }
  | { reasons: string[] }

async function judge(spec: FunctionSpec, baseline: PhaseParts, reply: Awaited<ReturnType<LlmClient['complete']>>): Promise<Judged> {
  if (reply.refusal) return { reasons: [`the model refused: ${reply.refusal.slice(0, 200)}`] }
  if (reply.finishReason === 'length') return { reasons: ['the answer was cut off at the token limit (finish_reason: length); answer more concisely'] }
  if (reply.finishReason === 'content_filter') return { reasons: ['the answer was withheld by a content filter (finish_reason: content_filter)'] }
  if (!reply.content) return { reasons: ['the answer was empty'] }
  let json: unknown
  try {
    json = JSON.parse(reply.content)
  } catch (e) {
    return { reasons: [`the answer is not valid JSON (${(e as Error).message.slice(0, 120)})`] }
  }
  const parsed = PhaseReply.safeParse(json)
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    return { reasons: [`the answer does not match the required JSON schema: ${issues.join('; ')}`] }
  }
  const r = parsed.data
  const verdict = await verifyCandidate(spec, baseline, {
    helpers: r.helpers ?? undefined,
    perceive: r.perceive ?? undefined,
    enforce: r.enforce ?? undefined,
    argExamples: r.argExamples,
    resultExamples: r.resultExamples,
  })
  if (!verdict.ok) return { reasons: verdict.reasons }
  const variants: OperateVariant[] = []
  if (spec.options.optimizeFor && r.variants) {
    const validArgs = r.argExamples.filter((e) => e.valid).map((e) => e.json)
    for (const v of r.variants.slice(0, 2)) {
      if ((await verifyVariant(spec, baseline, v.body, validArgs)).length === 0) variants.push(v)
    }
  }
  return { parts: verdict.parts, policy: r.policy, variants }
}

/** The model's policy suggestions, bounded, where the developer did not set the option explicitly. */
function mergePolicy(spec: FunctionSpec, base: Policy, suggested: PhaseReply['policy']): Policy {
  const out = { ...base }
  if (spec.options.attempts === undefined && suggested.attempts !== null) out.attempts = clamp(suggested.attempts, 1, 10)
  if (spec.options.timeout === undefined && suggested.timeout !== null) out.timeout = clamp(suggested.timeout, 100, 600_000)
  if (spec.options.retryOn === undefined && suggested.retryOn !== null) out.retryOn = suggested.retryOn
  return out
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(n)))
}
