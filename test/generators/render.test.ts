// renderPhaseModule: what the rendered module tells the runtime about the function beside its phases.
import { describe, expect, it } from 'vitest'
import { renderPhaseModule } from '../../src/generators/render'
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
