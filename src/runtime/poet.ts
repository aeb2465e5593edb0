// poet(options?, phases?): the decorator that runs a function (or method) through the engine, keeping its exact type.
import type { Target } from './call'
import { execute } from './engine'
import type { PhaseModule, PoetOptions, Policy } from './types'

type AnyFunction = (...args: never[]) => unknown

/** What `poet(...)` returns: a function wrapper, a standard method decorator and a legacy method decorator in one. */
export interface PoetDecorator {
  /** `poet(o)(fn)`: the same function, run through perceive → operate → enforce. */
  <F extends AnyFunction>(fn: F): F
  /** `@poet(o)` on a method, TC39 standard decorators. */
  // `any` mirrors the constraint of the lib's ClassMethodDecoratorContext, which rejects narrower parameter types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  <This, F extends (this: This, ...args: any) => any>(method: F, context: ClassMethodDecoratorContext<This, F>): F
  /** `@poet(o)` on a method, TypeScript `experimentalDecorators`. */
  <T>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T>
}

/**
 * Marks a function: every call gets validated input, retries with backoff, timeouts, guarded output and an event.
 * `phases` is the generated phase module the plugin passes; without it, the level-1 policy comes from `options`.
 */
export function poet(options: PoetOptions = {}, phases?: PhaseModule): PoetDecorator {
  // The level-1 policy, the options over the global defaults of DESIGN §4. With phases, the build already resolved the
  // policy (domain defaults included) and this one goes unused.
  const policy: Policy = {
    // Unchecked without the plugin: Infinity or 1e12 would retry a sync function that always throws forever. Within
    // the plugin's range (at most 100) as given, else (NaN, beyond, absent) the default; 0 or less make one try.
    attempts: options.attempts! < 101 ? options.attempts! : 3,
    timeout: options.timeout ?? 30_000,
    backoff: { initial: 100, max: 5000, factor: 2, jitter: true, ...options.backoff },
    retryOn: options.retryOn ?? 'any',
    repair: !!options.repair,
    sample: options.sample ?? 1,
  }
  const wrap = (fn: unknown): unknown => {
    if (typeof fn !== 'function') throw new TypeError(`poet: expected a function or a method, got ${typeof fn}`)
    const t: Target = { fn: fn as Target['fn'], id: fn.name || 'anonymous', version: 'unversioned', policy, phases }
    // A function defined as a property value takes the property's name: the wrapper keeps fn's name in stack traces.
    return {
      [fn.name]: function (this: unknown, ...args: unknown[]) {
        return execute(t, this, args)
      },
    }[fn.name]
  }
  // A standard decorator's context needs no look: its value is the method. A legacy one passes the descriptor.
  return function decorate(fn: unknown, _context?: unknown, descriptor?: PropertyDescriptor) {
    if (!descriptor) return wrap(fn)
    descriptor.value = wrap(descriptor.value)
    return descriptor
  } as PoetDecorator
}
