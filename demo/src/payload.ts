/** A received payload, decoded once for display: text when it is UTF-8, JSON when it parses. */
export interface DecodedPayload {
  /** The payload as text (UTF-8), or a hex dump of its first bytes when it is binary. */
  readonly text: string
  /** True when the payload is not valid UTF-8. */
  readonly binary: boolean
  /** True when `text` is JSON (object, array, number, boolean or null). */
  readonly isJson: boolean
  /** The parsed JSON value when `isJson`. */
  readonly json: unknown
  /** Size in bytes. */
  readonly size: number
}

const decoder = new TextDecoder('utf-8', { fatal: true })
const MAX_TEXT = 64 * 1024

function hex(raw: Uint8Array, max = 64): string {
  const parts: string[] = []
  for (let i = 0; i < Math.min(raw.length, max); i++) parts.push((raw[i] as number).toString(16).padStart(2, '0'))
  return parts.join(' ') + (raw.length > max ? ' …' : '')
}

/** Decodes raw bytes for display. Never throws. */
export function decodePayload(raw: Uint8Array): DecodedPayload {
  let text: string
  try {
    text = decoder.decode(raw.length > MAX_TEXT ? raw.subarray(0, MAX_TEXT) : raw)
  } catch {
    return { text: hex(raw), binary: true, isJson: false, json: undefined, size: raw.length }
  }
  const first = text.trimStart()[0]
  if (first !== undefined && '{["-0123456789tfn'.includes(first) && raw.length <= MAX_TEXT) {
    try {
      return { text, binary: false, isJson: true, json: JSON.parse(text), size: raw.length }
    } catch {
      // not JSON after all: plain text
    }
  }
  return { text, binary: false, isJson: false, json: undefined, size: raw.length }
}

/** The payload laid out for reading: JSON formatted by {@link formatJson}, or the text as is, cut at `max` characters. */
export function prettyPayload(payload: DecodedPayload, max = 4_000, width = 60): string {
  let out = payload.text
  if (payload.isJson && typeof payload.json === 'object' && payload.json !== null) {
    out = payload.size > 20_000 ? JSON.stringify(payload.json, null, 2) : formatJson(payload.json, width)
  }
  return out.length > max ? `${out.slice(0, max)}…` : out
}

/** JSON on one line with a space after `:` and `,`: `{"a": 1, "b": [1, 2]}`. */
function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`
  if (typeof value === 'object' && value !== null) {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inlineJson(v)}`).join(', ')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * Pretty JSON the way people lay it out by hand: whatever fits in `width` columns stays on one line,
 * larger objects and arrays break one entry per line, indented by two spaces.
 *
 * @example
 * ```ts
 * formatJson({ a: 1, b: [1, 2] }, 40) // '{"a": 1, "b": [1, 2]}'
 * ```
 */
export function formatJson(value: unknown, width = 60, indent = ''): string {
  const flat = inlineJson(value)
  if (flat.length + indent.length <= width || typeof value !== 'object' || value === null) return flat
  const inner = `${indent}  `
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[\n${value.map((v) => inner + formatJson(v, width, inner)).join(',\n')}\n${indent}]`
  }
  const entries = Object.entries(value)
  if (entries.length === 0) return '{}'
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, width, inner)}`).join(',\n')}\n${indent}}`
}

export type JsonTokenKind = 'key' | 'string' | 'number' | 'literal' | 'plain'

/** Splits formatted JSON into tokens for syntax colouring. Joining the texts gives the input back. */
export function jsonTokens(text: string): Array<{ text: string; kind: JsonTokenKind }> {
  const out: Array<{ text: string; kind: JsonTokenKind }> = []
  const pattern = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g
  let last = 0
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match.index > last) out.push({ text: text.slice(last, match.index), kind: 'plain' })
    if (match[1] !== undefined) {
      out.push({ text: match[1], kind: match[2] !== undefined ? 'key' : 'string' })
      if (match[2] !== undefined) out.push({ text: match[2], kind: 'plain' })
    } else if (match[3] !== undefined) {
      out.push({ text: match[3], kind: 'literal' })
    } else {
      out.push({ text: match[0], kind: 'number' })
    }
    last = pattern.lastIndex
  }
  if (last < text.length) out.push({ text: text.slice(last), kind: 'plain' })
  return out
}

/** The payload on one line, for a tree row or a preview: compact JSON or the text with line breaks shown. */
export function previewPayload(payload: DecodedPayload, max = 120): string {
  const out = payload.isJson ? JSON.stringify(payload.json) : payload.text.replace(/\s*\n\s*/g, ' ⏎ ')
  if (out.length === 0) return '(empty)'
  return out.length > max ? `${out.slice(0, max)}…` : out
}

/** `12 B`, `1.5 KB`, `2.0 MB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`
  return `${(n / 1024 / 1024).toFixed(1)} MB`
}
