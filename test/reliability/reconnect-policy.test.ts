// Reconnect policy: exponential backoff with jitter, reported in status$; reconnect: false stops.
import { describe, expect, it } from 'vitest'
import { ConnectionLostError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('reconnect policy', () => {
  const bed = testBed('policy')
  const pool = bed.pool

  it('backs off with growing, jittered delays while the broker is down, and says why', async () => {
    const broker = await bed.broker()
    const policy = { initialDelay: 100, maxDelay: 400 }
    const client = await pool.connected(broker.tcpUrl, { reconnect: policy })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    await broker.stop()
    const retries = (): ReconnectingStatus[] => statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting')
    await waitFor(() => retries().length >= 5, 'five reconnect attempts')
    const attempts = retries().slice(0, 5)
    expect(attempts.map((s) => s.attempt)).toEqual([1, 2, 3, 4, 5])
    for (const s of attempts) {
      const ceiling = Math.min(policy.maxDelay, policy.initialDelay * 2 ** (s.attempt - 1))
      expect(s.delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(s.delay).toBeLessThanOrEqual(ceiling)
      expect(s.error).toBeInstanceOf(ConnectionLostError)
    }
    // After the first loss, the attempts fail because nothing listens any more.
    expect(attempts[1]?.error.message).toMatch(/ECONNREFUSED/)
    await broker.restart()
    await waitFor(() => statuses.at(-1)?.type === 'connected', 'the reconnect once the broker is back')
  })

  it('reconnect: false closes the client on a lost connection and errors its observers with the cause', async () => {
    const broker = await bed.broker()
    const client = await pool.connected(broker.tcpUrl, { reconnect: false })
    const observed = new Promise<unknown>((resolve) => client.observe(`${uniquePrefix('once')}/x`).subscribe({ error: resolve, complete: () => resolve('completed') }))
    await broker.stop()
    const closed = await waitForStatus(client, 'closed')
    expect(closed.error).toBeInstanceOf(ConnectionLostError)
    expect(await observed).toBe(closed.error)
  })
})
