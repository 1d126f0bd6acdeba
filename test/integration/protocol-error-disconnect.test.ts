// A broker that breaks the protocol gets told why: under MQTT 5 the client sends a DISCONNECT with the reason
// code (0x81 malformed packet, 0x82 protocol error, 0x94 topic alias invalid, 0x95 packet too large) before it
// closes the socket, and the app sees the failure on status$; under MQTT 3.1.1, which has no such DISCONNECT,
// the client just closes. The "broker" is a net.Server in this file writing chosen bytes after its CONNACK.
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ConnectionLostError, type ClientOptions } from '../../lib/node.js'
import { encode } from '../../lib/wire/encode.js'
import { PacketReader } from '../../lib/wire/packet-reader.js'
import type { Packet, ProtocolLevel } from '../../lib/wire/packets.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'

const payload = new Uint8Array(1)

/** A broker stand-in: CONNACK, then `bad`; resolves with what the first client sent, decoded, once it closed. */
async function fakeBroker(level: ProtocolLevel, bad: Uint8Array): Promise<{ server: Server; url: string; received: Promise<Packet[]> }> {
  let settle!: (packets: Packet[]) => void
  const received = new Promise<Packet[]>((resolve) => (settle = resolve))
  const server = createServer((socket) => {
    const reader = new PacketReader({ maximumPacketSize: 268_435_460 })
    reader.level = level
    const packets: Packet[] = []
    socket.on('data', (chunk: Buffer) => {
      reader.push(new Uint8Array(chunk))
      for (let packet = reader.next(); packet; packet = reader.next()) {
        packets.push(packet)
        if (packet.type === 'connect') socket.write(Buffer.concat([encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, level), bad]))
      }
    })
    socket.on('error', () => undefined) // a reset by the client is an answer too
    socket.on('close', () => settle(packets))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, url: `mqtt://127.0.0.1:${address.port}`, received }
}

const MALFORMED = new Uint8Array([0x30, 0x03, 0x00, 0x09, 0x61]) // a PUBLISH whose topic length runs past the packet

// The MQTT.js link closes as MQTT.js does; the DISCONNECT is the lean link's.
describe.runIf(linkUnderTest() === 'lean')('a broker that breaks the protocol', () => {
  const pool = new ClientPool('protocol-error')
  const servers: Server[] = []
  afterEach(async () => {
    await pool.endAll()
    // Every client socket is closed by now (the client closed it, or end() did): close() then completes.
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  })

  const cases: Array<[string, Uint8Array, number, ClientOptions?]> = [
    ['a malformed packet', MALFORMED, 0x81],
    ['a second CONNACK (protocol error)', encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, 5), 0x82],
    ['a topic alias the client did not allow', encode({ type: 'publish', topic: 'a', payload, qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } }, 5), 0x94],
    ['a packet over maxIncomingPacketSize', encode({ type: 'publish', topic: 'a', payload: new Uint8Array(200), qos: 0, retain: false, dup: false }, 5), 0x95, { maxIncomingPacketSize: 100 }],
  ]
  for (const [what, bad, code, options] of cases) {
    it(`MQTT 5: ${what} gets a DISCONNECT ${code.toString(16)} before the close, and a ConnectionLostError on status$`, async () => {
      const broker = await fakeBroker(5, bad)
      servers.push(broker.server)
      const client = pool.connect(broker.url, { protocolVersion: 5, reconnect: { initialDelay: 30_000, maxDelay: 30_000 }, ...options })
      const reconnecting = await waitForStatus(client, 'reconnecting')
      expect(reconnecting.error).toBeInstanceOf(ConnectionLostError)
      const packets = await broker.received
      expect(packets.map((p) => p.type)).toEqual(['connect', 'disconnect'])
      expect(packets[1]).toMatchObject({ type: 'disconnect', reasonCode: code })
    })
  }

  it('MQTT 3.1.1: a malformed packet just closes the connection (no DISCONNECT)', async () => {
    const broker = await fakeBroker(4, MALFORMED)
    servers.push(broker.server)
    const client = pool.connect(broker.url, { protocolVersion: 4, reconnect: { initialDelay: 30_000, maxDelay: 30_000 } })
    const reconnecting = await waitForStatus(client, 'reconnecting')
    expect(reconnecting.error).toBeInstanceOf(ConnectionLostError)
    expect((await broker.received).map((p) => p.type)).toEqual(['connect'])
  })
})
