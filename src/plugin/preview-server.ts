// Vite preview: takes the events a built page posts to a same-origin feedback.endpoint, and shows the read-only dashboard at /__poet/, as `vite dev` does.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { PreviewServer, ProxyOptions } from 'vite'
import { createDashboard, crossOrigin, projectName } from '../dashboard/handler'
import type { PoetContext } from './context'
import { DEV_BASE, openCollector, printPoetUrl } from './dev-server'

/**
 * `vite preview` stands in for production, where the path a built page posts to (`feedback.endpoint: '/__poet/events'`,
 * or the path a proxy routes to `poet serve`) is the collector's: there, every batch got a 404 and was lost, and the
 * console filled with the sink's refusals. The dashboard is read-only, like `poet serve`'s: a promotion moves the lock,
 * which the previewed build does not read.
 */
export function configurePreviewServer(ctx: PoetContext, server: PreviewServer): void {
  const { options } = ctx
  const endpoint = options.feedback ? options.feedback.endpoint : undefined
  const path = sameOriginPath(endpoint)
  const proxied = path !== undefined && proxies(server.config.preview.proxy, path)
  if (path === undefined || proxied) return explain(server, notCollected(options.feedback === false, endpoint, proxied))

  const opened = openCollector(options.lockDir, server.config.logger)
  // As in dev, the previewed app keeps its server: its events get a 503 saying why.
  if ('off' in opened) return explain(server, opened.off, 503, path)
  const { collector } = opened
  const dashboard = options.dashboard
    ? createDashboard({ base: DEV_BASE, lockDir: ctx.lock.dir, store: collector.store, collector: collector.handle, project: projectName(options.root), writable: false })
    : undefined
  server.middlewares.use((req, res, next) => {
    const [at, query] = splitUrl(req)
    const ours = at === DEV_BASE || at.startsWith(`${DEV_BASE}/`)
    if (at !== path && !ours) return next()
    if (req.method === 'POST' && crossOrigin(req)) {
      res.writeHead(403, { 'content-type': 'application/json' })
      return res.end(JSON.stringify({ error: 'cross-origin writes to the POET preview server are refused' }))
    }
    // The collector answers at its own events path: the endpoint the build names is that path here.
    if (at === path) req.url = `${DEV_BASE}/events${query}`
    const rest = () => collector.handle(req, res, next)
    if (dashboard) dashboard(req, res, rest)
    else rest()
  })
  const close = server.close.bind(server)
  server.close = async () => {
    try {
      await close()
    } finally {
      collector.close()
    }
  }
  if (dashboard) {
    const printUrls = server.printUrls.bind(server)
    server.printUrls = () => {
      printUrls()
      printPoetUrl(server.config.logger, server.resolvedUrls?.local[0])
    }
  }
}

/** The path of an endpoint the page resolves against its own origin (`/__poet/events`); undefined for another origin or none. */
function sameOriginPath(endpoint: string | undefined): string | undefined {
  if (!endpoint?.startsWith('/') || endpoint.startsWith('//')) return undefined
  return new URL(endpoint, 'http://preview.invalid').pathname
}

/** Whether the user's `preview.proxy` (or `server.proxy`, which preview inherits) sends `path` on: their collector takes it. */
function proxies(proxy: Record<string, string | ProxyOptions> | undefined, path: string): boolean {
  return Object.keys(proxy ?? {}).some((context) => (context.startsWith('^') ? new RegExp(context).test(path) : path.startsWith(context)))
}

function notCollected(off: boolean, endpoint: string | undefined, proxied: boolean): string {
  if (off) return 'this build sends no POET events (the poet plugin has feedback: false), so vite preview collects none and shows no dashboard.'
  if (proxied) return `this build posts its POET events to ${endpoint}, which preview.proxy (or server.proxy) sends on: the dashboard is where they go (\`poet serve\`: at /).`
  // `events` or `./events`: each page resolves it against its own URL, so no one path here is where they all go.
  if (endpoint && !/^[a-z][a-z\d+.-]*:|^\/\//i.test(endpoint)) {
    return `this build posts its POET events to ${endpoint}, relative to each page's own URL, so vite preview cannot take them: give feedback.endpoint a path from the root, like '/__poet/events', and build again.`
  }
  if (endpoint) return `this build posts its POET events to ${endpoint}: the dashboard is there (\`poet serve\`: at /), not in vite preview.`
  return (
    "this build sends no POET events: a page Vite builds posts them only to the poet plugin's feedback.endpoint, which is " +
    "not set. Set feedback: { endpoint: '/__poet/events' } to collect them here in vite preview (in production, route " +
    'that path to `poet serve`), or give the URL of your collector; then build again.'
  )
}

/** Answers every request under /__poet (and the endpoint `path`, when given) with `why`, as plain text. */
function explain(server: PreviewServer, why: string, status = 404, path?: string): void {
  server.middlewares.use((req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const [at] = splitUrl(req)
    if (at !== path && at !== DEV_BASE && !at.startsWith(`${DEV_BASE}/`)) return next()
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(`${why}\n`)
  })
}

function splitUrl(req: IncomingMessage): [path: string, query: string] {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)]
}
