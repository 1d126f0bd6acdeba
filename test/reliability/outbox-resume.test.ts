// A session resumed by a new process on the store: a child (test/support/outbox-resume-child.ts) with a file store
// and clean: false is SIGKILLed while its messages are in flight (a fault proxy withholds the broker's PUBACK,
// PUBREC, PUBCOMP), once its store holds that state; a new client (this process) on the same store and client id
// resumes the session. Outgoing: what was in flight goes again under its packet identifier with DUP, a released
// QoS 2 as its PUBREL (MQTT 5 §4.4), and each QoS 2 message reaches the subscriber exactly once; with the session
// lost instead, the lost session's rule applies. Incoming: a QoS 2 message the child acknowledged (its PUBREC
// withheld from the broker, which then resends the PUBLISH) is not delivered again; one it had not is.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { connect, fileStore, type MQTTClient, type OutboxEvent } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { MqttFaultProxy, type SeenPacket } from '../support/mqtt-fault-proxy.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const CHILD = new URL('../support/outbox-resume-child.ts', import.meta.url).pathname

/** A child on the store, its lines as they come; `kill()` SIGKILLs it and waits for its exit. */
function startChild(mode: 'publish' | 'subscribe', url: string, dir: string, clientId: string, prefix: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, url, dir, clientId, prefix], { stdio: ['ignore', 'pipe', 'inherit'] })
  const lines: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const guard = setTimeout(() => child.kill('SIGKILL'), 40_000)
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => {
    text += chunk.toString()
    const parts = text.split('\n')
    text = parts.pop() ?? ''
    lines.push(...parts)
  })
  return {
    lines,
    has: (line: string): boolean => lines.includes(line),
    /** The packet id of the durable `W sent <id> <packetId>` line of `id`. */
    sentId: (id: string): number | undefined => {
      const line = lines.find((l) => l.startsWith(`W sent ${id} `))
      return line === undefined ? undefined : Number(line.split(' ')[3])
    },
    async kill(): Promise<void> {
      child.kill('SIGKILL')
      await exited
      clearTimeout(guard)
    },
  }
}

describe.skipIf(noMosquitto())('outbox: a session resumed by a new process on the store', () => {
  const bed = testBed('outbox-resume')
  let root = ''
  const clients: MQTTClient[] = []
  const proxies: MqttFaultProxy[] = []

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
    await Promise.all(proxies.splice(0).map((p) => p.close()))
    if (root) await rm(root, { recursive: true, force: true, maxRetries: 5 })
    root = ''
  })

  /**
   * Runs the publishing child until its store holds q1 and q2a sent (their PUBACK and PUBREC withheld) and q2b
   * released (its PUBCOMP withheld), kills it, and returns the packet ids the child used.
   */
  async function killedInFlight(prefix: string) {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    root = await mkdtemp(join(tmpdir(), 'iotpubsub-outbox-resume-'))
    const dir = join(root, 'store')
    const clientId = `${prefix.replaceAll('/', '_')}-pub`
    const subscriber = await bed.pool.connected(broker.tcpUrl)
    const got: string[] = []
    subscriber.observe(`${prefix}/#`, { qos: 2, codec: 'text' }).subscribe((m) => got.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${prefix}/#`, 2)
    const idOf = (topic: string): number | undefined => proxy.seen.find((s) => s.direction === 'out' && s.type === 'PUBLISH' && s.topics[0] === `${prefix}/${topic}`)?.packetId
    proxy.inject({ direction: 'in', type: 'PUBACK', times: Infinity, action: { kind: 'drop' } })
    proxy.inject({ direction: 'in', type: 'PUBCOMP', times: Infinity, action: { kind: 'drop' } })
    proxy.inject({ direction: 'in', type: 'PUBREC', times: Infinity, where: (s) => s.packetId === idOf('q2a'), action: { kind: 'drop' } })
    const child = startChild('publish', proxy.url, dir, clientId, prefix)
    try {
      await waitFor(() => child.sentId('q1') !== undefined && child.sentId('q2a') !== undefined && child.has('W released q2b'), 'the child stored q1 and q2a sent, q2b released', 20_000)
      // The broker has each: it answered (the proxy withheld the answers).
      await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'PUBACK' && s.packetId === child.sentId('q1'), 'PUBACK of q1')
      await proxy.waitForPacket((s) => s.direction === 'in' && s.type === 'PUBREC' && s.packetId === child.sentId('q2a'), 'PUBREC of q2a')
    } finally {
      await child.kill()
    }
    expect(child.lines.filter((l) => l.startsWith('E ')), 'the child reported no failure').toEqual([])
    proxy.clearFaults()
    const ids = { q1: child.sentId('q1') as number, q2a: child.sentId('q2a') as number, q2b: child.sentId('q2b') as number }
    return { proxy, dir, clientId, got, ids, connection: proxy.connections + 1 }
  }

  it('session resumed: in-flight messages go again under their packet ids with DUP, a released QoS 2 as its PUBREL; QoS 2 arrives once', async () => {
    const prefix = uniquePrefix('resume')
    const { proxy, dir, clientId, got, ids, connection } = await killedInFlight(prefix)
    const events: OutboxEvent[] = []
    const client = connect(proxy.url, { clientId, clean: false, sessionExpiryInterval: 300, store: fileStore(dir) })
    clients.push(client)
    client.outbox$.subscribe((e) => events.push(e))
    const settled = (id: string): OutboxEvent | undefined => events.find((e) => e.id === id && e.state !== 'queued' && e.state !== 'sent')
    await waitFor(() => ['q1', 'q2a', 'q2b'].every((id) => settled(id)), 'q1, q2a and q2b settled', 15_000)
    expect(['q1', 'q2a', 'q2b'].map((id) => settled(id)?.state)).toEqual(['acknowledged', 'acknowledged', 'acknowledged'])

    const onWire = (s: SeenPacket): boolean => s.connection === connection && s.direction === 'out'
    expect(proxy.seen.find((s) => s.connection === connection && s.type === 'CONNACK')?.sessionPresent).toBe(true)
    const publishes = proxy.packets((s) => onWire(s) && s.type === 'PUBLISH')
    const q1 = publishes.find((s) => s.topics[0] === `${prefix}/q1`)
    const q2a = publishes.find((s) => s.topics[0] === `${prefix}/q2a`)
    expect({ dup: q1?.dup, packetId: q1?.packetId }).toEqual({ dup: true, packetId: ids.q1 })
    expect({ dup: q2a?.dup, packetId: q2a?.packetId }).toEqual({ dup: true, packetId: ids.q2a })
    expect(publishes.some((s) => s.topics[0] === `${prefix}/q2b`), 'q2b, released, is not published again').toBe(false)
    expect(proxy.packets((s) => onWire(s) && s.type === 'PUBREL').map((s) => s.packetId)).toContain(ids.q2b)

    // A last QoS 2 message to each topic, after them: once it is in, nothing of the earlier ones is still to come.
    await Promise.all(['q1', 'q2a', 'q2b'].map((t) => client.publish(`${prefix}/${t}`, `${t}-end`, { qos: 2 })))
    await waitFor(() => ['q1', 'q2a', 'q2b'].every((t) => got.includes(`${t}-end`)), 'the last messages arrived', 15_000)
    const count = (payload: string): number => got.filter((p) => p === payload).length
    console.log(`outbox resume: q1 delivered ${count('q1')} time(s), q2a ${count('q2a')}, q2b ${count('q2b')}`)
    expect(count('q1')).toBeGreaterThanOrEqual(1)
    expect(count('q2a')).toBe(1)
    expect(count('q2b')).toBe(1)
  }, 60_000)

  it('session lost: a QoS 1 message in flight goes again as a new one; a QoS 2 one fails, its outcome unknown', async () => {
    const prefix = uniquePrefix('resume-lost')
    const { proxy, dir, clientId, got, connection } = await killedInFlight(prefix)
    const events: OutboxEvent[] = []
    // A clean start: the broker keeps no session.
    const client = connect(proxy.url, { clientId, clean: true, store: fileStore(dir) })
    clients.push(client)
    client.outbox$.subscribe((e) => events.push(e))
    const settled = (id: string): OutboxEvent | undefined => events.find((e) => e.id === id && e.state !== 'queued' && e.state !== 'sent')
    await waitFor(() => ['q1', 'q2a', 'q2b'].every((id) => settled(id)), 'q1, q2a and q2b settled', 15_000)
    expect(['q1', 'q2a', 'q2b'].map((id) => settled(id)?.state)).toEqual(['acknowledged', 'failed', 'failed'])
    const publishes = proxy.packets((s) => s.connection === connection && s.direction === 'out' && s.type === 'PUBLISH')
    expect(publishes.map((s) => [s.topics[0], s.dup])).toEqual([[`${prefix}/q1`, false]])
    expect(proxy.packets((s) => s.connection === connection && s.type === 'PUBREL')).toEqual([])
    await waitFor(() => got.filter((p) => p === 'q1').length >= 2, 'q1 delivered again', 15_000)
  }, 60_000)

  it('incoming QoS 2: a message acknowledged before the kill is not delivered again; one that was not, is', async () => {
    const prefix = uniquePrefix('resume-in')
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await MqttFaultProxy.start(broker.ports[1883] as number)
    proxies.push(proxy)
    root = await mkdtemp(join(tmpdir(), 'iotpubsub-outbox-resume-'))
    const dir = join(root, 'store')
    const clientId = `${prefix.replaceAll('/', '_')}-sub`
    // The child's PUBRECs never reach the broker, which resends those PUBLISHes to the next client.
    proxy.inject({ direction: 'out', type: 'PUBREC', times: Infinity, action: { kind: 'drop' } })
    const child = startChild('subscribe', proxy.url, dir, clientId, prefix)
    const publisher = await bed.pool.connected(broker.tcpUrl)
    try {
      await waitFor(() => child.has('S'), 'the child subscribed', 20_000)
      await publisher.publish(`${prefix}/a`, 'ack-x', { qos: 2 })
      await publisher.publish(`${prefix}/a`, 'hold-y', { qos: 2 })
      await waitFor(() => child.has('R ack-x') && child.has('R hold-y'), 'the child got both', 15_000)
      const x = proxy.seen.find((s) => s.direction === 'in' && s.type === 'PUBLISH' && s.connection === 1 && s.topics[0] === `${prefix}/a`)?.packetId
      await waitFor(() => child.has(`W incoming ${x}`), 'the child stored ack-x delivered', 15_000)
    } finally {
      await child.kill()
    }
    proxy.clearFaults()
    const handled: string[] = []
    const client = connect(proxy.url, { clientId, clean: false, sessionExpiryInterval: 300, store: fileStore(dir) })
    clients.push(client)
    client.observe(`${prefix}/#`, { qos: 2, codec: 'text', ack: 'manual' }).subscribe((m) => {
      handled.push(m.payload)
      m.ack()
    })
    await waitFor(() => handled.includes('hold-y'), 'hold-y delivered again', 15_000)
    // A last message after them: once it is in, ack-x would have come already.
    await publisher.publish(`${prefix}/a`, 'end', { qos: 2 })
    await waitFor(() => handled.includes('end'), 'the last message delivered', 15_000)
    const resent = proxy.packets((s) => s.connection > 1 && s.direction === 'in' && s.type === 'PUBLISH' && s.dup)
    expect(resent.length, 'the broker resent both PUBLISHes').toBe(2)
    expect(handled).toEqual(['hold-y', 'end'])
  }, 60_000)
})
