// What a reconnect does with publishes the broker had not acknowledged, against a real Mosquitto behind a
// cutting proxy, on both links. With the session kept, exactly once holds; with the session lost (every
// reconnect under the default clean start), a QoS 1 goes again as a new message and a QoS 2 rejects with
// PublishOutcomeUnknownError instead of resolving: the broker releases a QoS 2 only at PUBREL, so a PUBREL
// resent into a new session "completes" a message the broker discarded.
//
// How the QoS 2 cut lands after the PUBREC reached the client: the proxy holds the broker's answers, and
// once the PUBREC waits there the test lets it through and resets both sides in the same turn. The client
// reads the PUBREC (or, at worst, the reset first) and its PUBREL goes to a dead socket: the broker never
// gets it. Either way the client holds a QoS 2 the broker has not completed.
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { PublishOutcomeUnknownError, PublishTimeoutError, type ClientOptions, type MQTTClient } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

const fast = { reconnect: { initialDelay: 20, maxDelay: 80 } }

/** Publishes the client's link still tracks (their identifiers in use), read through its private fields. */
function linkTracks(client: MQTTClient): number {
  const { link } = client as unknown as { link: { mqtt?: { outgoing: object }; flow?: { store: { size: number } } } }
  return link.mqtt ? Object.keys(link.mqtt.outgoing).length : (link.flow?.store.size ?? 0)
}

/** How a promise settled, recorded as it happens. */
interface Tracked {
  state: 'pending' | 'resolved' | 'rejected'
  error: unknown
}
function track(promise: Promise<void>): Tracked {
  const t: Tracked = { state: 'pending', error: undefined }
  promise.then(() => (t.state = 'resolved'), (error: unknown) => Object.assign(t, { state: 'rejected', error }))
  return t
}

describe.skipIf(noMosquitto())('a reconnect and the publishes the broker had not completed', () => {
  const bed = testBed('lost-session')

  /** A broker, a proxy in front of it, a subscriber on the broker itself, and the publishing client on the proxy. */
  async function setUp(name: string, qos: 1 | 2, options: ClientOptions = {}) {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix(name)
    const subscriber = await bed.pool.connected(broker.tcpUrl)
    const received: string[] = []
    subscriber.observe(`${p}/n`, { qos, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(subscriber.clientId, `${p}/n`, qos)
    const client = await bed.pool.connected(proxy.url, { ...fast, ...options })
    /** Publishes a marker on the new connection: once the subscriber has it, anything earlier would be there too. */
    const settleDeliveries = async (): Promise<void> => {
      await client.publish(`${p}/n`, 'marker', { qos })
      await waitFor(() => received.includes('marker'), 'the marker at the subscriber')
    }
    return { broker, proxy, p, received, client, settleDeliveries }
  }

  /** Publishes `payload` at QoS 2 and cuts the connection once the broker's PUBREC has been let through to the client. */
  async function cutAfterPubrec(setup: Awaited<ReturnType<typeof setUp>>, payload: string): Promise<Tracked> {
    const { proxy, client, p } = setup
    proxy.holdServer(0)
    const held = once(proxy, 'held')
    const result = track(client.publish(`${p}/n`, payload, { qos: 2 }))
    await held // the broker has the message and has answered PUBREC, waiting in the proxy
    proxy.release() // the PUBREC to the client; holding stops, for the next connection too
    proxy.cut() // in the same turn: the client's PUBREL finds the connection gone
    await waitForStatus(client, 'reconnecting')
    return result
  }

  // Under 3.1.1 too: a close after the PUBREC is no sign that the broker refused QoS 2 (see poison.ts).
  it.each([5, 4] as const)('QoS 2, session lost (clean start), MQTT %s: the publish rejects with PublishOutcomeUnknownError, never resolves, and is not resent', async (protocolVersion) => {
    const setup = await setUp(`lost-q2-v${protocolVersion}`, 2, { protocolVersion })
    const result = await cutAfterPubrec(setup, 'q2')
    await waitForStatus(setup.client, 'connected')
    await waitFor(() => result.state !== 'pending', 'the QoS 2 publish to settle')
    expect(result.state).toBe('rejected')
    expect(result.error).toBeInstanceOf(PublishOutcomeUnknownError)
    // The broker discarded it with the session (it had no PUBREL), and nothing published it again.
    await setup.settleDeliveries()
    expect(setup.received).toEqual(['marker'])
  })

  it('QoS 2, session kept (clean: false, sessionExpiryInterval): the publish resolves and the subscriber gets it exactly once', async () => {
    const setup = await setUp('kept-q2', 2, { clean: false, sessionExpiryInterval: 60 })
    const result = await cutAfterPubrec(setup, 'q2')
    await waitForStatus(setup.client, 'connected')
    await waitFor(() => result.state !== 'pending', 'the QoS 2 publish to settle')
    expect(result).toEqual({ state: 'resolved', error: undefined })
    await setup.settleDeliveries()
    expect(setup.received).toEqual(['q2', 'marker'])
  })

  it('QoS 1, session lost: the publish goes again as a new message (DUP clear), resolves, and the subscriber gets it', async () => {
    const setup = await setUp('lost-q1', 1)
    const { proxy, client, p, broker } = setup
    proxy.holdServer(0)
    const held = once(proxy, 'held')
    const result = track(client.publish(`${p}/n`, 'q1', { qos: 1 }))
    await held // the broker has it (and forwarded it); its PUBACK waits in the proxy
    proxy.cut()
    proxy.release() // stop holding: the next connection goes through
    await waitForStatus(client, 'reconnecting')
    await waitForStatus(client, 'connected')
    await waitFor(() => result.state !== 'pending', 'the QoS 1 publish to settle')
    expect(result).toEqual({ state: 'resolved', error: undefined })
    await setup.settleDeliveries()
    expect(setup.received.filter((m) => m === 'q1').length).toBeGreaterThanOrEqual(1)
    // The second PUBLISH is the first of a new session: no DUP (MQTT 5 §3.3.1.1 sets it only on a redelivery).
    const publishes = (await broker.log()).split('\n').filter((line) => line.includes(`Received PUBLISH from ${client.clientId} `) && line.includes(`'${p}/n'`))
    expect(publishes.map((line) => /\((d\d), q1,/.exec(line)?.[1])).toEqual(['d0', 'd0', 'd0'])
  })

  it('QoS 2 timed out after the broker took it: the late PUBREC is answered with PUBREL, so the message is delivered and the identifier freed only then', async () => {
    const { proxy, client, p, received } = await setUp('late-pubrec', 2)
    proxy.holdServer(0)
    const held = once(proxy, 'held')
    const late = client.publish(`${p}/n`, 'late', { qos: 2, timeout: 200 })
    await held // the broker has it, unreleased; its PUBREC waits in the proxy
    await expect(late).rejects.toBeInstanceOf(PublishTimeoutError)
    expect(linkTracks(client)).toBe(1) // the broker holds it under its identifier: not free
    proxy.release()
    // A timeout does not mean "not delivered": the flow completes and the subscriber gets it.
    await waitFor(() => received.includes('late'), 'the timed-out message at the subscriber')
    await waitFor(() => linkTracks(client) === 0, 'the PUBCOMP to free the identifier')
    expect(received).toEqual(['late'])
  })
})
