// Two instances with one client id knock each other off; the SDK says so and backs off instead of looping.
import { describe, expect, it } from 'vitest'
import { ClientIdConflictError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('client-id takeover', () => {
  const bed = testBed('takeover')
  const pool = bed.pool

  it.each([5, 4] as const)('MQTT %s: reported as ClientIdConflictError, with growing delays', async (protocolVersion) => {
    const broker = await bed.broker()
    const clientId = `twin-${protocolVersion}-${process.pid}`
    const options = { clientId, protocolVersion, reconnect: { initialDelay: 20, maxDelay: 320 } }
    const statuses: Status[] = []
    const a = pool.connect(broker.tcpUrl, options)
    a.status$.subscribe((s) => statuses.push(s))
    const b = pool.connect(broker.tcpUrl, options)
    b.status$.subscribe((s) => statuses.push(s))
    const conflicts = (): ReconnectingStatus[] =>
      statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting' && s.error instanceof ClientIdConflictError)
    await waitFor(() => conflicts().length >= 2, 'the conflict to be reported', 15_000)
    // Mosquitto 2.0.11 closes the old connection without a DISCONNECT 142, under MQTT 5 as under 3.1.1, so
    // it is the pattern of short connections that gives it away (a broker that sends 142 is named at once).
    // Not stuck at the floor: the attempt count keeps rising while the conflict lasts.
    const retries = statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting')
    expect(Math.max(...retries.map((s) => s.attempt))).toBeGreaterThanOrEqual(3)
    expect(Math.max(...retries.map((s) => s.delay))).toBeGreaterThan(options.reconnect.initialDelay)
  })
})
