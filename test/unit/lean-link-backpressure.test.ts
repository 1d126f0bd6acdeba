// The lean link's write backpressure over a fake transport whose `buffered` the test sets: `writable` follows
// the high-water mark, the transport's `drain` of the current connection becomes `drained`, and control
// packets (PUBACK, PINGREQ) are written whatever is buffered.
import { describe, expect, it } from 'vitest'
import { LeanLink } from '../../lib/link/lean/lean-link.js'
import type { LinkEvents, LinkSettings } from '../../lib/link/link.js'
import type { Intervals } from '../../lib/link/sign-of-life.js'
import { HIGH_WATER_MARK, type OpenTransport, type TransportEvents } from '../../lib/transport/transport.js'
import { encode } from '../../lib/wire/encode.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet } from '../../lib/wire/packets.js'

const settings: LinkSettings = {
  clientId: 'bp-1', clean: true, keepalive: 10, connectTimeout: 30_000, sessionExpiryInterval: undefined, will: undefined, tls: {}, maxIncomingPacketSize: undefined, link: 'lean',
}
const endpoint = { url: 'mqtt://broker.test:1883', protocol: 'mqtt', hostname: 'broker.test', port: 1883, path: '' } as const
const attempt = { endpoint, protocolVersion: 5, username: undefined, password: undefined } as const
/** Each attempt's epoch is new, as the connection gives it. */
let epoch = 0

function setup() {
  const written: Packet[] = []
  const transports: Array<{ events: TransportEvents; buffered: number }> = []
  const open: OpenTransport = (_endpoint, _tls, events) => {
    const reader = new PacketReader({ maximumPacketSize: 268_435_460 })
    reader.level = 5
    const transport = {
      events,
      buffered: 0,
      write: (bytes: Uint8Array) => {
        reader.push(bytes.slice())
        for (let packet = reader.next(); packet; packet = reader.next()) written.push(packet)
      },
      pause: () => undefined,
      resume: () => undefined,
      end: () => queueMicrotask(() => events.closed()),
      destroy: () => queueMicrotask(() => events.closed()),
    }
    transports.push(transport)
    queueMicrotask(() => events.open())
    return transport
  }
  const ticks: Array<() => void> = []
  const intervals: Intervals = { set: (callback) => ticks.push(callback), clear: () => undefined, dispose: () => undefined }
  const log: string[] = []
  const events: LinkEvents = {
    connected: () => log.push('connected'),
    drained: () => log.push('drained'),
    message: (_message, done) => done(),
    failed: (failure) => log.push(`failed:${failure.type}`),
    closed: () => log.push('closed'),
  }
  const link = new LeanLink(settings, events, open, intervals)
  const send = (packet: Packet): void => transports.at(-1)?.events.data(encode(packet, 5))
  const connect = async (): Promise<void> => {
    link.open({ ...attempt, epoch: ++epoch })
    await new Promise((resolve) => queueMicrotask(() => resolve(undefined)))
    send({ type: 'connack', sessionPresent: false, reasonCode: 0 })
  }
  return { link, written, transports, log, ticks, send, connect }
}

describe('lean link: write backpressure', () => {
  it('is writable while the transport holds less than the high-water mark, and with no connection at all', async () => {
    const { link, transports, connect } = setup()
    expect(link.writable).toBe(true)
    await connect()
    const transport = transports[0] as { buffered: number }
    transport.buffered = HIGH_WATER_MARK - 1
    expect(link.writable).toBe(true)
    transport.buffered = HIGH_WATER_MARK
    expect(link.writable).toBe(false)
  })

  it("the transport's drain is `drained`; an earlier connection's is not", async () => {
    const { link, transports, log, connect } = setup()
    await connect()
    transports[0]?.events.drain()
    expect(log.filter((l) => l === 'drained')).toHaveLength(1)
    link.drop()
    await new Promise((resolve) => setImmediate(resolve))
    await connect()
    transports[0]?.events.drain() // the first connection's, late
    expect(log.filter((l) => l === 'drained')).toHaveLength(1)
    transports[1]?.events.drain()
    expect(log.filter((l) => l === 'drained')).toHaveLength(2)
  })

  it('PUBACK and PINGREQ are written while over the mark: only publishes wait, in the publisher', async () => {
    const { link, written, transports, ticks, send, connect } = setup()
    await connect()
    ;(transports[0] as { buffered: number }).buffered = 10 * HIGH_WATER_MARK
    expect(link.writable).toBe(false)
    send({ type: 'publish', topic: 'in', payload: new Uint8Array(1), qos: 1, retain: false, dup: false, packetId: 9 })
    // Two ticks of the keepalive with nothing written or heard in between: a PINGREQ.
    for (const tick of [...ticks, ...ticks]) tick()
    expect(written.filter((p) => p.type === 'puback')).toEqual([expect.objectContaining({ packetId: 9 })])
    expect(written.some((p) => p.type === 'pingreq')).toBe(true)
  })
})
