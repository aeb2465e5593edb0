import { afterEach, describe, expect, it } from 'vitest'
import { otlpSink, type PoetEvent } from '../../../src/runtime/index'
import { otlpLogs } from '../../../src/runtime/sinks/otlp'
import { startServer } from './server'

const execution: PoetEvent = {
  v: 1,
  kind: 'execution',
  functionId: 'src/drift.ts#detectDrift',
  version: 'a1b2c3d4e5',
  executionId: 'mx-1',
  ts: 1_764_000_000_123,
  duration: 1.25,
  outcome: 'input_error',
  attempts: 1,
  issues: [{ path: 'args[0][3]', rule: 'ml_monitoring.finite' }, { path: 'args[1]' }],
  stats: { n: 4, mean: 2.5 },
  error: 'PoetInputError',
}
const fb: PoetEvent = { v: 1, kind: 'feedback', functionId: 'src/drift.ts#detectDrift', version: 'a1b2c3d4e5', executionId: 'mx-1', ts: 1_764_000_000_500, score: 0.2, label: 'missed-drift', metrics: { recall: 0.5 } }

// The OTLP/JSON shape of ExportLogsServiceRequest (opentelemetry-proto logs/v1, common/v1, resource/v1): field names,
// value types and the int64-as-string rule, checked strictly so a Collector's JSON unmarshaler takes it.
type Check = (v: unknown, at: string) => void
const fail = (at: string, what: string) => {
  throw new Error(`${at}: ${what}`)
}
const str: Check = (v, at) => void (typeof v !== 'string' && fail(at, 'expected string'))
const int: Check = (v, at) => void (!Number.isInteger(v) && fail(at, 'expected integer'))
const u64: Check = (v, at) => void (!(typeof v === 'string' && /^\d+$/.test(v)) && fail(at, 'expected uint64 as a decimal string'))
const arr = (item: Check): Check => (v, at) => (Array.isArray(v) ? v.forEach((x, i) => item(x, `${at}[${i}]`)) : fail(at, 'expected array'))
const obj =
  (fields: Record<string, Check>, required: string[] = []): Check =>
  (v, at) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(at, 'expected object')
    for (const k of required) if (!(k in v)) fail(at, `missing ${k}`)
    for (const [k, x] of Object.entries(v)) (fields[k] ?? (() => fail(`${at}.${k}`, 'unknown field')))(x, `${at}.${k}`)
  }
const anyValue: Check = (v, at) => {
  const keys = Object.keys(v as object)
  if (keys.length !== 1) fail(at, 'AnyValue holds exactly one of its fields')
  obj({
    stringValue: str,
    boolValue: (x, a) => void (typeof x !== 'boolean' && fail(a, 'expected boolean')),
    intValue: (x, a) => void (!(typeof x === 'string' && /^-?\d+$/.test(x)) && fail(a, 'expected int64 as a decimal string')),
    doubleValue: (x, a) => void (typeof x !== 'number' && fail(a, 'expected number')),
    arrayValue: obj({ values: arr(anyValue) }),
  })(v, at)
}
const keyValue = obj({ key: str, value: anyValue }, ['key', 'value'])
const request = obj(
  {
    resourceLogs: arr(
      obj({
        resource: obj({ attributes: arr(keyValue) }),
        scopeLogs: arr(
          obj({
            scope: obj({ name: str, version: str }),
            logRecords: arr(
              obj(
                { timeUnixNano: u64, observedTimeUnixNano: u64, severityNumber: int, severityText: str, eventName: str, body: anyValue, attributes: arr(keyValue) },
                ['timeUnixNano', 'severityNumber', 'body', 'attributes'],
              ),
            ),
          }),
        ),
      }),
    ),
  },
  ['resourceLogs'],
)

const attrs = (r: { attributes: { key: string; value: unknown }[] }) => Object.fromEntries(r.attributes.map((a) => [a.key, a.value]))

describe('otlpSink', () => {
  it('encodes events as an OTLP/JSON ExportLogsServiceRequest', () => {
    const body = otlpLogs([execution, fb], { 'service.name': 'shop', 'deployment.environment': 'test' })
    expect(() => request(body, 'request')).not.toThrow()
    const [rl] = body.resourceLogs
    expect(attrs(rl.resource)).toEqual({ 'service.name': { stringValue: 'shop' }, 'deployment.environment': { stringValue: 'test' } })
    const [run, feedback] = rl.scopeLogs[0].logRecords
    expect(run).toMatchObject({ timeUnixNano: '1764000000123000000', severityNumber: 13, severityText: 'WARN', eventName: 'poet.execution' })
    expect(attrs(run)).toEqual({
      'poet.function_id': { stringValue: 'src/drift.ts#detectDrift' },
      'poet.version': { stringValue: 'a1b2c3d4e5' },
      'poet.execution_id': { stringValue: 'mx-1' },
      'poet.outcome': { stringValue: 'input_error' },
      'poet.attempts': { intValue: '1' },
      'poet.duration_ms': { doubleValue: 1.25 },
      'poet.error': { stringValue: 'PoetInputError' },
      'poet.issues': { arrayValue: { values: [{ stringValue: 'args[0][3] [ml_monitoring.finite]' }, { stringValue: 'args[1]' }] } },
      'poet.stats.n': { intValue: '4' },
      'poet.stats.mean': { doubleValue: 2.5 },
    })
    expect(attrs(feedback)).toMatchObject({ 'poet.score': { doubleValue: 0.2 }, 'poet.label': { stringValue: 'missed-drift' }, 'poet.metrics.recall': { doubleValue: 0.5 } })
  })

  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!()
  })

  it('POSTs it to the collector endpoint over HTTP', async () => {
    const server = await startServer(() => ({ status: 200 }))
    const sink = otlpSink({ url: `${server.url}/v1/logs`, serviceName: 'shop', headers: { 'x-tenant': 't1' } })
    cleanup.push(server.close, sink.close)
    sink([execution, fb])
    await sink.flush()
    expect(server.received).toHaveLength(1)
    const [r] = server.received
    expect(r.path).toBe('/v1/logs')
    expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'x-tenant': 't1' })
    const body = JSON.parse(r.body)
    expect(() => request(body, 'request')).not.toThrow()
    expect(body.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(2)
    expect(sink.sent).toBe(2)
  })
})
