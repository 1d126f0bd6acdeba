import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import type { ClientPool } from './clients.js'

/** What an outbox test works with: temp dirs for file stores (removed after each test) and a subscriber. */
export interface OutboxBed {
  /** A fresh directory of the test's own. */
  tempDir(): Promise<string>
  /** The payloads (text) a QoS 1 observer of `<p>/#` receives, once the broker has its subscription. */
  subscriber(url: string, p: string, broker: { waitForSubscription: (c: string, f: string, q: 1) => Promise<string> }): Promise<string[]>
}

/** Registers the removal of one test file's temp dirs (call at describe level). */
export function outboxBed(name: string, pool: ClientPool): OutboxBed {
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  return {
    async tempDir() {
      const dir = await mkdtemp(join(tmpdir(), `${name}-`))
      dirs.push(dir)
      return dir
    },
    async subscriber(url, p, broker) {
      const client = await pool.connected(url)
      const received: string[] = []
      client.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
      await broker.waitForSubscription(client.clientId, `${p}/#`, 1)
      return received
    },
  }
}
