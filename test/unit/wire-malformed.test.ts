import { describe, expect, it } from 'vitest'
import { ClientPacketReader } from '../../lib/wire/client-packet-reader.js'
import { MalformedPacketError } from '../../lib/wire/malformed-packet.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { ProtocolLevel } from '../../lib/wire/packets.js'
import { CODES } from './wire-random.js'

const MALFORMED = 0x81
const PROTOCOL = 0x82
const TOO_LARGE = 0x95

const str = (s: string) => {
  const b = Array.from(new TextEncoder().encode(s))
  return [b.length >> 8, b.length & 0xff, ...b]
}

/** A packet of type/flags `first` around `body`, with its remaining length. */
function pkt(first: number, ...body: number[]): Uint8Array {
  const len: number[] = []
  let n = body.length
  do {
    len.push((n % 128) | (n >= 128 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return new Uint8Array([first, ...len, ...body])
}

function reader(level: ProtocolLevel, maximumPacketSize = 268435460) {
  const r = new PacketReader({ maximumPacketSize })
  r.level = level
  return r
}

function failure(bytes: Uint8Array, level: ProtocolLevel): MalformedPacketError {
  const r = reader(level)
  r.push(bytes)
  try {
    while (r.next());
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedPacketError)
    expect((e as Error).name).toBe('MalformedPacketError')
    return e as MalformedPacketError
  }
  throw new Error('decoded without an error')
}

const rejects = (bytes: Uint8Array, level: ProtocolLevel, code: number) => expect(failure(bytes, level).reasonCode).toBe(code)

describe('the fixed header', () => {
  it('a fifth remaining-length byte is malformed, as soon as the fourth has its continuation bit', () => {
    rejects(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 4, MALFORMED)
    const r = reader(4)
    r.push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x80]))
    expect(() => r.next()).toThrow(MalformedPacketError)
  })

  it('a 200 MB packet over the limit fails right after its header, before anything of it is held', () => {
    const r = reader(5, 1 << 20)
    r.push(new Uint8Array([0x30, 0x80, 0x80, 0x80])) // a length of 4 bytes, the last not yet here
    expect(r.next()).toBeUndefined()
    r.push(new Uint8Array([0x64])) // 0x64 << 21 = 209715200 bytes announced
    expect(r.buffered).toBe(5)
    const e = (() => {
      try {
        r.next()
      } catch (error) {
        return error as MalformedPacketError
      }
    })()
    expect(e).toBeInstanceOf(MalformedPacketError)
    expect(e!.reasonCode).toBe(TOO_LARGE)
    expect(r.buffered).toBe(0)
    r.push(new Uint8Array(64 * 1024)) // the body that keeps coming is not held
    expect(r.buffered).toBe(0)
    expect(() => r.next()).toThrow(e)
  })

  it('the limit counts the fixed header: a packet of exactly the limit passes, one byte more does not', () => {
    const publish = pkt(0x30, ...str('a/b'), 1, 2, 3) // 2 + 8 bytes
    const exact = reader(4, 10)
    exact.push(publish)
    expect(exact.next()).toMatchObject({ type: 'publish', topic: 'a/b' })
    const over = reader(4, 9)
    over.push(publish.subarray(0, 2)) // the header alone is enough to know
    expect(() => over.next()).toThrow(expect.objectContaining({ reasonCode: TOO_LARGE }))
  })

  it('packet type 0 is reserved', () => rejects(new Uint8Array([0x00, 0x00]), 5, MALFORMED))

  it.each([
    ['PUBREL without 0010', 0x60],
    ['SUBSCRIBE without 0010', 0x80],
    ['UNSUBSCRIBE without 0010', 0xa0],
    ['PUBREL with 0011', 0x63],
    ['PUBACK with 0001', 0x41],
    ['CONNACK with 1000', 0x28],
    ['CONNECT with 0010', 0x12],
    ['PINGREQ with 0001', 0xc1],
    ['SUBACK with 0010', 0x92],
    ['DISCONNECT with 0100', 0xe4],
    ['AUTH with 0001', 0xf1],
  ])('flags wrong for the type: %s', (_, first) => {
    rejects(new Uint8Array([first, 0x02, 0x00, 0x01]), 5, MALFORMED)
    // Known from the first byte alone: the length need not have arrived.
    const r = reader(5)
    r.push(new Uint8Array([first]))
    expect(() => r.next()).toThrow(MalformedPacketError)
  })

  it('PUBLISH of QoS 3', () => rejects(pkt(0x36, ...str('a'), 0, 1), 4, MALFORMED))
  it('AUTH under level 4', () => rejects(pkt(0xf0, 0x00, 0x00), 4, MALFORMED))
  it.each([
    [0xc0, 5],
    [0xd0, 4],
  ])('a ping (%i) with a body, at once', (first, level) => {
    const r = reader(level as ProtocolLevel)
    r.push(new Uint8Array([first, 0x7f]))
    expect(() => r.next()).toThrow(expect.objectContaining({ reasonCode: MALFORMED }))
  })
  it.each([
    ['PUBACK of 3 bytes', pkt(0x40, 0, 1, 0)],
    ['CONNACK of 3 bytes', pkt(0x20, 0, 0, 0)],
    ['DISCONNECT with a reason code', pkt(0xe0, 0x80)],
    ['UNSUBACK with a reason code', pkt(0xb0, 0, 1, 0)],
  ])('3.1.1 fixed body lengths: %s', (_, bytes) => rejects(bytes, 4, MALFORMED))
})

describe('packet identifiers', () => {
  it.each<[string, Uint8Array]>([
    ['PUBLISH QoS 1', pkt(0x32, ...str('a'), 0, 0)],
    ['PUBLISH QoS 2', pkt(0x34, ...str('a'), 0, 0)],
    ['PUBACK', pkt(0x40, 0, 0)],
    ['PUBREC', pkt(0x50, 0, 0)],
    ['PUBREL', pkt(0x62, 0, 0)],
    ['PUBCOMP', pkt(0x70, 0, 0)],
    ['SUBSCRIBE', pkt(0x82, 0, 0, ...str('a'), 0)],
    ['SUBACK', pkt(0x90, 0, 0, 0)],
    ['UNSUBSCRIBE', pkt(0xa2, 0, 0, ...str('a'))],
    ['UNSUBACK', pkt(0xb0, 0, 0)],
  ])('0 in a %s is a protocol error', (_, bytes) => rejects(bytes, 4, PROTOCOL))
})

describe('lengths inside the packet', () => {
  it.each<[string, ProtocolLevel, Uint8Array]>([
    ['a topic longer than the packet', 4, pkt(0x30, 0, 9, 0x61)],
    ['a packet id cut off', 4, pkt(0x32, ...str('a'), 0)],
    ['a property length past the packet', 5, pkt(0x30, ...str('a'), 9, 0x01)],
    ['a property value past its block', 5, pkt(0x30, ...str('a'), 2, 0x02, 0, 0, 0, 1)],
    ['a string property past its block', 5, pkt(0x30, ...str('a'), 3, 0x03, 0, 5, 0x61, 0x62, 0x63)],
    ['bytes after a v5 PUBACK', 5, pkt(0x40, 0, 1, 0, 0, 0xff)],
    ['bytes after a CONNACK', 5, pkt(0x20, 0, 0, 0, 0x01)],
    ['bytes after a CONNECT', 4, pkt(0x10, ...str('MQTT'), 4, 2, 0, 0, ...str('c'), 0x01)],
    ['a SUBSCRIBE filter without options', 4, pkt(0x82, 0, 1, ...str('a'))],
    ['a will payload past the packet', 4, pkt(0x10, ...str('MQTT'), 4, 0x06, 0, 0, ...str('c'), ...str('w'), 0, 9)],
    ['a user property without its value', 5, pkt(0x40, 0, 1, 0, 4, 0x26, ...str('a'))],
    ['a property id of 5 bytes', 5, pkt(0x40, 0, 1, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x01)],
  ])('%s', (_, level, bytes) => rejects(bytes, level, MALFORMED))

  it('a v5 reader takes the 2-byte CONNACK a 3.1.1 server answers an MQTT 5 CONNECT with (NATS: return code 1)', () => {
    const reader = new PacketReader({ maximumPacketSize: 1_000 })
    reader.level = 5
    reader.push(pkt(0x20, 0, 1))
    expect(reader.next()).toEqual({ type: 'connack', sessionPresent: false, reasonCode: 1, properties: undefined })
  })

  it('SUBACK and UNSUBACK need a reason code', () => {
    rejects(pkt(0x90, 0, 1), 4, MALFORMED)
    rejects(pkt(0x90, 0, 1, 0), 5, MALFORMED)
    rejects(pkt(0xb0, 0, 1, 0), 5, MALFORMED)
  })

  it('SUBSCRIBE and UNSUBSCRIBE need a filter', () => {
    rejects(pkt(0x82, 0, 1), 4, PROTOCOL)
    rejects(pkt(0xa2, 0, 1, 0), 5, PROTOCOL)
  })

  it('the PUBLISH payload is what follows, of any length (0 included)', () => {
    const r = reader(4)
    r.push(pkt(0x30, ...str('a')))
    expect(r.next()).toMatchObject({ topic: 'a', payload: new Uint8Array(0) })
  })
})

describe('UTF-8 strings (1.5.4)', () => {
  it.each([
    ['a byte that starts nothing', [0x61, 0x80]],
    ['a cut sequence', [0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['U+0000', [0x61, 0x00]],
    ['U+0000 in a long non-ASCII string', [...new TextEncoder().encode('é'.repeat(40)), 0x00]],
    ['U+0000 in a long ASCII string', [...new TextEncoder().encode('a'.repeat(100)), 0x00]],
  ])('%s in a topic is malformed', (_, bytes) => {
    rejects(pkt(0x30, bytes.length >> 8, bytes.length & 0xff, ...bytes), 4, MALFORMED)
  })

  it('a leading U+FEFF is kept, not stripped', () => {
    const r = reader(4)
    r.push(pkt(0x30, 0, 4, 0xef, 0xbb, 0xbf, 0x61))
    expect(r.next()).toMatchObject({ topic: '\ufeffa' })
  })

  it('in properties and user properties too', () => {
    rejects(pkt(0x30, ...str('a'), 4, 0x03, 0, 1, 0x00), 5, MALFORMED)
    rejects(pkt(0x40, 0, 1, 0, 6, 0x26, 0, 1, 0x61, 0, 1, 0xff), 5, MALFORMED)
  })
})

describe('properties (2.2.2)', () => {
  const puback = (...props: number[]) => pkt(0x40, 0, 1, 0, props.length, ...props)
  const publish = (...props: number[]) => pkt(0x30, ...str('a'), props.length, ...props)
  const connack = (...props: number[]) => pkt(0x20, 0, 0, props.length, ...props)

  it('an unknown identifier is malformed', () => {
    rejects(puback(0x04, 0), 5, MALFORMED)
    rejects(puback(0x2b, 0), 5, MALFORMED)
  })

  it.each<[string, Uint8Array]>([
    ['topic alias in a PUBACK', puback(0x23, 0, 1)],
    ['reason string in a PUBLISH', publish(0x1f, ...str('x'))],
    ['subscription identifier in a CONNACK', connack(0x0b, 1)],
    ['will delay in a CONNECT', pkt(0x10, ...str('MQTT'), 5, 2, 0, 0, 5, 0x18, 0, 0, 0, 1, ...str('c'))],
    ['session expiry in will properties', pkt(0x10, ...str('MQTT'), 5, 6, 0, 0, 0, ...str('c'), 5, 0x11, 0, 0, 0, 1, ...str('w'), 0, 0)],
    ['maximum QoS in a DISCONNECT', pkt(0xe0, 0, 2, 0x24, 1)],
    ['anything but user properties in an UNSUBSCRIBE', pkt(0xa2, 0, 1, 2, 0x0b, 1, ...str('a'))],
  ])('a property the packet does not allow is malformed: %s', (_, bytes) => rejects(bytes, 5, MALFORMED))

  it('a property given twice is a protocol error', () => {
    rejects(publish(0x03, ...str('a'), 0x03, ...str('b')), 5, PROTOCOL)
    rejects(connack(0x21, 0, 1, 0x21, 0, 1), 5, PROTOCOL)
    rejects(pkt(0x82, 0, 1, 4, 0x0b, 1, 0x0b, 2, ...str('a'), 0), 5, PROTOCOL)
  })

  it('a PUBLISH repeats subscription identifiers, in order; user properties repeat anywhere', () => {
    const r = reader(5)
    r.push(publish(0x0b, 5, 0x0b, 0x80, 0x01, 0x26, ...str('n'), ...str('1'), 0x26, ...str('n'), ...str('2')))
    expect(r.next()).toMatchObject({ properties: { subscriptionIdentifier: [5, 128], userProperties: { n: ['1', '2'] } } })
    r.push(publish(0x0b, 5, 0x26, ...str('__proto__'), ...str('x')))
    const p = r.next() as { properties: { subscriptionIdentifier: unknown; userProperties: Record<string, unknown> } }
    expect(p.properties.subscriptionIdentifier).toBe(5)
    expect(Object.keys(p.properties.userProperties)).toEqual(['__proto__'])
    expect(Object.getPrototypeOf(p.properties.userProperties)).toBe(Object.prototype)
  })

  it.each<[string, Uint8Array]>([
    ['payload format indicator 2', publish(0x01, 2)],
    ['subscription identifier 0', publish(0x0b, 0)],
    ['topic alias 0', publish(0x23, 0, 0)],
    ['maximum QoS 2', connack(0x24, 2)],
    ['retain available 2', connack(0x25, 2)],
    ['wildcard subscription available 2', connack(0x28, 2)],
    ['subscription identifiers available 2', connack(0x29, 2)],
    ['shared subscription available 255', connack(0x2a, 255)],
    ['receive maximum 0', connack(0x21, 0, 0)],
    ['maximum packet size 0', connack(0x27, 0, 0, 0, 0)],
    ['request problem information 2', pkt(0x10, ...str('MQTT'), 5, 2, 0, 0, 2, 0x17, 2, ...str('c'))],
  ])('a value out of range is a protocol error: %s', (_, bytes) => rejects(bytes, 5, PROTOCOL))

  it('values at the edges of their range pass', () => {
    const r = reader(5)
    r.push(connack(0x24, 1, 0x22, 0, 0, 0x21, 0xff, 0xff, 0x27, 0xff, 0xff, 0xff, 0xff))
    expect(r.next()).toMatchObject({ properties: { maximumQoS: 1, topicAliasMaximum: 0, receiveMaximum: 65535, maximumPacketSize: 0xffffffff } })
    r.push(publish(0x0b, 0xff, 0xff, 0xff, 0x7f))
    expect(r.next()).toMatchObject({ properties: { subscriptionIdentifier: 268435455 } })
  })
})

describe('CONNECT, CONNACK and SUBSCRIBE fields', () => {
  const connect = (level: number, flags: number, ...rest: number[]) => pkt(0x10, ...str('MQTT'), level, flags, 0, 0, ...rest)
  it.each<[string, Uint8Array, number]>([
    ['protocol name MQIsdp', pkt(0x10, ...str('MQIsdp'), 3, 2, 0, 0, ...str('c')), MALFORMED],
    ['protocol level 3', connect(3, 2, ...str('c')), 0x84],
    ['the reserved flag', connect(4, 3, ...str('c')), MALFORMED],
    ['will QoS without a will', connect(4, 0x0a, ...str('c')), MALFORMED],
    ['will retain without a will', connect(4, 0x22, ...str('c')), MALFORMED],
    ['will QoS 3', connect(4, 0x1e, ...str('c'), ...str('w'), 0, 0), MALFORMED],
    ['a 3.1.1 password without username', connect(4, 0x42, ...str('c'), 0, 0), MALFORMED],
  ])('CONNECT: %s', (_, bytes, code) => rejects(bytes, 4, code))

  it('an MQTT 5 CONNECT may have a password without a username', () => {
    const r = reader(4) // a CONNECT says its own level
    r.push(connect(5, 0x42, 0, ...str('c'), 0, 1, 0x70))
    expect(r.next()).toMatchObject({ protocolVersion: 5, password: new Uint8Array([0x70]), username: undefined })
  })

  it('CONNACK flags other than session present', () => rejects(pkt(0x20, 0x02, 0), 4, MALFORMED))

  it.each<[string, ProtocolLevel, number, number]>([
    ['3.1.1 reserved bits', 4, 0x04, MALFORMED],
    ['3.1.1 QoS 3', 4, 0x03, MALFORMED],
    ['MQTT 5 reserved bits', 5, 0x40, MALFORMED],
    ['MQTT 5 QoS 3', 5, 0x03, PROTOCOL],
    ['MQTT 5 retain handling 3', 5, 0x30, PROTOCOL],
  ])('SUBSCRIBE options: %s', (_, level, options, code) => {
    const props = level === 5 ? [0] : []
    rejects(pkt(0x82, 0, 1, ...props, ...str('a'), options), level, code)
  })
})

describe('reason codes MQTT does not define for the packet are malformed (issue 23, defect 8)', () => {
  // The examples first, then the edges of each packet's table.
  it.each<[string, ProtocolLevel, Uint8Array]>([
    ['PUBACK 0x11 (an UNSUBACK code)', 5, pkt(0x40, 0, 1, 0x11)],
    ['SUBACK 0x79', 5, pkt(0x90, 0, 1, 0, 0x79)],
    ['SUBACK 3 under 3.1.1', 4, pkt(0x90, 0, 1, 3)],
    ['UNSUBACK 0x84', 5, pkt(0xb0, 0, 1, 0, 0x84)],
    ['DISCONNECT 0x05', 5, pkt(0xe0, 0x05)],
    ['AUTH 0x17', 5, pkt(0xf0, 0x17, 0)],
    ['PUBREC 0x92 (a PUBREL code)', 5, pkt(0x50, 0, 1, 0x92)],
    ['PUBREL 0x10 (a PUBACK code)', 5, pkt(0x62, 0, 1, 0x10, 0)],
    ['PUBCOMP 0x80', 5, pkt(0x70, 0, 1, 0x80)],
    ['SUBACK 0x11 after a valid code', 5, pkt(0x90, 0, 1, 0, 1, 0x11)],
    ['SUBACK 0x87 under 3.1.1', 4, pkt(0x90, 0, 1, 0x87)],
    ['UNSUBACK 0x01', 5, pkt(0xb0, 0, 1, 0, 0x01)],
    ['CONNACK 0x8B (a DISCONNECT code)', 5, pkt(0x20, 0, 0x8b, 0)],
    ['CONNACK 6 under 3.1.1', 4, pkt(0x20, 0, 6)],
    ['a 2-byte CONNACK under MQTT 5 with 0x87 (its form is 3.1.1, and so are its codes)', 5, pkt(0x20, 0, 0x87)],
    ['DISCONNECT 0x84 (a CONNACK code)', 5, pkt(0xe0, 0x84, 0)],
    ['AUTH 0x80', 5, pkt(0xf0, 0x80)],
  ])('%s', (_, level, bytes) => rejects(bytes, level, MALFORMED))

  const accepts = (bytes: Uint8Array, level: ProtocolLevel, reader = new ClientPacketReader({ maximumPacketSize: 1000 })) => {
    reader.level = level
    reader.push(bytes)
    return reader.next()
  }

  it.each<[string, ProtocolLevel, readonly number[], (code: number) => Uint8Array]>([
    ['PUBACK', 5, CODES.puback, (code) => pkt(0x40, 0, 1, code)],
    ['PUBREC', 5, CODES.puback, (code) => pkt(0x50, 0, 1, code)],
    ['PUBREL', 5, CODES.pubrel, (code) => pkt(0x62, 0, 1, code)],
    ['PUBCOMP', 5, CODES.pubrel, (code) => pkt(0x70, 0, 1, code)],
    ['SUBACK', 5, CODES.suback, (code) => pkt(0x90, 0, 1, 0, code)],
    ['SUBACK', 4, CODES.subackV4, (code) => pkt(0x90, 0, 1, code)],
    ['UNSUBACK', 5, CODES.unsuback, (code) => pkt(0xb0, 0, 1, 0, code)],
    ['CONNACK', 5, CODES.connack, (code) => pkt(0x20, 0, code, 0)],
    ['CONNACK', 4, CODES.connackV4, (code) => pkt(0x20, 0, code)],
    ['DISCONNECT', 5, CODES.disconnectByServer, (code) => pkt(0xe0, code)],
    ['AUTH', 5, CODES.auth, (code) => pkt(0xf0, code)],
  ])('%s at level %i: each of the 256 codes passes if and only if its table has it', (_, level, table, packet) => {
    const passed: number[] = []
    for (let code = 0; code < 256; code++) {
      const r = new ClientPacketReader({ maximumPacketSize: 1000 })
      r.level = level
      r.push(packet(code))
      try {
        expect(r.next()).toBeDefined()
        passed.push(code)
      } catch (e) {
        expect(e).toMatchObject({ name: 'MalformedPacketError', reasonCode: MALFORMED })
      }
    }
    expect(passed).toEqual([...table].sort((a, b) => a - b))
  })

  it('PUBACK and PUBREC 0x95 pass: Mosquitto refuses a message over its message_size_limit with it', () => {
    expect(accepts(pkt(0x40, 0, 1, 0x95), 5)).toMatchObject({ type: 'puback', reasonCode: 0x95 })
    expect(accepts(pkt(0x50, 0, 1, 0x95), 5)).toMatchObject({ type: 'pubrec', reasonCode: 0x95 })
  })

  it('DISCONNECT 0x04 (Disconnect with Will Message) is a client\'s: a client refuses it, a reader of either side takes it', () => {
    const fromBroker = new ClientPacketReader({ maximumPacketSize: 1000 })
    fromBroker.level = 5
    fromBroker.push(pkt(0xe0, 0x04))
    expect(() => fromBroker.next()).toThrow(expect.objectContaining({ reasonCode: MALFORMED }))
    expect(accepts(pkt(0xe0, 0x04), 5, reader(5))).toMatchObject({ type: 'disconnect', reasonCode: 4 })
  })
})

describe('other rules a broker\'s packet must keep', () => {
  it('a CONNACK that refuses has no session (MQTT 5 3.2.2.1.1, 3.1.1 3.2.2.2): protocol error', () => {
    rejects(pkt(0x20, 1, 0x87, 0), 5, PROTOCOL)
    rejects(pkt(0x20, 1, 5), 4, PROTOCOL)
  })

  it('a PUBLISH with an empty topic name needs a topic alias (MQTT 5 3.3.2.3.4, 3.1.1 4.7.3): protocol error', () => {
    rejects(pkt(0x30, 0, 0, 0), 5, PROTOCOL)
    rejects(pkt(0x30, 0, 0, 0x61), 4, PROTOCOL)
    const r = reader(5)
    r.push(pkt(0x30, 0, 0, 3, 0x23, 0, 1))
    expect(r.next()).toMatchObject({ topic: '', properties: { topicAlias: 1 } })
  })

  it('a DISCONNECT from the server with a session expiry interval (3.14.2.2.2): protocol error', () => {
    const fromBroker = new ClientPacketReader({ maximumPacketSize: 1000 })
    fromBroker.level = 5
    fromBroker.push(pkt(0xe0, 0, 5, 0x11, 0, 0, 0, 1))
    expect(() => fromBroker.next()).toThrow(expect.objectContaining({ reasonCode: PROTOCOL }))
    const either = reader(5) // from a client it is what the client asks for
    either.push(pkt(0xe0, 0, 5, 0x11, 0, 0, 0, 1))
    expect(either.next()).toMatchObject({ properties: { sessionExpiryInterval: 1 } })
  })
})

describe('after an error', () => {
  it('the reader is dead: next() throws the same error again, and holds nothing', () => {
    const r = reader(4)
    r.push(pkt(0xd0)) // a PINGRESP
    r.push(new Uint8Array([0x00, 0x00]))
    expect(r.next()).toEqual({ type: 'pingresp' })
    let first: unknown
    try {
      r.next()
    } catch (e) {
      first = e
    }
    expect(first).toBeInstanceOf(MalformedPacketError)
    r.push(pkt(0xd0))
    expect(r.buffered).toBe(0)
    expect(() => r.next()).toThrow(first as Error)
  })
})
