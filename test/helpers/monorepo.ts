// An npm-workspaces monorepo under the system's temp dir: packages/*, each linked into node_modules as npm (or pnpm) links them.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { PACKAGE_ROOT, type Project } from './project'

/** A library package's `src/index.ts`: one poet function over a type of its own. */
export const LIB_TOTAL = [
  "import { poet } from 'unplugin-poet/runtime'",
  'interface Order { items: { price: number }[] }',
  'export const total = poet()((order: Order): number => order.items.reduce((s, i) => s + i.price, 0))',
].join('\n')

export interface Monorepo {
  /** The repository root (a real path). */
  dir: string
  write(rel: string, content: string): void
  read(rel: string): string
  /**
   * Writes `packages/<dir>/package.json` and links the package where npm puts it, `node_modules/<name>` at the root
   * (unless `hoisted` is false: see {@link linkInto}).
   */
  addPackage(dir: string, pkg: Record<string, unknown>, options?: { hoisted?: boolean }): Project
  /** Links `name` into `packages/<from>/node_modules`, as pnpm links a workspace dependency into its dependent. */
  linkInto(from: string, name: string, dir: string): void
  remove(): void
}

/**
 * Made outside the worktree, whose own tsconfig.json and node_modules would otherwise be found above it. unplugin-poet
 * is linked at the root's node_modules, as a hoisted dependency of the workspace.
 */
export function createMonorepo(): Monorepo {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'poet-workspace-')))
  const write = (rel: string, content: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true })
    writeFileSync(join(dir, rel), content)
  }
  const link = (target: string, at: string) => {
    mkdirSync(dirname(at), { recursive: true })
    symlinkSync(relative(dirname(at), target), at, 'dir')
  }
  write('package.json', JSON.stringify({ name: 'workspace', private: true, workspaces: ['packages/*'] }))
  link(PACKAGE_ROOT, join(dir, 'node_modules/unplugin-poet'))
  return {
    dir,
    write,
    read: (rel) => readFileSync(join(dir, rel), 'utf8'),
    addPackage(at, pkg, { hoisted = true } = {}) {
      const root = join(dir, 'packages', at)
      const path = (rel: string) => join(root, rel)
      write(`packages/${at}/package.json`, JSON.stringify({ type: 'module', ...pkg }, null, 2))
      if (hoisted) link(root, join(dir, 'node_modules', pkg.name as string))
      return {
        dir: root,
        lockDir: path('.poet'),
        path,
        read: (rel) => readFileSync(path(rel), 'utf8'),
        write: (rel, content) => write(`packages/${at}/${rel}`, content),
        remove: () => rmSync(dir, { recursive: true, force: true }),
      }
    },
    linkInto(from, name, at) {
      link(join(dir, 'packages', at), join(dir, 'packages', from, 'node_modules', name))
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
