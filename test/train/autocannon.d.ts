// The slice of autocannon's API the load tests use (the package ships no types, and @types/autocannon is not installed).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  namespace autocannon {
    interface Request {
      method?: string
      path?: string
      headers?: Record<string, string>
      body?: string
    }
    interface RequestSpec<C> extends Request {
      setupRequest?: (req: Request, context: C) => Request
      onResponse?: (status: number, body: string, context: C) => void
    }
    interface Options<C> {
      url: string
      connections?: number
      duration?: number
      headers?: Record<string, string>
      requests?: RequestSpec<C>[]
    }
    interface Result {
      non2xx: number
      errors: number
      requests: { total: number; average: number }
      latency: { p50: number; p99: number }
    }
    interface Instance extends EventEmitter {
      stop(): void
      on(event: 'done', listener: (result: Result) => void): this
      on(event: 'error', listener: (err: Error) => void): this
    }
  }
  function autocannon<C>(options: autocannon.Options<C>): autocannon.Instance
  export default autocannon
}
