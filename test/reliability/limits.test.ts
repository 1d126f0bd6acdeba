// Oversized publishes are refused before they are sent; one the broker refuses settles with its reason; one that
// cannot settle is given up and withdrawn.
import { describe, expect, it } from 'vitest'
import { PayloadTooLargeError, PublishError, PublishTimeoutError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import type { Mosquitto } from '../support/mosquitto.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix } from '../support/wait.js'

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
})
