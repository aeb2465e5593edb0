// The playground behind `npm run demo`: built with Vite like a user's app, its scenario run in Node.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { PACKAGE_ROOT } from './helpers/project'

const dir = (() => {
  mkdirSync(join(PACKAGE_ROOT, 'test/.tmp'), { recursive: true })
  return mkdtempSync(join(PACKAGE_ROOT, 'test/.tmp/playground-'))
})()

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the playground (npm run demo)', () => {
  it('builds with Vite and runs a scenario whose five steps each behave as the README says', async () => {
    const skip = new Set(['node_modules', 'dist', '.poet'])
    cpSync(join(PACKAGE_ROOT, 'playground'), dir, { recursive: true, filter: (src) => !skip.has(src.split('/').pop()!) })
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(PACKAGE_ROOT, join(dir, 'node_modules/unplugin-poet'), 'dir')

    const { buildPlayground } = await import('../playground/build.mjs')
    const { nodeEntry, lockFile } = await buildPlayground(dir, { logLevel: 'silent' })

    expect(existsSync(join(dir, 'dist/index.html'))).toBe(true)
    const lock = JSON.parse(readFileSync(lockFile, 'utf8'))
    expect(Object.keys(lock.functions).sort()).toEqual([
      'src/drift.ts#detectDrift',
      'src/orders.ts#priceOrder',
      'src/weather.ts#fetchForecast',
      'src/weather.ts#slowLookup',
    ])

    const run = spawnSync(process.execPath, ['--enable-source-maps', nodeEntry], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    const out = run.stdout
    expect(out).toContain('✓ accepted call')
    expect(out).toContain('priceOrder → total 21 over 2 lines')
    expect(out).toContain('args[0].items[1].price: expected number, received string')
    expect(out).toContain('perceive ✗ → operate skipped')
    expect(out).toContain('fetchForecast → 21.5°C in Lisbon after 3 attempts')
    expect(out).toMatch(/PoetTimeoutError: .*slowLookup timed out after 50 ms/)
    expect(out).toContain('operate ✗ timeout after 2 attempts')
    // Level 3: a result of a function with optimizeFor, rated with feedback().
    expect(out).toContain("✓ rated result\n    detectDrift → no drift (z 2.62), rated 0.2 'missed-drift': the feedback Train learns from")
    expect(out).toContain('All 5 steps behaved as expected.')
  })
})
