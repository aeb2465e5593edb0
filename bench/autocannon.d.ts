// The part of autocannon's API the collector benchmark uses (the package ships no types, and @types/autocannon is not installed).
declare module 'autocannon' {
  interface Request {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string
  }
  interface Options {
    url: string
    connections?: number
    pipelining?: number
    /** Seconds. */
    duration?: number
    method?: string
    headers?: Record<string, string>
    requests?: { setupRequest?: (req: Request) => Request }[]
  }
  interface Histogram {
    p50: number
    p90: number
    p99: number
    max: number
  }
  interface Result {
    '2xx': number
    non2xx: number
    errors: number
    timeouts: number
    /** Seconds the run took. */
    duration: number
    /** Milliseconds. */
    latency: Histogram
  }
  export default function autocannon(options: Options): Promise<Result>
}
