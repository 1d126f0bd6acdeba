import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Subject, filter, type Subscription } from 'rxjs'
import { startBroker, type EmbeddedBroker } from '../../demo/broker.js'
import { DEFAULT_DEVICES, nextReading, randomGenerator, startSimulator, type Simulator } from '../../demo/simulator.js'
import { connect, type MQTTClient } from '../../lib/node.js'
import { collect, next } from '../support/wait.js'

interface Reply {
  id: string | null
  command: string
  ok: boolean
  message: string
}

describe('the embedded broker', () => {
  it('takes a free port when the preferred one is taken, unless told to be strict', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const taken = (blocker.address() as { port: number }).port
    try {
      const broker = await startBroker({ tcpPort: taken, wsPort: 0 })
      expect(broker.tcpPort).not.toBe(taken)
      expect(broker.tcpUrl).toBe(`mqtt://127.0.0.1:${broker.tcpPort}`)
      await broker.close()
      await expect(startBroker({ tcpPort: taken, wsPort: 0, strictPorts: true })).rejects.toThrow(/EADDRINUSE/)
    } finally {
      blocker.close()
    }
  })

  it('serves MQTT over TCP and WebSocket to the same topics, and closes every connection', async () => {
    const broker = await startBroker({ tcpPort: 0, wsPort: 0 })
    const tcp = connect(broker.tcpUrl, { reconnect: false })
    const ws = connect(broker.wsUrl, { reconnect: false })
    try {
      // Retained, so the order of the SUBSCRIBE and the PUBLISH at the broker does not matter.
      await tcp.publish('bridge/test', 'over tcp', { qos: 1, retain: true })
      const got = next(ws.observe('bridge/test', { codec: 'text' }), 'a message over WebSocket')
      expect((await got).payload).toBe('over tcp')
      expect(broker.connectedClients).toBe(2)
      const closed = next(tcp.status$, 'tcp closed', (s) => s.type === 'closed')
      await broker.close()
      await closed
    } finally {
      await Promise.allSettled([tcp.end({ force: true }), ws.end({ force: true })])
    }
  })
})

describe('the noise model', () => {
  it('wanders around the mean within bounds and repeats for a seed', () => {
    const spec = { label: 'T', unit: '°C', decimals: 1, mean: 20, sigma: 0.5, min: 18, max: 22 }
    const run = (seed: number) => {
      const random = randomGenerator(seed)
      const state = { value: 20, mean: 20 }
      return Array.from({ length: 2_000 }, () => nextReading(spec, state, random))
    }
    const values = run(42)
    expect(run(42)).toEqual(values)
    expect(Math.min(...values)).toBeGreaterThanOrEqual(18)
    expect(Math.max(...values)).toBeLessThanOrEqual(22)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    expect(mean).toBeGreaterThan(19.5)
    expect(mean).toBeLessThan(20.5)
    expect(new Set(values).size).toBeGreaterThan(10) // noisy, not flat
  })
})

describe('the device simulator', () => {
  let broker: EmbeddedBroker
  let sim: Simulator
  let client: MQTTClient
  // Long-lived observers: observe() gives no signal when the SUBACK arrives, so an observer made just
  // before a request could miss a fast reply.
  const replies = new Subject<Reply>()
  const live = new Subject<{ topic: string; text: string; retain: boolean }>()
  const on = (topic: string) => live.pipe(filter((m) => m.topic === topic && !m.retain))
  const rx: Subscription[] = []

  beforeAll(async () => {
    broker = await startBroker({ tcpPort: 0, wsPort: 0 })
    sim = await startSimulator({ url: broker.tcpUrl, seed: 7, rebootMs: 300 })
    client = connect(broker.wsUrl)
    rx.push(client.observe<Reply>('demo/devices/kitchen/reply', { qos: 1, codec: 'json' }).subscribe((m) => replies.next(m.payload)))
    const seen = next(live, 'the first telemetry', (m) => m.topic.endsWith('/telemetry'))
    rx.push(client.observe('demo/#', { qos: 1, codec: 'text' }).subscribe((m) => live.next({ topic: m.topic, text: m.payload, retain: m.retain })))
    await seen
  })

  afterAll(async () => {
    for (const r of rx) r.unsubscribe()
    await client?.end({ force: true })
    await sim?.stop()
    await broker?.close()
  })

  const command = async (body: unknown, id: string) => {
    const reply = next(replies, `a reply to ${id}`, (r) => r.id === id)
    await client.publish('demo/devices/kitchen/cmd', body, { qos: 1 })
    return reply
  }

  it('announces every device with retained meta and an online status', async () => {
    const statuses = await collect(client.observe('demo/devices/+/status', { codec: 'text' }), DEFAULT_DEVICES.length, 'retained statuses')
    expect(statuses.every((m) => m.retain && m.payload === 'online')).toBe(true)
    expect(statuses.map((m) => m.params[0]).sort()).toEqual(DEFAULT_DEVICES.map((d) => d.id).sort())
    const meta = await next(client.observe<{ name: string; fields: Record<string, { unit: string }> }>('demo/devices/press-01/meta', { codec: 'json' }), 'meta')
    expect(meta.retain).toBe(true)
    expect(meta.payload.name).toBe('Hydraulic press 01')
    expect(meta.payload.fields.rpm?.unit).toBe('rpm')
  })

  it('publishes JSON telemetry with plausible readings at each device’s rate', async () => {
    const started = Date.now()
    const readings = await collect(client.observe<Record<string, number | string>>('demo/devices/press-01/telemetry', { codec: 'json' }), 4, 'press telemetry')
    expect(Date.now() - started).toBeLessThan(4_000) // every 500 ms ± 15 %
    for (const { payload } of readings) {
      expect(payload.rpm).toBeGreaterThan(1_350)
      expect(payload.rpm).toBeLessThan(1_550)
      expect(typeof payload.ts).toBe('number')
      expect(payload.state).toBe('running')
    }
    expect(sim.published).toBeGreaterThan(0)
  })

  it('answers commands with replies that carry the command id', async () => {
    expect(await command({ id: 'p1', command: 'ping' }, 'p1')).toMatchObject({ ok: true, command: 'ping', message: expect.stringMatching(/^pong/) })
    expect(await command({ id: 'b1', command: 'blink' }, 'b1')).toMatchObject({ ok: true, message: 'Blinked the status LED 3 times' })
    expect(await command({ id: 'i1', command: 'set-interval', value: 5 }, 'i1')).toMatchObject({ ok: false, message: expect.stringContaining('between') })
    expect(await command({ id: 'u1', command: 'dance' }, 'u1')).toMatchObject({ ok: false, message: expect.stringContaining('Unknown command') })
    const bad = next(replies, 'a reply to garbage', (r) => r.id === null)
    await client.publish('demo/devices/kitchen/cmd', 'not json', { qos: 1 })
    expect(await bad).toMatchObject({ ok: false, message: expect.stringContaining('not JSON') })
  })

  it('changes its reporting interval on command', async () => {
    expect(await command({ id: 'i2', command: 'set-interval', value: 100 }, 'i2')).toMatchObject({ ok: true, message: 'Reporting every 0.1 s' })
    const started = Date.now()
    await collect(on('demo/devices/kitchen/telemetry'), 5, 'fast kitchen telemetry')
    expect(Date.now() - started).toBeLessThan(1_500) // was every 2 s
    await command({ id: 'i3', command: 'set-interval', value: 2_000 }, 'i3')
  })

  it('goes offline for a reboot and comes back online', async () => {
    const statuses = collect(on('demo/devices/kitchen/status'), 2, 'offline then online')
    expect(await command({ id: 'r1', command: 'reboot' }, 'r1')).toMatchObject({ ok: true, message: expect.stringContaining('Rebooting') })
    expect((await statuses).map((m) => m.text)).toEqual(['offline', 'online'])
  })

  it('has its last will published as offline when its connection dies, then reconnects', async () => {
    const id = broker.clientIds().find((c) => c.startsWith('sim-freezer-'))
    expect(id).toBeDefined()
    const statuses = collect(on('demo/devices/freezer/status'), 2, 'will then online')
    expect(broker.dropClient(id as string)).toBe(true)
    expect((await statuses).map((m) => m.text)).toEqual(['offline', 'online'])
  })

  it('generates load on request for stress tests', async () => {
    const load = collect(live.pipe(filter((m) => m.topic.startsWith('demo/load/'))), 1_000, 'load messages', 5_000)
    const reply = next(on('demo/simulator/reply'), 'stress reply')
    await client.publish('demo/simulator/cmd', { id: 's1', command: 'stress', rate: 1_000, seconds: 1 }, { qos: 1 })
    expect(JSON.parse((await reply).text)).toMatchObject({ ok: true, message: 'Publishing 1000 msg/s to demo/load/# for 1 s' })
    const messages = await load
    expect(new Set(messages.map((m) => m.topic)).size).toBe(50)
  })

  it('marks every device offline (retained) when stopped', async () => {
    await sim.stop()
    const watcher = connect(broker.tcpUrl)
    try {
      const statuses = await collect(watcher.observe('demo/devices/+/status', { codec: 'text' }), DEFAULT_DEVICES.length, 'retained statuses after stop')
      expect(statuses.map((m) => m.payload)).toEqual(DEFAULT_DEVICES.map(() => 'offline'))
    } finally {
      await watcher.end({ force: true })
    }
  })
})
