// Watch mode in the bundlers that have one through their Node API: type files and the lock are watched.
import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LockStore } from '../../src/generators/lock'
import { WATCH_BUNDLERS, createProject, run, watch, type BuildResult } from '../helpers/project'

interface Geometry {
  norm(p: { x: unknown; y: unknown }): number
  servedVersion(): string | undefined
}

const ID = 'src/geometry.ts#norm'

describe.each(WATCH_BUNDLERS)('%s watch mode', (bundler) => {
  it('rebuilds with new phases when an imported type changes, and serves a version the lock makes current', async () => {
    const project = createProject(`watch-${bundler}`, { extras: true })
    const watcher = await watch(project, bundler, { entry: 'src/geometry.ts' })
    const load = (result: BuildResult, build: number) => run<Geometry>(result, `${bundler}-${build}`)
    try {
      await watcher.until(async (result, build) => {
        const app = await load(result, build)
        expect(() => app.norm({ x: '3', y: 4 })).toThrow('args[0].x: expected number, received string')
        return true
      })

      // `import type` leaves no import for the bundler to follow: only the plugin's watch on shapes.ts sees this.
      project.write('src/shapes.ts', project.read('src/shapes.ts').replace('x: number', 'x: number | string'))
      await watcher.until(async (result, build) => {
        const app = await load(result, build)
        try {
          return app.norm({ x: '3', y: 4 }) === 5
        } catch {
          return false
        }
      })

      // What a trainer's promotion or `poet rollback` does: another version, same inputs, made current.
      const store = new LockStore(project.lockDir)
      const entry = store.read().functions[ID]!
      const source = store.source(ID, entry.current)!.replace(`version: "${entry.current}"`, 'version: "trained0001"')
      const { inputHash, generator } = entry.versions[entry.current]!
      store.write(ID, { version: 'trained0001', source, inputHash, generator, reason: 'train: test promotion' })
      await watcher.until(async (result, build) => {
        const app = await load(result, build)
        app.norm({ x: 3, y: 4 })
        return app.servedVersion() === 'trained0001'
      })
    } finally {
      await watcher.close()
      project.remove()
    }
  })

  it('rebuilds when a type file that was deleted comes back', async () => {
    const project = createProject(`watch-back-${bundler}`, { extras: true })
    const watcher = await watch(project, bundler, { entry: 'src/geometry.ts' })
    const accepts = async (result: BuildResult, build: number, x: unknown) => {
      const app = await run<Geometry>(result, `${bundler}-back-${build}`)
      try {
        app.norm({ x, y: 4 })
        return true
      } catch {
        return false
      }
    }
    try {
      await watcher.until(async (result, build) => !(await accepts(result, build, '3')))
      const shapes = project.read('src/shapes.ts')
      // Without the file, Point is unresolved and accepted as unknown.
      rmSync(project.path('src/shapes.ts'))
      await watcher.until((result, build) => accepts(result, build, 'anything'))
      // `import type` leaves no import for the bundler to follow: only the plugin can watch for the file to return.
      project.write('src/shapes.ts', shapes.replace('x: number', 'x: boolean'))
      await watcher.until(async (result, build) => (await accepts(result, build, true)) && !(await accepts(result, build, 3)))
    } finally {
      await watcher.close()
      project.remove()
    }
  })

  it('a function whose file is renamed while watching takes over its lock entry', async () => {
    const project = createProject(`watch-move-${bundler}`)
    const source = `import { poet } from 'unplugin-poet/runtime'
export const area = poet({ attempts: 1 })(function area(w: number, h: number): number {
  return w * h
})
`
    project.write('src/move-a.ts', source)
    project.write('src/move-main.ts', "export { area } from './move-a.ts'\n")
    const watcher = await watch(project, bundler, { entry: 'src/move-main.ts' })
    const store = new LockStore(project.lockDir)
    try {
      await watcher.until(async () => Object.hasOwn(store.read().functions, 'src/move-a.ts#area'))
      const version = store.read().functions['src/move-a.ts#area']!.current
      // A `git mv`: the build still knows the old file's function, until the bundler says the file is gone.
      project.write('src/move-b.ts', source)
      project.write('src/move-main.ts', "export { area } from './move-b.ts'\n")
      rmSync(project.path('src/move-a.ts'))
      await watcher.until(async () => Object.hasOwn(store.read().functions, 'src/move-b.ts#area'))
      const functions = store.read().functions
      expect(Object.keys(functions).filter((id) => id.includes('#area'))).toEqual(['src/move-b.ts#area'])
      expect(functions['src/move-b.ts#area']).toMatchObject({ current: version, formerIds: ['src/move-a.ts#area'] })
    } finally {
      await watcher.close()
      project.remove()
    }
  })
})
