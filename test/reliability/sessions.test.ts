// Persistent sessions: QoS 1 messages published while a subscriber was away reach it when it returns,
// also through a broker restart with persistence, and also for a new client instance resuming the id.
import { describe, expect, it } from 'vitest'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { countInLog, waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('persistent sessions', () => {
  const bed = testBed('session')
  const pool = bed.pool

  it.each([
    [5, false],
    [4, false],
    [5, true],
    [4, true],
  ] as const)('MQTT %s, broker restarted in between: %s — queued QoS 1 messages reach a new instance', async (protocolVersion, restart) => {
    const broker = await bed.broker({ persistence: true, extra: ['log_type all'] }) // the kit's profile keeps its persistence
    const p = uniquePrefix(`session-v${protocolVersion}`)
    const clientId = `session-${protocolVersion}-${restart}-${process.pid}`
    const options = { clientId, clean: false, protocolVersion, reconnect: { initialDelay: 50, maxDelay: 100 } }

    const first = await pool.connected(broker.tcpUrl, options)
    // Under 3.1.1 the queued messages are routed by topic, under 5 by the subscription identifier the
    // first instance gave: the second instance observes in another order and must route them all the same.
    first.observe(`${p}/+/temp`, { qos: 1 }).subscribe()
    first.observe(`${p}/#`, { qos: 1 }).subscribe()
    first.observe(`${p}/other/+`, { qos: 1 }).subscribe()
    await broker.waitForSubscription(clientId, `${p}/other/+`, 1)
    await first.end()

    const publisher = await pool.connected(broker.tcpUrl)
    const sent = Array.from({ length: 20 }, (_, i) => `m${i}`)
    for (const payload of sent) await publisher.publish(`${p}/kitchen/temp`, payload, { qos: 1 })
    await publisher.end()
    if (restart) await broker.restart() // SIGTERM: mosquitto writes its database on the way out

    const second = pool.connect(broker.tcpUrl, options)
    const temps: string[] = []
    const everything: string[] = []
    const others: string[] = []
    // Observed before the CONNACK, as a service does at start-up, so the queued messages find them.
    second.observe(`${p}/other/+`, { qos: 1, codec: 'text' }).subscribe((m) => others.push(m.payload))
    second.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => everything.push(m.payload))
    second.observe(`${p}/+/temp`, { qos: 1, codec: 'text' }).subscribe((m) => temps.push(m.payload))
    expect(await waitForStatus(second, 'connected')).toMatchObject({ sessionPresent: true })
    await waitFor(() => temps.length >= 20 && everything.length >= 20, 'the queued messages')
    await second.publish(`${p}/other/x`, 'sentinel', { qos: 1 })
    await waitFor(() => others.length > 0, 'the sentinel')
    expect(temps).toEqual(sent)
    expect(everything).toEqual([...sent, 'sentinel'])
    expect(others).toEqual(['sentinel'])
    // Neither end() nor anything else sent UNSUBSCRIBE: the session kept its subscriptions.
    expect(countInLog(await broker.log(), 'UNSUBSCRIBE', clientId)).toBe(0)
  })
})
