// Flow control on the way out, over both links: the broker's Receive Maximum is honoured by the SDK's own
// publisher window, and a broker that stops reading makes publishes wait (bounded) instead of piling up
// unbounded bytes in the socket.
import { once } from 'node:events'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import type { LogFields } from '../../lib/log/logger.js'
import { QueueFullError, type Status } from '../../lib/node.js'
import { HIGH_WATER_MARK } from '../../lib/transport/transport.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { linkUnderTest } from '../support/link-under-test.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import { measuredClient } from '../support/link-internals.js'

describe.skipIf(noMosquitto())('flow control: the broker’s Receive Maximum', () => {
  const bed = testBed('flow')

  it('8 concurrent QoS 1 and 8 QoS 2 publishes to a broker announcing Receive Maximum 2: no disconnect, all resolve, all delivered once', async () => {
    const broker = await bed.broker({ extra: ['log_type all', 'max_inflight_messages 2'] })
    const p = uniquePrefix('receive-maximum')
    const subscriber = await bed.pool.connected(broker.tcpUrl)
    const received: string[] = []
    subscriber.observe(`${p}/#`, { qos: 2, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${p}/#`, 2)

    const connacks: LogFields[] = []
    const info = (fields: LogFields): void => void (fields.event === 'connack' && connacks.push(fields))
    const logger = { debug: () => undefined, info, warn: () => undefined, error: () => undefined }
    const publisher = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5, logger })
    // Mosquitto announces max_inflight_messages as the CONNACK's Receive Maximum.
    expect(connacks[0]?.['properties']).toMatchObject({ receiveMaximum: 2 })
    const statuses: Status['type'][] = []
    publisher.status$.subscribe((s) => statuses.push(s.type))

    const sent = [1, 2].flatMap((qos) => Array.from({ length: 8 }, (_, i) => `q${qos}-${i}`))
    await Promise.all(sent.map((m) => publisher.publish(`${p}/m`, m, { qos: m.startsWith('q1') ? 1 : 2 })))
    await waitFor(() => received.length >= sent.length, 'every message at the subscriber')
    expect(statuses).toEqual(['connected'])
    expect([...received].sort()).toEqual([...sent].sort())
    // In order per QoS (the window keeps the order of publish()).
    expect(received.filter((m) => m.startsWith('q1'))).toEqual(sent.filter((m) => m.startsWith('q1')))
  })
})

describe('flow control: a broker that stops reading', () => {
  const PAYLOAD = 64 * 1024
  const COUNT = 2_000

  it(`${COUNT} QoS 0 publishes of 64 KiB: the bytes held for the socket stay bounded, the rest wait or get QueueFullError, and every resolved one arrives`, async () => {
    const stalled = await StalledBroker.start()
    // What the link holds for the socket, not yet taken by the operating system (test/support/link-internals.ts).
    const { client, unsentBytes: held, link } = measuredClient({ url: stalled.url, clientId: `flow-stalled-${process.pid}`, keepalive: 0, reconnect: false, link: linkUnderTest() })
    try {
      await waitForStatus(client, 'connected')
      const topic = `${uniquePrefix('stalled')}/big`
      const payload = new Uint8Array(PAYLOAD).fill(7)
      let resolved = 0
      const outcomes: Array<'resolved' | 'queue-full' | Error | undefined> = Array.from({ length: COUNT })
      let maxHeld = 0
      // In runs of 50 a turn, as an app's loop that yields: the socket gets its turns to write and fill up.
      for (let start = 0; start < COUNT; start += 50) {
        for (let i = start; i < start + 50; i++) {
          client.publish(topic, payload).then(
            () => {
              resolved += 1
              outcomes[i] = 'resolved'
            },
            (error: unknown) => (outcomes[i] = error instanceof QueueFullError ? 'queue-full' : (error as Error)),
          )
        }
        await new Promise((r) => setImmediate(r))
        maxHeld = Math.max(maxHeld, held())
      }
      await waitFor(() => outcomes.some((o) => o === 'queue-full'), 'QueueFullError once the queue is full')
      const packet = PAYLOAD + topic.length + 8
      // One packet past the mark at most: the one written while still under it.
      expect(maxHeld).toBeLessThanOrEqual(HIGH_WATER_MARK + packet)
      expect(maxHeld).toBeGreaterThan(0)
      expect(link()?.writable).toBe(false)
      expect(outcomes.filter((o) => o instanceof Error)).toEqual([])
      const waiting = outcomes.filter((o) => o === undefined).length
      // The default offline queue holds 1 MiB of payload, 16 of these. MQTT.js also calls a QoS 0 publish back
      // only on its stream's 'drain': those it holds, under the mark, are unsettled too.
      const inLink = linkUnderTest() === 'lean' ? 0 : Math.ceil(HIGH_WATER_MARK / packet) + 1
      expect(waiting).toBeGreaterThan(0)
      expect(waiting).toBeLessThanOrEqual(16 + inLink)

      // The broker reads again: what waited goes, and every resolved publish reaches it.
      const resolvedWhileStalled = resolved
      stalled.resume()
      await waitFor(() => outcomes.every((o) => o !== undefined), 'the waiting publishes to settle', 20_000)
      expect(outcomes.filter((o) => o instanceof Error)).toEqual([])
      expect(resolved).toBe(resolvedWhileStalled + waiting)
      await waitFor(() => stalled.publishes === resolved, `the broker to read ${resolved} PUBLISH packets (has ${stalled.publishes})`, 20_000)
    } finally {
      await client.end({ force: true })
      await stalled.close()
    }
  }, 60_000)
})

/**
 * A broker that answers CONNECT with CONNACK and then stops reading, until `resume()`: it counts the PUBLISH
 * packets it reads after that.
 */
class StalledBroker {
  publishes = 0
  private socket: Socket | undefined
  #pending = new Uint8Array(0)

  private constructor(private readonly server: Server) {}

  static async start(): Promise<StalledBroker> {
    let broker: StalledBroker | undefined
    const server = createServer((socket) => {
      socket.on('error', () => undefined)
      socket.once('data', (connect: Buffer) => {
        const v5 = connect.includes(Buffer.from('MQTT\u0005'))
        socket.write(v5 ? Uint8Array.of(0x20, 0x03, 0x00, 0x00, 0x00) : Uint8Array.of(0x20, 0x02, 0x00, 0x00))
        socket.pause()
        const me = broker as StalledBroker
        me.socket = socket
        socket.on('data', (chunk: Buffer) => me.read(chunk))
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    broker = new StalledBroker(server)
    return broker
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  resume(): void {
    this.socket?.resume()
  }

  async close(): Promise<void> {
    this.socket?.destroy()
    this.server.close()
    await once(this.server, 'close')
  }

  /** Counts whole PUBLISH packets (fixed header type 3) in the stream. */
  private read(chunk: Buffer): void {
    const bytes = new Uint8Array(this.#pending.length + chunk.length)
    bytes.set(this.#pending)
    bytes.set(chunk, this.#pending.length)
    let at = 0
    for (;;) {
      let length = 0
      let multiplier = 1
      let i = at + 1
      for (; i < bytes.length; i++) {
        const byte = bytes[i] as number
        length += (byte & 0x7f) * multiplier
        multiplier *= 128
        if ((byte & 0x80) === 0) break
      }
      if (i >= bytes.length || i + 1 + length > bytes.length) break
      if ((bytes[at] as number) >> 4 === 3) this.publishes += 1
      at = i + 1 + length
    }
    this.#pending = bytes.slice(at)
  }
}
