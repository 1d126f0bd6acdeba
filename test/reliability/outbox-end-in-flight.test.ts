// end() with a store while publishes are in flight (their acknowledgements withheld by a proxy)
// and while others wait behind them. docs/guide/outbox.md, "What survives what": "end(), then a new client with
// the same id and store | kept, sent by the new client"; a persistent session resumed resends what was on the
// wire under its packet identifier, so a QoS 2 message arrives once.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ClientClosedError, fileStore, type MQTTClient, type OutboxEvent } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const fast = { reconnect: { initialDelay: 20, maxDelay: 100 } }

describe.skipIf(noMosquitto())('outbox: end() with publishes in flight', () => {
  const bed = testBed('outbox-end')
  const pool = bed.pool
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-end-'))
    dirs.push(dir)
    return dir
  }
  const record = (client: MQTTClient): string[] => {
    const events: string[] = []
    client.outbox$.subscribe((e: OutboxEvent) => events.push(`${e.id}:${e.state}`))
    return events
  }
  const stored = async (dir: string, clientId: string) => {
    const reader = fileStore(dir)
    const session = await reader.open(clientId)
    await reader.close()
    return session.messages.map((m) => `${m.id}${m.packetId === undefined ? '' : '@sent'}`)
  }

  for (const mode of ['graceful', 'force'] as const) {
    it(`end() (${mode}) with QoS 1 in flight and queued: the store keeps all; a new client sends each, none lost`, async () => {
      const broker = await bed.broker({ extra: ['log_type all'] })
      const proxy = await bed.proxy(broker)
      const p = uniquePrefix(`outbox-end-${mode}`)
      const sub = await pool.connected(broker.tcpUrl)
      const received: string[] = []
      sub.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
      await broker.waitForSubscription(sub.clientId, `${p}/#`, 1)
      const dir = await tempDir()
      const clientId = `${p.replaceAll('/', '_')}-pub`
      proxy.holdServer(1) // the CONNACK passes; every PUBACK waits
      const first = pool.connect(proxy.url, { ...fast, clientId, store: fileStore(dir) })
      const events = record(first)
      await first.connected()
      const ids = ['a', 'b', 'c']
      const promises = ids.map((id) => first.publish(`${p}/m`, id, { qos: 1, id }).catch((e: unknown) => e))
      await waitFor(() => ids.every((id) => events.includes(`${id}:sent`)), 'all three on the wire')
      await first.end(mode === 'force' ? { force: true } : { timeout: 500 })
      for (const outcome of await Promise.all(promises)) expect(outcome).toBeInstanceOf(ClientClosedError)
      expect(await stored(dir, clientId)).toEqual(['a@sent', 'b@sent', 'c@sent'])
      proxy.release()
      const second = pool.connect(broker.tcpUrl, { ...fast, clientId, store: fileStore(dir) })
      const again = record(second)
      await waitFor(() => ids.every((id) => again.includes(`${id}:acknowledged`)), 'all three acknowledged by the new client')
      await waitFor(() => ids.every((id) => received.includes(id)), 'all three delivered')
      await second.end()
      expect(await stored(dir, clientId)).toEqual([])
    })
  }

  it('end() with QoS 2 in flight on a persistent session: the next client resumes it and the subscriber gets it exactly once', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('outbox-end-qos2')
    const sub = await pool.connected(broker.tcpUrl)
    const received: string[] = []
    sub.observe(`${p}/#`, { qos: 2, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(sub.clientId, `${p}/#`, 2 as 1)
    const dir = await tempDir()
    const clientId = `${p.replaceAll('/', '_')}-pub`
    const session = { clean: false, protocolVersion: 4 as const }
    proxy.holdServer(1)
    const first = pool.connect(proxy.url, { ...fast, ...session, clientId, store: fileStore(dir) })
    const events = record(first)
    await first.connected()
    const q = first.publish(`${p}/m`, 'q2', { qos: 2, id: 'q2' }).catch((e: unknown) => e)
    await waitFor(() => events.includes('q2:sent'), 'q2 on the wire')
    await first.end({ timeout: 500 })
    expect(await q).toBeInstanceOf(ClientClosedError)
    expect(await stored(dir, clientId)).toEqual(['q2@sent'])
    proxy.release()
    const second = pool.connect(broker.tcpUrl, { ...fast, ...session, clientId, store: fileStore(dir) })
    const again = record(second)
    await waitFor(() => again.includes('q2:acknowledged') || again.includes('q2:failed'), 'q2 settled by the new client')
    expect(again).toContain('q2:acknowledged')
    await second.publish(`${p}/marker`, 'marker', { qos: 2 })
    await waitFor(() => received.includes('marker'), 'the marker')
    expect(received).toEqual(['q2', 'marker'])
  })
})
