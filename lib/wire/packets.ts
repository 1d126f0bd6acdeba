/**
 * MQTT control packets as plain objects, for both protocol levels this SDK speaks: 3.1.1 (level 4) and 5.
 * The codec (`encode.ts`, `packet-reader.ts`) turns them into bytes and back on plain `Uint8Array`s; the
 * lean link (`link/lean/lean-link.ts`) is the one user. Fields that exist only in MQTT 5 (reason codes other than
 * success, properties) are ignored when encoding level 4 and absent when decoding it.
 */
import type { QoS, UserPropertyPairs } from '../message.js'

export type ProtocolLevel = 4 | 5

/** MQTT 5 user properties as decoded: a name with one value, or several in order. */
export type UserProperties = Record<string, string | string[]>

/**
 * Every MQTT 5 property, by mqtt-packet's names. The decoder accepts in each packet only the properties the
 * specification allows there, each at most once (but user properties, and subscription identifiers in a
 * PUBLISH).
 */
export interface Properties {
  payloadFormatIndicator?: boolean // 0x01
  messageExpiryInterval?: number // 0x02
  contentType?: string // 0x03
  responseTopic?: string // 0x08
  correlationData?: Uint8Array // 0x09
  /** 0x0B: a SUBSCRIBE carries one; a PUBLISH from the broker one per matching subscription. */
  subscriptionIdentifier?: number | number[]
  sessionExpiryInterval?: number // 0x11
  assignedClientIdentifier?: string // 0x12
  serverKeepAlive?: number // 0x13
  authenticationMethod?: string // 0x15
  authenticationData?: Uint8Array // 0x16
  requestProblemInformation?: boolean // 0x17
  willDelayInterval?: number // 0x18
  requestResponseInformation?: boolean // 0x19
  responseInformation?: string // 0x1A
  serverReference?: string // 0x1C
  reasonString?: string // 0x1F
  receiveMaximum?: number // 0x21
  topicAliasMaximum?: number // 0x22
  topicAlias?: number // 0x23
  maximumQoS?: QoS // 0x24 (0 or 1 on the wire)
  retainAvailable?: boolean // 0x25
  /** 0x26: to encode, also name-value pairs, written in their order. */
  userProperties?: UserProperties | UserPropertyPairs
  maximumPacketSize?: number // 0x27
  wildcardSubscriptionAvailable?: boolean // 0x28
  subscriptionIdentifiersAvailable?: boolean // 0x29
  sharedSubscriptionAvailable?: boolean // 0x2A
}

export interface Will {
  readonly topic: string
  readonly payload: Uint8Array
  readonly qos: QoS
  readonly retain: boolean
  readonly properties?: Properties | undefined
}

export interface ConnectPacket {
  readonly type: 'connect'
  readonly protocolVersion: ProtocolLevel
  readonly clientId: string
  readonly clean: boolean
  /** Seconds, 0 to 65535. */
  readonly keepalive: number
  readonly username?: string | undefined
  readonly password?: Uint8Array | undefined
  readonly will?: Will | undefined
  readonly properties?: Properties | undefined
}

export interface ConnackPacket {
  readonly type: 'connack'
  readonly sessionPresent: boolean
  /** MQTT 5 reason code, or the 3.1.1 return code (0 to 5). */
  readonly reasonCode: number
  readonly properties?: Properties | undefined
}

export interface PublishPacket {
  readonly type: 'publish'
  /** May be '' in MQTT 5 when a topic alias stands in for it. */
  readonly topic: string
  /** A view of the bytes read (no copy): valid as long as the caller keeps it. */
  readonly payload: Uint8Array
  readonly qos: QoS
  readonly retain: boolean
  readonly dup: boolean
  /** QoS 1 and 2 only. */
  readonly packetId?: number | undefined
  readonly properties?: Properties | undefined
}

/** PUBACK, PUBREC, PUBREL and PUBCOMP share one layout. */
export interface AckPacket {
  readonly type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  readonly packetId: number
  /** 0 when absent on the wire (MQTT 5 allows leaving out a success code; 3.1.1 has none). */
  readonly reasonCode: number
  readonly properties?: Properties | undefined
}

export interface Subscription {
  readonly filter: string
  readonly qos: QoS
  /** MQTT 5 subscription options: no local, retain as published, retain handling. */
  readonly nl?: boolean | undefined
  readonly rap?: boolean | undefined
  readonly rh?: 0 | 1 | 2 | undefined
}

export interface SubscribePacket {
  readonly type: 'subscribe'
  readonly packetId: number
  readonly subscriptions: readonly Subscription[]
  readonly properties?: Properties | undefined
}

export interface SubackPacket {
  readonly type: 'suback'
  readonly packetId: number
  /** One per filter: the granted QoS (0, 1, 2) or a failure code (0x80 and above). */
  readonly reasonCodes: readonly number[]
  readonly properties?: Properties | undefined
}

export interface UnsubscribePacket {
  readonly type: 'unsubscribe'
  readonly packetId: number
  readonly filters: readonly string[]
  readonly properties?: Properties | undefined
}

export interface UnsubackPacket {
  readonly type: 'unsuback'
  readonly packetId: number
  /** MQTT 5: one per filter; empty for 3.1.1. */
  readonly reasonCodes: readonly number[]
  readonly properties?: Properties | undefined
}

export interface PingPacket {
  readonly type: 'pingreq' | 'pingresp'
}

export interface DisconnectPacket {
  readonly type: 'disconnect'
  /** 0 when absent (and always under 3.1.1). */
  readonly reasonCode: number
  readonly properties?: Properties | undefined
}

/** MQTT 5 only. */
export interface AuthPacket {
  readonly type: 'auth'
  readonly reasonCode: number
  readonly properties?: Properties | undefined
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingPacket
  | DisconnectPacket
  | AuthPacket
