// The builtin compiler's version on its own: every input hash reads it, and a warm build must not load the compiler for it.

/**
 * Part of the input hash of every builtin lock entry: a release whose compiler writes other checks for the same input
 * bumps it, and the next build regenerates those entries (offline and deterministic, strict builds included), so a
 * fix in the generated checks reaches functions whose source did not change. Bump it with every change to what the
 * compiler or the policy resolver emits; domain packs have versions of their own.
 */
export const BUILTIN_VERSION = 'poet-builtin-5'

/**
 * The versions before BUILTIN_VERSION, newest first; `''` is the releases that hashed no version. A stale entry whose
 * hash one of them reproduces differs only by the compiler, so what Train promoted in it is kept (src/train/carry.ts).
 */
export const EARLIER_BUILTIN_VERSIONS: readonly string[] = ['poet-builtin-4', 'poet-builtin-3', 'poet-builtin-2', '']
