// otlpSink: events as OTLP/HTTP JSON log records, so an OpenTelemetry Collector can take them to any backend.
import type { PoetEvent } from '../types'
import { httpSink, type HttpSink, type HttpSinkOptions } from './http'

export interface OtlpSinkOptions extends Omit<HttpSinkOptions, 'url' | 'encode' | 'dropCountHeader'> {
  /** The collector's OTLP/HTTP logs endpoint. @default 'http://localhost:4318/v1/logs' */
  url?: string
  /** `service.name` of the resource. @default 'unplugin-poet' */
  serviceName?: string
  /** More resource attributes, e.g. `{ 'deployment.environment': 'prod' }`. */
  resource?: Record<string, string | number | boolean>
}

export function otlpSink(options: OtlpSinkOptions = {}): HttpSink {
  const resource = { 'service.name': options.serviceName ?? 'unplugin-poet', ...options.resource }
  return httpSink({
    ...options,
    url: options.url ?? 'http://localhost:4318/v1/logs',
    encode: (events) => JSON.stringify(otlpLogs(events, resource)),
    // A Collector knows nothing of it, and its CORS lets only the standard headers through: from a browser on another
    // origin, the header alone would get every request refused.
    dropCountHeader: false,
  })
}

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } }
interface KeyValue {
  key: string
  value: AnyValue
}

// SeverityNumber of the OTLP log data model.
const INFO = 9
const WARN = 13
const ERROR = 17

/** The ExportLogsServiceRequest (OTLP JSON encoding) for a batch of events. */
export function otlpLogs(events: PoetEvent[], resource: Record<string, string | number | boolean>) {
  const logRecords = events.map((e) => {
    const attributes: KeyValue[] = []
    const add = (key: string, v: unknown) => {
      const value = anyValue(v)
      if (value) attributes.push({ key, value })
    }
    add('poet.function_id', e.functionId)
    add('poet.version', e.version)
    add('poet.execution_id', e.executionId)
    let severity = INFO
    if (e.kind === 'execution') {
      severity = e.outcome === 'ok' ? INFO : e.outcome === 'error' || e.outcome === 'timeout' ? ERROR : WARN
      add('poet.outcome', e.outcome)
      add('poet.attempts', e.attempts)
      add('poet.duration_ms', e.duration)
      add('poet.error', e.error)
      add('poet.issues', e.issues && e.issues.map((i) => (i.rule ? `${i.path} [${i.rule}]` : i.path)))
      add('poet.issue_count', e.issueCount)
      add('poet.repairs', e.repairs && e.repairs.map((r) => `${r.path}: ${r.action}`))
      for (const k in e.stats) add(`poet.stats.${k}`, e.stats[k])
    } else {
      add('poet.score', e.score)
      add('poet.label', e.label)
      add('poet.comment', e.comment)
      for (const k in e.metrics) add(`poet.metrics.${k}`, e.metrics[k])
    }
    const time = `${e.ts}000000`
    return {
      timeUnixNano: time,
      observedTimeUnixNano: time,
      severityNumber: severity,
      severityText: severity === INFO ? 'INFO' : severity === WARN ? 'WARN' : 'ERROR',
      eventName: `poet.${e.kind}`,
      body: { stringValue: `poet.${e.kind}` },
      attributes,
    }
  })
  return {
    resourceLogs: [
      {
        resource: { attributes: Object.entries(resource).map(([key, v]) => ({ key, value: anyValue(v)! })) },
        scopeLogs: [{ scope: { name: 'unplugin-poet' }, logRecords }],
      },
    ],
  }
}

function anyValue(v: unknown): AnyValue | undefined {
  if (typeof v === 'string') return { stringValue: v }
  if (typeof v === 'boolean') return { boolValue: v }
  // int64 travels as a decimal string in OTLP JSON. Beyond 2^53 a number is no exact integer, and its String() may be
  // `1e+21` or overflow int64, which a Collector refuses (with the whole request): a double holds it as it is.
  if (typeof v === 'number') return Number.isSafeInteger(v) ? { intValue: String(v) } : { doubleValue: v }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue).filter((x): x is AnyValue => !!x) } }
}
