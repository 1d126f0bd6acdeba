// Features for brokers beyond a single Mosquitto: a list of nodes with failover, a broker's maximum QoS,
// granted QoS in subscriptions$, and MQTT 5 falling back to 3.1.1 when a broker closes an MQTT 5 CONNECT.
import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { firstValueFrom } from 'rxjs'
import { afterEach, describe, expect, it } from 'vitest'
import { PublishError, type Status, type SubscriptionInfo } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('beyond one broker', () => {
  const pool = new ClientPool('cluster')
  const brokers: Mosquitto[] = []
  const servers: Server[] = []
  afterEach(async () => {
    await pool.endAll()
    await Promise.all(brokers.splice(0).map((b) => b.dispose()))
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
  })
  const start = async (extra: string[] = []): Promise<Mosquitto> => {
    const broker = await Mosquitto.start({ persistence: false, extra: ['log_type all', ...extra] })
    brokers.push(broker)
    return broker
  }

  it('moves to the next node when its node goes down; observers carry over; status$ names the node', async () => {
    const [a, b] = [await start(), await start()]
    const client = await pool.connected([a.tcpUrl, b.wsUrl], { reconnect: { initialDelay: 20, maxDelay: 50 } })
    expect(client.url).toBe(a.tcpUrl)
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const p = uniquePrefix('failover')
    const received: string[] = []
    client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await a.waitForSubscription(client.clientId, `${p}/#`, 1)
    await a.stop()
    await waitFor(() => statuses.at(-1)?.type === 'connected', 'the failover')
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', url: b.wsUrl })
    expect(statuses.find((s) => s.type === 'reconnecting')).toMatchObject({ url: b.wsUrl, attempt: 1 })
    await b.waitForSubscription(client.clientId, `${p}/#`, 1)
    const publisher = await pool.connected(b.tcpUrl)
    await publisher.publish(`${p}/x`, 'on node b', { qos: 1 })
    await waitFor(() => received.length === 1, 'the message on node b')
    expect(received).toEqual(['on node b'])
  })

  it("refuses a publish above the broker's maximum QoS, and shows the lower granted QoS", async () => {
    // max_qos is a listener setting; appended last, it applies to the kit's websockets listener.
    const broker = await start(['max_qos 1'])
    const client = await pool.connected(broker.wsUrl)
    const p = uniquePrefix('maxqos')
    const error = await client.publish(`${p}/x`, 'x', { qos: 2 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(PublishError)
    expect(error).toMatchObject({ reasonCode: 155 })
    const states: Array<readonly SubscriptionInfo[]> = []
    client.subscriptions$.subscribe((s) => states.push(s))
    const message = next(client.observe(`${p}/y`, { qos: 2 }), 'a message')
    await waitFor(() => states.at(-1)?.[0]?.grantedQos !== undefined, 'the SUBACK')
    expect(states.at(-1)).toEqual([{ filter: `${p}/y`, requestedQos: 2, grantedQos: 1, observers: 1 }])
    await client.publish(`${p}/y`, 'x', { qos: 1 })
    expect((await message).qos).toBe(1)
    await waitFor(() => states.at(-1)?.length === 0, 'the subscription gone from subscriptions$')
  })

  it('the maxQos option does the same for a 3.1.1 broker that cannot say so', async () => {
    const broker = await start()
    const client = await pool.connected(broker.tcpUrl, { protocolVersion: 4, maxQos: 1 })
    await expect(client.publish(`${uniquePrefix('maxqos')}/x`, 'x', { qos: 2 })).rejects.toMatchObject({ name: 'PublishError', reasonCode: 155 })
  })

  it("falls back to 3.1.1 when a broker closes an MQTT 5 CONNECT without a CONNACK (RabbitMQ's way)", async () => {
    const broker = await start()
    // A stand-in for such a broker: it closes connections whose CONNECT says protocol level 5 and
    // passes the others through to Mosquitto.
    const server = createServer((socket: Socket) => {
      socket.once('data', (first: Buffer) => {
        // Fixed header (1 byte), remaining length (1 byte here), protocol name "MQTT" (6 bytes), then the level.
        if (first[8] === 5) return socket.destroy()
        const upstream = createConnection({ port: broker.ports[1883] as number, host: '127.0.0.1' })
        upstream.write(first)
        socket.pipe(upstream).pipe(socket)
        upstream.on('error', () => socket.destroy())
        socket.on('error', () => upstream.destroy())
      })
    })
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const client = pool.connect(`mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`)
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    expect(await waitForStatus(client, 'connected')).toMatchObject({ protocolVersion: 4 })
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected'])
  })
})

describe.skipIf(noMosquitto())('subscriptions$ for late listeners', () => {
  const pool = new ClientPool('subscriptions')
  let broker: Mosquitto | undefined
  afterEach(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  it('a listener that subscribes after the SUBACK starts from the current state', async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    const client = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('late-listener')
    client.observe(`${p}/x`, { qos: 1 }).subscribe()
    await broker.waitForLog(new RegExp(`Sending SUBACK to ${client.clientId}$`, 'm'))
    await client.publish(`${p}/sync`, 'x', { qos: 1 }) // the SUBACK is in by the time the PUBACK is
    const [current] = await firstValueFrom(client.subscriptions$)
    expect(current).toEqual({ filter: `${p}/x`, requestedQos: 1, grantedQos: 1, observers: 1 })
  })
})
