// Imports a phase module's source for real from a file inside the package, where its bare `unplugin-poet/runtime` import resolves as in a user's build.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { PhaseModule } from '../../src/runtime/types'

const TMP = fileURLToPath(new URL('../.tmp/phase-modules', import.meta.url))
let written = 0

/** The module's default export; each call imports a new file, so the same source twice gives two fresh modules. */
export async function importPhases(source: string): Promise<PhaseModule> {
  mkdirSync(TMP, { recursive: true })
  const file = join(TMP, `phases-${process.pid}-${++written}.mjs`)
  writeFileSync(file, source)
  return ((await import(pathToFileURL(file).href)) as { default: PhaseModule }).default
}
