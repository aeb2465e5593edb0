// A Cloudflare-Worker-like isolate in node:vm: only the globals a WinterCG runtime has, workerd's start-up rules, and a module worker's fetch(request, env, ctx).
import { createContext, runInContext } from 'node:vm'
import { transform } from 'esbuild'

/** What workerd throws for I/O, timers and randomness while a Worker's modules are evaluated (outside any request). */
const DISALLOWED =
  'Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), setting a timeout, and generating random values are not allowed within global scope.'

export interface EdgeResponse {
  status: number
  body: unknown
}

export interface EdgeIsolate {
  /**
   * Runs the worker's `fetch(request, env, ctx)` as workerd does a request: the response, then the promises handed to
   * `ctx.waitUntil` (workerd keeps the request alive for them), then the request's end, which cancels every timer it left.
   */
  request(url: string, init: RequestInit, env: Record<string, unknown>): Promise<EdgeResponse>
  /** What the worker's code said with console.warn and console.error. */
  readonly said: string[]
  /** Timers of the isolate still pending (none between requests: a request's end cancels its own). */
  readonly pendingTimers: number
  /** Calls of `ctx.waitUntil` during the last request. */
  readonly waitUntilCalls: number
}

/**
 * Loads an ES module (a bundler's output, self-contained) as a module worker's entry: its `export default { fetch }` is
 * the handler. The module is wrapped into a script for node:vm (esbuild, format iife) and nothing else about it changes.
 * `workerScope`: the global is a WorkerGlobalScope, as workerd's is (a WinterCG runtime's need not be).
 */
export async function edgeIsolate(esm: string, { workerScope = false } = {}): Promise<EdgeIsolate> {
  const { code } = await transform(esm, { format: 'iife', globalName: '__worker', logLevel: 'silent' })
  const said: string[] = []
  let starting = true
  let inRequest: Set<number> | undefined
  const timers = new Map<number, ReturnType<typeof setTimeout>>()
  let nextTimer = 0
  function clear(id: unknown): void {
    if (typeof id !== 'number') return
    clearTimeout(timers.get(id))
    timers.delete(id)
  }
  const duringRequest = <F extends (...args: never[]) => unknown>(f: F): F =>
    ((...args: Parameters<F>) => {
      if (starting) throw new Error(DISALLOWED)
      return f(...args)
    }) as F
  // The globals of the isolate, besides the language's own, and none other: no process, Buffer, require, setImmediate,
  // navigator, window, document, location or addEventListener.
  const sandbox: Record<string, unknown> = {
    fetch: duringRequest((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
    Request,
    Response,
    Headers,
    URL,
    // Timers are numbers, as in workerd and browsers: no unref, no ref, no hasRef.
    setTimeout: duringRequest((f: () => void, ms?: number) => {
      const id = ++nextTimer
      const owner = inRequest
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id)
          owner?.delete(id)
          f()
        }, ms),
      )
      owner?.add(id)
      return id
    }),
    clearTimeout: clear,
    queueMicrotask,
    crypto: {
      getRandomValues: duringRequest(<T extends ArrayBufferView>(a: T) => crypto.getRandomValues(a as never) as T),
      randomUUID: duringRequest(() => crypto.randomUUID()),
    },
    TextEncoder,
    TextDecoder,
    AbortController: class extends AbortController {
      constructor() {
        if (starting) throw new Error(DISALLOWED)
        super()
      }
    },
    AbortSignal,
    structuredClone,
    console: {
      log: () => {},
      info: () => {},
      debug: () => {},
      warn: (...args: unknown[]) => void said.push(args.map(String).join(' ')),
      error: (...args: unknown[]) => void said.push(args.map(String).join(' ')),
    },
    performance: { now: () => performance.now() },
  }
  const context = createContext(sandbox)
  // workerd's global is a ServiceWorkerGlobalScope, an instance of WorkerGlobalScope (a browser worker's is too).
  if (workerScope) runInContext('globalThis.WorkerGlobalScope = class WorkerGlobalScope { static [Symbol.hasInstance](o) { return o === globalThis } }', context)
  runInContext(code, context, { filename: 'worker.js' })
  starting = false
  const worker = (runInContext('__worker', context) as { default?: { fetch?: unknown } }).default
  if (typeof worker?.fetch !== 'function') throw new Error('the built worker has no `export default { fetch }`')
  const handler = worker.fetch as (request: Request, env: unknown, ctx: unknown) => Promise<Response>
  let waitUntilCalls = 0
  return {
    async request(url, init, env) {
      const own = (inRequest = new Set())
      const kept: Promise<unknown>[] = []
      waitUntilCalls = 0
      const ctx = {
        waitUntil: (p: Promise<unknown>) => void (waitUntilCalls++, kept.push(p)),
        passThroughOnException: () => {},
      }
      try {
        const response = await handler(new Request(url, init), env, ctx)
        const text = await response.text()
        await Promise.all(kept)
        return { status: response.status, body: text ? JSON.parse(text) : undefined }
      } finally {
        inRequest = undefined
        for (const id of own) clear(id)
      }
    },
    said,
    get pendingTimers() {
      return timers.size
    },
    get waitUntilCalls() {
      return waitUntilCalls
    },
  }
}
