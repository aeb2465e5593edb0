// What the component fixture (test/fixtures/components) does once built, whichever bundler and framework built it.
import { expect } from 'vitest'

/** The built fixture app: `render` mounts the component with its lines, `price` is exported from its module script. */
export interface ComponentApp {
  price(m: unknown): string
  render(lines: unknown): string | Promise<string>
}

/** Both poet functions of `component` (the fixture's file) validate their typed parameters and name a wrong argument's path. */
export async function expectComponentValidation(app: ComponentApp, component: string): Promise<void> {
  // <script setup> / the instance script: the function runs while the component renders.
  expect(await app.render([{ name: 'apple', qty: 2 }, { name: 'pear', qty: 3 }])).toContain('5 items')
  expect(await app.render([{ name: 'apple', qty: '2' }])).toContain(`poet: invalid input of ${component}#count:\n  args[0][0].qty: expected number, received string`)
  // <script> / the module script: exported from the component.
  expect(app.price({ cents: 250, currency: 'EUR' })).toBe('2.50 EUR')
  expect(() => app.price({ cents: 250, currency: 'GBP' })).toThrow(`${component}#price:\n  args[0].currency: expected "EUR" | "USD", received "GBP"`)
}
