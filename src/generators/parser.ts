// @babel/parser, required on first use: an ESM import of this large CommonJS file makes Node lex it for its named exports first (~300 ms), and a build without poet modules never needs it.
import { createRequire } from 'node:module'
import type * as Babel from '@babel/parser'

let babel: typeof Babel | undefined

export const parse: typeof Babel.parse = (input, options) =>
  (babel ??= createRequire(import.meta.url)('@babel/parser') as typeof Babel).parse(input, options)

export type { ParserPlugin } from '@babel/parser'
