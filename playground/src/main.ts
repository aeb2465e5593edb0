// The playground's browser entry: runs the same scenario and lists the outcomes on the page.
import { runScenario } from './scenario'

const log = document.querySelector('#log')!
void runScenario((step) => {
  const li = document.createElement('li')
  li.className = step.ok ? 'ok' : 'fail'
  li.textContent = `${step.ok ? '✓' : '✗'} ${step.title}: ${step.detail}`
  log.append(li)
}).then((steps) => {
  document.body.dataset.done = String(steps.every((s) => s.ok))
})
