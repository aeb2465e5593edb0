// Maps the declaration output of a project that a tsconfig.json `references` back to its sources, as TypeScript does, so a referenced package's types are read without building it first.
import { dirname, join, relative, resolve, isAbsolute, sep } from 'node:path'
import { configChain, nearestConfigFile, referencedConfigs, type RawConfig } from './tsconfig-paths'

type Read = (path: string) => string | undefined

/** The projects the tsconfig.json governing a file references, directly or through the projects it references. */
export interface ReferencedProjects {
  /** Where each one writes its declarations, and the directory its sources are laid out from. */
  outputs: { outDir: string; rootDir: string }[]
  /** The config files read to find them. */
  files: string[]
}

/** Past this many configs the reference graph is not followed further: a real solution has a few dozen at most. */
const MAX_CONFIGS = 200

/**
 * The referenced projects of the nearest tsconfig.json above `file` (searched as TypeScript does, up to the filesystem
 * root), followed through their own references, as TypeScript resolves the whole graph; undefined when it references
 * none. A solution-style config (`"files": []`, Vite's templates) references the configs of its own directory, whose
 * references are followed in turn.
 */
export function findReferencedProjects(file: string, read: Read): ReferencedProjects | undefined {
  const nearest = nearestConfigFile(file, read)
  return nearest && referencesOf(nearest.config, nearest.read)
}

function referencesOf(start: string, read: Read): ReferencedProjects | undefined {
  const files: string[] = []
  const outputs: ReferencedProjects['outputs'] = []
  const seen = new Set<string>()
  const queue = [start]
  for (let i = 0; i < queue.length && i < MAX_CONFIGS; i++) {
    const config = queue[i]!
    // configChain marks what it reads as seen (so an `extends` cycle ends): each config gets a set of its own.
    const chain = configChain(config, read, files, new Set())
    if (chain.length === 0) continue
    if (config !== start) {
      const output = outputOf(chain)
      if (output) outputs.push(output)
    }
    for (const next of referencedConfigs(chain[0]!)) {
      if (seen.has(next) || next === start) continue
      seen.add(next)
      queue.push(next)
    }
  }
  return outputs.length ? { outputs, files } : undefined
}

/** Where a project writes declarations (`declarationDir`, else `outDir`) and its `rootDir` (by default its config's directory, as for `composite`). */
function outputOf(chain: RawConfig[]): ReferencedProjects['outputs'][number] | undefined {
  // The most derived config that sets an option wins, its path relative to that config.
  const dirOf = (option: string) => {
    const from = chain.find((c) => typeof c.compilerOptions?.[option] === 'string')
    return from && resolve(dirname(from.file), from.compilerOptions![option] as string)
  }
  const outDir = dirOf('declarationDir') ?? dirOf('outDir')
  if (!outDir) return undefined
  return { outDir, rootDir: dirOf('rootDir') ?? dirname(chain[0]!.file) }
}

const OUTPUT = /\.(d\.ts|d\.mts|d\.cts|js|mjs|cjs|jsx)$/
const SOURCE_EXTENSIONS: Record<string, string[]> = {
  'd.ts': ['.ts', '.tsx'],
  'd.mts': ['.mts'],
  'd.cts': ['.cts'],
  js: ['.ts', '.tsx'],
  jsx: ['.tsx'],
  mjs: ['.mts'],
  cjs: ['.cts'],
}

/** The source files a referenced project compiles to `output` (`dist/index.d.ts` → `src/index.ts`, `src/index.tsx`); none when it writes no such file. */
export function sourcesOf(projects: ReferencedProjects, output: string): string[] {
  const ext = OUTPUT.exec(output)
  if (!ext) return []
  const stem = output.slice(0, -ext[0].length)
  return projects.outputs.flatMap(({ outDir, rootDir }) => {
    const rel = relative(outDir, stem)
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return []
    return SOURCE_EXTENSIONS[ext[1]!]!.map((e) => join(rootDir, rel) + e)
  })
}
