// unplugin-poet/runtime: the tiny, platform-agnostic runtime every poet() call runs through.
export { poet, type PoetDecorator } from './poet'
export { onEvent, type EventListener } from './events'
export { POET, type PoetErrorMeta } from './meta'
export { PoetError, type PoetPhase } from './errors/PoetError'
export { PoetInputError } from './errors/PoetInputError'
export { PoetOutputError } from './errors/PoetOutputError'
export { PoetTimeoutError } from './errors/PoetTimeoutError'
export type * from './types'
