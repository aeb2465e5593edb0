// Domains through every real bundler: builtin packs and a custom child pack from the plugin's `domains` option, built and run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExecutionEvent } from '../../../src/runtime/types'
import type { DomainPack } from '../../../src/generators/builtin/domain'
import { BUNDLERS, build, createProject, run, type BuildResult, type Project } from '../../helpers/project'
import { paymentsPack } from './payments-pack'

const SOURCE = `
import { onEvent, poet } from 'unplugin-poet/runtime'

export const events: unknown[] = []
onEvent((e) => events.push(e))

interface Charge { amount: number; currency: string }

export const charge = poet({ domain: 'financial_services', repair: true, attempts: 1 })(
  async function charge(c: Charge): Promise<{ total: number; currency: string }> {
    return { total: c.amount, currency: c.currency }
  },
)

export const pay = poet({ domain: 'financial_services:payments' })(function pay(amount: number, currency: string): boolean {
  return amount > 0 && currency.length === 3
})

export const triage = poet({ domain: 'healthcare' })(function triage(heartRate: number): string {
  return heartRate > 120 ? 'urgent' : 'routine'
})
`


interface App {
  charge(c: { amount: unknown; currency: string }): Promise<{ total: number; currency: string }>
  pay(amount: number, currency: string): boolean
  triage(heartRate: number): string
  events: ExecutionEvent[]
}

describe.each(BUNDLERS)('%s', (bundler) => {
  let project: Project
  let output: BuildResult
  let app: App

  beforeAll(async () => {
    project = createProject(`domains-${bundler}`)
    project.write('src/domains.ts', SOURCE)
    output = await build(project, bundler, { entry: 'src/domains.ts', options: { domains: [paymentsPack] } })
    app = await run<App>(output)
  })
  afterAll(() => project.remove())

  it('repairs money input and records it in the event', async () => {
    expect(await app.charge({ amount: '12.50', currency: 'eur' })).toEqual({ total: 12.5, currency: 'EUR' })
    expect(app.events.at(-1)).toMatchObject({
      functionId: 'src/domains.ts#charge',
      outcome: 'ok',
      repairs: [
        { path: 'args[0].amount', action: 'numeric string → number', rule: 'financial_services.money_amount' },
        { path: 'args[0].currency', action: 'currency code → upper case', rule: 'financial_services.currency_code' },
      ],
    })
  })

  it("runs a custom child pack: the parent's rules, then its own, under its policy", () => {
    expect(app.pay(99.99, 'EUR')).toBe(true)
    expect(() => app.pay(20_000.001, 'EUR')).toThrow(
      [
        'poet: invalid input of src/domains.ts#pay:',
        '  args[0]: expected amount with at most 2 decimal places, received number (financial_services.money_amount)',
        '  args[0]: expected amount ≤ 10000, received number (financial_services:payments.max_amount)',
      ].join('\n'),
    )
    expect(app.events.at(-1)).toMatchObject({
      functionId: 'src/domains.ts#pay',
      outcome: 'input_error',
      issues: [
        { path: 'args[0]', rule: 'financial_services.money_amount' },
        { path: 'args[0]', rule: 'financial_services:payments.max_amount' },
      ],
    })
  })

  it('stops implausible vitals before the function runs', () => {
    expect(app.triage(80)).toBe('routine')
    expect(() => app.triage(800)).toThrow('args[0]: expected heart rate (bpm) in [20, 300], received number')
  })

  it("locks each function's phases with its pack's helpers, policy and event limits", () => {
    const lock = JSON.parse(project.read('.poet/lock.json')) as { functions: Record<string, { current: string; versions: Record<string, { file: string }> }> }
    const pay = lock.functions['src/domains.ts#pay']!
    const source = project.read(`.poet/${pay.versions[pay.current]!.file}`)
    expect(source).toContain('const PAY_LIMIT = 10000')
    expect(source).toContain('"attempts":1')
    const triage = lock.functions['src/domains.ts#triage']!
    expect(project.read(`.poet/${triage.versions[triage.current]!.file}`)).toContain('neverInEvents: ["values","comment","label"]')
  })
})

describe('a custom pack that cannot be used', () => {
  it('stops the build with the registry error naming the pack and the fix', async () => {
    const project = createProject('domains-bad')
    try {
      project.write('src/domains.ts', SOURCE)
      const bad: DomainPack = { name: 'financial:payments', version: '1.0.0', description: 'A typo in the parent.' }
      await expect(build(project, 'vite', { entry: 'src/domains.ts', options: { domains: [bad] } })).rejects.toThrow(
        'poet: domain pack "financial:payments" extends unknown pack "financial" — did you mean "financial_services"?',
      )
    } finally {
      project.remove()
    }
  })
})
