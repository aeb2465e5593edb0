// An OpenAI-compatible chat-completions server on 127.0.0.1 that answers from a script, for driving the real SDK.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'

export interface ChatRequest {
  model: string
  messages: { role: string; content: string }[]
  response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: unknown } }
}

/** One scripted answer. Defaults: HTTP 200, finish_reason `stop`, small usage. */
export interface ScriptedReply {
  status?: number
  headers?: Record<string, string>
  /** Wait this long before answering (a slow model). */
  delayMs?: number
  /** Answer only once this settles (a model as slow as the test needs, released when it has seen what it waits for). */
  until?: Promise<unknown>
  /** Send the headers and the first half of the body at once, the rest this much later (a stalled stream). */
  bodyDelayMs?: number
  /** The assistant message content (a JSON text for a good reply). */
  content?: string | null
  refusal?: string
  finishReason?: 'stop' | 'length' | 'content_filter'
  /** A raw response body, bypassing the chat-completion envelope (for error bodies). */
  body?: string
  usage?: { prompt_tokens: number; completion_tokens: number }
}

export type Script = (request: ChatRequest, index: number) => ScriptedReply

export interface OpenAIServer {
  /** Pass as `baseURL`. */
  baseURL: string
  /** Every request received, in order, with its arrival time. */
  requests: (ChatRequest & { at: number })[]
  /** The most requests that were ever being answered at the same time. */
  readonly maxInFlight: number
  close(): Promise<void>
}

export const reply = {
  json: (value: unknown): ScriptedReply => ({ content: JSON.stringify(value) }),
  brokenJson: (): ScriptedReply => ({ content: '{"perceive": "let issues\\nreturn issues", "enforce": ' }),
  status: (status: number, headers: Record<string, string> = {}): ScriptedReply => ({
    status,
    headers,
    body: JSON.stringify({ error: { message: `scripted ${status}`, type: 'server_error', code: null } }),
  }),
  truncated: (): ScriptedReply => ({ content: '{"perceive": "let issues', finishReason: 'length' }),
  refusal: (text = "I'm sorry, I can't help with that."): ScriptedReply => ({ content: null, refusal: text }),
  slow: (delayMs: number, value: unknown): ScriptedReply => ({ delayMs, content: JSON.stringify(value) }),
  held: (until: Promise<unknown>, value: unknown): ScriptedReply => ({ until, content: JSON.stringify(value) }),
}

/** Starts the server; `script` is called once per request with the parsed body and its 0-based index. */
export async function startOpenAIServer(script: Script): Promise<OpenAIServer> {
  const requests: OpenAIServer['requests'] = []
  const timers = new Set<NodeJS.Timeout>()
  let inFlight = 0
  let maxInFlight = 0
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }))
      return
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest
    const index = requests.length
    requests.push({ ...body, at: Date.now() })
    const r = script(body, index)
    maxInFlight = Math.max(maxInFlight, ++inFlight)
    res.on('close', () => inFlight--)
    if (r.delayMs) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => (timers.delete(t), resolve()), r.delayMs)
        timers.add(t)
        res.on('close', () => (clearTimeout(t), timers.delete(t), resolve()))
      })
      if (res.destroyed || res.writableEnded) return
    }
    if (r.until) {
      await Promise.race([r.until, new Promise((resolve) => res.on('close', resolve))])
      if (res.destroyed || res.writableEnded) return
    }
    const payload =
      r.body ??
      JSON.stringify({
        id: `chatcmpl-${index}`,
        object: 'chat.completion',
        created: 1_700_000_000,
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: r.content ?? null, refusal: r.refusal ?? null },
            finish_reason: r.finishReason ?? 'stop',
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, ...r.usage },
      })
    res.writeHead(r.status ?? 200, { 'content-type': 'application/json', ...r.headers })
    if (!r.bodyDelayMs) return void res.end(payload)
    res.write(payload.slice(0, payload.length >> 1))
    const t = setTimeout(() => (timers.delete(t), res.end(payload.slice(payload.length >> 1))), r.bodyDelayMs)
    timers.add(t)
    res.on('close', () => (clearTimeout(t), timers.delete(t)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * A port nobody answers on: every connection is reset, as a refused one is. Bound for the test's length, since a port
 * bound and closed again may be given to another process on the machine meanwhile (each outgoing connection takes one).
 */
export async function deadPort(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createTcpServer((socket) => socket.resetAndDestroy())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/v1`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}
