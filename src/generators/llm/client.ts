// The one place that talks to an LLM: the official `openai` SDK, with our own bounded retries, timeouts and concurrency.
import OpenAI from 'openai'
import { zodResponseFormat } from 'openai/helpers/zod'
import type { ChatMessage } from './prompt'
import { PhaseReply } from './schema'

export interface LlmClientOptions {
  model: string
  baseURL?: string
  apiKey?: string
  /** Requests in flight at once. */
  concurrency: number
  /** Milliseconds per request. */
  timeout: number
  /** Retries of one request on 429, 5xx, timeouts and connection errors. */
  retries: number
  /** Upper bound of any wait between retries, whatever `Retry-After` asks for. */
  maxRetryDelay: number
}

export interface Completion {
  content: string | null
  refusal: string | null
  finishReason: string
  usage?: { promptTokens: number; completionTokens: number }
}

/** A request that failed for good (after retries): the build falls back, it never fails on it. */
export class LlmTransportError extends Error {
  override name = 'LlmTransportError'
}

const STRICT_FORMAT = zodResponseFormat(PhaseReply, 'poet_phases')
/** For servers without `json_schema` support (older Ollama, some proxies): JSON mode; the zod parse still checks the shape. */
const JSON_MODE = { type: 'json_object' } as const

export class LlmClient {
  private readonly sdk: OpenAI
  private active = 0
  private format: typeof STRICT_FORMAT | typeof JSON_MODE = STRICT_FORMAT
  private readonly waiting: (() => void)[] = []

  constructor(readonly options: LlmClientOptions) {
    this.sdk = new OpenAI({
      baseURL: options.baseURL,
      // A local OpenAI-compatible server (Ollama, vLLM, LM Studio) needs no key, but the SDK insists on one.
      apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? 'not-needed',
      timeout: options.timeout,
      maxRetries: 0,
    })
  }

  /** One chat completion with structured output, retried on transient failures; throws LlmTransportError at the end. */
  async complete(messages: ChatMessage[]): Promise<Completion> {
    await this.slot()
    try {
      for (let attempt = 0; ; attempt++) {
        // The SDK's own timeout ends when the headers arrive: this one also bounds the body, which a server can hold back.
        const deadline = new AbortController()
        const timer = setTimeout(() => deadline.abort(), this.options.timeout)
        try {
          const res = await this.sdk.chat.completions
            .create({ model: this.options.model, messages, response_format: this.format }, { signal: deadline.signal })
            .catch((e: unknown) => {
              throw deadline.signal.aborted ? new OpenAI.APIConnectionTimeoutError() : e
            })
            .finally(() => clearTimeout(timer))
          const choice = res.choices?.[0]
          if (!choice) throw new LlmTransportError('the server answered without any choice')
          return {
            content: choice.message?.content ?? null,
            refusal: choice.message?.refusal ?? null,
            finishReason: choice.finish_reason ?? 'stop',
            usage: res.usage ? { promptTokens: res.usage.prompt_tokens, completionTokens: res.usage.completion_tokens } : undefined,
          }
        } catch (e) {
          if (this.format === STRICT_FORMAT && rejectsJsonSchema(e)) {
            this.format = JSON_MODE
            attempt--
            continue
          }
          const delay = attempt < this.options.retries ? this.retryDelay(e, attempt) : undefined
          if (delay === undefined) throw new LlmTransportError(describe(e, this.options))
          await new Promise((r) => setTimeout(r, delay))
        }
      }
    } finally {
      this.release()
    }
  }

  /** Milliseconds to wait before retrying, or undefined when the error is not worth a retry. */
  private retryDelay(e: unknown, attempt: number): number | undefined {
    if (e instanceof OpenAI.APIConnectionError) return this.backoff(attempt)
    if (!(e instanceof OpenAI.APIError) || e.status === undefined) return undefined
    if (e.status !== 429 && e.status !== 408 && e.status < 500) return undefined
    const asked = retryAfter(e.headers)
    return Math.min(asked ?? this.backoff(attempt), this.options.maxRetryDelay)
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(500 * 2 ** attempt, this.options.maxRetryDelay)
    return ceiling / 2 + Math.random() * (ceiling / 2)
  }

  private async slot(): Promise<void> {
    if (this.active < this.options.concurrency) {
      this.active++
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  private release(): void {
    const next = this.waiting.shift()
    if (next) next()
    else this.active--
  }
}

function rejectsJsonSchema(e: unknown): boolean {
  return e instanceof OpenAI.APIError && e.status === 400 && /response_format|json_schema/i.test(e.message)
}

/** `Retry-After` as seconds or an HTTP date, or the non-standard `retry-after-ms`, in milliseconds. */
export function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'))
  if (headers?.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms
  const value = headers?.get('retry-after')
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

function describe(e: unknown, o: LlmClientOptions): string {
  const where = o.baseURL ?? 'the OpenAI API'
  if (e instanceof OpenAI.APIConnectionTimeoutError) return `no answer from ${where} within ${o.timeout} ms (tried ${o.retries + 1} times)`
  if (e instanceof OpenAI.APIConnectionError) return `cannot reach ${where} (${(e.cause as Error | undefined)?.message ?? e.message})`
  if (e instanceof OpenAI.APIError) {
    const tries = e.status === 429 || (e.status ?? 0) >= 500 ? ` after ${o.retries + 1} tries` : ''
    // Without a key the SDK sent our placeholder: OpenAI's answer then names "not-needed" as the user's key.
    const keyless = (e.status === 401 || e.status === 403) && (o.apiKey ?? process.env.OPENAI_API_KEY) === undefined
    const hint = keyless ? ' (no API key was given: set OPENAI_API_KEY, or generator.apiKey)' : ''
    return `${where} answered HTTP ${e.status}${tries}${hint}: ${e.message.replace(/^\d+\s*/, '').slice(0, 200)}`
  }
  return (e as Error)?.message ?? String(e)
}
