// Oversized publishes are refused before they are sent; one the broker refuses settles with its reason; one that
// cannot settle is given up and withdrawn.
import { describe, expect, it } from 'vitest'
import { PayloadTooLargeError, PublishError, PublishTimeoutError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import type { Mosquitto } from '../support/mosquitto.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'
import { linkUnderTest } from '../support/link-under-test.js'

describe.skipIf(noMosquitto())('size limits and settling', () => {
  const bed = testBed('limits')
  const pool = bed.pool
  const connections = async (broker: Mosquitto, clientId: string) =>
    (await broker.log()).split('\n').filter((l) => l.includes(`New client connected`) && l.includes(` as ${clientId} `)).length

  it("MQTT 5: a payload over the broker's maximum packet size is refused at once, never sent, no reconnect", async () => {
    const broker = await bed.broker({ extra: ['log_type all', 'max_packet_size 1024'] })
    const client = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('big')
    const error = await client.publish(`${p}/x`, new Uint8Array(2_000), { qos: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PayloadTooLargeError)
    expect(error).toMatchObject({ name: 'PayloadTooLargeError', limit: 1024 })
    await expect(client.publish(`${p}/x`, new Uint8Array(900), { qos: 1 })).resolves.toBeUndefined()
    const log = await broker.log()
    expect(log).not.toMatch(/\(2000 bytes\)/)
    expect(await connections(broker, client.clientId)).toBe(1)
  })

  it('MQTT 3.1.1 (no limit in the CONNACK): the maxPacketSize option does the same', async () => {
    const broker = await bed.broker()
    const client = await pool.connected(broker.tcpUrl, { protocolVersion: 4, maxPacketSize: 512 })
    await expect(client.publish(`${uniquePrefix('big')}/x`, 'x'.repeat(600))).rejects.toBeInstanceOf(PayloadTooLargeError)
  })

  it('a publish over message_size_limit (MQTT 5 PUBACK 149, which mqtt-packet cannot parse) rejects with PublishError 149 before its timeout, and is not resent', async () => {
    const broker = await bed.broker({ extra: ['log_type all', 'message_size_limit 100'] })
    const client = await pool.connected(broker.tcpUrl, { reconnect: { initialDelay: 50, maxDelay: 100 } })
    const p = uniquePrefix('unparseable')
    const error = await client.publish(`${p}/x`, 'x'.repeat(200), { qos: 1, timeout: 1_000 }).catch((e: unknown) => e)
    // The broker's answer, not the timeout: the reason code is in the PUBACK even if MQTT.js cannot parse it.
    expect(error).toBeInstanceOf(PublishError)
    expect(error).toMatchObject({ name: 'PublishError', reasonCode: 149, topic: `${p}/x` })
    await waitForStatus(client, 'connected')
    // Settled means withdrawn: not resent on the next connections, so no reconnect loop goes on.
    await expect(client.publish(`${p}/y`, 'small', { qos: 1, timeout: 5_000 })).resolves.toBeUndefined()
    const attempts = await connections(broker, client.clientId)
    for (let i = 0; i < 5; i++) await expect(client.publish(`${p}/y`, 'small', { qos: 1, timeout: 5_000 })).resolves.toBeUndefined()
    expect(await connections(broker, client.clientId)).toBe(attempts)
    expect(attempts).toBeLessThanOrEqual(3)
    process.stdout.write(`PUBACK 149: ${attempts} connections until the publish was rejected\n`)
  })

  it('an AbortSignal settles a publish waiting in the offline queue, and it is never sent', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const client = await pool.connected(proxy.url, { reconnect: { initialDelay: 20, maxDelay: 50 } })
    proxy.refuse = true
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    const p = uniquePrefix('abort')
    const controller = new AbortController()
    const aborted = client.publish(`${p}/withdrawn`, 'x', { qos: 1, signal: controller.signal })
    controller.abort()
    await expect(aborted).rejects.toBeInstanceOf(PublishTimeoutError)
    proxy.refuse = false
    await client.publish(`${p}/after`, 'x', { qos: 1 })
    expect(await broker.log()).not.toContain(`${p}/withdrawn`)
  })
  it('maxIncomingPacketSize, MQTT 5: announced in CONNECT, so the broker sends this client no larger message; smaller ones arrive, no reconnect', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('incoming-limit')
    const client = await pool.connected(broker.tcpUrl, { maxIncomingPacketSize: 1_024 })
    const received: number[] = []
    client.observe(`${p}/#`, { qos: 1 }).subscribe((m) => received.push(m.raw.byteLength))
    await broker.waitForSubscription(client.clientId, `${p}/#`, 1)
    const publisher = await pool.connected(broker.tcpUrl)
    await publisher.publish(`${p}/big`, new Uint8Array(4_000), { qos: 1 })
    await publisher.publish(`${p}/small`, new Uint8Array(500), { qos: 1 })
    await waitFor(() => received.includes(500), 'the small message')
    expect(received).toEqual([500])
    expect(await connections(broker, client.clientId)).toBe(1)
  })

  // MQTT.js reads any size: over the MQTT.js link the option is only announced (MQTT 5), as the option's doc says.
  it.runIf(linkUnderTest() === 'lean')('maxIncomingPacketSize, MQTT 3.1.1 (a broker that cannot be told): a larger packet drops the connection, before its body is read, with an error naming the option', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('incoming-limit-v4')
    const client = await pool.connected(broker.tcpUrl, { protocolVersion: 4, maxIncomingPacketSize: 1_024, reconnect: false })
    client.observe(`${p}/#`).subscribe({ error: () => undefined })
    await broker.waitForSubscription(client.clientId, `${p}/#`, 0)
    const publisher = await pool.connected(broker.tcpUrl)
    const closed = waitForStatus(client, 'closed')
    await publisher.publish(`${p}/big`, new Uint8Array(4_000))
    const status = await closed
    expect(status.error?.message).toMatch(/over the limit of 1024.*maxIncomingPacketSize/)
  })
})
