import { describe, expect, it } from 'vitest'
import { ByteWriter, varintLength } from '../../lib/wire/byte-writer.js'
import { encode, encodePublish } from '../../lib/wire/encode.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet, Properties, ProtocolLevel } from '../../lib/wire/packets.js'
import { concat, samples } from './wire-samples.js'

const NO_LIMIT = 268435460
const LEVELS: ProtocolLevel[] = [4, 5]

function readAll(chunks: Uint8Array[], level: ProtocolLevel, eachPush = false): Packet[] {
  const reader = new PacketReader({ maximumPacketSize: NO_LIMIT })
  reader.level = level
  const out: Packet[] = []
  const drain = () => {
    for (let p = reader.next(); p; p = reader.next()) out.push(p)
  }
  for (const c of chunks) {
    reader.push(c)
    if (eachPush) drain()
  }
  drain()
  expect(reader.buffered).toBe(0)
  return out
}


const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ')
const unhex = (s: string) => new Uint8Array(s.split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16)))

describe.each(LEVELS)('round trip at level %i', (level) => {
  for (const packet of samples(level)) {
    it(`${packet.type} ${JSON.stringify(packet).slice(0, 60)}`, () => {
      expect(readAll([encode(packet, level)], level)).toEqual([packet])
    })
  }

  it('a stream split at every byte boundary, and delivered one byte at a time, gives the same packets', () => {
    const all = samples(level)
    const stream = concat(all.map((p) => encode(p, level)))
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(readAll([stream.subarray(0, cut), stream.subarray(cut)], level, true)).toEqual(all)
    }
    const bytes = Array.from(stream, (b) => new Uint8Array([b]))
    expect(readAll(bytes, level, true)).toEqual(all)
  })

  it.each([127, 128, 16383, 16384, 2097151, 2097152])('remaining length %i', (remaining) => {
    const overhead = 2 + 3 + (level === 5 ? 1 : 0)
    const payload = new Uint8Array(remaining - overhead).fill(0x5a)
    const bytes = encodePublish('a/b', payload, 0, false, false, undefined, undefined, level)
    const lengthBytes = remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4
    expect(bytes.length).toBe(1 + lengthBytes + remaining)
    const [p] = readAll([bytes], level) as [Packet & { payload: Uint8Array }]
    expect(p.payload.length).toBe(payload.length)
    expect(p.payload.every((b) => b === 0x5a)).toBe(true)
    // Split inside the length field and inside the body too.
    expect(readAll([bytes.subarray(0, 2), bytes.subarray(2, 1000), bytes.subarray(1000)], level, true)).toHaveLength(1)
  })

  it('a 65535-byte topic is the longest; 65536 is a RangeError', () => {
    const topic = 'é'.repeat(32767) + 'x'
    const bytes = encodePublish(topic, 'p', 1, false, false, 3, undefined, level)
    expect(readAll([bytes], level)).toMatchObject([{ topic, packetId: 3 }])
    expect(() => encodePublish(topic + 'y', 'p', 0, false, false, undefined, undefined, level)).toThrow(RangeError)
  })

  it('a string payload is sent as its UTF-8; a payload view is not copied when the packet lies in one chunk', () => {
    const bytes = encodePublish('t', 'Grüße ' + 'x'.repeat(100), 0, false, false, undefined, undefined, level)
    const [p] = readAll([bytes], level) as [Packet & { payload: Uint8Array }]
    expect(new TextDecoder().decode(p.payload)).toBe('Grüße ' + 'x'.repeat(100))
    expect(p.payload.buffer).toBe(bytes.buffer)
  })
})

describe('level 4 and MQTT 5-only fields', () => {
  it('leaves out properties, reason codes and subscription options', () => {
    const props: Properties = { userProperties: { a: 'b' }, reasonString: 'x' }
    expect(hex(encode({ type: 'puback', packetId: 1, reasonCode: 0x80, properties: props }, 4))).toBe('40 02 00 01')
    expect(hex(encode({ type: 'disconnect', reasonCode: 0x8e, properties: props }, 4))).toBe('e0 00')
    expect(hex(encode({ type: 'unsuback', packetId: 2, reasonCodes: [0x11], properties: props }, 4))).toBe('b0 02 00 02')
    const sub = encode({ type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a', qos: 1, nl: true, rap: true, rh: 2 }] }, 4)
    expect(hex(sub)).toBe('82 06 00 01 00 01 61 01')
    const pub = encodePublish('a', 'b', 0, false, false, undefined, { contentType: 'x' }, 4)
    expect(hex(pub)).toBe('30 04 00 01 61 62')
  })

  it('AUTH does not exist at level 4', () => {
    expect(() => encode({ type: 'auth', reasonCode: 0 }, 4)).toThrow(RangeError)
  })
})

describe('user properties as name-value pairs (MQTT 5 3.3.2.3.7)', () => {
  it('are written in the order given, a name repeated around another', () => {
    const bytes = encodePublish('t', '', 0, false, false, undefined, { userProperties: [['b', '1'], ['a', '2'], ['b', '3']] }, 5)
    expect(hex(bytes)).toBe('30 19 00 01 74 15 26 00 01 62 00 01 31 26 00 01 61 00 01 32 26 00 01 62 00 01 33')
    // Read back as a record, as the SDK delivers them: each name with its values in order.
    expect(readAll([bytes], 5)).toMatchObject([{ properties: { userProperties: { b: ['1', '3'], a: '2' } } }])
  })

  it('a name or value that is not a string, or a pair that is not two, is a RangeError', () => {
    for (const userProperties of [[['a', 1]], [['a']], [['a', 'b', 'c']], ['ab'], [null], { a: 1 }, { a: ['x', 2] }]) {
      expect(() => encodePublish('t', '', 0, false, false, undefined, { userProperties } as unknown as Properties, 5)).toThrow(RangeError)
    }
  })
})

describe('encoding mistakes are RangeErrors', () => {
  it.each<[string, () => unknown]>([
    ['packet id 0 at QoS 1', () => encodePublish('a', '', 1, false, false, 0, undefined, 5)],
    ['no packet id at QoS 2', () => encodePublish('a', '', 2, false, false, undefined, undefined, 5)],
    ['packet id 0 in an ack', () => encode({ type: 'puback', packetId: 0, reasonCode: 0 }, 4)],
    ['packet id 65536', () => encode({ type: 'subscribe', packetId: 65536, subscriptions: [{ filter: 'a', qos: 0 }] }, 4)],
    ['a string over 65535 bytes', () => encode({ type: 'unsubscribe', packetId: 1, filters: ['a'.repeat(65536)] }, 4)],
    ['U+0000 in a string', () => encodePublish('a\u0000b', '', 0, false, false, undefined, undefined, 4)],
    ['a packet over 268435455 bytes', () => encodePublish('a', { length: 268435455 } as Uint8Array, 0, false, false, undefined, undefined, 4)],
    ['a property the packet does not allow', () => encode({ type: 'puback', packetId: 1, reasonCode: 0, properties: { topicAlias: 1 } }, 5)],
    ['topic alias 0', () => encodePublish('a', '', 0, false, false, undefined, { topicAlias: 0 }, 5)],
    ['repeated subscription ids in a SUBSCRIBE', () => encode({ type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'a', qos: 0 }], properties: { subscriptionIdentifier: [1, 2] } }, 5)],
    ['a SUBSCRIBE without filters', () => encode({ type: 'subscribe', packetId: 1, subscriptions: [] }, 5)],
    ['a 3.1.1 password without username', () => encode({ type: 'connect', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 0, password: new Uint8Array(1) }, 4)],
  ])('%s', (_, f) => {
    expect(f).toThrow(RangeError)
  })
})

describe('byte vectors from the specifications', () => {
  it.each<[string, ProtocolLevel, string, Packet]>([
    ['PINGREQ', 4, 'c0 00', { type: 'pingreq' }],
    ['PINGRESP', 5, 'd0 00', { type: 'pingresp' }],
    ['DISCONNECT 3.1.1', 4, 'e0 00', { type: 'disconnect', reasonCode: 0 }],
    ['DISCONNECT 5 success, short form', 5, 'e0 00', { type: 'disconnect', reasonCode: 0 }],
    ['PUBACK 5 short form', 5, '40 02 00 07', { type: 'puback', packetId: 7, reasonCode: 0 }],
    ['PUBREL flags 0010', 4, '62 02 00 07', { type: 'pubrel', packetId: 7, reasonCode: 0 }],
    ['PUBREC 5 reason without properties', 5, '50 03 00 07 80', { type: 'pubrec', packetId: 7, reasonCode: 0x80 }],
    ['SUBSCRIBE 3.1.1', 4, '82 08 00 0a 00 03 61 2f 62 01', { type: 'subscribe', packetId: 10, subscriptions: [{ filter: 'a/b', qos: 1 }] }],
    ['SUBACK 3.1.1 (3.9.3 example)', 4, '90 06 00 0a 00 01 02 80', { type: 'suback', packetId: 10, reasonCodes: [0, 1, 2, 0x80] }],
    ['PUBLISH 3.1.1 QoS 1 (3.3.2 topic a/b, id 10)', 4, '32 09 00 03 61 2f 62 00 0a 68 69', { type: 'publish', topic: 'a/b', payload: new Uint8Array([0x68, 0x69]), qos: 1, retain: false, dup: false, packetId: 10 }],
    // MQTT 5 figure 3-6: protocol name, level 5, flags C2, keep alive 10, session expiry 10.
    ['CONNECT 5 (3.1.2.11 example)', 5, '10 19 00 04 4d 51 54 54 05 c2 00 0a 05 11 00 00 00 0a 00 01 63 00 01 75 00 01 70', { type: 'connect', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 10, username: 'u', password: new Uint8Array([0x70]), properties: { sessionExpiryInterval: 10 } }],
    ['CONNECT 3.1.1 (3.1.2.10 example)', 4, '10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 61 62 63', { type: 'connect', protocolVersion: 4, clientId: 'abc', clean: true, keepalive: 60 }],
    ['CONNACK 3.1.1 session present', 4, '20 02 01 00', { type: 'connack', sessionPresent: true, reasonCode: 0 }],
    ['CONNACK 5 with receive maximum', 5, '20 06 00 00 03 21 00 14', { type: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 20 } }],
    ['CONNACK 3.1.1 form under MQTT 5 (a 3.1.1 server refusing level 5)', 5, '20 02 00 01', { type: 'connack', sessionPresent: false, reasonCode: 1 }],
    ['PUBACK 5 0x95, as Mosquitto refuses a message over its size limit', 5, '40 03 00 07 95', { type: 'puback', packetId: 7, reasonCode: 0x95 }],
  ])('%s', (_, level, bytes, packet) => {
    expect(hex(encode(packet, level))).toBe(bytes)
    expect(readAll([unhex(bytes)], level)).toEqual([packet])
  })

  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '80 01'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
    [2097151, 'ff ff 7f'],
    [2097152, '80 80 80 01'],
    [268435455, 'ff ff ff 7f'],
  ])('remaining length %i is %s (1.5.5)', (n, expected) => {
    const w = new ByteWriter(varintLength(n))
    w.varint(n)
    expect(hex(w.bytes)).toBe(expected)
    if (n > 0 && n < 3000000) {
      const bytes = encodePublish('a', new Uint8Array(n - 3), 0, false, false, undefined, undefined, 4)
      expect(hex(bytes.subarray(1, 1 + w.bytes.length))).toBe(expected)
    }
  })
})
