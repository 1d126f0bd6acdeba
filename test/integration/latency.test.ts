// Latency by default: with the SDK's default options and the kit's shipped profile, a paced 10,000 messages/s
// stream arrives in well under a millisecond or two. With Nagle's algorithm on (Node's default for sockets,
// Mosquitto's default `set_tcp_nodelay false`) a small packet waits for the peer's delayed ACK: the p50 was
// about 21 ms. The assertion is generous (a loaded 2-core machine) and still far below that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const RATE = 10_000
const SECONDS = 2

describe.skipIf(noMosquitto())('latency by default', () => {
  let broker: Mosquitto
  const pool = new ClientPool('latency')
  beforeAll(async () => {
    // The shipped development profile as it is (the kit's set_tcp_nodelay is part of what is measured).
    broker = await Mosquitto.start({ persistence: false })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  it(`p50 at a paced ${RATE.toLocaleString('en')} msg/s, QoS 0, default options, is well under the Nagle stall`, async () => {
    const subscriber = await pool.connected(broker.tcpUrl)
    const publisher = await pool.connected(broker.tcpUrl)
    const topic = `${uniquePrefix('latency')}/t`
    const latencies: number[] = []
    const view = (raw: Uint8Array): DataView => new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    const subscription = subscriber.observe(topic).subscribe((m) => latencies.push(performance.now() - view(m.raw).getFloat64(0)))
    // The subscription is in place once its SUBACK came.
    await next(subscriber.subscriptions$, 'the SUBACK', (list) => list.some((s) => s.grantedQos !== undefined))

    const total = RATE * SECONDS
    let sent = 0
    // A publish the client refuses (its queue full: the machine could not keep pace) is counted, not left unhandled.
    const refused: string[] = []
    const started = performance.now()
    await new Promise<void>((resolve) => {
      // Paced: each tick sends what is due by the clock, so the rate holds whatever the timers' jitter.
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE))
        for (; sent < due; sent++) {
          const payload = new Uint8Array(100)
          new DataView(payload.buffer).setFloat64(0, performance.now())
          publisher.publish(topic, payload).catch((error: Error) => void (refused.length < 3 && refused.push(`${error.name}: ${error.message}`)))
        }
        if (sent < total) setTimeout(tick, 1)
        else resolve()
      }
      tick()
    })
    expect(refused, 'publishes the client refused').toEqual([])
    await waitFor(() => latencies.length >= total * 0.99, 'the messages to arrive', 10_000)
    subscription.unsubscribe()

    const sorted = [...latencies].sort((a, b) => a - b)
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number
    const p50 = at(0.5)
    const p99 = at(0.99)
    process.stdout.write(`latency at ${RATE} msg/s: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${sorted.length} messages)\n`)
    expect(p50).toBeLessThan(10)
  }, 30_000)
})
