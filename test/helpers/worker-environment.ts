// A Vite dev environment whose module runner lives in a worker thread (test/helpers/worker-runner.mjs), as a runtime outside the dev server's process would.
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { DevEnvironment, type HotChannel, type HotPayload, type ResolvedConfig } from 'vite'

const RUNNER = fileURLToPath(new URL('./worker-runner.mjs', import.meta.url))

/** What the worker answers to a call of an export: its value, the error's name and message, or why the import failed. */
export interface WorkerAnswer {
  value?: unknown
  error?: string
  message?: string
  failed?: string
  /** Everything the worker's code said with console.warn so far. */
  warnings: string[]
}

export interface WorkerEnvironment {
  /** For `environments.<name>.dev.createEnvironment`. */
  createEnvironment(name: string, config: ResolvedConfig): DevEnvironment
  /** Imports `url` in the worker's runner and calls its export `name` with `args`. */
  call(url: string, name: string, args: unknown[]): Promise<WorkerAnswer>
  close(): Promise<void>
}

export function workerEnvironment(): WorkerEnvironment {
  let worker: Worker | undefined
  let calls = 0
  const started = () => {
    if (!worker) throw new Error('the worker environment was not created: is it listed in `environments`?')
    return worker
  }
  return {
    createEnvironment(name, config) {
      const w = (worker = new Worker(RUNNER))
      const listeners = new WeakMap<(...args: never[]) => unknown, (value: HotPayload) => void>()
      // Vite's own example of a worker transport: custom events from the runner (its module requests) go to the
      // environment's handlers, and whatever the environment sends goes to the runner.
      const transport: HotChannel = {
        send: (payload) => w.postMessage(payload),
        on: (event: string, handler: (data: unknown, client: { send(payload: HotPayload): void }) => void) => {
          if (event === 'connection') return
          const listener = (value: HotPayload) => {
            if (value.type === 'custom' && value.event === event) handler(value.data, { send: (payload) => w.postMessage(payload) })
          }
          listeners.set(handler, listener)
          w.on('message', listener)
        },
        off: (_event: string, handler: (...args: never[]) => unknown) => {
          const listener = listeners.get(handler)
          if (listener) w.off('message', listener)
        },
      } as HotChannel
      return new DevEnvironment(name, config, { hot: false, transport })
    },
    call(url, name, args) {
      const w = started()
      const id = ++calls
      return new Promise((resolve) => {
        const listener = (message: { reply?: number } & WorkerAnswer) => {
          if (message.reply !== id) return
          w.off('message', listener)
          resolve(message)
        }
        w.on('message', listener)
        w.postMessage({ call: { id, url, name, args } })
      })
    },
    close: async () => {
      await worker?.terminate()
    },
  }
}
