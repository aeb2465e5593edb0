// Events under thousands of made-up function ids (any client can send them): the status table stays a bounded read.
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { MAX_TABLE_FUNCTIONS, serve, type RunningCollector } from '../../src/train/collector'
import { execution, lockWith, tempDir } from './helpers'

const REAL = 'src/api.ts#fetchQuote'
let running: RunningCollector | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

it('lists the lock\'s functions and the busiest others, says how many it left out, and answers in one bounded read', async () => {
  const dir = tempDir()
  const { version } = lockWith(join(dir, '.poet'), REAL)
  running = await serve({ port: 0, db: join(dir, 'feedback.db'), lockDir: join(dir, '.poet'), rateLimit: false })
  const flood = MAX_TABLE_FUNCTIONS * 5
  const busy = 'src/busy.ts#busy'
  const events = [
    ...Array.from({ length: flood }, (_, i) => execution({ functionId: `src/flood.ts#f${String(i).padStart(5, '0')}` })),
    ...Array.from({ length: 3 }, () => execution({ functionId: busy })),
    execution({ functionId: REAL, version }),
  ]
  for (let i = 0; i < events.length; i += 2000) {
    const res = await fetch(`${running.url}/v1/events`, { method: 'POST', body: JSON.stringify(events.slice(i, i + 2000)), signal: AbortSignal.timeout(10_000) })
    expect(res.status).toBe(202)
  }
  const table = (await (await fetch(`${running.url}/v1/functions`, { signal: AbortSignal.timeout(30_000) })).json()) as { functions: { id: string }[]; omitted?: number }
  const ids = new Set(table.functions.map((r) => r.id))
  expect(ids.size).toBe(MAX_TABLE_FUNCTIONS + 1)
  expect(ids.has(REAL)).toBe(true)
  expect(ids.has(busy)).toBe(true)
  expect(table.omitted).toBe(flood + 1 - MAX_TABLE_FUNCTIONS)
  // One function's page is still served, listed or not.
  expect((await fetch(`${running.url}/v1/functions/${encodeURIComponent('src/flood.ts#f00999')}`)).status).toBe(200)
})

it('leaves out nothing, and says nothing of it, under the bound', async () => {
  const dir = tempDir()
  running = await serve({ port: 0, db: join(dir, 'feedback.db'), rateLimit: false })
  const res = await fetch(`${running.url}/v1/events`, { method: 'POST', body: JSON.stringify([execution({ functionId: 'src/a.ts#a' }), execution({ functionId: 'src/b.ts#b' })]) })
  expect(res.status).toBe(202)
  const table = (await (await fetch(`${running.url}/v1/functions`)).json()) as { functions: { id: string }[]; omitted?: number }
  expect(table.functions.map((r) => r.id)).toEqual(['src/a.ts#a', 'src/b.ts#b'])
  expect(table).not.toHaveProperty('omitted')
})
