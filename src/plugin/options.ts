// The plugin's options: one interface (the docs), one resolver that fills every default in one place.
import type { FilterPattern } from 'unplugin'

export interface Options {
  /** Files to scan for `poet(...)`. @default [/\.[cm]?[jt]sx?$/] */
  include?: FilterPattern
  /** Files never scanned. @default [/node_modules/, /\.d\.[cm]?ts$/] */
  exclude?: FilterPattern
  /** Project root; function ids are relative to it. @default the bundler's root, else process.cwd() */
  root?: string
  /** Where the lock and generated phases live, relative to root. @default '.poet' */
  lockDir?: string
}
