// A Vite module runner in a worker thread: an environment whose code runs outside the dev server's process (as in workerd or a child process), driven by test/helpers/worker-environment.ts.
import { parentPort } from 'node:worker_threads'
import { createNodeImportMeta, ESModulesEvaluator, ModuleRunner } from 'vite/module-runner'

const transport = {
  connect({ onMessage, onDisconnection }) {
    parentPort.on('message', (message) => message.call === undefined && onMessage(message))
    parentPort.on('close', onDisconnection)
  },
  // Not the value of postMessage (true): the runner would take it for a promise.
  send(data) {
    parentPort.postMessage(data)
  },
}
const runner = new ModuleRunner({ transport, createImportMeta: createNodeImportMeta, hmr: false }, new ESModulesEvaluator())
// What the code run here says to the console, handed to the test with each answer.
const warnings = []
console.warn = (...args) => warnings.push(args.join(' '))

parentPort.on('message', async (message) => {
  if (message.call === undefined) return
  const { id, url, name, args } = message.call
  let mod
  try {
    mod = await runner.import(url)
  } catch (e) {
    return parentPort.postMessage({ reply: id, failed: String(e?.stack ?? e), warnings })
  }
  try {
    parentPort.postMessage({ reply: id, value: await mod[name](...args), warnings })
  } catch (e) {
    parentPort.postMessage({ reply: id, error: e?.name, message: e?.message, warnings })
  }
})
