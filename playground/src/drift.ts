// Level 3: Train — a function with `optimizeFor` whose results are rated with feedback(), the evidence Train learns from.
import { poet } from 'unplugin-poet/runtime'

export interface DriftReport {
  drift: boolean
  /** How many standard errors the current mean lies from the reference mean. */
  z: number
}

export const detectDrift = poet({ domain: 'ml_monitoring', optimizeFor: 'accuracy' })(function detectDrift(current: number[], reference: number[]): DriftReport {
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
  const variance = reference.reduce((s, x) => s + (x - mean(reference)) ** 2, 0) / Math.max(1, reference.length - 1)
  const z = (mean(current) - mean(reference)) / Math.sqrt(variance / current.length || 1)
  return { drift: Math.abs(z) > 3, z: Math.round(z * 100) / 100 }
})
