// The edge app's poet functions built for the browser (esbuild) and run in real Chromium in a dedicated worker, a shared worker and a module service worker, their events sent with httpSink.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import type { ExecutionEvent } from '../../src/runtime/types'
import { launchChromium } from '../helpers/chromium'
import { createProject, loadPlugin, PACKAGE_ROOT, type Project } from '../helpers/project'

const PAGE = `<!doctype html><meta charset="utf-8"><title>shop</title>
<script type="module">
  const items = [{ name: 'tea', price: 3 }, { name: 'cake', price: '4.50' }]
  const answer = (target, port) => new Promise((resolve) => ((port.onmessage = (e) => resolve(e.data)), target.postMessage(items)))
  window.shop = {
    dedicated: () => {
      const worker = new Worker('/worker.js', { type: 'module' })
      return answer(worker, worker)
    },
    shared: () => {
      const worker = new SharedWorker('/worker.js', { type: 'module' })
      return answer(worker.port, worker.port)
    },
    service: async () => {
      await navigator.serviceWorker.register('/worker.js', { type: 'module' })
      await navigator.serviceWorker.ready
      // clients.claim() in activate makes it this page's controller: until then, fetch bypasses it.
      if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }))
      return (await fetch('/shop', { method: 'POST', body: JSON.stringify(items) })).json()
    },
  }
  window.unhandled = []
  addEventListener('unhandledrejection', (e) => window.unhandled.push(String(e.reason)))
  window.ready = true
</script>`

let project: Project
let browser: Browser
let base: string
let close: () => Promise<void>
const posted: ExecutionEvent[] = []

beforeAll(async () => {
  project = createProject('browser-workers', { fixture: join(PACKAGE_ROOT, 'test/fixtures/edge') })
  const poet = await loadPlugin(project, 'esbuild')
  const { build } = await import('esbuild')
  const out = await build({
    absWorkingDir: project.dir,
    entryPoints: ['src/browser-worker.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [poet()],
  })
  const worker = out.outputFiles[0]!.text
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v1/events') {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        posted.push(...(JSON.parse(body) as ExecutionEvent[]))
        res.writeHead(202).end()
      })
      return
    }
    const [type, content] = req.url === '/worker.js' ? ['text/javascript', worker] : ['text/html', PAGE]
    res.writeHead(200, { 'content-type': type }).end(content)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  close = () =>
    new Promise((r) => {
      server.close(() => r())
      server.closeAllConnections()
    })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await close?.()
  project?.remove()
})

/** Waits until `done()` holds, for at most `ms`: the assertion after it says what is missing. */
async function until(done: () => boolean, ms = 15_000) {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
}

describe.each(['dedicated', 'shared', 'service'] as const)('the built app in a %s worker in Chromium', (kind) => {
  let page: Page
  const errors: string[] = []
  beforeAll(async () => {
    page = await browser.newPage()
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => m.type() === 'warning' || m.type() === 'error' ? errors.push(m.text()) : undefined)
    await page.goto(base)
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready)
  })
  afterAll(() => page?.close())

  it('validates, retries and times out its calls, and sends their events as the task that made them ends', async () => {
    posted.length = 0
    const answer = await page.evaluate((k) => (window as unknown as { shop: Record<string, () => Promise<unknown>> }).shop[k]!(), kind)
    expect(answer).toEqual({ input: [{ path: 'args[0][1].price', expected: 'number', received: 'string' }], flaky: 3, timeout: 20 })
    await until(() => posted.length >= 3)
    // Each task's events go as it ends, in requests of their own that may arrive in any order.
    expect(posted.map((e) => `${e.functionId} ${e.outcome} ${e.attempts}`).sort()).toEqual(['src/shop.ts#flaky ok 3', 'src/shop.ts#slow timeout 1', 'src/shop.ts#total input_error 0'])
    expect(await page.evaluate(() => (window as unknown as { unhandled: string[] }).unhandled)).toEqual([])
    expect(errors).toEqual([])
  })
})
