// 10,000 observe/unsubscribe cycles leave no listeners, timers, registry entries or broker subscriptions.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

// The engine's parts, read through its private fields: a leak shows there before it shows in the heap.
interface Internals {
  link: {
    /** The MQTT.js link's instance. */
    mqtt?: { eventNames(): Array<string | symbol>; listenerCount(name: string | symbol): number; outgoing: object }
    /** The lean link's requests and publishes waiting for their acknowledgements. */
    requests?: Map<number, unknown>
    flow?: { store: { size: number } }
  }
  subscriptions: { registry: { size: number } }
  publisher: { size: number }
}

/** Packets waiting for an acknowledgement in the client's link, whichever it is. */
function awaitingAck(client: MQTTClient): number {
  const { link } = client as unknown as Internals
  return link.mqtt ? Object.keys(link.mqtt.outgoing).length : (link.requests?.size ?? 0) + (link.flow?.store.size ?? 0)
}

describe.skipIf(noMosquitto())('no leaks', () => {
  let broker: Mosquitto
  const pool = new ClientPool('leaks')
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type subscribe', 'log_type unsubscribe'] })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  const listeners = (client: MQTTClient): string => {
    const inner = (client as unknown as Internals).link.mqtt
    // The lean link has no event emitter: nothing can pile up there.
    if (!inner) return 'no emitter'
    return inner.eventNames().map((name) => `${String(name)}:${inner.listenerCount(name)}`).sort().join(',')
  }

  it('10,000 observe/unsubscribe cycles: nothing left behind, heap back to its baseline', async () => {
    const client = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('churn')
    const cycle = async (from: number, count: number): Promise<void> => {
      for (let i = from; i < from + count; i++) {
        const subscription = client.observe(`${p}/${i % 100}/+`, { qos: (i % 3) as 0 | 1 | 2, codec: 'json' }).subscribe()
        subscription.unsubscribe()
        // Let the packets out now and then, as an app would between user actions.
        if (i % 500 === 0) await client.publish(`${p}/tick`, 'x', { qos: 1 })
      }
    }
    await cycle(0, 500) // warm up: JIT, MQTT.js buffers
    await client.publish(`${p}/sync`, 'x', { qos: 1 })
    gc()
    const before = process.memoryUsage().heapUsed
    const listenersBefore = listeners(client)

    await cycle(500, 10_000)
    await client.publish(`${p}/sync`, 'x', { qos: 1 })
    const internals = client as unknown as Internals
    await waitFor(() => awaitingAck(client) === 0, 'every UNSUBACK')
    gc()
    const grown = process.memoryUsage().heapUsed - before
    process.stdout.write(`heap after 10,000 observe/unsubscribe cycles: ${(grown / 1024).toFixed(0)} KiB from baseline\n`)

    expect(internals.subscriptions.registry.size).toBe(0)
    expect(internals.publisher.size).toBe(0)
    expect(listeners(client)).toBe(listenersBefore)
    expect(grown).toBeLessThan(2 * 1024 * 1024)
    // The broker saw as many UNSUBSCRIBEs as SUBSCRIBEs: no subscription is left on it.
    const lines = (await broker.log()).split('\n')
    const subscribed = lines.filter((l) => l.includes(`: ${client.clientId} `) && new RegExp(` [012] ${p}/`).test(l)).length
    const unsubscribed = lines.filter((l) => l.includes(`: ${client.clientId} ${p}/`)).length
    expect(subscribed).toBe(10_500)
    expect(unsubscribed).toBe(10_500)
  }, 60_000)
})
