/**
 * Property-based and mutation fuzzing of the wire codec, deterministic: a seeded PRNG (mulberry32) drives
 * everything, so a failure names its seed and reproduces. Each input goes through a fresh reader with
 * `next()` in a bounded loop: it may give packets or throw MalformedPacketError, nothing else; it ends; and
 * it never holds more than it was given. A packet that decodes must re-encode, and decoding that encoding
 * must give the same bytes again.
 *
 * Measured on this 2-core machine (vitest 4, Node 20), 1,240,000 inputs in about 11 s: 600,000 random byte
 * strings 2.2-2.4 s, 400,000 mutated streams 3.7-4.2 s (some 228,000 packets decoded from them and re-encoded),
 * 240,000 streams of 1 to 6 property-based packets in random chunks 4.7 s.
 */
import { describe, expect, it } from 'vitest'
import type { QoS } from '../../lib/message.js'
import { encode } from '../../lib/wire/encode.js'
import { MalformedPacketError } from '../../lib/wire/malformed-packet.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet, Properties, ProtocolLevel, UserProperties } from '../../lib/wire/packets.js'
import { concat, samples } from './wire-samples.js'

type Rng = () => number

function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const int = (rng: Rng, n: number) => Math.floor(rng() * n)
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!
const chance = (rng: Rng, p: number) => rng() < p
const NO_LIMIT = 268435460

// ——— random valid packets (property-based) ———

const CHARS = ['a', 'b', '/', '+', '#', ' ', 'Z', '9', 'é', 'ß', '°', '€', '中', '🚀', '\ufeff', '\u007f', '$']
function str(rng: Rng, max = 12): string {
  let s = ''
  for (let n = int(rng, max + 1); n > 0; n--) s += pick(rng, CHARS)
  return s
}
function bytes(rng: Rng, max = 16): Uint8Array {
  const b = new Uint8Array(int(rng, max + 1))
  for (let i = 0; i < b.length; i++) b[i] = int(rng, 256)
  return b
}
const EDGES = [1, 127, 128, 16383, 16384, 2097151, 2097152, 268435455]
const varint = (rng: Rng) => (chance(rng, 0.5) ? pick(rng, EDGES) : 1 + int(rng, 268435455))
const u16 = (rng: Rng, min = 0) => (chance(rng, 0.3) ? pick(rng, [min, 255, 256, 65535]) : min + int(rng, 65536 - min))
const u32 = (rng: Rng, min = 0) => (chance(rng, 0.3) ? pick(rng, [min, 65536, 0xffffffff]) : min + int(rng, 0x100000000 - min))

function userProperties(rng: Rng): UserProperties {
  const out: UserProperties = {}
  for (let n = 1 + int(rng, 3); n > 0; n--) {
    const name = str(rng, 4)
    out[name] = chance(rng, 0.3) ? [str(rng), str(rng), str(rng)].slice(0, 2 + int(rng, 2)) : str(rng)
  }
  return out
}

const VALUES: Record<keyof Properties, (rng: Rng, place: number) => unknown> = {
  payloadFormatIndicator: (r) => chance(r, 0.5),
  messageExpiryInterval: (r) => u32(r),
  contentType: (r) => str(r),
  responseTopic: (r) => str(r),
  correlationData: (r) => bytes(r),
  subscriptionIdentifier: (r, place) => (place === 3 && chance(r, 0.4) ? [varint(r), varint(r), varint(r)].slice(0, 2 + int(r, 2)) : varint(r)),
  sessionExpiryInterval: (r) => u32(r),
  assignedClientIdentifier: (r) => str(r),
  serverKeepAlive: (r) => u16(r),
  authenticationMethod: (r) => str(r),
  authenticationData: (r) => bytes(r),
  requestProblemInformation: (r) => chance(r, 0.5),
  willDelayInterval: (r) => u32(r),
  requestResponseInformation: (r) => chance(r, 0.5),
  responseInformation: (r) => str(r),
  serverReference: (r) => str(r),
  reasonString: (r) => str(r),
  receiveMaximum: (r) => u16(r, 1),
  topicAliasMaximum: (r) => u16(r),
  topicAlias: (r) => u16(r, 1),
  maximumQoS: (r) => int(r, 2),
  retainAvailable: (r) => chance(r, 0.5),
  userProperties,
  maximumPacketSize: (r) => u32(r, 1),
  wildcardSubscriptionAvailable: (r) => chance(r, 0.5),
  subscriptionIdentifiersAvailable: (r) => chance(r, 0.5),
  sharedSubscriptionAvailable: (r) => chance(r, 0.5),
}

/** What MQTT 5 allows where (2.2.2.2), written out apart from the codec's own table. */
const MESSAGE = ['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'userProperties'] as const
const REASON = ['reasonString', 'userProperties'] as const
const ALLOWED: Record<number, readonly (keyof Properties)[]> = {
  0: [...MESSAGE, 'willDelayInterval'],
  1: ['sessionExpiryInterval', 'authenticationMethod', 'authenticationData', 'requestProblemInformation', 'requestResponseInformation', 'receiveMaximum', 'topicAliasMaximum', 'maximumPacketSize', 'userProperties'],
  2: ['sessionExpiryInterval', 'assignedClientIdentifier', 'serverKeepAlive', 'authenticationMethod', 'authenticationData', 'responseInformation', 'serverReference', 'reasonString', 'receiveMaximum', 'topicAliasMaximum', 'maximumQoS', 'retainAvailable', 'userProperties', 'maximumPacketSize', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable'],
  3: [...MESSAGE, 'subscriptionIdentifier', 'topicAlias'],
  4: REASON,
  8: ['subscriptionIdentifier', 'userProperties'],
  9: REASON,
  10: ['userProperties'],
  11: REASON,
  14: ['sessionExpiryInterval', 'serverReference', 'reasonString', 'userProperties'],
  15: ['authenticationMethod', 'authenticationData', 'reasonString', 'userProperties'],
}

function properties(rng: Rng, level: ProtocolLevel, place: number): Properties | undefined {
  if (level === 4 || chance(rng, 0.3)) return undefined
  const out: Record<string, unknown> = {}
  for (const name of ALLOWED[place]!) if (chance(rng, 0.4)) out[name] = VALUES[name](rng, place)
  return Object.keys(out).length ? (out as Properties) : undefined
}

const qos = (rng: Rng) => int(rng, 3) as QoS
const id = (rng: Rng) => u16(rng, 1)
const code = (rng: Rng, level: ProtocolLevel) => (level === 4 ? 0 : pick(rng, [0, 0, 0x10, 0x80, 0x87, 0x97, int(rng, 256)]))

function randomPacket(rng: Rng, level: ProtocolLevel): Packet {
  const v5 = level === 5
  switch (int(rng, 15)) {
    case 0: {
      const hasUser = chance(rng, 0.5)
      return {
        type: 'connect',
        protocolVersion: level,
        clientId: str(rng),
        clean: chance(rng, 0.5),
        keepalive: u16(rng),
        username: hasUser ? str(rng) : undefined,
        password: (v5 || hasUser) && chance(rng, 0.5) ? bytes(rng) : undefined,
        will: chance(rng, 0.5) ? { topic: str(rng), payload: bytes(rng), qos: qos(rng), retain: chance(rng, 0.5), properties: properties(rng, level, 0) } : undefined,
        properties: properties(rng, level, 1),
      }
    }
    case 1:
      return { type: 'connack', sessionPresent: chance(rng, 0.5), reasonCode: v5 ? code(rng, level) : int(rng, 6), properties: properties(rng, level, 2) }
    case 2:
    case 3:
    case 4: {
      const q = qos(rng)
      return { type: 'publish', topic: str(rng, 20), payload: bytes(rng, 200), qos: q, retain: chance(rng, 0.5), dup: chance(rng, 0.5), packetId: q > 0 ? id(rng) : undefined, properties: properties(rng, level, 3) }
    }
    case 5:
      return { type: pick(rng, ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), packetId: id(rng), reasonCode: code(rng, level), properties: properties(rng, level, 4) }
    case 6: {
      const subscriptions = Array.from({ length: 1 + int(rng, 3) }, () =>
        v5 ? { filter: str(rng), qos: qos(rng), nl: chance(rng, 0.5), rap: chance(rng, 0.5), rh: int(rng, 3) as 0 } : { filter: str(rng), qos: qos(rng) },
      )
      const props = properties(rng, level, 8)
      if (props && Array.isArray(props.subscriptionIdentifier)) props.subscriptionIdentifier = props.subscriptionIdentifier[0]
      return { type: 'subscribe', packetId: id(rng), subscriptions, properties: props }
    }
    case 7:
      return { type: 'suback', packetId: id(rng), reasonCodes: Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, [0, 1, 2, 0x80, 0x87])), properties: properties(rng, level, 9) }
    case 8:
      return { type: 'unsubscribe', packetId: id(rng), filters: Array.from({ length: 1 + int(rng, 3) }, () => str(rng)), properties: properties(rng, level, 10) }
    case 9:
      return { type: 'unsuback', packetId: id(rng), reasonCodes: v5 ? Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, [0, 0x11, 0x80])) : [], properties: properties(rng, level, 11) }
    case 10:
      return { type: 'pingreq' }
    case 11:
      return { type: 'pingresp' }
    case 12:
    case 13:
      return { type: 'disconnect', reasonCode: code(rng, level), properties: properties(rng, level, 14) }
    default:
      return v5 ? { type: 'auth', reasonCode: pick(rng, [0, 0x18, 0x19]), properties: properties(rng, level, 15) } : { type: 'pingreq' }
  }
}

// ——— the harness ———

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function chunked(rng: Rng, input: Uint8Array): Uint8Array[] {
  if (chance(rng, 0.3)) return [input]
  const out: Uint8Array[] = []
  for (let at = 0; at < input.length; ) {
    const n = 1 + int(rng, chance(rng, 0.5) ? 4 : input.length)
    out.push(input.subarray(at, at + n))
    at += n
  }
  return out
}

interface Outcome {
  packets: Packet[]
  error: MalformedPacketError | undefined
}

/** Feeds the chunks to a fresh reader, draining after each; checks the invariants the reader must keep. */
function drive(chunks: Uint8Array[], level: ProtocolLevel, limit = NO_LIMIT): Outcome {
  const reader = new PacketReader({ maximumPacketSize: limit })
  reader.level = level
  const packets: Packet[] = []
  let given = 0
  for (const chunk of chunks) {
    reader.push(chunk)
    given += chunk.length
    for (let bound = given + 1; ; bound--) {
      if (bound === 0) throw new Error('next() did not come to an end')
      let p: Packet | undefined
      try {
        p = reader.next()
      } catch (e) {
        if (!(e instanceof MalformedPacketError)) throw e
        if (reader.buffered > given) throw new Error('holds more than it was given')
        return { packets, error: e }
      }
      if (reader.buffered > given) throw new Error('holds more than it was given')
      if (!p) break
      packets.push(p)
    }
  }
  return { packets, error: undefined }
}

/** A decoded packet re-encodes, and that decodes to a packet of the same encoding (RangeError never). */
function reencodes(p: Packet, level: ProtocolLevel): void {
  const bytes = encode(p, level)
  const again = drive([bytes], level)
  if (again.error || again.packets.length !== 1) throw new Error(`re-encoding does not decode: ${hex(bytes)} ${String(again.error)}`)
  const second = encode(again.packets[0]!, level)
  if (!same(second, bytes)) throw new Error(`re-encoding is not stable: ${hex(bytes)} then ${hex(second)}`)
}

const LEVELS: ProtocolLevel[] = [4, 5]

function timed(name: string, f: () => number) {
  const t = performance.now()
  const n = f()
  console.log(`${name}: ${n} inputs in ${Math.round(performance.now() - t)} ms`)
  return n
}

/**
 * A fixed number of inputs (seeded), not a time budget: a run takes 11 s on an idle machine and 40 s on a slow
 * one, and vitest's default 20 s would cut the slow run short without anything being wrong.
 */
const FUZZ_TIMEOUT_MS = 180_000

describe('wire fuzz', () => {
  it('random bytes', () => {
    const n = timed('random bytes', () => {
      const rng = mulberry32(0x5eed0001)
      const FIRST = [0x10, 0x20, 0x30, 0x32, 0x34, 0x3b, 0x40, 0x50, 0x62, 0x70, 0x82, 0x90, 0xa2, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0]
      let count = 0
      for (; count < 600_000; count++) {
        const input = bytes(rng, 1 + int(rng, 48))
        // Mostly plausible first bytes and short lengths, so that bodies get decoded, not only headers.
        if (input.length > 0 && chance(rng, 0.8)) input[0] = pick(rng, FIRST)
        if (input.length > 1 && chance(rng, 0.7)) input[1] = int(rng, input.length)
        const level = chance(rng, 0.5) ? 5 : 4
        const limit = chance(rng, 0.2) ? int(rng, 40) : NO_LIMIT
        const out = drive(chunked(rng, input), level, limit)
        for (const p of out.packets) reencodes(p, level)
      }
      return count
    })
    expect(n).toBe(600_000)
  }, FUZZ_TIMEOUT_MS)

  it('valid streams, mutated', () => {
    const n = timed('mutated', () => {
      const rng = mulberry32(0x5eed0002)
      const fixed = LEVELS.map((level) => samples(level).map((p) => encode(p, level)))
      let count = 0
      let survivors = 0
      for (; count < 400_000; count++) {
        const level = LEVELS[count & 1]!
        const pool = fixed[count & 1]!
        const parts = Array.from({ length: 1 + int(rng, 3) }, () => (chance(rng, 0.5) ? pick(rng, pool) : encode(randomPacket(rng, level), level)))
        let input: Uint8Array = concat(parts)
        for (let m = 1 + int(rng, 3); m > 0; m--) input = mutate(rng, input, pick(rng, pool))
        const out = drive(chunked(rng, input), level, chance(rng, 0.1) ? int(rng, 300) : NO_LIMIT)
        survivors += out.packets.length
        for (const p of out.packets) reencodes(p, level)
      }
      console.log(`mutated: ${survivors} packets decoded from mutated streams`)
      return count
    })
    expect(n).toBe(400_000)
  }, FUZZ_TIMEOUT_MS)

  it('random valid packets round-trip, in random chunks', () => {
    const n = timed('property-based', () => {
      const rng = mulberry32(0x5eed0003)
      let count = 0
      for (; count < 240_000; count++) {
        const level = LEVELS[count & 1]!
        const packets = Array.from({ length: 1 + int(rng, 6) }, () => randomPacket(rng, level))
        const encoded = packets.map((p) => encode(p, level))
        const out = drive(chunked(rng, concat(encoded)), level)
        if (out.error) throw new Error(`seed step ${count}: ${out.error.message} in ${encoded.map(hex).join(' | ')}`)
        if (out.packets.length !== packets.length) throw new Error(`seed step ${count}: ${out.packets.length} packets of ${packets.length}`)
        out.packets.forEach((p, i) => {
          const again = encode(p, level)
          if (!same(again, encoded[i]!)) throw new Error(`seed step ${count}: ${hex(again)} is not ${hex(encoded[i]!)}`)
        })
        if (count < 2000) expect(out.packets).toEqual(packets) // the deep comparison, on a sample (it is slow)
      }
      return count
    })
    expect(n).toBe(240_000)
  }, FUZZ_TIMEOUT_MS)
})

function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
  const at = int(rng, input.length + 1)
  switch (int(rng, 7)) {
    case 0: {
      // bit flip
      if (input.length === 0) return input
      const out = input.slice()
      out[Math.min(at, out.length - 1)]! ^= 1 << int(rng, 8)
      return out
    }
    case 1:
      return concat([input.subarray(0, at), new Uint8Array([int(rng, 256)]), input.subarray(at)]) // insert
    case 2:
      return concat([input.subarray(0, at), input.subarray(at + 1 + int(rng, 3))]) // delete
    case 3:
      return input.subarray(0, at) // truncate
    case 4: {
      // overwrite the remaining length (or any length-looking byte near the start)
      const out = input.slice()
      const i = 1 + int(rng, Math.min(4, Math.max(1, out.length - 1)))
      if (i < out.length) out[i] = pick(rng, [0, 1, 2, 0x7f, 0x80, 0xff, int(rng, 256)])
      return out
    }
    case 5:
      return concat([input.subarray(0, at), other.subarray(int(rng, other.length + 1))]) // splice
    default: {
      // a random byte anywhere
      if (input.length === 0) return input
      const out = input.slice()
      out[Math.min(at, out.length - 1)] = int(rng, 256)
      return out
    }
  }
}
