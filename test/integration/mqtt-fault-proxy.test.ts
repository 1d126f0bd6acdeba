// The fault-injection proxy's own tests: it frames both directions of both protocol levels, reports each
// packet with its identifier, and each fault does what it says. Driven by raw MQTT.js clients (not the
// SDK), so that what is tested is the proxy, whatever the link under test.
import { once } from 'node:events'
import type { MqttClient } from 'mqtt'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { noMosquitto } from '../support/binaries.js'
import { Mosquitto } from '../support/mosquitto.js'
import { MqttFaultProxy, ack, describePacket, frameLength } from '../support/mqtt-fault-proxy.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe('framing', () => {
  it('finds a packet boundary only once the remaining length is complete, up to four bytes of it', () => {
    expect(frameLength(Uint8Array.of(0x30))).toBeUndefined()
    expect(frameLength(Uint8Array.of(0x30, 0x80))).toBeUndefined()
    expect(frameLength(Uint8Array.of(0xd0, 0x00))).toBe(2)
    expect(frameLength(Uint8Array.of(0x30, 0xc1, 0x02))).toBe(3 + 0x41 + 2 * 128)
    expect(frameLength(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f))).toBe(5 + 268_435_455)
    expect(() => frameLength(Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01))).toThrow(/remaining length/)
  })

  it('reads the filters of an MQTT 5 SUBSCRIBE past its properties, and a QoS 2 PUBLISH identifier', () => {
    // SUBSCRIBE id 7, properties: subscription identifier 1; filters a/b (QoS 1) and c (QoS 2).
    const subscribe = Buffer.from([0x82, 15, 0, 7, 2, 0x0b, 1, 0, 3, 0x61, 0x2f, 0x62, 1, 0, 1, 0x63, 2])
    expect(describePacket(1, 'out', 5, subscribe)).toMatchObject({ type: 'SUBSCRIBE', packetId: 7, topics: ['a/b', 'c'] })
    const publish = Buffer.from([0x3c, 6, 0, 1, 0x74, 0x01, 0x02, 0x78])
    expect(describePacket(1, 'in', 4, publish)).toMatchObject({ type: 'PUBLISH', qos: 2, dup: true, packetId: 0x0102, topics: ['t'] })
  })
})

describe.skipIf(noMosquitto())('MqttFaultProxy against Mosquitto', () => {
  let broker: Mosquitto
  let direct: MqttClient
  const atBroker: Array<{ topic: string; payload: string }> = []
  const clients: MqttClient[] = []
  const proxies: MqttFaultProxy[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
    direct = await rawClient(broker.tcpUrl, { protocolVersion: 5 })
    direct.on('message', (topic, payload) => atBroker.push({ topic, payload: payload.toString() }))
    await direct.subscribeAsync('#', { qos: 2 })
  })

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)))
    await Promise.all(proxies.splice(0).map((p) => p.close()))
  })

  afterAll(async () => {
    await direct?.endAsync()
    await broker?.dispose()
  })

  async function through(protocolVersion: 4 | 5): Promise<{ proxy: MqttFaultProxy; client: MqttClient }> {
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    const client = await rawClient(proxy.url, { protocolVersion, clean: true })
    clients.push(client)
    return { proxy, client }
  }

  const arrived = (topic: string, payload = 'm') => waitFor(() => atBroker.some((m) => m.topic === topic && m.payload === payload), `${topic} at the broker`, 5_000)

  for (const version of [5, 4] as const) {
    it(`reports each packet with its direction, type, identifier and QoS (MQTT ${version === 5 ? '5' : '3.1.1'})`, async () => {
      const { proxy, client } = await through(version)
      const topic = `${uniquePrefix('proxy')}/events`
      await client.publishAsync(topic, 'm', { qos: 2 })
      const flow = proxy.seen.filter((s) => s.type !== 'PINGREQ' && s.type !== 'PINGRESP').map((s) => `${s.direction} ${s.type}`)
      expect(flow).toEqual(['out CONNECT', 'in CONNACK', 'out PUBLISH', 'in PUBREC', 'out PUBREL', 'in PUBCOMP'])
      const publish = proxy.seen.find((s) => s.type === 'PUBLISH')
      expect(publish).toMatchObject({ qos: 2, topics: [topic], level: version, connection: 1 })
      expect(proxy.seen.find((s) => s.type === 'PUBCOMP')?.packetId).toBe(publish?.packetId)
      expect(proxy.seen.find((s) => s.type === 'CONNACK')?.sessionPresent).toBe(false)
    })
  }

  it('cut-after forwards the packet and then ends the connection: the broker has the message, the client no PUBACK', async () => {
    const { proxy, client } = await through(5)
    const topic = `${uniquePrefix('proxy')}/cut-after`
    proxy.inject({ direction: 'out', type: 'PUBLISH', action: { kind: 'cut-after' } })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    const acked = client.publishAsync(topic, 'm', { qos: 1 }).then(() => true, () => false)
    await closed
    await arrived(topic)
    expect(proxy.packets((s) => s.type === 'PUBACK')).toEqual([])
    client.end(true)
    expect(await acked).toBe(false)
  })

  it('cut-before ends the connection without forwarding: the broker never sees the packet', async () => {
    const { proxy, client } = await through(5)
    const p = uniquePrefix('proxy')
    proxy.inject({ direction: 'out', type: 'PUBLISH', nth: 2, action: { kind: 'cut-before' } })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    void client.publishAsync(`${p}/first`, 'm', { qos: 0 })
    void client.publishAsync(`${p}/second`, 'm', { qos: 0 }).catch(() => undefined)
    await closed
    await arrived(`${p}/first`)
    // The direct client's own sentinel comes after anything the broker could still route from the cut connection.
    await direct.publishAsync(`${p}/sentinel`, 'm', { qos: 1 })
    await arrived(`${p}/sentinel`)
    expect(atBroker.some((m) => m.topic === `${p}/second`)).toBe(false)
  })

  it('drop withholds one packet and lets the next ones through', async () => {
    const { proxy, client } = await through(5)
    const p = uniquePrefix('proxy')
    proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'drop' } })
    let firstAcked = false
    void client.publishAsync(`${p}/a`, 'm', { qos: 1 }).then(() => (firstAcked = true), () => undefined)
    await client.publishAsync(`${p}/b`, 'm', { qos: 1 })
    expect(proxy.packets((s) => s.type === 'PUBACK').length).toBe(2)
    expect(firstAcked).toBe(false)
  })

  it('times makes a rule act on that many matching packets, then lets the rest through', async () => {
    const { proxy, client } = await through(5)
    const p = uniquePrefix('proxy')
    proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'drop' }, times: 2 })
    const acked: string[] = []
    for (const name of ['a', 'b']) void client.publishAsync(`${p}/${name}`, 'm', { qos: 1 }).then(() => acked.push(name), () => undefined)
    await client.publishAsync(`${p}/c`, 'm', { qos: 1 })
    expect(proxy.packets((s) => s.type === 'PUBACK').length).toBe(3)
    expect(acked).toEqual([])
  })

  it('hold keeps a packet and what follows it until release, in order', async () => {
    const { proxy, client } = await through(4)
    const p = uniquePrefix('proxy')
    proxy.inject({ direction: 'in', type: 'PUBACK', action: { kind: 'hold' } })
    const order: string[] = []
    const first = client.publishAsync(`${p}/a`, 'm', { qos: 1 }).then(() => order.push('a'))
    const second = client.publishAsync(`${p}/b`, 'm', { qos: 1 }).then(() => order.push('b'))
    await proxy.waitForPacket((s) => s.type === 'PUBACK' && s.packetId === proxy.seen.filter((q) => q.type === 'PUBLISH')[1]?.packetId, 'the second PUBACK')
    expect(order).toEqual([])
    proxy.release()
    await Promise.all([first, second])
    expect(order).toEqual(['a', 'b'])
  })

  it('reply answers the sender instead of forwarding: a PUBACK with reason 0x80, the broker never gets the PUBLISH', async () => {
    const { proxy, client } = await through(5)
    const p = uniquePrefix('proxy')
    proxy.inject({ direction: 'out', type: 'PUBLISH', action: { kind: 'reply', packet: (seen) => ack('PUBACK', seen, 0x80) } })
    const error = await client.publishAsync(`${p}/refused`, 'm', { qos: 1 }).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({ code: 0x80 })
    await direct.publishAsync(`${p}/sentinel`, 'm', { qos: 1 })
    await arrived(`${p}/sentinel`)
    expect(atBroker.some((m) => m.topic === `${p}/refused`)).toBe(false)
  })

  it("stopReading('broker') leaves the broker's answers unread until resumeReading", async () => {
    const { proxy, client } = await through(5)
    const p = uniquePrefix('proxy')
    proxy.stopReading('broker')
    let acked = false
    const publish = client.publishAsync(`${p}/slow`, 'm', { qos: 1 }).then(() => (acked = true))
    // The broker routed the message, so its PUBACK is written: it waits in the proxy's socket, unread.
    await arrived(`${p}/slow`)
    expect(proxy.packets((s) => s.type === 'PUBACK')).toEqual([])
    expect(acked).toBe(false)
    proxy.resumeReading('broker')
    await publish
    expect(proxy.packets((s) => s.type === 'PUBACK').length).toBe(1)
  })

  it('counts connections and emits each cut', async () => {
    const { proxy, client } = await through(5)
    const cut = once(proxy, 'cut')
    proxy.inject({ direction: 'out', type: 'SUBSCRIBE', action: { kind: 'cut-before' } })
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    void client.subscribeAsync(`${uniquePrefix('proxy')}/never`, { qos: 1 }).catch(() => undefined)
    expect(await cut).toEqual([1])
    await closed
    const second = await rawClient(proxy.url, { protocolVersion: 5 })
    clients.push(second)
    expect(proxy.connections).toBe(2)
  })
})
