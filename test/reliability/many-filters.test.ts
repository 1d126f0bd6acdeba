// 100,000 observed filters on one client: every SUBSCRIBE confirmed, and a QoS 1 publish made during the flood
// settles on its PUBACK. Before the request window, MQTT.js's 16-bit packet identifiers wrapped onto requests
// still in flight: only 65,535 SUBACKs ever arrived, and a SUBACK answering the publish's identifier tore the
// connection down.
import { filter, firstValueFrom, timeout, type Subscription } from 'rxjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MQTTClient, Status, SubscriptionInfo } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix } from '../support/wait.js'

const FILTERS = 100_000

/** Observes FILTERS filters at once, publishes QoS 1 in the middle, and waits for every grant. */
async function flood(client: MQTTClient, prefix: string): Promise<{ ms: number; publishSettled: boolean; statuses: Status['type'][] }> {
  const statuses: Status['type'][] = []
  const statusWatch = client.status$.subscribe((s) => statuses.push(s.type))
  const observing: Subscription[] = []
  const granted = firstValueFrom(
    client.subscriptions$.pipe(
      filter((list: readonly SubscriptionInfo[]) => list.length === FILTERS && list.every((s) => s.grantedQos !== undefined)),
      timeout({ first: 25_000, with: () => { throw new Error('not every filter was granted within 25 s') } }),
    ),
  )
  const started = performance.now()
  let published: Promise<void> | undefined
  for (let i = 0; i < FILTERS; i++) {
    observing.push(client.observe(`${prefix}/${i}/state`).subscribe())
    if (i === FILTERS / 2) published = client.publish(`${prefix}/during`, 'x', { qos: 1, timeout: 20_000 })
  }
  let publishSettled = false
  await Promise.all([granted, published?.then(() => (publishSettled = true))])
  const ms = performance.now() - started
  statusWatch.unsubscribe()
  return { ms, publishSettled, statuses }
}

describe.skipIf(noMosquitto())('100,000 observed filters', () => {
  let broker: Mosquitto
  const pool = new ClientPool('many-filters')
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })

  it('MQTT 5 (one identifier per filter): all confirmed, a QoS 1 publish in the flood resolves, messages routed', async () => {
    const client = await pool.connected(broker.tcpUrl)
    const p = uniquePrefix('many5')
    const { ms, publishSettled, statuses } = await flood(client, p)
    process.stdout.write(`MQTT 5: ${FILTERS} filters confirmed in ${Math.round(ms)} ms\n`)
    expect(publishSettled).toBe(true)
    // Connected from start to end: nothing tore the connection down.
    expect(statuses).toEqual(['connected'])
    // The last filter subscribed routes to its own observer.
    const last = next(client.observe(`${p}/${FILTERS - 1}/state`, { codec: 'text' }), 'a message on the last filter')
    await client.publish(`${p}/${FILTERS - 1}/state`, 'hello', { qos: 1 })
    expect((await last).payload).toBe('hello')
  }, 40_000)

  it('MQTT 3.1.1 (filters share SUBSCRIBE packets): all confirmed, a QoS 1 publish in the flood resolves', async () => {
    const client = await pool.connected(broker.tcpUrl, { protocolVersion: 4 })
    const p = uniquePrefix('many4')
    const { ms, publishSettled, statuses } = await flood(client, p)
    process.stdout.write(`MQTT 3.1.1: ${FILTERS} filters confirmed in ${Math.round(ms)} ms\n`)
    expect(publishSettled).toBe(true)
    expect(statuses).toEqual(['connected'])
    const log = await broker.log()
    expect(log).not.toMatch(/Protocol error|malformed/i)
  }, 40_000)
})
