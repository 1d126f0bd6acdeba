/**
 * MQTT 5 properties (section 2.2.2): one table of identifier, name, data type and the packets allowing it,
 * read by both directions, so encoder and decoder cannot disagree. Decoding is strict, as the specification
 * asks: an identifier unknown or not allowed in the packet is a malformed packet (0x81); one given twice,
 * or a value out of its range, a protocol error (0x82).
 */
import { ByteCursor } from './byte-cursor.js'
import { ByteWriter, VARINT_MAX, binaryLength, stringLength, varintLength } from './byte-writer.js'
import { PROTOCOL_ERROR, malformed } from './malformed-packet.js'
import { eachUserProperty } from './each-user-property.js'
import type { Properties, UserProperties } from './packets.js'

/** Where properties are read: a packet type (1 CONNECT … 15 AUTH), or 0 for a CONNECT's will properties. */
export type PropertyPlace = number
export const WILL_PROPERTIES: PropertyPlace = 0

const enum Kind {
  Flag, // byte 0 or 1, as a boolean
  Byte,
  U16,
  U32,
  Varint,
  Utf8,
  Binary,
  Pair,
}

interface Spec {
  readonly id: number
  readonly name: keyof Properties
  readonly kind: Kind
  /** Bit n set: allowed in packet type n (bit 0: will properties). */
  readonly places: number
  /** The largest value (numbers). */
  readonly max: number
  /** 0 is a protocol error. */
  readonly nonZero: boolean
}

const CONNECT = 1 << 1
const CONNACK = 1 << 2
const PUBLISH = 1 << 3
const ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7)
const SUBSCRIBE = 1 << 8
const SUBACK = 1 << 9
const UNSUBACK = 1 << 11
const DISCONNECT = 1 << 14
const AUTH = 1 << 15
const WILL = 1 << 0
const EVERY = 0xffff & ~(1 << 12) & ~(1 << 13) // but PINGREQ, PINGRESP (which have no properties at all)
const MESSAGE = PUBLISH | WILL

const U16 = 0xffff
const U32 = 0xffffffff

function spec(id: number, name: keyof Properties, kind: Kind, places: number, max = 0, nonZero = false): Spec {
  return { id, name, kind, places, max, nonZero }
}

const TABLE: readonly Spec[] = [
  spec(0x01, 'payloadFormatIndicator', Kind.Flag, MESSAGE, 1),
  spec(0x02, 'messageExpiryInterval', Kind.U32, MESSAGE, U32),
  spec(0x03, 'contentType', Kind.Utf8, MESSAGE),
  spec(0x08, 'responseTopic', Kind.Utf8, MESSAGE),
  spec(0x09, 'correlationData', Kind.Binary, MESSAGE),
  spec(0x0b, 'subscriptionIdentifier', Kind.Varint, PUBLISH | SUBSCRIBE, VARINT_MAX, true),
  spec(0x11, 'sessionExpiryInterval', Kind.U32, CONNECT | CONNACK | DISCONNECT, U32),
  spec(0x12, 'assignedClientIdentifier', Kind.Utf8, CONNACK),
  spec(0x13, 'serverKeepAlive', Kind.U16, CONNACK, U16),
  spec(0x15, 'authenticationMethod', Kind.Utf8, CONNECT | CONNACK | AUTH),
  spec(0x16, 'authenticationData', Kind.Binary, CONNECT | CONNACK | AUTH),
  spec(0x17, 'requestProblemInformation', Kind.Flag, CONNECT, 1),
  spec(0x18, 'willDelayInterval', Kind.U32, WILL, U32),
  spec(0x19, 'requestResponseInformation', Kind.Flag, CONNECT, 1),
  spec(0x1a, 'responseInformation', Kind.Utf8, CONNACK),
  spec(0x1c, 'serverReference', Kind.Utf8, CONNACK | DISCONNECT),
  spec(0x1f, 'reasonString', Kind.Utf8, CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH),
  spec(0x21, 'receiveMaximum', Kind.U16, CONNECT | CONNACK, U16, true),
  spec(0x22, 'topicAliasMaximum', Kind.U16, CONNECT | CONNACK, U16),
  spec(0x23, 'topicAlias', Kind.U16, PUBLISH, U16, true),
  spec(0x24, 'maximumQoS', Kind.Byte, CONNACK, 1),
  spec(0x25, 'retainAvailable', Kind.Flag, CONNACK, 1),
  spec(0x26, 'userProperties', Kind.Pair, EVERY),
  spec(0x27, 'maximumPacketSize', Kind.U32, CONNECT | CONNACK, U32, true),
  spec(0x28, 'wildcardSubscriptionAvailable', Kind.Flag, CONNACK, 1),
  spec(0x29, 'subscriptionIdentifiersAvailable', Kind.Flag, CONNACK, 1),
  spec(0x2a, 'sharedSubscriptionAvailable', Kind.Flag, CONNACK, 1),
]

const BY_ID: (Spec | undefined)[] = []
const BY_NAME = new Map<string, Spec>()
for (const s of TABLE) {
  BY_ID[s.id] = s
  BY_NAME.set(s.name, s)
}

const SUBSCRIPTION_IDENTIFIER = 0x0b // subscriptionIdentifier: the one property a PUBLISH may repeat

/**
 * Reads a property block (its length, then the properties) at the cursor: `undefined` for an empty one, so
 * that the common PUBLISH without properties costs no object.
 *
 * @example
 * ```ts
 * const properties = decodeProperties(cursor, 3) // in a PUBLISH
 * ```
 */
export function decodeProperties(cursor: ByteCursor, place: PropertyPlace): Properties | undefined {
  const length = cursor.varint()
  if (length === 0) return undefined
  const outerEnd = cursor.end
  const end = cursor.pos + length
  if (end > outerEnd) malformed('properties run past the end of the packet')
  cursor.end = end
  const props: Record<string, unknown> = {}
  const bit = 1 << place
  while (cursor.pos < end) {
    const id = cursor.varint()
    const s = BY_ID[id]
    if (s === undefined) malformed(`unknown property 0x${id.toString(16)}`)
    if ((s.places & bit) === 0) malformed(`property ${s.name} is not allowed in this packet`)
    if (s.kind === Kind.Pair) {
      const name = cursor.utf8()
      const value = cursor.utf8()
      addUserProperty((props.userProperties ??= {}) as UserProperties, name, value)
      continue
    }
    const value = readValue(cursor, s)
    const seen = props[s.name]
    if (seen === undefined) props[s.name] = value
    else if (s.id === SUBSCRIPTION_IDENTIFIER && place === 3) {
      if (typeof seen === 'number') props[s.name] = [seen, value]
      else (seen as number[]).push(value as number)
    } else malformed(`property ${s.name} given twice`, PROTOCOL_ERROR)
  }
  cursor.end = outerEnd
  return props as Properties
}

function readValue(cursor: ByteCursor, s: Spec): unknown {
  let n: number
  switch (s.kind) {
    case Kind.Utf8:
      return cursor.utf8()
    case Kind.Binary:
      return cursor.binary()
    case Kind.Flag:
    case Kind.Byte:
      n = cursor.u8()
      break
    case Kind.U16:
      n = cursor.u16()
      break
    case Kind.U32:
      n = cursor.u32()
      break
    default:
      n = cursor.varint()
  }
  if (n > s.max || (n === 0 && s.nonZero)) malformed(`property ${s.name} may not be ${n}`, PROTOCOL_ERROR)
  return s.kind === Kind.Flag ? n === 1 : n
}

function addUserProperty(into: UserProperties, name: string, value: string): void {
  if (!Object.hasOwn(into, name)) {
    // defineProperty: a user property named __proto__ is data, not the object's prototype.
    Object.defineProperty(into, name, { value, writable: true, enumerable: true, configurable: true })
    return
  }
  const seen = into[name]!
  if (typeof seen === 'string') into[name] = [seen, value]
  else seen.push(value)
}

/**
 * The bytes of a property block's contents (without the length before it). Throws RangeError for a property
 * not allowed in `place`, unknown, or with a value out of range: the caller built a packet MQTT forbids.
 *
 * @example
 * ```ts
 * propertiesLength({ reasonString: 'busy' }, 4) // 7
 * ```
 */
export function propertiesLength(props: Properties | undefined, place: PropertyPlace): number {
  if (props === undefined) return 0
  let n = 0
  const bit = 1 << place
  for (const name in props) {
    const value = (props as Record<string, unknown>)[name]
    if (value === undefined) continue
    const s = BY_NAME.get(name)
    if (s === undefined) throw new RangeError(`${name} is not an MQTT 5 property`)
    if ((s.places & bit) === 0) throw new RangeError(`property ${name} is not allowed in this packet`)
    n += valueLength(s, value, place)
  }
  return n
}

function valueLength(s: Spec, value: unknown, place: PropertyPlace): number {
  switch (s.kind) {
    case Kind.Flag:
      return 2
    case Kind.Byte:
    case Kind.U16:
    case Kind.U32:
      checkNumber(s, value)
      return s.kind === Kind.Byte ? 2 : s.kind === Kind.U16 ? 3 : 5
    case Kind.Varint: {
      const all = Array.isArray(value) ? (value as unknown[]) : [value]
      if (all.length > 1 && place !== 3) throw new RangeError(`only a PUBLISH repeats ${s.name}`)
      let n = 0
      for (const v of all) n += 1 + varintLength(checkNumber(s, v))
      return n
    }
    case Kind.Utf8:
      return 3 + stringLength(value as string)
    case Kind.Binary:
      return 1 + binaryLength(value as Uint8Array)
    default: {
      let n = 0
      eachUserProperty(value, (name, v) => {
        n += 5 + stringLength(name) + stringLength(v)
      })
      return n
    }
  }
}

function checkNumber(s: Spec, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > s.max || (v === 0 && s.nonZero)) {
    throw new RangeError(`property ${s.name} may not be ${String(v)}`)
  }
  return v
}

/**
 * Writes a property block: the length from `propertiesLength`, then the properties.
 *
 * @example
 * ```ts
 * const n = propertiesLength(props, 3)
 * writeProperties(writer, props, n) // writer sized with varintLength(n) + n for these
 * ```
 */
export function writeProperties(w: ByteWriter, props: Properties | undefined, length: number): void {
  w.varint(length)
  if (props === undefined || length === 0) return
  for (const name in props) {
    const value = (props as Record<string, unknown>)[name]
    if (value === undefined) continue
    const s = BY_NAME.get(name)!
    if (s.kind === Kind.Pair) {
      eachUserProperty(value, (name, v) => {
        w.u8(s.id)
        w.utf8(name, stringLength(name))
        w.utf8(v, stringLength(v))
      })
      continue
    }
    if (s.kind === Kind.Varint && Array.isArray(value)) {
      for (const v of value as number[]) {
        w.u8(s.id)
        w.varint(v)
      }
      continue
    }
    w.u8(s.id)
    writeValue(w, s, value)
  }
}

function writeValue(w: ByteWriter, s: Spec, value: unknown): void {
  switch (s.kind) {
    case Kind.Flag:
      return w.u8(value ? 1 : 0)
    case Kind.Byte:
      return w.u8(value as number)
    case Kind.U16:
      return w.u16(value as number)
    case Kind.U32:
      return w.u32(value as number)
    case Kind.Varint:
      return w.varint(value as number)
    case Kind.Utf8:
      return w.utf8(value as string, stringLength(value as string))
    default:
      return w.binary(value as Uint8Array)
  }
}
