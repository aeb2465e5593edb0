// Dashboard polls over real HTTP on a real SQLite file: 3 functions with 300 000 calls each in an hour (83/s), a
// candidate serving 1 in 10, feedback on 1 in 4. Not part of `npm run bench` (writing the file takes a minute).
//   npx esbuild bench/dashboard-poll.ts --bundle --platform=node --format=esm --packages=external --outfile=bench/.tmp/dashboard-poll.mjs
//   node bench/.tmp/dashboard-poll.mjs write <dir>   then   node bench/.tmp/dashboard-poll.mjs time <dir>
import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import { FeedbackStore } from '../src/train/store'
import { serve } from '../src/train/collector'
import type { PoetEvent } from '../src/runtime/types'

const [mode, dir] = process.argv.slice(2) as [string, string]
const file = join(dir, 'feedback.db')
const FUNCTIONS = 3
const N = 300_000
if (mode === 'write') {
  const now = Date.now()
  writeFileSync(join(dir, 'now'), String(now))
  const store = new FeedbackStore(file)
  const t0 = performance.now()
  for (let f = 0; f < FUNCTIONS; f++) {
    const events: PoetEvent[] = []
    for (let i = 0; i < N; i++) {
      const id = `f${f}-${i}`
      const ts = now - 3_600_000 + Math.floor((i * 3_600_000) / N)
      const version = i % 10 === 3 ? 'cand' : 'curr'
      events.push({ v: 1, kind: 'execution', functionId: `src/f${f}.ts#fn`, version, executionId: id, ts, duration: (i * 7919) % 1000, outcome: i % 50 === 0 ? 'error' : i % 77 === 0 ? 'input_error' : 'ok', attempts: 1 + (i % 3 === 0 ? 1 : 0) })
      if (i % 4 === 0) events.push({ v: 1, kind: 'feedback', functionId: `src/f${f}.ts#fn`, version, executionId: id, ts, score: (i % 5) / 4, ...(i % 8 === 0 ? { metrics: { cost: i % 7 } } : {}) })
    }
    store.insertMany([events])
  }
  console.log(`wrote ${FUNCTIONS} × ${N} calls (and feedback on 1 in 4) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  store.close()
} else {
  const now = Number(readFileSync(join(dir, 'now'), 'utf8'))
  const until = now - 7_000
  const since = until - 3_600_000
  const t0 = performance.now()
  const running = await serve({ db: file, port: 0, rateLimit: false })
  console.log(`open: ${(performance.now() - t0).toFixed(0)} ms`)
  const paths = {
    table: `/v1/functions?since=${since}&until=${until}`,
    'table 15m': `/v1/functions?since=${until - 900_000}&until=${until}`,
    detail: `/v1/functions/${encodeURIComponent('src/f0.ts#fn')}?since=${since}&until=${until}`,
  }
  for (const [name, path] of Object.entries(paths)) {
    const ms: number[] = []
    for (let i = 0; i < Number(process.env.ROUNDS ?? 9); i++) {
      const t = performance.now()
      const res = await fetch(running.url + path)
      await res.text()
      ms.push(performance.now() - t)
    }
    ms.sort((a, b) => a - b)
    console.log(`${name}: median ${ms[ms.length >> 1]!.toFixed(1)} ms (min ${ms[0]!.toFixed(1)})`)
  }
  await running.close()
}
