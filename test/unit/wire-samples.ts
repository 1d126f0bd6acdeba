/**
 * Packets of every type with representative fields, at each protocol level: what the wire tests round-trip,
 * cross-check with mqtt-packet, split, and mutate. A level-4 sample holds only what 3.1.1 can carry, so that
 * decoding its encoding gives it back exactly.
 */
import type { Packet, Properties, ProtocolLevel } from '../../lib/wire/packets.js'

const bytes = (...b: number[]) => new Uint8Array(b)
const text = (s: string) => new TextEncoder().encode(s)

const users = { region: 'eu', tag: ['a', 'b', 'a'], 'ünï': 'çødé 🚀' }

export const connectProperties: Properties = {
  sessionExpiryInterval: 0xffffffff,
  authenticationMethod: 'SCRAM-SHA-1',
  authenticationData: bytes(1, 2, 3),
  requestProblemInformation: false,
  requestResponseInformation: true,
  receiveMaximum: 20,
  topicAliasMaximum: 0,
  maximumPacketSize: 1048576,
  userProperties: users,
}

export const willProperties: Properties = {
  payloadFormatIndicator: true,
  messageExpiryInterval: 3600,
  contentType: 'application/json',
  responseTopic: 'reply/here',
  correlationData: bytes(9, 8, 7),
  willDelayInterval: 30,
  userProperties: { k: 'v' },
}

export const connackProperties: Properties = {
  sessionExpiryInterval: 120,
  assignedClientIdentifier: 'auto-7f3a',
  serverKeepAlive: 45,
  authenticationMethod: 'SCRAM-SHA-1',
  authenticationData: bytes(4, 5),
  responseInformation: 'resp/',
  serverReference: 'other.example:1883',
  reasonString: 'welcome',
  receiveMaximum: 65535,
  topicAliasMaximum: 10,
  maximumQoS: 1,
  retainAvailable: false,
  userProperties: users,
  maximumPacketSize: 268435460 - 5,
  wildcardSubscriptionAvailable: true,
  subscriptionIdentifiersAvailable: true,
  sharedSubscriptionAvailable: false,
}

export const publishProperties: Properties = {
  payloadFormatIndicator: false,
  messageExpiryInterval: 0,
  contentType: 'text/plain',
  responseTopic: 'r/t',
  correlationData: new Uint8Array(0),
  subscriptionIdentifier: [1, 127, 128, 16384, 268435455],
  topicAlias: 65535,
  userProperties: users,
}

const reason: Properties = { reasonString: 'because', userProperties: { x: ['1', '2'] } }

/** Every packet type, with the fields each level carries. */
export function samples(level: ProtocolLevel): Packet[] {
  const v5 = level === 5
  const p = <T>(props: T) => (v5 ? props : undefined)
  const packets: Packet[] = [
    {
      type: 'connect',
      protocolVersion: level,
      clientId: 'client-1',
      clean: true,
      keepalive: 60,
      username: 'user',
      password: text('secret'),
      will: { topic: 'last/will', payload: text('gone'), qos: 1, retain: true, properties: p(willProperties) },
      properties: p(connectProperties),
    },
    { type: 'connect', protocolVersion: level, clientId: '', clean: true, keepalive: 0 },
    { type: 'connect', protocolVersion: level, clientId: 'c2', clean: false, keepalive: 65535, username: '' },
    { type: 'connack', sessionPresent: true, reasonCode: 0, properties: p(connackProperties) },
    { type: 'connack', sessionPresent: false, reasonCode: v5 ? 0x87 : 5 },
    { type: 'publish', topic: 'a/b', payload: text('hello'), qos: 0, retain: false, dup: false },
    { type: 'publish', topic: 'π/°C/🚀', payload: new Uint8Array(0), qos: 1, retain: true, dup: true, packetId: 1 },
    {
      type: 'publish',
      topic: v5 ? '' : 'x',
      payload: bytes(0, 255, 0),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 65535,
      properties: p(publishProperties),
    },
    { type: 'puback', packetId: 7, reasonCode: 0 },
    { type: 'puback', packetId: 8, reasonCode: v5 ? 0x10 : 0 },
    { type: 'pubrec', packetId: 9, reasonCode: v5 ? 0x80 : 0, properties: p(reason) },
    { type: 'pubrel', packetId: 10, reasonCode: v5 ? 0x92 : 0 },
    { type: 'pubcomp', packetId: 11, reasonCode: 0, properties: p({ reasonString: 'ok' }) },
    {
      type: 'subscribe',
      packetId: 12,
      subscriptions: v5
        ? [
            { filter: 'a/+', qos: 0, nl: false, rap: false, rh: 0 },
            { filter: '#', qos: 2, nl: true, rap: true, rh: 2 },
            { filter: '$share/g/x', qos: 1, nl: false, rap: true, rh: 1 },
          ]
        : [
            { filter: 'a/+', qos: 0 },
            { filter: '#', qos: 2 },
          ],
      properties: p({ subscriptionIdentifier: 268435455, userProperties: { s: 'i' } }),
    },
    { type: 'suback', packetId: 12, reasonCodes: v5 ? [0, 2, 0x87] : [0, 2, 0x80], properties: p(reason) },
    { type: 'unsubscribe', packetId: 13, filters: ['a/+', '#'], properties: p({ userProperties: { u: 's' } }) },
    { type: 'unsuback', packetId: 13, reasonCodes: v5 ? [0, 0x11] : [], properties: p(reason) },
    { type: 'pingreq' },
    { type: 'pingresp' },
    { type: 'disconnect', reasonCode: 0 },
  ]
  if (v5) {
    packets.push(
      { type: 'disconnect', reasonCode: 0x8e },
      {
        type: 'disconnect',
        reasonCode: 0x9c,
        properties: { sessionExpiryInterval: 5, serverReference: 'b:1883', reasonString: 'moved', userProperties: { a: 'b' } },
      },
      { type: 'auth', reasonCode: 0 },
      {
        type: 'auth',
        reasonCode: 0x18,
        properties: { authenticationMethod: 'm', authenticationData: bytes(1), reasonString: 'r', userProperties: { c: 'd' } },
      },
    )
  }
  return packets
}

/** The parts as one new array (always a copy: tests mutate what they get). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
