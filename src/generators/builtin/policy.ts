// Resolves the policy a function runs with: its own options over its domain pack's policy over the global defaults.
import type { PoetOptions, Policy } from '../../runtime/types'
import type { DomainPack } from './domain'

export const DEFAULT_POLICY: Policy = {
  attempts: 3,
  timeout: 30_000,
  backoff: { initial: 100, max: 5_000, factor: 2, jitter: true },
  retryOn: 'any',
  repair: false,
  sample: 1,
}

/**
 * Fills every policy field. `packs` is the domain pack, or its chain from the root parent to the pack itself
 * (a child's policy overrides its parent's).
 */
export function resolvePolicy(options: PoetOptions = {}, packs?: DomainPack | DomainPack[]): Policy {
  const chain = packs === undefined ? [] : Array.isArray(packs) ? packs : [packs]
  const policy: Policy = { ...DEFAULT_POLICY, backoff: { ...DEFAULT_POLICY.backoff } }
  for (const layer of [...chain.map((p) => p.policy ?? {}), options]) {
    if (layer.attempts !== undefined) policy.attempts = layer.attempts
    if (layer.timeout !== undefined) policy.timeout = layer.timeout
    if (layer.retryOn !== undefined) policy.retryOn = layer.retryOn
    if (layer.backoff) policy.backoff = { ...policy.backoff, ...definedOnly(layer.backoff) }
  }
  if (options.repair !== undefined) policy.repair = options.repair
  if (options.sample !== undefined) policy.sample = options.sample
  return policy
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
