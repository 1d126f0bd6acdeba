// protocolVersion 'auto' (the default) in front of Mosquitto, which speaks MQTT 5: one connection closed before
// its CONNACK (a proxy or load balancer hanging up, a broker restarting) is not proof that the broker speaks
// only 3.1.1, and must not cost the client MQTT 5 (reason codes, properties, request/response).
//
// The behaviour that stays: a broker that closes *every* MQTT 5 CONNECT without a CONNACK (RabbitMQ 3.10) still
// gets 3.1.1 at once. That is covered by the shared behaviour suite on a real RabbitMQ (test/engines/rabbitmq.test.ts:
// "connects at the declared WebSocket path (/ws) with the declared protocol (MQTT 3.1.1)", over TCP and
// WebSockets: `protocolVersion: 4`, statuses exactly ['connecting', 'connected'], and "the client reports MQTT
// 3.1.1 by default"), by test/integration/cluster-features.test.ts ("falls back to 3.1.1 when a broker closes an
// MQTT 5 CONNECT without a CONNACK", a stand-in in front of Mosquitto), and for a CONNACK "unacceptable protocol
// version" by test/integration/protocol-fallback.test.ts.
import { describe, expect, it } from 'vitest'
import type { Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { next, uniquePrefix } from '../support/wait.js'

describe.skipIf(noMosquitto())('one stray close must not downgrade an MQTT 5 client', () => {
  const bed = testBed('stray-close')
  const pool = bed.pool

  it('a connection closed before the CONNACK: the client still connects with MQTT 5, and MQTT 5 features work', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    proxy.hangUp = 1 // reads the CONNECT, then a FIN: what RabbitMQ does to every MQTT 5 CONNECT
    const client = pool.connect(proxy.url, { reconnect: { initialDelay: 50, maxDelay: 200 } })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const connected = await waitForStatus(client, 'connected')
    expect(proxy.connections).toBe(2) // the stray close did happen, then one connection went through
    expect(connected).toMatchObject({ type: 'connected', protocolVersion: 5 })
    // Never downgraded on the way, not even for one connection.
    expect(statuses.filter((s) => s.type === 'connected').map((s) => (s as { protocolVersion: number }).protocolVersion)).toEqual([5])
    expect(await broker.waitForLog(new RegExp(`New client connected from \\S+ as ${client.clientId} \\(p5,`))).toBeTruthy()

    const observer = await pool.connected(broker.tcpUrl, { protocolVersion: 5 })
    const p = uniquePrefix('stray')
    const message = next(observer.observe(`${p}/x`, { codec: 'text', qos: 1 }), 'the message with a user property')
    await broker.waitForSubscription(observer.clientId, `${p}/x`, 1)
    await client.publish(`${p}/x`, 'hello', { qos: 1, properties: { userProperties: { a: '1' } } })
    const received = await message
    expect(received.payload).toBe('hello')
    expect(received.properties?.userProperties).toEqual({ a: '1' })
    // The same connection, still MQTT 5: no reconnect after the first CONNACK.
    expect(statuses.filter((s) => s.type === 'connected')).toHaveLength(1)
  })
})
