// The package root: the unplugin instance with a method per bundler, and the plugin's option types.
import { createUnplugin } from 'unplugin'
import { unpluginFactory } from './plugin'

export type { Options } from './plugin/options'
export type { PoetOptions } from './runtime/types'
// What a custom domain pack (the plugin's `domains` option) is written against, as docs/domains.md shows.
export type { CodeRule, DomainPack, EventField, RuleSite } from './generators/builtin/domain'

const unplugin = createUnplugin(unpluginFactory)
export default unplugin
