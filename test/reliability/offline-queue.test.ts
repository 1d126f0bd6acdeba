// Publishes while disconnected wait in a bounded queue and go out in order on reconnect.
import { describe, expect, it } from 'vitest'
import { PublishError, QueueFullError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('bounded offline queue', () => {
  const bed = testBed('offline')
  const pool = bed.pool

  it('holds publishes up to the limits, refuses the rest with QueueFullError, and flushes in order', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('queue')
    const subscriber = await pool.connected(broker.tcpUrl)
    const received: string[] = []
    subscriber.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${p}/#`, 1)

    const publisher = await pool.connected(proxy.url, {
      reconnect: { initialDelay: 20, maxDelay: 50 },
      offlineQueue: { maxMessages: 5, maxBytes: 64 },
    })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(publisher, 'reconnecting')

    const queued = [0, 1, 2, 3].map((i) => publisher.publish(`${p}/n`, `m${i}`, { qos: i % 2 === 0 ? 1 : 0 }))
    // 4 messages of 2 bytes: a 60-byte one no longer fits in 64 bytes, a small one still does.
    await expect(publisher.publish(`${p}/n`, 'x'.repeat(60), { qos: 1 })).rejects.toBeInstanceOf(QueueFullError)
    queued.push(publisher.publish(`${p}/n`, 'm4', { qos: 2 }))
    const sixth = await publisher.publish(`${p}/n`, 'm5', { qos: 1 }).catch((e: unknown) => e)
    expect(sixth).toBeInstanceOf(QueueFullError)
    expect((sixth as Error).message).toMatch(/5 messages/)

    proxy.refuse = false
    await Promise.all(queued)
    await waitFor(() => received.length === 5, 'the flushed messages')
    expect(received).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    // Once the queue has drained, there is room again.
    await expect(publisher.publish(`${p}/n`, 'after', { qos: 1 })).resolves.toBeUndefined()
  })

  it("offlineQueue.qos0 'reject' refuses a QoS 0 publish while offline, and still queues QoS 1", async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const publisher = await pool.connected(proxy.url, { reconnect: { initialDelay: 20, maxDelay: 50 }, offlineQueue: { qos0: 'reject' } })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(publisher, 'reconnecting')
    const p = uniquePrefix('qos0')
    await expect(publisher.publish(`${p}/x`, 'x', { qos: 0 })).rejects.toBeInstanceOf(PublishError)
    const queued = publisher.publish(`${p}/x`, 'x', { qos: 1 })
    proxy.refuse = false
    await expect(queued).resolves.toBeUndefined()
  })
})
