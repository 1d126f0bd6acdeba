// The client's half of the codec, as the lean link ships it: it reads what a broker sends and refuses, as a
// protocol error and never a crash, what only a client sends; it encodes what a client sends and nothing else.
import { describe, expect, it } from 'vitest'
import { ClientPacketReader } from '../../lib/wire/client-packet-reader.js'
import { encode } from '../../lib/wire/encode.js'
import { encodeClientPacket } from '../../lib/wire/encode-client-packets.js'
import { MalformedPacketError } from '../../lib/wire/malformed-packet.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet, ProtocolLevel } from '../../lib/wire/packets.js'

const CLIENT_ONLY: Packet[] = [
  { type: 'connect', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 30 },
  { type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a/#', qos: 1 }] },
  { type: 'unsubscribe', packetId: 2, filters: ['a/#'] },
  { type: 'pingreq' },
]

const FROM_BROKER: Packet[] = [
  { type: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 10, topicAliasMaximum: 5 } },
  { type: 'publish', topic: 'a/b', payload: new Uint8Array([1, 2]), qos: 1, retain: false, dup: false, packetId: 3, properties: { topicAlias: 1 } },
  { type: 'puback', packetId: 3, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } },
  { type: 'pubrec', packetId: 4, reasonCode: 0 },
  { type: 'pubrel', packetId: 4, reasonCode: 0 },
  { type: 'pubcomp', packetId: 4, reasonCode: 0 },
  { type: 'suback', packetId: 1, reasonCodes: [1, 0x87] },
  { type: 'unsuback', packetId: 2, reasonCodes: [0] },
  { type: 'pingresp' },
  { type: 'disconnect', reasonCode: 0x8e },
  { type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'x' } },
]

function clientReader(level: ProtocolLevel): ClientPacketReader {
  const reader = new ClientPacketReader({ maximumPacketSize: 268_435_460 })
  reader.level = level
  return reader
}

describe('ClientPacketReader', () => {
  it('reads every packet a broker sends as the full reader does', () => {
    for (const packet of FROM_BROKER) {
      const bytes = encode(packet, 5)
      const client = clientReader(5)
      const any = new PacketReader({ maximumPacketSize: 268_435_460 })
      any.level = 5
      client.push(bytes)
      any.push(bytes)
      expect(client.next()).toEqual(any.next())
    }
  })

  it.each(CLIENT_ONLY.map((p) => [p.type, p] as const))('refuses a %s from the broker as a protocol error, at its first byte', (_type, packet) => {
    for (const level of [4, 5] as const) {
      const reader = clientReader(level)
      // Only the first byte: the type is refused before its length or body arrive.
      reader.push(encode(packet, level).subarray(0, 1))
      let error: unknown
      try {
        reader.next()
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(MalformedPacketError)
      expect((error as MalformedPacketError).reasonCode).toBe(0x82)
      // The stream has lost its framing: the reader stays failed.
      expect(() => reader.next()).toThrow(MalformedPacketError)
    }
  })
})

describe('encodeClientPacket', () => {
  it('encodes what a client sends as encode() does', () => {
    for (const packet of [...CLIENT_ONLY, ...FROM_BROKER.filter((p) => !['connack', 'suback', 'unsuback', 'pingresp'].includes(p.type))]) {
      expect(encodeClientPacket(packet, 5)).toEqual(encode(packet, 5))
    }
  })

  it('refuses a packet only a broker sends: a RangeError, the caller’s bug', () => {
    for (const packet of FROM_BROKER.filter((p) => ['connack', 'suback', 'unsuback', 'pingresp'].includes(p.type))) {
      expect(() => encodeClientPacket(packet, 5)).toThrow(RangeError)
    }
  })
})
