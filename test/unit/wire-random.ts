/**
 * Seeded random MQTT packets for the wire tests: a PRNG (mulberry32), so a failure names its seed and
 * reproduces, and generators of valid packets of every type with every property MQTT 5 allows where it allows
 * it. "Valid" follows the specifications, written out here apart from the codec's own tables: reason codes
 * from each packet's table, a topic name or a topic alias, no session on a refused CONNACK.
 */
import type { QoS } from '../../lib/message.js'
import type { Packet, Properties, ProtocolLevel, UserProperties } from '../../lib/wire/packets.js'
import { concat } from './wire-samples.js'

export type Rng = () => number

export { mulberry32 } from '../support/mulberry32.js'

export const int = (rng: Rng, n: number) => Math.floor(rng() * n)
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!
export const chance = (rng: Rng, p: number) => rng() < p

const CHARS = ['a', 'b', '/', '+', '#', ' ', 'Z', '9', 'é', 'ß', '°', '€', '中', '🚀', '\ufeff', '\u007f', '$']
export function str(rng: Rng, max = 12): string {
  let s = ''
  for (let n = int(rng, max + 1); n > 0; n--) s += pick(rng, CHARS)
  return s
}
export function bytes(rng: Rng, max = 16): Uint8Array {
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

/** What MQTT 5 allows where (2.2.2.2), by packet type (0: will properties). */
const MESSAGE = ['payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData', 'userProperties'] as const
const REASON = ['reasonString', 'userProperties'] as const
export const ALLOWED: Record<number, readonly (keyof Properties)[]> = {
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

/**
 * Reason codes by packet, from the specifications' tables (MQTT 5 chapter 3; 3.1.1 3.2.2.3 and 3.9.3). PUBACK
 * and PUBREC hold 0x95 too: the SDK takes it from Mosquitto (see lib/wire/check-reason-code.ts).
 */
export const CODES = {
  puback: [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99, 0x95],
  pubrel: [0x00, 0x92],
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  connackV4: [0, 1, 2, 3, 4, 5],
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  subackV4: [0x00, 0x01, 0x02, 0x80],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  /** 3.14.2.1: sent by "Client or Server", or by the server alone; 0x8C from the table of 2.4. */
  disconnectByServer: [0x00, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  disconnectByClient: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99],
  auth: [0x00, 0x18, 0x19],
} as const

/** Random properties for packet type `place` (0: will properties); none at level 4. */
export function properties(rng: Rng, level: ProtocolLevel, place: number): Properties | undefined {
  if (level === 4 || chance(rng, 0.3)) return undefined
  const out: Record<string, unknown> = {}
  for (const name of ALLOWED[place]!) if (chance(rng, 0.4)) out[name] = VALUES[name](rng, place)
  return Object.keys(out).length ? (out as Properties) : undefined
}

const qos = (rng: Rng) => int(rng, 3) as QoS
const id = (rng: Rng) => u16(rng, 1)
/** Mostly success, as on the wire, else any code of the table. */
const code = (rng: Rng, table: readonly number[]) => (chance(rng, 0.4) ? table[0]! : pick(rng, table))

/** Who sends a DISCONNECT: its codes (and whether it may carry a session expiry interval) depend on it. */
export type Sender = 'client' | 'server'

/** The packet types, each with the side that sends it ('either': both). */
export const TYPES: readonly (readonly [Packet['type'], Sender | 'either'])[] = [
  ['connect', 'client'],
  ['connack', 'server'],
  ['publish', 'either'],
  ['puback', 'either'],
  ['pubrec', 'either'],
  ['pubrel', 'either'],
  ['pubcomp', 'either'],
  ['subscribe', 'client'],
  ['suback', 'server'],
  ['unsubscribe', 'client'],
  ['unsuback', 'server'],
  ['pingreq', 'client'],
  ['pingresp', 'server'],
  ['disconnect', 'either'],
  ['auth', 'either'],
]

/**
 * A random valid packet of `type` at `level`, as `sender` would send it. AUTH at level 4 (which has none)
 * gives a PINGREQ.
 *
 * @example
 * ```ts
 * const p = randomPacket(rng, 5, 'suback', 'server')
 * ```
 */
export function randomPacket(rng: Rng, level: ProtocolLevel, type: Packet['type'], sender: Sender): Packet {
  const v5 = level === 5
  switch (type) {
    case 'connect': {
      const hasUser = chance(rng, 0.5)
      const clientId = str(rng)
      return {
        type: 'connect',
        protocolVersion: level,
        clientId,
        // 3.1.1 3.1.3.1: a zero-byte client id needs a clean session (MQTT 5 lets the server assign one).
        clean: (!v5 && clientId === '') || chance(rng, 0.5),
        keepalive: u16(rng),
        username: hasUser ? str(rng) : undefined,
        password: (v5 || hasUser) && chance(rng, 0.5) ? bytes(rng) : undefined,
        will: chance(rng, 0.5) ? { topic: str(rng) || 'w', payload: bytes(rng), qos: qos(rng), retain: chance(rng, 0.5), properties: properties(rng, level, 0) } : undefined,
        properties: properties(rng, level, 1),
      }
    }
    case 'connack': {
      const reasonCode = code(rng, v5 ? CODES.connack : CODES.connackV4)
      return { type, sessionPresent: reasonCode === 0 && chance(rng, 0.5), reasonCode, properties: properties(rng, level, 2) }
    }
    case 'publish': {
      const q = qos(rng)
      const props = properties(rng, level, 3)
      let topic = str(rng, 20)
      if (topic === '' && props?.topicAlias === undefined) topic = 'x' // an empty topic name stands for an alias
      return { type, topic, payload: bytes(rng, 200), qos: q, retain: chance(rng, 0.5), dup: q > 0 && chance(rng, 0.5), packetId: q > 0 ? id(rng) : undefined, properties: props }
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp': {
      const table = type === 'puback' || type === 'pubrec' ? CODES.puback : CODES.pubrel
      return { type, packetId: id(rng), reasonCode: v5 ? code(rng, table) : 0, properties: properties(rng, level, 4) }
    }
    case 'subscribe': {
      const subscriptions = Array.from({ length: 1 + int(rng, 3) }, () =>
        v5 ? { filter: str(rng) || 'f', qos: qos(rng), nl: chance(rng, 0.5), rap: chance(rng, 0.5), rh: int(rng, 3) as 0 } : { filter: str(rng) || 'f', qos: qos(rng) },
      )
      const props = properties(rng, level, 8)
      if (props && Array.isArray(props.subscriptionIdentifier)) props.subscriptionIdentifier = props.subscriptionIdentifier[0]
      return { type, packetId: id(rng), subscriptions, properties: props }
    }
    case 'suback':
      return { type, packetId: id(rng), reasonCodes: Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, v5 ? CODES.suback : CODES.subackV4)), properties: properties(rng, level, 9) }
    case 'unsubscribe':
      return { type, packetId: id(rng), filters: Array.from({ length: 1 + int(rng, 3) }, () => str(rng) || 'f'), properties: properties(rng, level, 10) }
    case 'unsuback':
      return { type, packetId: id(rng), reasonCodes: v5 ? Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, CODES.unsuback)) : [], properties: properties(rng, level, 11) }
    case 'pingreq':
    case 'pingresp':
      return { type }
    case 'disconnect': {
      const props = properties(rng, level, 14)
      // 3.14.2.2.2: only the client changes the session expiry interval.
      if (props && sender === 'server') delete props.sessionExpiryInterval
      const reasonCode = v5 ? code(rng, sender === 'server' ? CODES.disconnectByServer : CODES.disconnectByClient) : 0
      return { type, reasonCode, properties: props && Object.keys(props).length ? props : undefined }
    }
    case 'auth':
      return v5 ? { type, reasonCode: code(rng, CODES.auth), properties: properties(rng, level, 15) } : { type: 'pingreq' }
  }
}

/** A random valid packet of any type, from either side. @example `encode(anyPacket(rng, 5), 5)` */
export function anyPacket(rng: Rng, level: ProtocolLevel): Packet {
  const [type, side] = pick(rng, TYPES)
  return randomPacket(rng, level, type, side === 'either' ? pick(rng, ['client', 'server'] as const) : side)
}

/**
 * One random edit of `input`: a bit flip, an inserted, deleted or overwritten byte, a cut, a new length byte, or
 * a splice with `other`.
 *
 * @example `const broken = mutate(rng, encode(p, 5), encode(q, 5))`
 */
export function mutate(rng: Rng, input: Uint8Array, other: Uint8Array): Uint8Array {
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
