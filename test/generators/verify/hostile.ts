// Loads the hostile corpus (test/fixtures/hostile): each payload replaces one part of an otherwise good model reply.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { goodReply } from './fixture'

const dir = fileURLToPath(new URL('../../fixtures/hostile/', import.meta.url))

export interface HostilePayload {
  name: string
  part: 'perceive' | 'enforce' | 'helpers'
  /** What the rejection reason must mention. */
  expect: RegExp
  /** `HOSTILE_<name>`: present in the payload, so it can be searched for in the lock and in bundles. */
  marker: string
  code: string
}

export function hostilePayloads(): HostilePayload[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .sort()
    .map((f) => {
      const text = readFileSync(dir + f, 'utf8')
      const [partLine, expectLine] = text.split('\n')
      const name = f.slice(0, -3)
      return {
        name,
        part: partLine!.replace('// part: ', '').trim() as HostilePayload['part'],
        expect: new RegExp(expectLine!.replace('// expect: ', '').trim()),
        marker: `HOSTILE_${name}`,
        code: text.split('\n').slice(2).join('\n'),
      }
    })
}

/** The good reply with one part swapped for the payload: everything else about it would pass. */
export function hostileReply(p: HostilePayload): typeof goodReply {
  return { ...goodReply, [p.part]: p.code }
}
