// A real Vite dev server on a fixture app (the built package installed as a copy in its node_modules) and a real Chromium.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { InlineConfig, ViteDevServer } from 'vite'
import type { Options } from '../../src'

export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TMP = join(PACKAGE_ROOT, 'test/.tmp')

/** The fixture app: one poet function whose parameter type comes partly from a type-only file. */
export const FILES: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'poet-dev-app', private: true, type: 'module' }),
  'index.html': `<!doctype html><html><head><title>app</title></head><body><h1>POET dev app</h1><script type="module" src="/src/main.ts"></script></body></html>`,
  'src/types.ts': `export interface Reading {\n  value: number\n  unit: 'C' | 'F'\n}\n`,
  'src/sensor.ts': `import { poet } from 'unplugin-poet/runtime'
import type { Reading } from './types'

export const normalize = poet({ optimizeFor: 'accuracy', attempts: 1 })(function normalize(r: Reading): number {
  const x = r as { value?: number; unit?: string; kelvin?: number }
  if (x.kelvin !== undefined) return x.kelvin - 273.15
  return x.unit === 'F' ? ((x.value! - 32) * 5) / 9 : x.unit === 'K' ? x.value! - 273.15 : x.value!
})
`,
  'src/main.ts': `import { onEvent } from 'unplugin-poet/runtime'
import { normalize } from './sensor'

const w = window as unknown as Record<string, unknown>
const errors: unknown[] = []
onEvent((e) => {
  if (e.kind === 'execution') w.lastVersion = e.version
})
w.app = {
  call(input: unknown) {
    try {
      return { ok: normalize(input as never) }
    } catch (e) {
      errors.push(e)
      return { error: (e as Error).name, message: (e as Error).message, index: errors.length - 1 }
    }
  },
}
document.body.dataset.ready = '1'
`,
}

/**
 * What pages would have reported of `version`: 200 calls two hours ago at 1 % errors, then 150 in the last minutes at
 * 30 %, the rise Train's error-rate trigger answers. Posted to the dev server, they make it add a candidate.
 */
export function risingErrors(functionId: string, version: string, now = Date.now()) {
  const event = (i: number, ts: number, failed: boolean) => ({
    v: 1,
    kind: 'execution',
    functionId,
    version,
    executionId: `rise-${i}`,
    ts,
    duration: 1,
    outcome: failed ? 'error' : 'ok',
    attempts: 1,
    ...(failed ? { error: 'Error' } : {}),
  })
  return [
    ...Array.from({ length: 200 }, (_, i) => event(i, now - 2 * 3_600_000 + i * 1000, i % 100 === 0)),
    ...Array.from({ length: 150 }, (_, i) => event(200 + i, now - 150_000 + i * 1000, i % 10 < 3)),
  ]
}

export interface DevApp {
  dir: string
  url: string
  server: ViteDevServer
  path(rel: string): string
  read(rel: string): string
  write(rel: string, content: string): void
  close(): Promise<void>
}

/**
 * Writes the fixture app into test/.tmp and starts Vite on 127.0.0.1, port 0. The package is copied (package.json +
 * dist/), not linked: like an npm install, so Vite pre-bundles `unplugin-poet/runtime` as a dependency. `config` adds to
 * the server's configuration (environments, say).
 */
export async function startDevApp(name: string, files: Record<string, string> = FILES, options?: Options, config: InlineConfig = {}): Promise<DevApp> {
  const { dir, path, write } = writeApp(name, files)
  const { createServer } = await import('vite')
  const server = await createServer({
    root: dir,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    plugins: [await distPlugin(options)],
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [dir] } },
    ...config,
  })
  await server.listen()
  const address = server.httpServer!.address()
  if (!address || typeof address === 'string') throw new Error('vite did not listen on a TCP port')
  return {
    dir,
    url: `http://127.0.0.1:${address.port}`,
    server,
    path,
    read: (rel) => readFileSync(path(rel), 'utf8'),
    write,
    close: async () => {
      await server.close()
      // Vite's dependency optimizer may go on writing node_modules/.vite for seconds after the server closed (ENOTEMPTY
      // under load, past rmSync's own retries): tried again for up to 20 s.
      for (let i = 0; ; i++) {
        try {
          return rmSync(dir, { recursive: true, force: true })
        } catch (e) {
          if (i >= 200) throw e
          await new Promise((r) => setTimeout(r, 100))
        }
      }
    },
  }
}

/** The plugin as the app installed it; it runs from the worktree's dist, its own dependencies resolving from the shared install there. */
export async function distPlugin(options?: Options) {
  const { default: poet } = (await import(pathToFileURL(join(PACKAGE_ROOT, 'dist/vite.mjs')).href)) as typeof import('../../src/vite')
  return poet(options)
}

/** Writes `files` into a fresh directory in test/.tmp, with the built package installed as a copy in its node_modules. */
export function writeApp(name: string, files: Record<string, string>) {
  mkdirSync(TMP, { recursive: true })
  const dir = mkdtempSync(join(TMP, `${name}-`))
  const path = (rel: string) => join(dir, rel)
  const write = (rel: string, content: string) => {
    mkdirSync(dirname(path(rel)), { recursive: true })
    writeFileSync(path(rel), content)
  }
  for (const [rel, content] of Object.entries(files)) write(rel, content)
  const pkg = path('node_modules/unplugin-poet')
  mkdirSync(pkg, { recursive: true })
  cpSync(join(PACKAGE_ROOT, 'package.json'), join(pkg, 'package.json'))
  cpSync(join(PACKAGE_ROOT, 'dist'), join(pkg, 'dist'), { recursive: true })
  return { dir, path, write }
}

/** Reads until `ok` holds or `timeout` ms pass, and returns the last value read (the test's assertion then says what it was). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeout = 15_000): Promise<T> {
  const end = Date.now() + timeout
  for (;;) {
    const v = await read()
    if (ok(v) || Date.now() > end) return v
    await new Promise((done) => setTimeout(done, 150))
  }
}

export { launchChromium } from '../helpers/chromium'
