// The collector over real HTTP on 127.0.0.1 with a real SQLite file: what it accepts, what it refuses, what it reports.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createServer as createViteServer } from 'vite'
import { serve, type RunningCollector, type ServeOptions } from '../../src/train/collector'
import { execution, feedback, lockWith, tempDir } from './helpers'

const running: RunningCollector[] = []
afterEach(async () => {
  for (const r of running.splice(0)) await r.close()
})

async function start(options: ServeOptions = {}): Promise<RunningCollector> {
  const r = await serve({ port: 0, db: join(tempDir(), 'feedback.db'), ...options })
  running.push(r)
  return r
}

function post(r: RunningCollector, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${r.url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

const stored = (r: RunningCollector) => r.collector.store.count('executions') + r.collector.store.count('feedback')

describe('poet serve', () => {
  it('goes on storing batches after its HTTP server reports an error, and says so on stderr', async () => {
    const r = await start()
    const said = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      r.server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))
      expect(said).toHaveBeenCalledWith('poet serve: the HTTP server reported an error, still serving: accept EMFILE')
    } finally {
      said.mockRestore()
    }
    const res = await post(r, [execution()])
    expect(res.status).toBe(202)
    expect(stored(r)).toBe(1)
  })
})

describe('POST /v1/events', () => {
  it('stores a valid batch and answers 202 only after it is committed', async () => {
    const r = await start()
    const e1 = execution({ duration: 10 })
    const e2 = execution({ duration: 30, outcome: 'timeout', attempts: 3, error: 'PoetTimeoutError' })
    const res = await post(r, [e1, e2, feedback({ executionId: e1.executionId, score: 0.5, metrics: { cost: 2 } })])
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 3, stored: 3 })
    expect(r.collector.store.count('executions')).toBe(2)
    expect(r.collector.store.count('feedback')).toBe(1)
  })

  it('under load, lets batches arriving in later loop turns share a commit, and acks each only once stored', async () => {
    const r = await start()
    const store = r.collector.store
    const insertMany = store.insertMany.bind(store)
    let commits = 0
    store.insertMany = (...args) => {
      commits++
      return insertMany(...args)
    }
    const batch = () => [execution(), execution()]
    // A first wave of concurrent batches: the collector now knows it is under load.
    const warm = await Promise.all(Array.from({ length: 8 }, () => post(r, batch())))
    expect(warm.map((res) => res.status)).toEqual(Array(8).fill(202))
    commits = 0
    const wave: Promise<Response>[] = []
    for (let i = 0; i < 16; i++) {
      wave.push(post(r, batch()))
      await new Promise((next) => setTimeout(next, 1))
    }
    const acks = await Promise.all(wave)
    expect(acks.map((res) => res.status)).toEqual(Array(16).fill(202))
    expect(commits).toBeLessThan(16)
    expect(store.count('executions')).toBe(48)
  })

  it('ignores a resent batch instead of counting it twice', async () => {
    const r = await start()
    const batch = [execution(), feedback({ label: 'good' })]
    expect((await post(r, batch)).status).toBe(202)
    const again = await post(r, batch)
    expect(again.status).toBe(202)
    expect(await again.json()).toEqual({ accepted: 2, stored: 0 })
    expect(stored(r)).toBe(2)
  })

  it('refuses a missing or wrong bearer token with 401 and stores nothing', async () => {
    const r = await start({ token: 's3cret' })
    const none = await post(r, [execution()])
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer')
    expect((await none.json()).error).toMatch(/bearer token/)
    expect((await post(r, [execution()], { authorization: 'Bearer nope' })).status).toBe(401)
    expect((await post(r, [execution()], { authorization: 's3cret' })).status).toBe(401)
    expect(stored(r)).toBe(0)
    expect((await post(r, [execution()], { authorization: 'Bearer s3cret' })).status).toBe(202)
    expect(stored(r)).toBe(1)
  })

  it('refuses malformed JSON with a readable reason', async () => {
    const r = await start()
    const res = await post(r, '[{"v":1,')
    expect(res.status).toBe(400)
    expect((await res.json()).error).toMatch(/^body is not valid JSON: /)
    expect(stored(r)).toBe(0)
  })

  it.each([
    ['not an array', { events: [] }, /expected a JSON array of events, received an object/],
    ['a value-carrying field', [execution(), execution({ args: [1, 2] } as never)], /events\[1\]\.args: unknown field on an execution event \(events never carry argument or result values\)/],
    ['a wrong version', [execution({ v: 2 } as never)], /events\[0\]\.v: expected 1/],
    ['an unknown kind', [{ ...execution(), kind: 'log' }], /events\[0\]\.kind: expected 'execution' or 'feedback', received a string/],
    ['an unknown outcome', [execution({ outcome: 'meh' } as never)], /events\[0\]\.outcome: expected one of ok, input_error/],
    ['a missing execution id', [{ ...execution(), executionId: undefined }], /events\[0\]\.executionId: expected a string, received a undefined/],
    ['a fractional attempt count', [execution({ attempts: 1.5 })], /events\[0\]\.attempts: expected an integer/],
    ['a negative duration', [execution({ duration: -1 })], /events\[0\]\.duration: expected ≥ 0/],
    ['an issue carrying the received value', [execution({ issues: [{ path: 'args[0]', received: 'secret' } as never] })], /events\[0\]\.issues\[0\]\.received: unknown field/],
    ['a fractional issue count', [execution({ issues: [{ path: 'args[0]' }], issueCount: 2.5 })], /events\[0\]\.issueCount: expected an integer/],
    ['a non-numeric stat', [execution({ stats: { n: 'many' } as never })], /events\[0\]\.stats\.n: expected a finite number, received a string/],
    ['empty feedback', [feedback({ score: undefined })], /events\[0\]: feedback carries none of score, label, metrics, comment/],
    ['a score that is a string', [feedback({ score: '1' as never })], /events\[0\]\.score: expected a finite number/],
  ])('refuses a batch with %s (400, nothing stored, not even its valid events)', async (_name, body, reason) => {
    const r = await start()
    const res = await post(r, Array.isArray(body) ? [execution(), ...body] : body)
    expect(res.status).toBe(400)
    const { error } = await res.json()
    expect(error).toMatch(/^invalid batch, nothing stored: /)
    expect(error.replace(/events\[(\d+)\]/, (_: string, i: string) => `events[${Number(i) - (Array.isArray(body) ? 1 : 0)}]`)).toMatch(reason)
    expect(stored(r)).toBe(0)
  })

  it('refuses each event whose time is absurd (far future, negative, not finite), saying why in the 202, and keeps the rest of the batch', async () => {
    const clock = Date.UTC(2026, 5, 1, 12)
    const r = await start({ now: () => clock })
    const id = encodeURIComponent('src/drift.ts#detectDrift')
    const kept = [execution({ ts: clock - 1000, duration: 40 }), execution({ ts: clock + 3_600_000, duration: 60 })]
    const body = JSON.stringify([
      kept[0],
      // Past 2^63 SQLite holds a time as a float, and its minute no longer matched its latency's: the chart showed 0 ms.
      execution({ ts: 1e19, duration: 50 }),
      execution({ ts: -5 }),
      feedback({ ts: clock + 2 * 86_400_000 }),
      kept[1],
    ])
    // JSON has no Infinity, but a number too large for a double parses as one.
    const res = await post(r, body.replace(/\]$/, `,${JSON.stringify(execution({ ts: 0 })).replace('"ts":0', '"ts":1e999')}]`))
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({
      accepted: 2,
      stored: 2,
      refused: [
        { event: 1, reason: "events[1].ts: 10000000000000000000 is more than a day after this collector's clock (2026-06-01T12:00:00.000Z); check the clock of the machine that sent it" },
        { event: 2, reason: 'events[2].ts: expected epoch milliseconds ≥ 0, received -5' },
        {
          event: 3,
          reason: "events[3].ts: 1780488000000 (2026-06-03T12:00:00.000Z) is more than a day after this collector's clock (2026-06-01T12:00:00.000Z); check the clock of the machine that sent it",
        },
        { event: 5, reason: 'events[5].ts: expected a finite number, received Infinity' },
      ],
    })
    expect(stored(r)).toBe(2)
    const detail = await (await fetch(`${r.url}/v1/functions/${id}?since=${clock - 60_000}&until=${clock + 2 * 3_600_000}&bucket=1h`)).json()
    expect(detail.series.map((b: { calls: number; p50: number }) => [b.calls, b.p50])).toEqual([
      [1, 40],
      [1, 60],
    ])
    // A batch whose every event is refused is answered the same way: nothing in it can be sent again to better effect.
    expect(await (await post(r, [execution({ ts: -1 }), execution({ ts: clock + 2 * 86_400_000 + 0.5 })])).json()).toEqual({
      accepted: 0,
      stored: 0,
      refused: [
        { event: 0, reason: 'events[0].ts: expected epoch milliseconds ≥ 0, received -1' },
        {
          event: 1,
          reason: "events[1].ts: 1780488000000.5 (2026-06-03T12:00:00.000Z) is more than a day after this collector's clock (2026-06-01T12:00:00.000Z); check the clock of the machine that sent it",
        },
      ],
    })
  })

  it('refuses a body over 1 MiB with 413, from its Content-Length, before reading it', async () => {
    const r = await start()
    const big = [execution({ error: 'x'.repeat(150) })]
    while (JSON.stringify(big).length <= 1024 * 1024) big.push(...big.slice(0, 500).map(() => execution({ error: 'x'.repeat(150) })))
    const res = await post(r, big)
    expect(res.status).toBe(413)
    expect((await res.json()).error).toMatch(/body over 1048576 bytes/)
    expect(stored(r)).toBe(0)
  })

  it('refuses a chunked body with 413 as soon as it passes 1 MiB, without waiting for its end', async () => {
    const r = await start()
    const { status, sentAfterAnswer } = await new Promise<{ status: number; sentAfterAnswer: boolean }>((resolve, reject) => {
      let answered = false
      const req = request(`${r.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        answered = true
        res.resume()
        resolve({ status: res.statusCode!, sentAfterAnswer: false })
        req.destroy()
      })
      req.on('error', (e) => (answered ? undefined : reject(e)))
      req.write('[')
      const chunk = JSON.stringify(execution()) + ','
      // A client that would send 8 MiB: the answer must come long before.
      let sent = 0
      const pump = () => {
        while (!answered && sent < 8 * 1024 * 1024) {
          sent += chunk.length
          if (!req.write(chunk)) return void req.once('drain', pump)
        }
        if (!answered) req.end('{}]')
      }
      pump()
    })
    expect(status).toBe(413)
    expect(sentAfterAnswer).toBe(false)
    expect(stored(r)).toBe(0)
  })

  it('answers 429 with Retry-After once a token spends its rate, and accepts again after waiting', async () => {
    let clock = Date.now()
    const r = await start({ token: 't', rateLimit: { eventsPerSecond: 10, burst: 20 }, now: () => clock })
    const auth = { authorization: 'Bearer t' }
    expect((await post(r, Array.from({ length: 15 }, () => execution()), auth)).status).toBe(202)
    const limited = await post(r, Array.from({ length: 10 }, () => execution()), auth)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('1')
    expect((await limited.json()).error).toMatch(/rate limit: retry after 1s/)
    expect(stored(r)).toBe(15)
    // The same token written another way is still the same token, with the same budget.
    for (const authorization of ['Bearer  t', 'bearer t', 'Bearer t ']) {
      expect((await post(r, Array.from({ length: 10 }, () => execution()), { authorization })).status).toBe(429)
    }
    expect(stored(r)).toBe(15)
    clock += 1000
    expect((await post(r, Array.from({ length: 10 }, () => execution()), auth)).status).toBe(202)
    expect(stored(r)).toBe(25)
  })

  it('answers 503 with Retry-After, storing nothing, when the store cannot commit', async () => {
    const dir = tempDir()
    const { FeedbackStore } = await import('../../src/train/store')
    const store = new FeedbackStore(join(dir, 'feedback.db'))
    const r = await start({ store })
    store.close()
    const res = await post(r, [execution()])
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('1')
    expect((await res.json()).error).toMatch(/^the feedback store could not commit the batch, nothing stored: /)
  })

  it('acknowledges a committed batch although the retention run after it fails (it is not "nothing stored")', async () => {
    const r = await start({ retention: { maxRows: 1 } })
    // Stands in for what makes a DELETE fail in production (another process holding the write lock past the busy timeout).
    r.collector.store.db.exec(`CREATE TRIGGER keep BEFORE DELETE ON executions BEGIN SELECT RAISE(ABORT, 'database is locked'); END`)
    const res = await post(r, [execution(), execution()])
    expect(await res.json()).toEqual({ accepted: 2, stored: 2 })
    expect(res.status).toBe(202)
    expect(r.collector.store.count('executions')).toBe(2)
  })

  it('answers 503 with Retry-After and what is wrong while the lock cannot be read, storing nothing, and takes the same batch once it is fixed', async () => {
    const dir = tempDir()
    const lockDir = join(dir, '.poet')
    const vitals = lockWith(lockDir, 'src/vitals.ts#triage', { neverInEvents: ['stats', 'comment', 'label'] })
    const good = readFileSync(vitals.lock.file, 'utf8')
    const r = await start({ lockDir })
    const run = execution({ functionId: 'src/vitals.ts#triage', version: vitals.version, stats: { 'heartRate.n': 1 } })
    const rated = feedback({ functionId: 'src/vitals.ts#triage', version: vitals.version, executionId: run.executionId, label: 'tachycardia', comment: 'patient Jane Doe, bed 4' })
    const batch = [run, rated]
    // What `git merge` leaves when both branches moved the function's current version.
    writeFileSync(vitals.lock.file, good.replace(/^( *"current": ).*$/m, (line, head: string) => `<<<<<<< HEAD\n${line}\n=======\n${head}"bbbbbbbbbb",\n>>>>>>> feature`))
    for (const broken of [undefined, '[]\n']) {
      if (broken) writeFileSync(vitals.lock.file, broken)
      const res = await post(r, batch)
      expect(res.status).toBe(503)
      expect(res.headers.get('retry-after')).toBe('10')
      const { error } = await res.json()
      expect(error).toContain(vitals.lock.file)
      expect(error).toMatch(broken ? /it is JSON but not a poet lock/ : /it holds unresolved merge conflict markers/)
      expect(error).toMatch(/^the lock cannot be read, so this batch cannot be checked against the event limits of its functions' domains; nothing stored, send it again once the lock is fixed: /)
      expect(stored(r)).toBe(0)
    }
    writeFileSync(vitals.lock.file, good)
    // A lock naming a phase module that is not there: its limits are as unknown.
    const phase = join(lockDir, vitals.lock.read().functions['src/vitals.ts#triage']!.versions[vitals.version]!.file)
    const phaseSource = readFileSync(phase, 'utf8')
    rmSync(phase)
    const missing = await post(r, batch)
    expect(missing.status).toBe(503)
    expect((await missing.json()).error).toContain(`poet: cannot read ${phase}, the phase module of src/vitals.ts#triage version ${vitals.version} that ${vitals.lock.file} names.`)
    expect(stored(r)).toBe(0)
    writeFileSync(phase, phaseSource)
    expect((await post(r, batch)).status).toBe(202)
    expect(stored(r)).toBe(2)
    expect(r.collector.store.comments('src/vitals.ts#triage', vitals.version)).toEqual([])
    expect(r.collector.store.observations('src/vitals.ts#triage', vitals.version)).toEqual([])
  })

  it('stores nothing from a client that hangs up mid-body, and keeps serving', async () => {
    const r = await start()
    await new Promise<void>((resolve) => {
      const req = request(`${r.url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100000' } })
      req.on('error', () => resolve())
      req.write(JSON.stringify([execution()]).slice(0, -1), () => setTimeout(() => req.destroy(), 50))
      req.on('close', () => resolve())
    })
    expect((await post(r, [execution()])).status).toBe(202)
    expect(stored(r)).toBe(1)
  })

  it('answers a CORS preflight and lets browsers read Retry-After', async () => {
    const r = await start()
    const pre = await fetch(`${r.url}/v1/events`, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST' } })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    // httpSink sends x-poet-dropped (its count of events dropped from a full queue): the preflight must allow it.
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type, authorization, x-poet-dropped')
    const res = await post(r, [execution()], { origin: 'http://app.test' })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toMatch(/retry-after/)
  })

  it('records what sinks report dropped in x-poet-dropped: the highest running count of each sink, only from requests it takes', async () => {
    const r = await start({ token: 'k' })
    const auth = { authorization: 'Bearer k' }
    const health = async () => ((await (await fetch(`${r.url}/healthz`)).json()) as { dropped: { events: number; since?: number } }).dropped
    const before = Date.now()
    expect((await post(r, [execution()], { ...auth, 'x-poet-dropped': '4;session=page1' })).status).toBe(202)
    // The same count resent with a batch, and an older one arriving late: no more drops.
    expect((await post(r, [execution()], { ...auth, 'x-poet-dropped': '4;session=page1' })).status).toBe(202)
    expect((await post(r, [execution()], { ...auth, 'x-poet-dropped': '2; session=page1' })).status).toBe(202)
    // So does an empty batch, which a sink sends when a page is left with nothing that fits but the count.
    expect((await post(r, [], { ...auth, 'x-poet-dropped': '1;session=page0' })).status).toBe(202)
    // A batch whose every event is refused still tells its drops.
    const future = execution({ ts: Date.now() + 3 * 86_400_000 })
    expect((await post(r, [future], { ...auth, 'x-poet-dropped': '5;session=page2' })).status).toBe(202)
    // Not from a request without the token, nor one refused as invalid; a bare count (no session) cannot be told from
    // the same count sent again, and a value that is no count says nothing.
    expect((await post(r, [execution()], { 'x-poet-dropped': '100;session=page3' })).status).toBe(401)
    expect((await post(r, [{ v: 1 }], { ...auth, 'x-poet-dropped': '100;session=page3' })).status).toBe(400)
    for (const header of ['100', '-3;session=page4', '1e3;session=page4', '7;session=', '7;session=a b']) {
      expect((await post(r, [execution()], { ...auth, 'x-poet-dropped': header })).status).toBe(202)
    }
    const dropped = await health()
    expect(dropped.events).toBe(10)
    expect(dropped.since).toBeGreaterThanOrEqual(before - (before % 60_000))
    const table = await (await fetch(`${r.url}/v1/functions?window=15m`, { headers: auth })).json()
    expect(table).toMatchObject({ dropped: 10 })
    const earlier = await (await fetch(`${r.url}/v1/functions?since=0&until=${before - 120_000}`, { headers: auth })).json()
    expect(earlier).toMatchObject({ dropped: 0 })
  })

  it('answers 405 to other methods', async () => {
    const r = await start()
    const res = await fetch(`${r.url}/v1/events`)
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('POST, OPTIONS')
  })
})

describe('GET endpoints', () => {
  it('GET /v1/functions is the status table: calls, error rate by kind, p50/p95, score per version', async () => {
    const r = await start()
    const t = Date.now()
    const events = [
      ...Array.from({ length: 8 }, (_, i) => execution({ ts: t, duration: (i + 1) * 10 })),
      execution({ ts: t, outcome: 'timeout', duration: 100 }),
      execution({ ts: t, outcome: 'input_error', duration: 1 }),
      execution({ ts: t, version: 'bbbbbbbbbb', duration: 5 }),
      execution({ ts: t, functionId: 'src/other.ts#f' }),
    ]
    expect((await post(r, events)).status).toBe(202)
    expect((await post(r, [feedback({ executionId: events[0]!.executionId, score: 0.2 }), feedback({ executionId: events[1]!.executionId, score: 0.6 })])).status).toBe(202)
    const res = await fetch(`${r.url}/v1/functions`)
    expect(res.status).toBe(200)
    const { functions } = await res.json()
    expect(functions.map((f: { id: string; version: string }) => `${f.id} ${f.version}`)).toEqual([
      'src/drift.ts#detectDrift aaaaaaaaaa',
      'src/drift.ts#detectDrift bbbbbbbbbb',
      'src/other.ts#f aaaaaaaaaa',
    ])
    expect(functions[0]).toMatchObject({
      calls: 10,
      errorRate: { input_error: 0.1, output_error: 0, timeout: 0.1, error: 0 },
      p50: 40,
      p95: 100,
      score: { n: 2 },
    })
    expect(functions[0].score.mean).toBeCloseTo(0.4)
  })

  it('GET /v1/functions/:id shows versions, a time series and 404s an unknown id', async () => {
    const r = await start()
    const t0 = Date.UTC(2026, 0, 1, 12)
    const events = [
      execution({ ts: t0, duration: 10 }),
      execution({ ts: t0 + 1000, duration: 20, outcome: 'error' }),
      execution({ ts: t0 + 60_000, duration: 30 }),
    ]
    expect((await post(r, events)).status).toBe(202)
    const id = encodeURIComponent('src/drift.ts#detectDrift')
    const res = await fetch(`${r.url}/v1/functions/${id}?since=${t0}&until=${t0 + 120_000}&bucket=1m`)
    expect(res.status).toBe(200)
    const detail = await res.json()
    expect(detail.id).toBe('src/drift.ts#detectDrift')
    expect(detail.versions).toMatchObject([{ version: 'aaaaaaaaaa', calls: 3, errorRate: { error: 1 / 3 } }])
    expect(detail.series).toEqual([
      { t: t0, calls: 2, errors: 1, p50: 10, p95: 20 },
      { t: t0 + 60_000, calls: 1, errors: 0, p50: 30, p95: 30 },
    ])
    // Buckets without calls are left out: the bucket size says where they would be, so a chart can show them empty.
    expect(detail.bucket).toBe(60_000)
    const missing = await fetch(`${r.url}/v1/functions/${encodeURIComponent('src/nope.ts#x')}`)
    expect(missing.status).toBe(404)
    expect((await missing.json()).error).toMatch(/no function "src\/nope.ts#x"/)
    const bad = await fetch(`${r.url}/v1/functions?window=forever`)
    expect(bad.status).toBe(400)
    expect((await bad.json()).error).toMatch(/window must look like 15m, 24h or 7d/)
  })

  it('serves series in buckets of whole minutes, from the per-minute counts: other sizes are refused, saying which are allowed', async () => {
    const r = await start()
    const t0 = Date.UTC(2026, 0, 1, 12)
    expect((await post(r, [execution({ ts: t0 + 1000 }), execution({ ts: t0 + 61_000, outcome: 'error' })])).status).toBe(202)
    const id = encodeURIComponent('src/drift.ts#detectDrift')
    const detail = (query: string) => fetch(`${r.url}/v1/functions/${id}?${query}`)
    // A bare number (minutes, as the reader of "a whole number of minutes" may take it) is told the unit it lacks.
    for (const bucket of ['90s', '1.5m', '500ms', '0m', 'soon', '', '5']) {
      const res = await detail(`since=${t0}&until=${t0 + 120_000}&bucket=${bucket}`)
      expect(res.status, bucket).toBe(400)
      expect((await res.json()).error).toBe(
        `bucket must be a whole number of minutes with its unit, like 1m, 5m, 1h or 1d (the store counts calls per minute), received ${JSON.stringify(bucket)}`,
      )
    }
    const twoMinutes = await (await detail(`since=${t0}&until=${t0 + 120_000}&bucket=2m`)).json()
    expect(twoMinutes.series).toEqual([{ t: t0, calls: 2, errors: 1, p50: 12, p95: 12 }])
    // Without one, a sixtieth of the window, in whole minutes: 100 minutes are drawn in buckets of 2, 80 in buckets of 1.
    expect((await (await detail(`since=${t0}&until=${t0 + 100 * 60_000}`)).json()).bucket).toBe(120_000)
    expect((await (await detail(`since=${t0}&until=${t0 + 80 * 60_000}`)).json()).bucket).toBe(60_000)
    expect((await (await detail(`since=${t0 - 7 * 86_400_000}&until=${t0 + 30_000}`)).json()).bucket).toBe(168 * 60_000)
  })

  it('marks current and candidate versions and shows version reasons when it knows the lock', async () => {
    const dir = tempDir()
    const { lock, version } = lockWith(join(dir, '.poet'), 'src/drift.ts#detectDrift', { optimizeFor: 'accuracy' })
    lock.update((l) => void (l.functions['src/drift.ts#detectDrift']!.candidate = { version: 'bbbbbbbbbb', share: 0.25 }))
    const r = await start({ lockDir: join(dir, '.poet') })
    expect((await post(r, [execution({ version }), execution({ version: 'bbbbbbbbbb' })])).status).toBe(202)
    const { functions } = await (await fetch(`${r.url}/v1/functions`)).json()
    expect(functions.map((f: { version: string; role: string; share: number }) => [f.version, f.role, f.share])).toEqual(
      [[version, 'current', 0.75], ['bbbbbbbbbb', 'candidate', 0.25]].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
    const detail = await (await fetch(`${r.url}/v1/functions/${encodeURIComponent('src/drift.ts#detectDrift')}`)).json()
    expect(detail).toMatchObject({ current: version, candidate: { version: 'bbbbbbbbbb', share: 0.25 } })
    expect(detail.versions.find((v: { version: string }) => v.version === version)).toMatchObject({ role: 'current', generator: 'builtin', reason: 'build', calls: 1 })
  })

  it("drops what a function's domain forbids in events, even from a client that could not know the domain", async () => {
    const dir = tempDir()
    const vitals = lockWith(join(dir, '.poet'), 'src/vitals.ts#triage', { neverInEvents: ['stats', 'comment', 'label'] })
    const drift = lockWith(join(dir, '.poet'), 'src/drift.ts#detectDrift')
    const r = await start({ lockDir: join(dir, '.poet') })
    // What a server would send after rating, by its ref, a result a browser computed: it never ran triage itself.
    const run = execution({ functionId: 'src/vitals.ts#triage', version: vitals.version, stats: { 'heartRate.n': 1 } })
    const rated = feedback({ functionId: 'src/vitals.ts#triage', version: vitals.version, executionId: run.executionId, label: 'tachycardia', comment: 'patient Jane Doe, bed 4', score: 0.9 })
    const other = execution({ version: drift.version, stats: { n: 4 } })
    const otherRated = feedback({ version: drift.version, executionId: other.executionId, label: 'missed-drift', comment: 'late by a day' })
    expect((await post(r, [run, rated, other, otherRated])).status).toBe(202)

    const store = r.collector.store
    expect(store.comments('src/vitals.ts#triage', vitals.version)).toEqual([])
    expect(store.metrics('src/vitals.ts#triage')[0]).toMatchObject({ version: vitals.version, calls: 1, score: { n: 1 } })
    expect(store.observations('src/vitals.ts#triage', vitals.version)).toEqual([])
    expect(store.comments('src/drift.ts#detectDrift', drift.version)).toEqual([{ score: 1, label: 'missed-drift', comment: 'late by a day' }])
    expect(store.observations('src/drift.ts#detectDrift', drift.version)).toEqual([{ outcome: 'ok', issues: [], stats: { n: 4 }, rating: 'good' }])
  })

  it('keeps answering (and the trainer keeps reading) after valid events whose numbers sum past 64-bit integers', async () => {
    const dir = tempDir()
    lockWith(join(dir, '.poet'), 'src/drift.ts#detectDrift', { optimizeFor: 'cost' })
    const r = await start({ lockDir: join(dir, '.poet') })
    const big = [execution({ attempts: 9e18 }), execution({ attempts: 9e18 })]
    const rated = big.map((e) => feedback({ executionId: e.executionId, metrics: { cost: 9e18 } }))
    expect((await post(r, [...big, ...rated])).status).toBe(202)
    const table = await fetch(`${r.url}/v1/functions`)
    expect(table.status).toBe(200)
    expect((await table.json()).functions).toContainEqual(expect.objectContaining({ id: 'src/drift.ts#detectDrift', calls: 2 }))
    const detail = await fetch(`${r.url}/v1/functions/${encodeURIComponent('src/drift.ts#detectDrift')}`)
    expect(detail.status).toBe(200)
    const versions: { version: string; metrics: Record<string, unknown> }[] = (await detail.json()).versions
    expect(versions.find((v) => v.version === 'aaaaaaaaaa')?.metrics.cost).toMatchObject({ n: 2, mean: 9e18 })
    const { planTraining } = await import('../../src/train/trainer')
    expect(planTraining({ lockDir: join(dir, '.poet'), store: r.collector.store })).toHaveLength(1)
  })

  it('takes events whose function id is a name Object.prototype holds, and 404s their detail', async () => {
    const dir = tempDir()
    lockWith(join(dir, '.poet'), 'src/drift.ts#detectDrift')
    const r = await start({ lockDir: join(dir, '.poet') })
    const names = ['constructor', '__proto__', 'toString']
    expect((await post(r, names.map((functionId) => execution({ functionId })))).status).toBe(202)
    expect(r.collector.store.count('executions')).toBe(3)
    expect((await fetch(`${r.url}/v1/functions`)).status).toBe(200)
    expect((await fetch(`${r.url}/v1/functions/hasOwnProperty`)).status).toBe(404)
  })

  it('GET /healthz answers without a token; /v1/functions needs it when one is set', async () => {
    const r = await start({ token: 'k' })
    const health = await fetch(`${r.url}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ ok: true, executions: 0, feedback: 0, dropped: { events: 0 } })
    expect((await fetch(`${r.url}/v1/functions`)).status).toBe(401)
    expect((await fetch(`${r.url}/v1/functions`, { headers: { authorization: 'Bearer k' } })).status).toBe(200)
    expect((await fetch(`${r.url}/nowhere`)).status).toBe(404)
  })
})

describe('GET /healthz', () => {
  it('reports the events the store holds from their running totals, reading none of the events (a load balancer polls it on the loop that acks batches)', async () => {
    const r = await start({ retention: { maxRows: 300 } })
    const calls = Array.from({ length: 400 }, (_, i) => execution({ ts: Date.now() - i }))
    expect((await post(r, [...calls, feedback({ executionId: calls[0]!.executionId })])).status).toBe(202)
    // A resent call is not counted twice; retention (maxRows) ran after the batch.
    expect((await post(r, calls.slice(-10))).status).toBe(202)
    // Every statement healthz prepares, to read its query plan.
    const prepared: string[] = []
    const original = Database.prototype.prepare
    const spy = vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
      prepared.push(sql)
      return original.call(this, sql)
    } as never)
    let health: unknown
    try {
      health = await (await fetch(`${r.url}/healthz`)).json()
    } finally {
      spy.mockRestore()
    }
    expect(health).toEqual({ ok: true, executions: 300, feedback: 1, dropped: { events: 0 } })
    const db = r.collector.store.db
    // Parameters as NULL: a plan does not depend on their values.
    const plans = prepared.flatMap((sql) => (db.prepare(`EXPLAIN QUERY PLAN ${sql.replaceAll('?', 'NULL')}`).all() as { detail: string }[]).map((p) => p.detail))
    expect(plans.length).toBeGreaterThan(0)
    expect(plans.filter((p) => /\b(executions|feedback)\b/.test(p))).toEqual([])
  })
})

describe('mounted in the Vite dev server', () => {
  it('takes events at /__poet/events and leaves every other request to Vite', async () => {
    const { createCollector } = await import('../../src/train/collector')
    const dir = tempDir()
    const collector = createCollector({ db: join(dir, 'feedback.db') })
    const vite = await createViteServer({
      root: dir,
      logLevel: 'silent',
      configFile: false,
      server: { port: 0, host: '127.0.0.1', strictPort: false },
      plugins: [{ name: 'poet-events', configureServer: (s) => void s.middlewares.use('/__poet/events', collector.events) }],
    })
    try {
      await vite.listen()
      const url = vite.resolvedUrls!.local[0]!.replace(/\/$/, '')
      const res = await fetch(`${url}/__poet/events`, { method: 'POST', body: JSON.stringify([execution()]) })
      expect(res.status).toBe(202)
      expect(collector.store.count('executions')).toBe(1)
      const bad = await fetch(`${url}/__poet/events`, { method: 'POST', body: '{' })
      expect(bad.status).toBe(400)
      const get = await fetch(`${url}/__poet/events`)
      expect(get.status).not.toBe(405)
    } finally {
      await vite.close()
      collector.close()
    }
  })
})
