// Shared by the transform and error tests: the fixture-case runner's context (the real domain registry, collected warnings).
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DomainRegistry } from '../../src/generators/builtin/domains'
import type { TransformContext } from '../../src/plugin/transform'

const domains = new DomainRegistry()

export const fixtureDir = (kind: 'transform' | 'errors') =>
  fileURLToPath(new URL(`../fixtures/${kind}`, import.meta.url))

/** A transform context rooted at `root`, knowing the builtin domain packs, collecting warnings into `warnings`. */
export function context(root: string, warnings: string[] = []): TransformContext {
  return { root, domains, warn: (m) => warnings.push(m) }
}

/** `input.ts`, `input.tsx`, `input.js`… of one case directory. */
export function inputFile(dir: string): string {
  const name = readdirSync(dir).find((f) => f.startsWith('input.'))
  if (!name) throw new Error(`fixture ${dir} has no input.* file`)
  return name
}

/** Set UPDATE_FIXTURES=1 to rewrite expected files deliberately; otherwise they are compared exactly. */
export const updating = !!process.env.UPDATE_FIXTURES
