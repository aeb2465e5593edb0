// `poet serve` under slow clients (slowloris): connections that trickle their headers or body are cut within seconds, a
// full server closes new connections at once, and a real httpSink's batches still get 202 with nothing acknowledged lost.
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { httpSink } from '../../src/runtime/sinks/http'
import { serve, type RunningCollector, type ServeOptions } from '../../src/train/collector'
import { serveCommand } from '../../src/train/commands'
import { execution, lockWith, tempDir } from './helpers'

const running: RunningCollector[] = []
const sockets: Socket[] = []
const timers: NodeJS.Timeout[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  for (const t of timers.splice(0)) clearInterval(t)
  for (const s of sockets.splice(0)) s.destroy()
  for (const r of running.splice(0)) await r.close()
})

async function start(o: ServeOptions = {}): Promise<RunningCollector> {
  const r = await serve({ db: join(tempDir(), 'feedback.db'), port: 0, rateLimit: false, ...o })
  running.push(r)
  return r
}

interface SlowClient {
  /** Resolves once the server has closed the connection: with what it answered, if anything. */
  closed: Promise<string>
  isClosed(): boolean
  /** What the server has answered so far. */
  answer(): string
}

/** A client that connects to `url`, sends `start` at once, then `drip` one character every `every` ms, forever. */
function slowClient(url: string, start: string, every: number, drip = 'a'): SlowClient {
  const { port } = new URL(url)
  const socket = connect(Number(port), '127.0.0.1')
  sockets.push(socket)
  let answer = ''
  let closed = false
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => (answer += d))
  socket.on('error', () => {})
  socket.on('connect', () => {
    if (start) socket.write(start)
    const t = setInterval(() => socket.writable && socket.write(drip), every)
    timers.push(t)
  })
  return {
    closed: new Promise((resolve) => socket.on('close', () => ((closed = true), resolve(answer)))),
    isClosed: () => closed,
    answer: () => answer,
  }
}

/** Waits until every client is closed, or `ms` have passed: fails saying how many are still open (never hangs). */
async function allClosed(clients: SlowClient[], ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline && clients.some((c) => !c.isClosed())) await new Promise((r) => setTimeout(r, 50))
  expect(clients.filter((c) => !c.isClosed()).length, `slow connections still open after ${ms} ms`).toBe(0)
}

async function stored(url: string): Promise<number> {
  return ((await (await fetch(`${url}/healthz`)).json()) as { executions: number }).executions
}

const HEAD = 'POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'

describe('poet serve and slow connections', () => {
  it('has limits of seconds for headers and requests, a keep-alive that outlasts httpSink\'s interval, and a connection cap', async () => {
    const { server } = await start()
    expect(server.headersTimeout).toBe(10_000)
    expect(server.requestTimeout).toBe(30_000)
    // httpSink batches every second by default: its connection is still open for the next batch.
    expect(server.keepAliveTimeout).toBe(5_000)
    expect(server.keepAliveTimeout).toBeLessThan(server.headersTimeout)
    expect(server.maxConnections).toBe(1000)
  })

  it('cuts connections that trickle their headers while a real httpSink gets 202 for every batch', async () => {
    const r = await start({ headersTimeout: 1000, requestTimeout: 2000 })
    const slow = Array.from({ length: 200 }, () => slowClient(r.url, `${HEAD}X-Slow: `, 200))
    const sink = httpSink({ url: `${r.url}/v1/events`, batchSize: 10, interval: 20 })
    sink(Array.from({ length: 100 }, () => execution()))
    await sink.flush()
    expect(sink.failed).toBe(0)
    expect(sink.sent).toBe(100)
    expect(await stored(r.url)).toBe(100)
    await sink.close()
    // headersTimeout plus the server's check interval, with room for a loaded machine.
    await allClosed(slow, 10_000)
    // Node answers what it cuts: 408 to a request it was still reading.
    expect(await slow[0]!.closed).toMatch(/^HTTP\/1\.1 408/)
  })

  it('cuts a request whose body trickles in, storing nothing of it', async () => {
    const r = await start({ headersTimeout: 1000, requestTimeout: 2000 })
    const body = JSON.stringify([execution()])
    const slow = slowClient(r.url, `${HEAD}Content-Length: ${body.length + 100}\r\n\r\n${body}`, 100, ' ')
    await allClosed([slow], 10_000)
    expect(await slow.closed).toMatch(/^HTTP\/1\.1 408/)
    expect(await stored(r.url)).toBe(0)
  })

  it('closes connections beyond the cap at once, and takes the sink\'s batch once the idle ones are cut', async () => {
    const said = vi.spyOn(console, 'error').mockImplementation(() => {})
    const r = await start({ headersTimeout: 1000, requestTimeout: 2000, maxConnections: 20 })
    const idle = Array.from({ length: 20 }, () => slowClient(r.url, '', 60_000))
    await expect.poll(async () => new Promise<number>((res) => r.server.getConnections((_, n) => res(n)))).toBe(20)
    const extra = slowClient(r.url, HEAD, 60_000)
    await allClosed([extra], 1000)
    expect(idle.some((c) => c.isClosed())).toBe(false)
    expect(said).toHaveBeenCalledOnce()
    expect(said.mock.calls[0]![0]).toMatch(/^poet serve: 20 connections are open, the most it takes: .*--max-connections/)
    // The sink retries what the full server refused, and nothing it was acknowledged for is lost.
    const sink = httpSink({ url: `${r.url}/v1/events`, batchSize: 10, interval: 20, retryDelay: 300, retries: 6 })
    sink(Array.from({ length: 30 }, () => execution()))
    await sink.flush()
    expect(sink.failed).toBe(0)
    expect(sink.sent).toBe(30)
    expect(await stored(r.url)).toBe(30)
    await sink.close()
    await allClosed(idle, 10_000)
  })
  it('takes its connection cap from --max-connections', async () => {
    const cwd = tempDir()
    lockWith(`${cwd}/.poet`, 'src/api.ts#fetchQuote')
    const out: string[] = []
    let stop!: () => void
    const done = serveCommand(['--port', '0', '--max-connections', '2'], { out: (l) => out.push(l), err: () => {}, cwd, stopped: new Promise<void>((r) => (stop = r)) })
    try {
      await expect.poll(() => out.length).toBeGreaterThan(1)
      const url = /collecting events at (\S+)\/v1\/events/.exec(out[0]!)![1]!
      vi.spyOn(console, 'error').mockImplementation(() => {})
      // Each answered once, so the server holds both before the third comes.
      const held = [0, 1].map(() => slowClient(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 60_000, ''))
      for (const c of held) await expect.poll(() => c.answer()).toMatch(/^HTTP\/1\.1 200/)
      const third = slowClient(url, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 60_000, '')
      await allClosed([third], 1000)
      expect(await third.closed).toBe('')
      expect(held.some((c) => c.isClosed())).toBe(false)
    } finally {
      stop()
      expect(await done).toBe(0)
    }
  })
})
