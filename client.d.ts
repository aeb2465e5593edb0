// Ambient types for the phase modules the plugin serves: `/// <reference types="unplugin-poet/client" />`.
declare module 'virtual:poet/*' {
  import type { PhaseModule } from 'unplugin-poet/runtime'
  const phases: PhaseModule
  export default phases
}
