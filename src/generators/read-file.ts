import { existsSync, readFileSync } from 'node:fs'

/**
 * A file's text, or undefined when it cannot be read. Most of the type resolver's reads miss (each candidate extension,
 * each tsconfig.json up to the root): a failed read throws, which costs several times a check.
 */
export function readFileOrUndefined(path: string): string | undefined {
  if (!existsSync(path)) return undefined
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}
