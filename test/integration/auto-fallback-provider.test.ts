// protocolVersion 'auto' (the default) against a broker that speaks only MQTT 3.1.1, with a credentials provider
// and reconnects: docs/guide/client.md "MQTT 5, falling back to 3.1.1 when the broker says it does not speak 5";
// lib/connection/protocol-negotiation.ts: a refusal (CONNACK 1) is final; silence is believed once 3.1.1 works.
// So after the fallback, every reconnect is 3.1.1 at once: one (refusing) or two (silent) MQTT 5 CONNECTs in all.
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectedStatus, Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** A 3.1.1-only front for a Mosquitto: MQTT 5 CONNECTs are refused (CONNACK 1) or closed; 3.1.1 ones pass. */
class Front {
  readonly levels: number[] = []
  readonly sockets = new Set<Socket>()
  constructor(readonly server: Server, readonly mode: 'refuse' | 'silent') {}
  static async start(target: number, mode: 'refuse' | 'silent'): Promise<Front> {
    let front!: Front
    const server = createServer((socket) => {
      front.sockets.add(socket)
      socket.on('close', () => front.sockets.delete(socket))
      socket.on('error', () => undefined)
      socket.once('data', (first: Buffer) => {
        // Fixed header (1 byte), remaining length (1 byte for these CONNECTs), "MQTT" (6 bytes), then the level.
        const level = first[8] as number
        front.levels.push(level)
        if (level === 5) {
          if (front.mode === 'refuse') socket.end(Buffer.from([0x20, 0x02, 0x00, 0x01]))
          else socket.destroy()
          return
        }
        const upstream = createConnection({ port: target, host: '127.0.0.1' })
        front.sockets.add(upstream)
        upstream.on('close', () => front.sockets.delete(upstream))
        upstream.write(first)
        socket.pipe(upstream).pipe(socket)
        upstream.on('error', () => socket.destroy())
        upstream.on('close', () => socket.destroy())
        socket.on('close', () => upstream.destroy())
      })
    })
    front = new Front(server, mode)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return front
  }
  get url(): string {
    return `mqtt://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }
  cut(): void {
    for (const s of this.sockets) s.destroy()
  }
  async close(): Promise<void> {
    this.cut()
    await new Promise((r) => this.server.close(r))
  }
}

describe.skipIf(noMosquitto())("protocolVersion 'auto' with a credentials provider and reconnects", () => {
  const bed = testBed('lifecycle-auto')
  const fronts: Front[] = []
  afterEach(async () => {
    await bed.pool.endAll()
    await Promise.all(fronts.splice(0).map((f) => f.close()))
  })

  for (const mode of ['refuse', 'silent'] as const) {
    it(`a 3.1.1-only broker that ${mode === 'refuse' ? 'refuses (CONNACK 1)' : 'closes'} MQTT 5: the fallback happens once and sticks across 3 reconnects`, async () => {
      const broker = await bed.broker()
      const front = await Front.start(broker.ports[1883] as number, mode)
      fronts.push(front)
      let asked = 0
      const client = bed.pool.connect(front.url, {
        reconnect: { initialDelay: 20, maxDelay: 40 },
        credentials: async () => {
          asked += 1
          return { username: `lc-${asked}`, password: 'p' }
        },
      })
      const statuses: Status[] = []
      client.status$.subscribe((s) => statuses.push(s))
      const connectedCount = (): number => statuses.filter((s) => s.type === 'connected').length
      await waitFor(() => connectedCount() === 1, 'the first connection')
      for (let cut = 1; cut <= 3; cut++) {
        front.cut()
        await waitFor(() => connectedCount() === cut + 1, `the reconnect after cut ${cut}`)
      }
      const connected = statuses.filter((s): s is ConnectedStatus => s.type === 'connected')
      expect(connected.map((s) => s.protocolVersion)).toEqual([4, 4, 4, 4])
      const fives = mode === 'refuse' ? 1 : 2
      expect(front.levels).toEqual([...Array(fives).fill(5), 4, 4, 4, 4])
      // The provider is asked before every attempt, the negotiation's included.
      expect(asked).toBe(front.levels.length)
      // The negotiation is not a reconnect: the statuses show only the cuts.
      expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'connected', 'reconnecting', 'connected'])
      await client.publish(`${uniquePrefix('lc-auto')}/x`, 'x', { qos: 1 })
    })
  }
})
