// Observers across a broker restart and end() against a frozen broker, over TCP and WebSockets.
import { afterEach, describe, expect, it } from 'vitest'
import { ClientClosedError, type Message, type Status } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, countInLog, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const transports = [
  { name: 'TCP', url: (b: Mosquitto) => b.tcpUrl },
  { name: 'WebSockets', url: (b: Mosquitto) => b.wsUrl },
] as const
const fast = { reconnect: { initialDelay: 50, maxDelay: 200 } }

describe.skipIf(noMosquitto())('reconnects on a real Mosquitto', () => {
  describe.each(transports)('over $name', ({ name, url }) => {
    const pool = new ClientPool(`reconnect-${name}`)
    const brokers: Mosquitto[] = []
    afterEach(async () => {
      await pool.endAll()
      await Promise.all(brokers.splice(0).map((b) => b.dispose()))
    })
    const broker = async (): Promise<Mosquitto> => {
      const b = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
      brokers.push(b)
      return b
    }

    it('i. observers survive a broker restart and every filter is subscribed again exactly once', async () => {
      const b = await broker()
      const p = uniquePrefix('restart')
      const clean = await pool.connected(url(b), fast)
      // A persistent session whose broker forgets it (no persistence): sessionPresent comes back false.
      const persistent = await pool.connected(url(b), { ...fast, clean: false })
      const statuses: Status[] = []
      clean.status$.subscribe((s) => statuses.push(s))
      const got: Record<string, Array<Message<string>>> = { a: [], b: [], c: [] }
      let ended = 0
      const watch = { error: () => ended++, complete: () => ended++ }
      clean.observe(`${p}/a`, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.a?.push(m), ...watch })
      clean.observe(`${p}/b/+`, { qos: 0, codec: 'text' }).subscribe({ next: (m) => got.b?.push(m), ...watch })
      persistent.observe(`${p}/c`, { qos: 1, codec: 'text' }).subscribe({ next: (m) => got.c?.push(m), ...watch })
      await b.waitForSubscription(persistent.clientId, `${p}/c`, 1)
      await b.waitForSubscription(clean.clientId, `${p}/b/+`, 0)

      await b.restart()
      await waitFor(() => statuses.filter((s) => s.type === 'connected').length === 2, 'the reconnect')
      await waitForStatus(persistent, 'connected')
      const reconnecting = statuses.find((s) => s.type === 'reconnecting')
      expect(reconnecting).toMatchObject({ type: 'reconnecting', attempt: 1 })
      expect(statuses.at(-1)).toMatchObject({ type: 'connected', sessionPresent: false })

      const publisher = await pool.connected(url(b))
      await waitFor(async () => countInLog(await b.log(), 'SUBSCRIBE', persistent.clientId) === 2, 'the resubscription')
      await publisher.publish(`${p}/a`, 'A', { qos: 1 })
      await publisher.publish(`${p}/b/x`, 'B', { qos: 1 })
      await publisher.publish(`${p}/c`, 'C', { qos: 1 })
      await waitFor(() => got.a?.length && got.b?.length && got.c?.length, 'messages after the restart')
      expect([got.a?.[0]?.payload, got.b?.[0]?.params, got.c?.[0]?.payload]).toEqual(['A', ['x'], 'C'])
      expect(ended).toBe(0)
      const log = await b.log()
      expect(countInLog(log, 'SUBSCRIBE', clean.clientId)).toBe(4) // two filters, before and after
      expect(countInLog(log, 'SUBSCRIBE', persistent.clientId)).toBe(2)
    })

    it('j. end() against a frozen broker settles a pending publish with ClientClosedError', async () => {
      const b = await broker()
      const client = await pool.connected(url(b), fast)
      b.signal('SIGSTOP')
      try {
        const pending = client.publish(`${uniquePrefix('frozen')}/x`, 'x', { qos: 1 })
        const outcome = pending.then(() => 'resolved', (e: unknown) => e)
        await client.end({ timeout: 200 })
        expect(await outcome).toBeInstanceOf(ClientClosedError)
        expect(await waitForStatus(client, 'closed')).toEqual({ type: 'closed', error: undefined })
      } finally {
        b.signal('SIGCONT')
      }
    })
  })
})
