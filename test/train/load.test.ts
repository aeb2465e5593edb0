// The collector as a separate process under concurrent load (autocannon), and killed with SIGKILL mid-load.
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Database from 'better-sqlite3'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { execution, tempDir, bundleChild } from './helpers'

let CHILD: string
const BATCH = 10

beforeAll(async () => {
  CHILD = await bundleChild('collector-child')
})

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** Starts `poet serve` in a child process and resolves with its URL once it listens. */
function startCollector(db: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [CHILD, '--port', '0', '--db', db, '--rate', '1000000'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d
      const m = /collecting events at (http:\/\/\S+)\/v1\/events/.exec(out)
      if (m) resolve({ url: m[1]!, child })
    })
    child.stderr!.on('data', (d: Buffer) => (err += d))
    child.on('exit', (code) => reject(new Error(`collector exited with ${code}: ${err}`)))
  })
}

/** Runs autocannon posting unique batches; collects the execution ids of every batch answered 202. */
function load(url: string, seconds: number, onStart?: (stop: () => void) => void) {
  const acked: string[] = []
  let sent = 0
  type Ctx = { ids?: string[] }
  const instance = autocannon({
    url: `${url}/v1/events`,
    connections: 16,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        method: 'POST',
        setupRequest: (req, context: Ctx) => {
          const batch = Array.from({ length: BATCH }, () => execution({ duration: Math.random() * 100 }))
          context.ids = batch.map((e) => e.executionId)
          sent++
          return { ...req, body: JSON.stringify(batch) }
        },
        onResponse: (status, _body, context: Ctx) => {
          if (status === 202) acked.push(...context.ids!)
        },
      },
    ],
  })
  onStart?.(() => instance.stop())
  return new Promise<{ acked: string[]; sent: number; result: autocannon.Result }>((resolve, reject) =>
    instance.on('done', (result) => resolve({ acked, sent, result })).on('error', reject),
  )
}

function missing(db: string, ids: string[]): { missing: string[]; integrity: string; rows: number } {
  const d = new Database(db, { readonly: true })
  try {
    const has = d.prepare('SELECT 1 FROM executions WHERE execution_id = ?')
    return {
      missing: ids.filter((id) => !has.get(id)),
      integrity: d.pragma('integrity_check', { simple: true }) as string,
      rows: (d.prepare('SELECT count(*) AS n FROM executions').get() as { n: number }).n,
    }
  } finally {
    d.close()
  }
}

describe('collector under load', () => {
  it('keeps every acknowledged event under concurrent load', async () => {
    const db = join(tempDir(), 'feedback.db')
    const { url } = await startCollector(db)
    const { acked, sent, result } = await load(url, 3)
    console.log(`load: ${result.requests.total} batches of ${BATCH} in 3 s, ${acked.length} events acknowledged, p99 ${result.latency.p99} ms`)
    expect(result.non2xx).toBe(0)
    expect(acked.length).toBeGreaterThan(1000)
    const after = missing(db, acked)
    expect(after.missing).toEqual([])
    expect(after.integrity).toBe('ok')
    // Batches still in flight when autocannon stopped may be stored without their 202 having been read.
    expect(after.rows).toBeGreaterThanOrEqual(acked.length)
    expect(after.rows).toBeLessThanOrEqual(sent * BATCH)
  })

  it('loses no acknowledged event and stays consistent when killed with SIGKILL mid-load', async () => {
    const db = join(tempDir(), 'feedback.db')
    const first = await startCollector(db)
    const exited = new Promise((r) => first.child.once('exit', r))
    const run = load(first.url, 4, (stop) =>
      setTimeout(() => {
        first.child.kill('SIGKILL')
        setTimeout(stop, 300)
      }, 1500),
    )
    const { acked, sent } = await run
    await exited
    expect(first.child.signalCode).toBe('SIGKILL')
    expect(acked.length).toBeGreaterThan(100)
    console.log(`kill -9: ${sent} batches sent, ${acked.length / BATCH} acknowledged before the kill`)
    const after = missing(db, acked)
    expect(after.missing).toEqual([])
    expect(after.integrity).toBe('ok')

    const second = await startCollector(db)
    const again = await load(second.url, 1)
    expect(again.acked.length).toBeGreaterThan(0)
    const final = missing(db, [...acked, ...again.acked])
    expect(final.missing).toEqual([])
    expect(final.integrity).toBe('ok')
  })
})
