// renderPhaseModule: what the rendered module tells the runtime about the function beside its phases.
import { describe, expect, it } from 'vitest'
import { addHotSwap, renderPhaseModule } from '../../src/generators/render'
import type { PhaseParts } from '../../src/generators/spec'
import type { PhaseModule } from '../../src/runtime/types'

const parts: PhaseParts = {
  generator: 'builtin',
  policy: { attempts: 3, timeout: 30_000, backoff: { initial: 100, max: 5000, factor: 2, jitter: true }, retryOn: 'any', repair: false, sample: 1 },
  perceive: "if (typeof args[0] !== 'number') return [{ path: 'args[0]', expected: 'number', received: typeof args[0] }]",
}

async function load(source: string): Promise<PhaseModule> {
  return (await import(`data:text/javascript,${encodeURIComponent(source)}`)).default as PhaseModule
}

describe('renderPhaseModule', () => {
  it("marks an async function's module async, under the same version as before the flag existed", async () => {
    const plain = renderPhaseModule('src/rates.ts#convert', parts)
    const async = renderPhaseModule('src/rates.ts#convert', parts, { async: true })
    expect(async.version).toBe(plain.version)
    expect((await load(async.source)).async).toBe(true)
    expect(async.source).toContain('  async: true,\n')
  })

  it("leaves a sync function's module exactly as it was", async () => {
    const sync = renderPhaseModule('src/rates.ts#convert', parts, { async: false })
    expect(sync.source).toBe(renderPhaseModule('src/rates.ts#convert', parts).source)
    expect((await load(sync.source)).async).toBeUndefined()
  })
})

describe('addHotSwap', () => {
  /** Evaluates a hot-swappable module against a stand-in for Vite's `import.meta.hot`, sharing `data` across versions. */
  async function loadHot(source: string, data: Record<string, unknown>): Promise<PhaseModule> {
    const hot = `({ accept() {}, data: globalThis.__poetHotData })`
    ;(globalThis as { __poetHotData?: unknown }).__poetHotData = data
    return load(addHotSwap(source).replaceAll('import.meta.hot', hot))
  }

  it('swaps a new version into the object the runtime holds, dropping what the new one no longer says', async () => {
    const data: Record<string, unknown> = {}
    const first = await loadHot(renderPhaseModule('src/rates.ts#convert', { ...parts, neverInEvents: ['stats'] }, { async: true }).source, data)
    expect(first).toMatchObject({ async: true, neverInEvents: ['stats'] })
    const next = renderPhaseModule('src/rates.ts#convert', { ...parts, policy: { ...parts.policy, attempts: 1 } })
    const second = await loadHot(next.source, data)
    expect(second).toBe(first)
    expect(first.version).toBe(next.version)
    expect(first.policy.attempts).toBe(1)
    expect(first).not.toHaveProperty('async')
    expect(first).not.toHaveProperty('neverInEvents')
  })
})
