// otlpSink against the official opentelemetry-proto schema (the protobufjs code OpenTelemetry JS ships), end to end over HTTP.
import { createRequire } from 'node:module'
import { afterEach, describe, expect, it } from 'vitest'
import { otlpSink, type PoetEvent } from '../../../src/runtime/index'
import { otlpLogs } from '../../../src/runtime/sinks/otlp'
import { startServer } from './server'

// No OpenTelemetry Collector runs here (it is a Go binary, and no Go module proxy is reachable). What a Collector's
// OTLP/JSON receiver does first is map the JSON onto these same generated message types, so this is the next best peer:
// the schema `@opentelemetry/otlp-transformer` generated from opentelemetry-proto with protobufjs.
interface Message {
  fromObject(o: unknown): unknown
  encode(m: unknown): { finish(): Uint8Array }
  decode(b: Uint8Array): unknown
  toObject(m: unknown, o: { longs: StringConstructor; enums: NumberConstructor; defaults: false }): unknown
}
const require = createRequire(import.meta.url)
const root = require(require.resolve('@opentelemetry/otlp-transformer/package.json').replace(/package\.json$/, 'build/src/generated/root.js'))
const ExportLogsServiceRequest: Message = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest

/**
 * The request as the official schema reads it: JSON → message → protobuf bytes → message → JSON. A field the schema
 * does not know is dropped on the way and a value of the wrong type comes back changed, so the result equals the input
 * only when every field and value is one the Collector understands.
 */
function throughSchema(json: unknown): unknown {
  const bytes = ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(json)).finish()
  return ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(bytes), { longs: String, enums: Number, defaults: false })
}

// `eventName` is LogRecord field 12, added in opentelemetry-proto 1.5; the generated code predates it. A Collector
// older than that skips it, a newer one keeps it: either way it is checked apart from the rest.
function withoutEventNames(request: ReturnType<typeof otlpLogs>): { request: unknown; eventNames: unknown[] } {
  const copy = structuredClone(request)
  const eventNames: unknown[] = []
  for (const rl of copy.resourceLogs)
    for (const sl of rl.scopeLogs)
      for (const r of sl.logRecords as Record<string, unknown>[]) {
        eventNames.push(r.eventName)
        delete r.eventName
      }
  return { request: copy, eventNames }
}

const base = { v: 1 as const, functionId: 'src/checkout.ts#placeOrder', version: '3f2a9c10be', ts: 1_764_000_000_123 }
const events: PoetEvent[] = [
  { ...base, kind: 'execution', executionId: 'e-1', duration: 12.5, outcome: 'ok', attempts: 1 },
  { ...base, kind: 'execution', executionId: 'e-2', duration: 30_000, outcome: 'timeout', attempts: 3, error: 'PoetTimeoutError' },
  {
    ...base,
    kind: 'execution',
    executionId: 'e-3',
    duration: 0.4,
    outcome: 'input_error',
    attempts: 1,
    error: 'PoetInputError',
    issues: [{ path: 'args[0].items[2].price', rule: 'financial_services.amount_precision' }, { path: 'args[0].currency' }],
    repairs: [{ path: 'args[0].total', action: 'string → number' }],
    stats: { 'items.n': 3, 'items.mean': 19.99, drift: 0 },
  },
  { ...base, kind: 'execution', executionId: 'e-4', duration: 2, outcome: 'error', attempts: 2, error: 'TypeError' },
  { ...base, kind: 'feedback', executionId: 'e-1', score: 0.75, label: 'good', comment: 'fast and right', metrics: { revenue: 120, ctr: 0.031 } },
  { ...base, kind: 'feedback', executionId: 'e-3', score: -1 },
]
const resource = { 'service.name': 'shop', 'service.instance.id': 'edge-7', 'deployment.replicas': 3, 'feature.poet': true }

describe('otlpSink against the opentelemetry-proto schema', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!()
  })

  it('sends a request every field of which the official schema reads back unchanged', async () => {
    const server = await startServer(() => ({ status: 200 }))
    const sink = otlpSink({ url: `${server.url}/v1/logs`, serviceName: 'shop', resource })
    cleanup.push(server.close, sink.close)
    sink(events)
    await sink.flush()

    expect(server.received).toHaveLength(1)
    const sent = JSON.parse(server.received[0]!.body) as ReturnType<typeof otlpLogs>
    const { request, eventNames } = withoutEventNames(sent)
    expect(throughSchema(request)).toEqual(request)
    expect(eventNames).toEqual(['poet.execution', 'poet.execution', 'poet.execution', 'poet.execution', 'poet.feedback', 'poet.feedback'])

    // What a backend shows: severities by outcome, and each attribute under its own typed value.
    const records = sent.resourceLogs[0]!.scopeLogs[0]!.logRecords
    expect(records.map((r) => r.severityText)).toEqual(['INFO', 'ERROR', 'WARN', 'ERROR', 'INFO', 'INFO'])
    const third = Object.fromEntries(records[2]!.attributes.map((a) => [a.key, a.value]))
    expect(third['poet.issues']).toEqual({
      arrayValue: { values: [{ stringValue: 'args[0].items[2].price [financial_services.amount_precision]' }, { stringValue: 'args[0].currency' }] },
    })
    expect(third['poet.stats.items.mean']).toEqual({ doubleValue: 19.99 })
    expect(third['poet.stats.items.n']).toEqual({ intValue: '3' })
  })

  it('sends an integer beyond int64 (or beyond exact doubles) as a double, which the schema reads back unchanged', () => {
    const big: PoetEvent = { ...base, kind: 'feedback', executionId: 'e-5', metrics: { bytes: 2 ** 64, exact: 2 ** 53 - 1, huge: 1e21 } }
    const { request } = withoutEventNames(otlpLogs([big], resource))
    expect(throughSchema(request)).toEqual(request)
  })

  it('has teeth: a misspelt field or a number where int64 wants a string does not survive the schema', () => {
    const good = withoutEventNames(otlpLogs(events.slice(0, 1), resource)).request as { resourceLogs: { scopeLogs: { logRecords: Record<string, unknown>[] }[] }[] }
    const record = good.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!

    const misspelt = structuredClone(good)
    const r1 = misspelt.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!
    r1.severity_number = r1.severityNumber
    delete r1.severityNumber
    expect(throughSchema(misspelt)).not.toEqual(misspelt)

    const fractional = structuredClone(good)
    fractional.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes = [{ key: 'poet.attempts', value: { intValue: 1.5 } }]
    expect(throughSchema(fractional)).not.toEqual(fractional)

    expect(throughSchema(good)).toEqual(good)
    expect(record.timeUnixNano).toBe('1764000000123000000')
  })
})
