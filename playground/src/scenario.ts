// The scripted demo scenario, shared by the Node entry and the browser page: five calls, one per behaviour.
import { feedback, onEvent, type ExecutionEvent, type FeedbackEvent } from 'unplugin-poet/runtime'
import { detectDrift } from './drift'
import { priceOrder } from './orders'
import { fetchForecast, slowLookup } from './weather'

export interface Step {
  title: string
  ok: boolean
  detail: string
  event?: ExecutionEvent
}

export async function runScenario(report: (step: Step) => void): Promise<Step[]> {
  const steps: Step[] = []
  let last: ExecutionEvent | undefined
  let rated: FeedbackEvent | undefined
  const stop = onEvent((e) => {
    if (e.kind === 'execution') last = e
    else rated = e
  })
  const record = (title: string, ok: boolean, detail: string) => {
    const step = { title, ok, detail, event: last }
    steps.push(step)
    report(step)
    last = undefined
  }
  try {
    const invoice = priceOrder({
      id: 'A-1001',
      currency: 'EUR',
      items: [
        { sku: 'tea', quantity: 2, price: 4.5 },
        { sku: 'cup', quantity: 1, price: 12 },
      ],
    })
    record('accepted call', true, `priceOrder → total ${invoice.total} over ${invoice.lines} lines`)

    try {
      // A string where the type says number: perceive rejects it before the function runs.
      priceOrder(JSON.parse('{"id":"A-1002","currency":"EUR","items":[{"sku":"tea","quantity":1,"price":4},{"sku":"pot","quantity":1,"price":"12"}]}'))
      record('rejected input', false, 'priceOrder accepted a string price')
    } catch (e) {
      record('rejected input', true, (e as Error).message)
    }

    const forecast = await fetchForecast('Lisbon')
    record('flaky call', true, `fetchForecast → ${forecast.celsius}°C in ${forecast.city} after ${last?.attempts ?? '?'} attempts`)

    try {
      await slowLookup('Oslo')
      record('timeout', false, 'slowLookup returned')
    } catch (e) {
      record('timeout', true, `${(e as Error).name}: ${(e as Error).message}`)
    }

    // A shift the function misses (|z| under 3), rated as a miss: the feedback event a collector stores for Train.
    const report = detectDrift([10.2, 10.3, 10.1, 10.4, 10.2, 10.3], [10, 10.2, 9.8, 10.1, 9.9, 10.3])
    feedback(report, { score: 0.2, label: 'missed-drift' })
    record(
      'rated result',
      !report.drift && rated?.score === 0.2,
      `detectDrift → no drift (z ${report.z}), rated ${rated?.score} '${rated?.label}': the feedback Train learns from`,
    )
  } finally {
    stop()
  }
  return steps
}
