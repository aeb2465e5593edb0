// The fixture's webpack loader: strips TypeScript with esbuild and chains the incoming source map, as ts-loader would.
const { transform } = require('esbuild')
const remapping = require('@jridgewell/remapping')

/** @type {import('webpack').LoaderDefinitionFunction} */
module.exports = function stripTs(code, inputMap) {
  const done = this.async()
  const file = this.resourcePath
  transform(code, { loader: 'ts', format: 'esm', target: 'es2022', sourcemap: 'external', sourcefile: file }).then(
    (out) => {
      const map = JSON.parse(out.map)
      if (!inputMap) return done(null, out.code, map)
      const previous = typeof inputMap === 'string' ? JSON.parse(inputMap) : inputMap
      // The esbuild map's one source is the file itself; the previous loader's map takes it back to the original,
      // whose own source is that same path again, so it is chained exactly once.
      let chained = false
      done(null, out.code, remapping(map, (source) => (source === file && !chained ? ((chained = true), previous) : null)))
    },
    (error) => done(error),
  )
}
