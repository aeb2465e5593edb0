// A real HTTP collector stand-in on 127.0.0.1 for sink tests: records every request, answers as told.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'

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

/**
 * A port of the test's own in front of a collector that is down: it drops every connection until `up(port)`, then
 * forwards them to that port. Closing a server to have it down, and listening on its port again later, races every
 * other process on the machine: any of them may be given that port meanwhile (each outgoing connection takes one).
 */
export async function startGate(options: { close?: boolean } = {}) {
  let target: number | undefined
  const open = new Set<Socket>()
  const track = (s: Socket) => (open.add(s), s.on('close', () => open.delete(s)).on('error', () => s.destroy()))
  let connections = 0
  const server = createTcpServer((socket) => {
    connections++
    track(socket)
    // Reset, as a refused connection is: a plain close before the request is written leaves Node 20's fetch pending
    // with nothing holding the process, until its signal aborts it.
    // `close: true` does that on purpose.
    if (target === undefined) return void (options.close ? socket.destroy() : socket.resetAndDestroy())
    const upstream = track(connect(target, '127.0.0.1'))
    socket.pipe(upstream).pipe(socket)
    socket.on('close', () => upstream.destroy())
    upstream.on('close', () => socket.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    /** Connections taken so far: while down, one per request the client tried. */
    get connections() {
      return connections
    },
    up: (port: number) => void (target = port),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r())
        for (const s of open) s.destroy()
      }),
  }
}
