// A broker that stops answering (SIGSTOP) is detected by keepalive; the client recovers when it resumes.
import { describe, expect, it } from 'vitest'
import { ConnectionLostError, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('half-open connections', () => {
  const bed = testBed('halfopen')
  const pool = bed.pool

  const freezeAndThaw = async (keepalive: number, options: { keepalive: number; protocolVersion?: 4 | 5 }, extra: string[] = []) => {
    const broker = await bed.broker({ extra: ['log_type all', ...extra] })
    const client = await pool.connected(broker.tcpUrl, { ...options, reconnect: { initialDelay: 100, maxDelay: 200 } })
    const p = uniquePrefix('frozen')
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const frozenAt = Date.now()
    broker.signal('SIGSTOP')
    // MQTT.js gives up on a PINGRESP after 1.5 keepalive periods; allow scheduling slack on a busy machine.
    await waitFor(() => statuses.some((s) => s.type === 'reconnecting'), 'keepalive to notice', keepalive * 1500 + 2_000)
    const detectedAfter = Date.now() - frozenAt
    const lost = statuses.find((s) => s.type === 'reconnecting')
    expect(lost).toMatchObject({ error: expect.any(ConnectionLostError) })
    broker.signal('SIGCONT')
    await waitFor(() => statuses.at(-1)?.type === 'connected', 'the reconnect after SIGCONT', 10_000)
    const echo = next(client.observe(`${p}/x`, { codec: 'text' }), 'a message after recovery')
    await broker.waitForSubscription(client.clientId, `${p}/x`, 0)
    await client.publish(`${p}/x`, 'back', { qos: 1 })
    expect((await echo).payload).toBe('back')
    return detectedAfter
  }

  it('keepalive 1 s: detected, reconnected, and working again', async () => {
    const detectedAfter = await freezeAndThaw(1, { keepalive: 1 })
    process.stdout.write(`half-open broker detected after ${detectedAfter} ms (keepalive 1 s)\n`)
  })

  it('MQTT 5 keepalive 0 against a broker with max_keepalive: the client pings at the server keepalive', async () => {
    // Mosquitto accepts max_keepalive from 10 s; MQTT.js alone would send no PINGREQ and be dropped at 15 s.
    const broker = await bed.broker({ extra: ['log_type all', 'max_keepalive 10'] })
    const client = await pool.connected(broker.tcpUrl, { keepalive: 0, protocolVersion: 5 })
    await broker.waitForLog(new RegExp(`Received PINGREQ from ${client.clientId}$`, 'm'), 14_000)
  }, 20_000)
})
