// A manually acknowledged message held for longer than the keepalive allows must not stop the connection:
// the link goes on reading PINGRESPs and PUBACKs behind it, and when the messages waiting behind it pass its
// read-ahead limit (the socket paused), the silence is its own and the keepalive does not count it.
import { describe, expect, it } from 'vitest'
import type { Message, Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const KEEPALIVE_S = 2
/** Longer than 1.5 × keepalive: the old link declared the broker dead while it held the message. */
const HOLD_MS = 5_000

describe.skipIf(noMosquitto())('a message held past the keepalive', () => {
  const bed = testBed('held')

  it(
    'keeps the connection: acks and pings are read behind it, messages wait in order, a paused socket is not taken for a dead broker',
    async () => {
      const broker = await bed.broker({ extra: ['log_type subscribe'] })
      const p = uniquePrefix('held')
      const consumer = await bed.pool.connected(broker.tcpUrl, { keepalive: KEEPALIVE_S, clean: false, reconnect: { initialDelay: 100, maxDelay: 200 } })
      const statuses: Status[] = []
      consumer.status$.subscribe((s) => statuses.push(s))
      const jobs: string[] = []
      let first: Message<string> | undefined
      consumer.observe(`${p}/jobs`, { qos: 1, ack: 'manual', codec: 'text' }).subscribe((m) => {
        jobs.push(m.payload)
        if (first) m.ack()
        else first = m // held: acknowledged after HOLD_MS
      })
      const big: number[] = []
      consumer.observe(`${p}/big`, { qos: 0 }).subscribe((m) => big.push(m.payload.byteLength))
      await broker.waitForSubscription(consumer.clientId, `${p}/jobs`, 1)
      await broker.waitForSubscription(consumer.clientId, `${p}/big`, 0)

      const publisher = await bed.pool.connected(broker.tcpUrl)
      await publisher.publish(`${p}/jobs`, 'job-0', { qos: 1 })
      await waitFor(() => first, 'the first job, held')
      const heldAt = Date.now()
      const ackTimer = setTimeout(() => first?.ack(), HOLD_MS)
      try {
        for (let n = 1; n <= 5; n++) await publisher.publish(`${p}/jobs`, `job-${n}`, { qos: 1 })
        // The consumer's own QoS 1 publish settles on its PUBACK, which comes behind the held messages.
        await consumer.publish(`${p}/elsewhere`, 'x', { qos: 1 })
        const settledAfter = Date.now() - heldAt
        expect(settledAfter).toBeLessThan(HOLD_MS - 1_000)
        // More than the link's 1 MiB read-ahead waits behind the held job now: the socket is paused.
        const payload = new Uint8Array(400_000)
        for (let n = 0; n < 4; n++) await publisher.publish(`${p}/big`, payload, { qos: 0 })
        await publisher.publish(`${p}/jobs`, 'job-6', { qos: 1 })
        await waitFor(() => jobs.length === 7 && big.length === 4, 'every message after the ack', HOLD_MS + 10_000)
      } finally {
        clearTimeout(ackTimer)
      }
      expect(Date.now() - heldAt).toBeGreaterThanOrEqual(HOLD_MS)
      expect(jobs).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6'])
      expect(big).toEqual([400_000, 400_000, 400_000, 400_000])
      expect(statuses.map((s) => s.type)).toEqual(['connected'])
    },
    30_000,
  )

  // Reading on behind a held message must not acknowledge it early: its PUBACK (QoS 1) or the end of its QoS 2
  // flow waits for the handler, so a connection lost meanwhile brings it again on the kept session.
  it.each([1, 2] as const)('acknowledges a held QoS %i message only when its handler is done: cut while held, it comes again', async (qos) => {
    const broker = await bed.broker({ extra: ['log_type subscribe'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('held-cut')
    const consumer = await bed.pool.connected(proxy.url, { clean: false, reconnect: { initialDelay: 100, maxDelay: 200 } })
    const jobs: string[] = []
    const held: Array<Message<string>> = []
    consumer.observe(`${p}/jobs`, { qos: 2, ack: 'manual', codec: 'text' }).subscribe((m) => {
      jobs.push(m.payload)
      if (m.payload === 'job-0') held.push(m)
      else m.ack()
    })
    await broker.waitForSubscription(consumer.clientId, `${p}/jobs`, 2)
    const publisher = await bed.pool.connected(broker.tcpUrl)
    await publisher.publish(`${p}/jobs`, 'job-0', { qos })
    await waitFor(() => held.length === 1, 'the first job, held')
    await publisher.publish(`${p}/jobs`, 'job-1', { qos })
    // The consumer's own publish settles on a PUBACK read behind the held job and job-1.
    await consumer.publish(`${p}/elsewhere`, 'x', { qos: 1 })
    proxy.cut()
    await waitFor(() => held.length === 2, 'the held job again, on the next connection')
    held[0]?.ack() // late: its connection is gone
    held[1]?.ack()
    await publisher.publish(`${p}/jobs`, 'job-2', { qos })
    await waitFor(() => jobs.includes('job-2'), 'the job after it')
    expect(jobs.filter((j) => j !== 'job-0')).toEqual(['job-1', 'job-2'])
    expect(jobs.filter((j) => j === 'job-0')).toHaveLength(2)
  })

  // Mosquitto 2.0.11 sends QoS 2 messages past a Receive Maximum the client announced, once acknowledgements
  // flow; a link that refuses them (MQTT.js closes with 0x93) would reconnect in a loop behind a held message.
  it('1,000 QoS 2 messages behind a held one under MQTT 5: all arrive, on one connection', async () => {
    const broker = await bed.broker({ extra: ['log_type subscribe', 'max_queued_messages 10000'] })
    const p = uniquePrefix('held-burst')
    const consumer = await bed.pool.connected(broker.tcpUrl, { protocolVersion: 5, clean: false, reconnect: { initialDelay: 100, maxDelay: 200 } })
    const statuses: Status[] = []
    consumer.status$.subscribe((s) => statuses.push(s))
    const jobs = new Set<string>()
    let first: Message<string> | undefined
    consumer.observe(`${p}/jobs`, { qos: 2, ack: 'manual', codec: 'text' }).subscribe((m) => {
      jobs.add(m.payload)
      if (first) m.ack()
      else first = m
    })
    await broker.waitForSubscription(consumer.clientId, `${p}/jobs`, 2)
    const publisher = await bed.pool.connected(broker.tcpUrl)
    await publisher.publish(`${p}/jobs`, 'job-0', { qos: 2 })
    await waitFor(() => first, 'the first job, held')
    await Promise.all(Array.from({ length: 1_000 }, (_, i) => publisher.publish(`${p}/jobs`, `job-${i + 1}`, { qos: 2 })))
    first?.ack()
    await waitFor(() => jobs.size === 1_001, 'every job', 20_000)
    expect(statuses.map((s) => s.type)).toEqual(['connected'])
  })
})
