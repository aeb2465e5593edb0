// `poet serve`'s dashboard in Chromium, on a lock `poet generate` wrote: what it shows of each function without the source.
import { readdirSync, rmSync } from 'node:fs'
import { afterEach, expect, it } from 'vitest'
import { main } from '../../src/cli/main'
import { LockStore } from '../../src/generators/lock'
import { serveCommand } from '../../src/train/commands'
import { launchChromium } from '../helpers/chromium'
import { createProject, type Project } from '../helpers/project'

const QUOTE = 'src/quote.ts#quote'
const PLAIN = 'src/plain.ts#plain'

let project: Project | undefined
afterEach(() => {
  project?.remove()
  project = undefined
})

it("shows each function's domain, as the dev dashboard does, from the lock poet generate wrote", async () => {
  const p = (project = createProject('serve-domains'))
  for (const f of readdirSync(p.path('src'))) rmSync(p.path(`src/${f}`))
  p.write('src/quote.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const quote = poet({ domain: 'financial_services' })(function quote(amount: number): number {\n  return amount\n})\n`)
  p.write('src/plain.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const plain = poet()(function plain(n: number): number {\n  return n\n})\n`)
  const err: string[] = []
  expect(await main(['generate'], { out: () => {}, err: (l) => err.push(l), cwd: p.dir, tty: false, env: {}, write: () => {} }), err.join('\n')).toBe(0)
  expect(new LockStore(p.lockDir).read().functions[QUOTE]!.domain).toBe('financial_services')

  const out: string[] = []
  let stop!: () => void
  const done = serveCommand(['--port', '0'], { out: (l) => out.push(l), err: (l) => err.push(l), cwd: p.dir, stopped: new Promise((r) => (stop = r)) })
  const browser = await launchChromium()
  try {
    await expect.poll(() => out.length, { timeout: 15_000 }).toBeGreaterThan(1)
    const url = new URL(/collecting events at (\S+)\/v1\/events/.exec(out[0]!)![1]!)
    const info = (await (await fetch(`${url.origin}/api/functions`)).json()) as { functions: Record<string, { domain?: string }> }
    expect(info.functions[QUOTE]!.domain).toBe('financial_services')
    expect(info.functions[PLAIN]!.domain).toBeUndefined()

    const page = await browser.newPage()
    await page.goto(`${url.origin}/`)
    const row = (id: string) => page.locator(`tr.fn[data-id="${id}"]`)
    await expect.poll(() => row(QUOTE).count(), { timeout: 15_000 }).toBe(1)
    expect(await row(QUOTE).locator('.tag.domain').innerText()).toBe('financial_services')
    expect(await row(PLAIN).locator('.tag.domain').count()).toBe(0)
  } finally {
    await browser.close()
    stop()
    expect(await done).toBe(0)
  }
})

it('records the domain of an entry an earlier release wrote without one at `poet generate --force`', async () => {
  const p = (project = createProject('serve-domains-old'))
  for (const f of readdirSync(p.path('src'))) rmSync(p.path(`src/${f}`))
  p.write('src/quote.ts', `import { poet } from 'unplugin-poet/runtime'\n\nexport const quote = poet({ domain: 'financial_services' })(function quote(amount: number): number {\n  return amount\n})\n`)
  const cli = (argv: string[]) => main(argv, { out: () => {}, err: () => {}, cwd: p.dir, tty: false, env: {}, write: () => {} })
  expect(await cli(['generate'])).toBe(0)
  const lock = JSON.parse(p.read('.poet/lock.json')) as { functions: Record<string, { domain?: string }> }
  delete lock.functions[QUOTE]!.domain
  p.write('.poet/lock.json', `${JSON.stringify(lock, null, 2)}\n`)
  expect(await cli(['generate', '--force'])).toBe(0)
  expect(new LockStore(p.lockDir).read().functions[QUOTE]!.domain).toBe('financial_services')
})
