// Shared by the transform and error tests: the fixture-case runner's context (builtin domain names, collected warnings).
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TransformContext } from '../../src/plugin/transform'

export const DOMAINS = [
  'ml_monitoring',
  'financial_services',
  'healthcare',
  'api_integration',
  'llm_optimization',
  'data_processing',
  'security',
]

export const fixtureDir = (kind: 'transform' | 'errors') =>
  fileURLToPath(new URL(`../fixtures/${kind}`, import.meta.url))

/** A transform context rooted at `root`, knowing the builtin domain names, collecting warnings into `warnings`. */
export function context(root: string, warnings: string[] = []): TransformContext {
  return {
    root,
    domains: { has: (n) => DOMAINS.includes(n), names: () => DOMAINS },
    warn: (m) => warnings.push(m),
  }
}

/** `input.ts`, `input.tsx`, `input.js`… of one case directory. */
export function inputFile(dir: string): string {
  const name = readdirSync(dir).find((f) => f.startsWith('input.'))
  if (!name) throw new Error(`fixture ${dir} has no input.* file`)
  return name
}

/** Set UPDATE_FIXTURES=1 to rewrite expected files deliberately; otherwise they are compared exactly. */
export const updating = !!process.env.UPDATE_FIXTURES
