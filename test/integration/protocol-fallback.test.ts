// protocolVersion 'auto' (the default) against a broker that only speaks MQTT 3.1.1: aedes, the demo's
// embedded broker, answers an MQTT 5 CONNECT with "unacceptable protocol version".
import { once } from 'node:events'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { Aedes } from 'aedes'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Status } from '../../lib/node.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { next, uniquePrefix } from '../support/wait.js'

describe('protocol negotiation', () => {
  let broker: Aedes
  let server: Server
  let url: string
  const pool = new ClientPool('fallback')
  beforeAll(async () => {
    broker = await Aedes.createBroker()
    server = createServer(broker.handle)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await pool.endAll()
    await new Promise<void>((resolve) => broker.close(() => resolve()))
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('falls back to 3.1.1 once, says so in status$, and works', async () => {
    const client = pool.connect(url)
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    expect(await waitForStatus(client, 'connected')).toMatchObject({ protocolVersion: 4 })
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected'])
    const p = uniquePrefix('aedes')
    const echo = next(client.observe(`${p}/+`, { codec: 'json', qos: 1 }), 'the echo')
    await waitForSubscription(broker, client.clientId, `${p}/+`)
    await client.publish(`${p}/x`, { ok: 1 }, { qos: 1 })
    expect((await echo).payload).toEqual({ ok: 1 })
  })

  it('an explicit protocolVersion 5 is not downgraded: the refusal is fatal and says why', async () => {
    const client = pool.connect(url, { protocolVersion: 5 })
    const closed = await waitForStatus(client, 'closed')
    expect(closed.error).toMatchObject({ name: 'ConnectionRefusedError', reasonCode: 1 })
  })
})

/** aedes has no log: wait for its `subscribe` event for this client and filter. */
function waitForSubscription(broker: Aedes, clientId: string, filter: string): Promise<void> {
  return new Promise((resolve) => {
    const onSubscribe = (subscriptions: Array<{ topic: string }>, client: { id: string } | null): void => {
      if (client?.id === clientId && subscriptions.some((s) => s.topic === filter)) {
        broker.off('subscribe', onSubscribe)
        resolve()
      }
    }
    broker.on('subscribe', onSubscribe)
  })
}
