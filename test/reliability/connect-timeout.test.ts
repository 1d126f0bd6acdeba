// connectTimeout against a broker that accepts TCP and reads the CONNECT but never answers it (docs/guide/
// client.md: `connectTimeout` "ms to wait for the CONNACK"): the attempt fails with a typed error and is retried
// with the backoff; a timeout is no protocol sign, so 'auto' keeps MQTT 5; with reconnect: false the client
// ends and every promise settles.
import { describe, expect, it } from 'vitest'
import { ConnectionLostError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { outcome, waitForStatus } from '../support/clients.js'
import { scriptedBed } from '../support/scripted-broker.js'
import { uniquePrefix } from '../support/wait.js'

describe('connectTimeout against a withheld CONNACK', () => {
  const bed = scriptedBed('lifecycle-ct')

  it("two CONNECTs unanswered, the third answered: two typed retries with the backoff, MQTT 5 kept under 'auto', the waiting publish goes", async () => {
    const broker = await bed.broker(5, (conn, packet) => {
      if (packet.cmd === 'connect' && conn.index >= 2) conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 })
      if (packet.cmd === 'publish' && packet.qos === 1) conn.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 })
    })
    const policy = { initialDelay: 20, maxDelay: 40 }
    const client = bed.client(broker.url, { protocolVersion: 'auto', connectTimeout: 1_000, reconnect: policy })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const published = outcome(client.publish(`${uniquePrefix('lc-ct')}/x`, 'x', { qos: 1 }))
    await waitForStatus(client, 'connected', 20_000)
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'reconnecting', 'reconnecting', 'connected'])
    const retries = statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting')
    expect(retries.map((s) => s.attempt)).toEqual([1, 2])
    for (const s of retries) {
      expect(s.error).toBeInstanceOf(ConnectionLostError)
      expect(s.error.message).toContain('connectTimeout')
    }
    expect(broker.received.filter((r) => r.packet.cmd === 'connect').map((r) => r.packet.protocolVersion)).toEqual([5, 5, 5])
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', protocolVersion: 5 })
    expect(await published).toBe('resolved')
    // The unanswered connections were closed by the client.
    await broker.closed(0)
    await broker.closed(1)
  })

  it('reconnect: false: the client ends with the timeout error; publish, connected() and observers settle', async () => {
    const broker = await bed.broker(5, () => undefined)
    const client = bed.client(broker.url, { connectTimeout: 500, reconnect: false })
    const observed = new Promise<unknown>((resolve) => client.observe(`${uniquePrefix('lc-ct')}/y`).subscribe({ error: resolve, complete: () => resolve('completed') }))
    const published = client.publish(`${uniquePrefix('lc-ct')}/y`, 'y', { qos: 1 }).catch((e: unknown) => e)
    const connected = client.connected().catch((e: unknown) => e)
    const closed = await waitForStatus(client, 'closed', 10_000)
    expect(closed.error).toBeInstanceOf(ConnectionLostError)
    expect(closed.error?.message).toContain('connectTimeout')
    expect(await published).toBe(closed.error)
    expect(await observed).toBe(closed.error)
    expect(await connected).toBeInstanceOf(Error)
    await broker.closed(0)
    expect(broker.conns).toHaveLength(1)
  })
})
