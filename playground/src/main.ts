// The playground's browser entry: runs the same scenario and lists the outcomes on the page.
/// <reference types="vite/client" />
import { runScenario } from './scenario'

const log = document.querySelector('#log')!
void runScenario((step) => {
  const li = document.createElement('li')
  li.className = step.ok ? 'ok' : 'fail'
  li.textContent = `${step.ok ? '✓' : '✗'} ${step.title}: ${step.detail}`
  log.append(li)
}).then((steps) => {
  document.body.dataset.done = String(steps.every((s) => s.ok))
  // The dev server records each call: point at where to see them (a built page has no dashboard to link to).
  if (import.meta.env.DEV) {
    const p = document.createElement('p')
    p.innerHTML = 'Each call was recorded: see them, with versions and latency, on the <a href="/__poet/">POET dashboard</a>.'
    document.body.append(p)
  }
})
