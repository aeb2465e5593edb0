// @babel/parser loaded with require: an ESM import of this large CommonJS file makes Node lex it for its named exports first, ~300 ms of every build.
import { createRequire } from 'node:module'
import type * as Babel from '@babel/parser'

export const { parse } = createRequire(import.meta.url)('@babel/parser') as typeof Babel
export type { ParserPlugin } from '@babel/parser'
