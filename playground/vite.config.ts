// The playground's whole POET setup: one line in `plugins`.
import poet from 'unplugin-poet/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [poet()],
  build: { sourcemap: true },
})
