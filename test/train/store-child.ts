// Entry of the child process the two-process store tests start (bundled by esbuild): opens a FeedbackStore on argv[2]
// and, with `insert <batches> <size> <tag>`, stores that many batches of calls, each in its own transaction, printing
// how many batches failed and the first failure.
import { FeedbackStore } from '../../src/train/store'

const [file, action, ...rest] = process.argv.slice(2)
const store = new FeedbackStore(file!, { retention: { intervalMs: 1e12 } })
process.stdout.write('open\n')
if (action === 'insert') {
  const [batches, size, tag] = [Number(rest[0]), Number(rest[1]), rest[2]!]
  const ts = Date.UTC(2026, 0, 1, 12)
  let failed = 0
  let first = ''
  for (let b = 0; b < batches; b++) {
    const events = Array.from({ length: size }, (_, i) => ({
      v: 1 as const,
      kind: 'execution' as const,
      functionId: 'src/f.ts#f',
      version: 'aaaaaaaaaa',
      executionId: `${tag}-${b}-${i}`,
      ts: ts + ((b * size + i) % 120_000),
      duration: i,
      outcome: 'ok' as const,
      attempts: 1,
    }))
    try {
      store.insert(events)
    } catch (e) {
      failed++
      first ||= (e as Error).message
    }
  }
  process.stdout.write(JSON.stringify({ failed, first }) + '\n')
}
store.close()
