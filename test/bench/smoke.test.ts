// `npm run bench -- --smoke` still runs every benchmark end to end and prints one table with every row.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Every row the table must hold, by the start of its first cell. */
const ROWS = [
  'async call, level 1 policy',
  'async call with a timeout set',
  'sync call, generated validation of a 20-field object',
  'generated validator alone',
  'plugin transform of a module with 3 poet functions',
  '`vite build`, ',
  "`vite build` split: the plugin's own work",
  '`vite build` floor: any generated validation',
  '`vite build` of the same app making the',
  'a file without a poet import',
  'builtin generation for 1000 functions',
  'collector ingest, durable acks',
  'runtime min+gz',
]

it('runs every benchmark briefly and prints a table with every row, none failed', { timeout: 300_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['bench/run.mjs', '--smoke'], { cwd: root, maxBuffer: 16 * 2 ** 20 })
  const table = stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| what '))
  for (const row of ROWS) expect(table.some((l) => l.startsWith(`| ${row}`)), `row "${row}" in:\n${stdout}`).toBe(true)
  expect(table).toHaveLength(ROWS.length)
  for (const l of table) expect(l, 'a benchmark failed').not.toMatch(/\| error \|$/)
  // Every measured row ends with a verdict against its target.
  for (const l of table) expect(l).toMatch(/\| (pass|miss|report) \|$/)
  // Not a timing, so it holds in a smoke run too: the plugin parses the poet modules and nothing else.
  expect(table.find((l) => l.startsWith('| a file without a poet import |'))).toMatch(/\| pass \|$/)
  expect(stdout).toMatch(/^Machine: .+ \d+ cores, .+Node v\d+/m)
  // A smoke run never overwrites the real results.
  expect(readFileSync(`${root}bench/.tmp/RESULTS.smoke.md`, 'utf8')).toContain('smoke run')
})
