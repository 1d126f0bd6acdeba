/**
 * Turns payloads into bytes and back. Pass one as `codec` to `observe()` or `publish()`, or name a
 * built-in one: `'bytes'` (the default; `Uint8Array` as received), `'text'` (UTF-8) or `'json'`.
 *
 * @example
 * ```ts
 * const celsius: Codec<number> = {
 *   encode: (n) => n.toFixed(2),
 *   decode: (raw) => Number.parseFloat(new TextDecoder().decode(raw)),
 * }
 * client.observe('rooms/+/temp', { codec: celsius })
 * ```
 */
export interface Codec<T> {
  /** Bytes (or a string, sent as UTF-8) for a value. */
  encode(value: T): Uint8Array | string
  /** The value carried by a payload; throw to report a `DecodeError`. */
  decode(raw: Uint8Array): T
}

/** The built-in codecs by name. */
export type CodecName = 'bytes' | 'text' | 'json'

// `fatal: true` makes malformed UTF-8 a DecodeError instead of silently becoming U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true })

export const bytesCodec: Codec<Uint8Array> = {
  encode: (value) => value,
  decode: (raw) => raw,
}

export const textCodec: Codec<string> = {
  encode: (value) => value,
  decode: (raw) => utf8.decode(raw),
}

export const jsonCodec: Codec<unknown> = {
  encode: (value) => JSON.stringify(value),
  decode: (raw) => JSON.parse(utf8.decode(raw)) as unknown,
}

/**
 * A JSON codec typed for `T`. It checks nothing at run time: for untrusted input, validate with a route's
 * `schema` or a codec of your own.
 *
 * @example
 * ```ts
 * client.observe('rooms/+/temp', { codec: json<{ celsius: number }>() }).subscribe((m) => m.payload.celsius)
 * ```
 */
export function json<T>(): Codec<T> {
  return jsonCodec as Codec<T>
}

export function resolveCodec<T>(codec: CodecName | Codec<T> | undefined): Codec<T> {
  switch (codec) {
    case undefined:
    case 'bytes':
      return bytesCodec as Codec<unknown> as Codec<T>
    case 'text':
      return textCodec as Codec<unknown> as Codec<T>
    case 'json':
      return jsonCodec as Codec<T>
    default:
      return codec
  }
}

/**
 * The bytes `publish()` sends when no codec is given: a `Uint8Array` as is, a string as UTF-8, anything
 * else as JSON.
 */
export function encodePayload(payload: unknown): Uint8Array | string {
  if (payload instanceof Uint8Array || typeof payload === 'string') return payload
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload)
  const text = JSON.stringify(payload)
  if (text === undefined) throw new TypeError(`cannot encode ${typeof payload} as a payload`)
  return text
}
