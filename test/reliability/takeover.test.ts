// Two instances with one client id knock each other off; the SDK says so and backs off instead of looping.
import { afterEach, describe, expect, it } from 'vitest'
import { ClientIdConflictError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('client-id takeover', () => {
  const pool = new ClientPool('takeover')
  let broker: Mosquitto | undefined
  afterEach(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  it.each([5, 4] as const)('MQTT %s: reported as ClientIdConflictError, with growing delays', async (protocolVersion) => {
    broker = await Mosquitto.start({ persistence: false })
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
