// A real HTTP collector stand-in on 127.0.0.1 for sink tests: records every request, answers as told.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  at: number
  path: string
  headers: IncomingHttpHeaders
  body: string
}

export interface Answer {
  status: number
  headers?: Record<string, string>
}

/** `answer` returning `null` leaves the request hanging, as a stuck collector would. */
export async function startServer(answer: (req: Received, n: number) => Answer | null = () => ({ status: 202 })) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (body += c))
    req.on('end', () => {
      const r: Received = { at: Date.now(), path: req.url ?? '', headers: req.headers, body }
      received.push(r)
      const a = answer(r, received.length)
      if (a) res.writeHead(a.status, a.headers).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        server.closeAllConnections()
      }),
  }
}
