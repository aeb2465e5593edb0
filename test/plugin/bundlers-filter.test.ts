// A user's include/exclude decide which files the plugin touches, in every bundler's own filter mechanism.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LockFile } from '../../src/generators/lock'
import { BUNDLERS, build, createProject, run, type Project } from '../helpers/project'

interface Fixture {
  priceOrder(order: unknown): number
  double(n: unknown): number
}

describe.each(BUNDLERS)('%s with exclude', (bundler) => {
  let project: Project
  let app: Fixture

  beforeAll(async () => {
    project = createProject(`${bundler}-exclude`)
    app = await run<Fixture>(await build(project, bundler, { options: { exclude: [/node_modules/, /orders\.ts$/] } }))
  })
  afterAll(() => project.remove())

  it('leaves an excluded file alone: its function runs with level-1 policy and no generated phases', () => {
    const lock = JSON.parse(project.read('.poet/lock.json')) as LockFile
    expect(Object.keys(lock.functions)).not.toContain('src/orders.ts#priceOrder')
    // No perceive phase: a string price is not rejected, it is concatenated by the user's own code.
    expect(app.priceOrder({ items: [{ name: 'tea', price: 3 }, { name: 'cake', price: '4.50' }] })).toBe('34.500')
  })

  it('still generates phases for every other file', () => {
    expect(() => app.double('2')).toThrow(/args\[0\]: expected number, received string/)
    expect(app.double(2)).toBe(4)
  })
})
