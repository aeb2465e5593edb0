// The part of opossum's API the call benchmark uses (the package ships no types, and @types/opossum is not installed).
declare module 'opossum' {
  export default class CircuitBreaker<A extends unknown[], R> {
    constructor(action: (...args: A) => Promise<R>, options?: { timeout?: number | false })
    fire(...args: A): Promise<R>
  }
}
