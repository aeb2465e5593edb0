// Library build: the plugin entries for Node, the runtime as its own platform-neutral bundle, the CLI.
import { defineConfig } from 'tsdown'

const bundlers = ['vite', 'rollup', 'rolldown', 'esbuild', 'webpack', 'rspack'] as const

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      ...Object.fromEntries(bundlers.map((b) => [b, `src/${b}.ts`])),
      cli: 'src/cli/index.ts',
    },
    platform: 'node',
    target: 'node20.19',
    fixedExtension: true,
    dts: true,
    // The runtime is a separate entry of its own: the plugin never bundles a second copy of it.
    external: [/^unplugin-poet\//],
  },
  {
    entry: { runtime: 'src/runtime/index.ts' },
    platform: 'neutral',
    target: 'es2020',
    fixedExtension: true,
    dts: true,
    clean: false,
  },
  {
    // The dashboard page's script (uPlot included): one static file the dev server and `poet serve` send as is.
    entry: { dashboard: 'src/dashboard/client.ts' },
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    minify: true,
    dts: false,
    clean: false,
    noExternal: ['uplot'],
  },
])
