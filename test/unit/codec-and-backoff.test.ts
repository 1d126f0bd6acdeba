import { describe, expect, it } from 'vitest'
import { backoffDelay } from '../../lib/connection/backoff.js'
import { encodePayload, jsonCodec, resolveCodec, textCodec } from '../../lib/codec.js'

describe('codecs', () => {
  it('encodes a publish payload by its type', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(encodePayload(bytes)).toBe(bytes)
    expect(encodePayload('héllo')).toBe('héllo')
    expect(encodePayload({ celsius: 21.5 })).toBe('{"celsius":21.5}')
    expect(encodePayload(42)).toBe('42')
    expect(encodePayload(null)).toBe('null')
    expect(() => encodePayload(undefined)).toThrow(TypeError)
  })

  it('decodes text strictly, so malformed UTF-8 is an error rather than U+FFFD', () => {
    expect(textCodec.decode(new TextEncoder().encode('héllo'))).toBe('héllo')
    expect(() => textCodec.decode(new Uint8Array([0xff, 0xfe]))).toThrow()
  })

  it('decodes JSON and throws on anything else', () => {
    expect(jsonCodec.decode(new TextEncoder().encode('{"a":[1]}'))).toEqual({ a: [1] })
    expect(() => jsonCodec.decode(new TextEncoder().encode('not json'))).toThrow()
  })

  it('resolves names and passes custom codecs through', () => {
    const custom = { encode: (n: number) => String(n), decode: (b: Uint8Array) => b.length }
    expect(resolveCodec(custom)).toBe(custom)
    expect(resolveCodec('text')).toBe(textCodec)
    const raw = new Uint8Array([9])
    expect(resolveCodec(undefined).decode(raw)).toBe(raw)
  })
})

describe('backoffDelay', () => {
  const policy = { initialDelay: 1_000, maxDelay: 30_000 }

  it('doubles the ceiling per attempt up to the maximum, drawing from its upper half', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(500)
    expect(backoffDelay(1, policy, () => 1)).toBe(1_000)
    expect(backoffDelay(2, policy, () => 1)).toBe(2_000)
    expect(backoffDelay(5, policy, () => 1)).toBe(16_000)
    expect(backoffDelay(6, policy, () => 1)).toBe(30_000)
    expect(backoffDelay(500, policy, () => 0)).toBe(15_000)
  })

  it('spreads clients that start together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)))
    expect(delays.size).toBeGreaterThan(10)
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(2_000)
      expect(d).toBeLessThanOrEqual(4_000)
    }
  })
})
