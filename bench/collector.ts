// Benchmark: collector ingest, batches of 50 events over keep-alive connections, each 202 only after its SQLite commit; events/s and ack latency.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { emit, measured, progress, ROOT, SMOKE, TMP, verdict, type Row } from './lib/harness'

const BATCH = 50
const CONNECTIONS = 32
const ROUNDS = SMOKE ? 1 : 3
const SECONDS = SMOKE ? 1 : 8

/** A batch as httpSink posts it: mostly ok executions, some with issues, some feedback; every execution id unique. */
let next = 0
function batch(): string {
  const ts = Date.now()
  const events = []
  for (let i = 0; i < BATCH; i++) {
    const n = next++
    const executionId = `bench-${process.pid}-${n}`
    const functionId = `src/m/m${n % 50}.ts#total${n % 50}`
    if (n % 10 === 9) events.push({ v: 1, kind: 'feedback', functionId, version: 'a1b2c3d4e5', executionId, ts, score: 0.8, label: 'ok' })
    else
      events.push({
        v: 1, kind: 'execution', functionId, version: 'a1b2c3d4e5', executionId, ts, duration: 1.25, attempts: 1,
        ...(n % 10 === 4 ? { outcome: 'input_error', issues: [{ path: 'args[0].qty' }], error: 'PoetInputError' } : { outcome: 'ok' }),
      })
  }
  return JSON.stringify(events)
}

/** CPU seconds the collector process has used so far (Linux /proc; clock ticks are 100 Hz there). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

const db = join(TMP, 'collector-bench.db')
for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true })
const server = spawn(process.execPath, [join(ROOT, 'bench/.tmp/collector-server.mjs'), db], { stdio: ['ignore', 'pipe', 'inherit'] })
try {
  const [line] = (await once(server.stdout!, 'data')) as [Buffer]
  const url = line.toString().trim()
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`bench: the collector did not start, it printed ${JSON.stringify(url)}`)

  const rates: number[] = []
  const perCpu: number[] = []
  const p99s: number[] = []
  const p50s: number[] = []
  let acked = 0
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = cpuSeconds(server.pid!)
    const result = await autocannon({
      url: `${url}/v1/events`,
      connections: CONNECTIONS,
      pipelining: 1,
      duration: SECONDS,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req) => ({ ...req, body: batch() }) }],
    })
    if (result.non2xx || result.errors || result.timeouts) {
      throw new Error(`bench: collector answered ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`)
    }
    acked += result['2xx']
    rates.push((result['2xx'] * BATCH) / result.duration)
    perCpu.push((result['2xx'] * BATCH) / (cpuSeconds(server.pid!) - cpu0))
    p99s.push(result.latency.p99)
    p50s.push(result.latency.p50)
    progress(`collector: round ${r + 1}/${ROUNDS}: ${Math.round(rates.at(-1)!)} events/s, p99 ack ${result.latency.p99} ms`)
  }
  // Durable means stored: every acknowledged event must be in the SQLite file (batches still in flight when a round
  // ended were stored too, unacknowledged as far as autocannon counts).
  const health = (await (await fetch(`${url}/healthz`)).json()) as { executions: number; feedback: number }
  if (health.executions + health.feedback < acked * BATCH) {
    throw new Error(`bench: ${acked * BATCH} events were acknowledged but the store holds ${health.executions + health.feedback}`)
  }

  const rate = measured(rates)
  const p99 = measured(p99s)
  const rows: Row[] = [
    {
      what: `collector ingest, durable acks, batches of ${BATCH} over ${CONNECTIONS} keep-alive connections`,
      baseline: '—',
      measured: `${Math.round(rate.median).toLocaleString('en')} events/s ±${(rate.spread * 100).toFixed(0)}%`,
      ratio: `p99 ack ${p99.median} ms (p50 ${measured(p50s).median} ms)`,
      target: '≥ 20,000 events/s',
      verdict: verdict(rate.median >= 20_000),
      note:
        `collector: ${ROUNDS} rounds of ${SECONDS} s with autocannon (in this process) against \`poet serve\` (its own process, rate limit off, ` +
        `SQLite WAL + synchronous=FULL); the collector process spent one CPU-second per ${Math.round(measured(perCpu).median).toLocaleString('en')} events (the client shares the 2 cores); all ${(acked * BATCH).toLocaleString('en')} acknowledged events were found in the SQLite file afterwards.`,
    },
  ]
  emit(rows)
} finally {
  server.kill('SIGTERM')
}
