// `poet serve` under a name that is not its own (a DNS rebinding page: Host is the attacker's name, the address 127.0.0.1): no data read without a token.
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { serveCommand, type CommandIO } from '../../src/train/commands'
import { execution, lockWith, tempDir } from './helpers'

const ID = 'src/api.ts#fetchQuote'
let stop: (() => void) | undefined
let done: Promise<number> | undefined
afterEach(async () => {
  stop?.()
  expect(await done).toBe(0)
  stop = done = undefined
})

/** `poet serve` in this process on a free port: its port. */
async function start(argv: string[]): Promise<number> {
  const cwd = tempDir()
  lockWith(`${cwd}/.poet`, ID)
  const out: string[] = []
  const io: CommandIO = { out: (l) => out.push(l), err: () => {}, cwd, stopped: new Promise<void>((r) => (stop = r)) }
  done = serveCommand(['--port', '0', ...argv], io)
  await expect.poll(() => out.length).toBeGreaterThan(1)
  return Number(new URL(/collecting events at (\S+)\/v1\/events/.exec(out[0]!)![1]!).port)
}

/** A request to 127.0.0.1:port sent as a browser would for a page of `host` (fetch cannot set Host). */
function get(port: number, path: string, host: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host, ...o.headers }, timeout: 5000 }, (res) => {
      let body = ''
      res.on('data', (d) => (body += String(d)))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', reject)
    req.end(o.body)
  })
}

const READS = ['/', '/api/functions', `/api/source?id=${encodeURIComponent(ID)}&version=v1`, '/v1/functions', `/v1/functions/${encodeURIComponent(ID)}`]

describe('poet serve and the Host a request names', () => {
  it('refuses the dashboard and its data under another name without a token, saying why and where to open it', async () => {
    const port = await start([])
    for (const path of READS) {
      const r = await get(port, path, `rebind.attacker.test:${port}`)
      expect(r.status, path).toBe(403)
      expect(r.body, path).not.toContain(ID)
      expect(r.body).toContain('"rebind.attacker.test"')
      expect(r.body).toContain('--token')
    }
  })

  it('serves them at its own address and at localhost names', async () => {
    const port = await start([])
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `app.localhost:${port}`, `[::1]:${port}`]) {
      const r = await get(port, '/api/functions', host)
      expect(r.status, host).toBe(200)
      expect(r.body).toContain(ID)
    }
  })

  it('serves them under the name --host gives', async () => {
    const port = await start(['--host', 'localhost'])
    expect((await get(port, '/v1/functions', `LocalHost:${port}`)).status).toBe(200)
  })

  it('serves them under any name with a token, which a rebinding page does not have', async () => {
    const port = await start(['--token', 'k'])
    const r = await get(port, '/api/functions', `collector.example.com`, { headers: { authorization: 'Bearer k' } })
    expect(r.status).toBe(200)
    expect((await get(port, '/api/functions', `rebind.attacker.test:${port}`)).status).toBe(401)
  })

  it('takes events and answers /healthz under any name, as sinks and probes name it', async () => {
    const port = await start([])
    const r = await get(port, '/v1/events', 'collector.example.com', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([execution()]) })
    expect(r.status).toBe(202)
    expect((await get(port, '/healthz', 'poet-collector:8787')).status).toBe(200)
  })
})
