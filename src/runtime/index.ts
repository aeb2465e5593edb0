// unplugin-poet/runtime: the tiny, platform-agnostic runtime every poet() call runs through.
export type * from './types'
