// What the client reports must be true: why a connection was lost, what the broker has granted on the
// current connection, and how publish() fails (always a rejected promise, never a synchronous throw).
import { once } from 'node:events'
import { take } from 'rxjs'
import { describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  ConnectionLostError,
  InvalidTopicError,
  PublishError,
  UnsupportedOptionError,
  type ClientOptions,
  type MQTTClient,
  type PublishOptions,
  type QoS,
  type Status,
  type SubscriptionInfo,
} from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

/** subscriptions$ as it is now (it replays the current list synchronously to a new subscriber). */
function currentSubscriptions(client: MQTTClient): readonly SubscriptionInfo[] {
  let now: readonly SubscriptionInfo[] | undefined
  client.subscriptions$.pipe(take(1)).subscribe((list) => (now = list))
  if (!now) throw new Error('subscriptions$ did not replay the current list synchronously')
  return now
}

describe.skipIf(noMosquitto())('what the client reports', () => {
  const bed = testBed('reports')
  const pool = bed.pool

  it('a frozen broker (keepalive 1): the reconnecting status says keepalive, not an unparsable packet', async () => {
    const broker = await bed.broker()
    const client = await pool.connected(broker.tcpUrl, { keepalive: 1, reconnect: { initialDelay: 100, maxDelay: 200 } })
    const frozenAt = Date.now()
    broker.signal('SIGSTOP')
    const lost = await waitForStatus(client, 'reconnecting', 5_000)
    broker.signal('SIGCONT')
    process.stdout.write(`frozen broker after ${Date.now() - frozenAt} ms: ${lost.error.name}: ${lost.error.message}\n`)
    expect(lost.error).toBeInstanceOf(ConnectionLostError)
    expect(lost.error.message).toMatch(/keepalive/i)
    expect(lost.error.message).not.toMatch(/could not be parsed/i)
  })

  it('subscriptions$: grantedQos is undefined from the reconnecting status until the new SUBACK', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const proxy = await bed.proxy(broker)
    const filter = `${uniquePrefix('granted')}/#`
    // clean: true (the default): the broker forgets the subscription with the connection.
    const client = await pool.connected(proxy.url, { reconnect: { initialDelay: 20, maxDelay: 80 } })
    client.observe(filter, { qos: 1 }).subscribe()
    await next(client.subscriptions$, 'the first SUBACK', (list) => list.some((s) => s.filter === filter && s.grantedQos === 1))

    // Every grant reported between the loss and the new SUBACK, with the phase it was reported in.
    const reported: Array<{ phase: string; grantedQos: QoS | undefined }> = []
    let phase = 'before the cut'
    const record = (list: readonly SubscriptionInfo[]): void => {
      const info = list.find((s) => s.filter === filter)
      if (info) reported.push({ phase, grantedQos: info.grantedQos })
    }
    client.status$.subscribe((s: Status) => {
      if (s.type !== 'reconnecting' || phase !== 'before the cut') return
      phase = 'reconnecting'
      record(currentSubscriptions(client))
    })
    client.subscriptions$.subscribe(record)
    proxy.holdServer(1) // the next connection gets its CONNACK; its SUBACK waits in the proxy
    const subackHeld = once(proxy, 'held')
    proxy.cut()
    await waitForStatus(client, 'reconnecting')
    await waitForStatus(client, 'connected')
    phase = 'connected, SUBACK held'
    await subackHeld // the broker has the SUBSCRIBE and answered
    record(currentSubscriptions(client))
    phase = 'SUBACK released'
    proxy.release()
    await waitFor(() => reported.at(-1)?.phase === 'SUBACK released' && reported.at(-1)?.grantedQos === 1, 'the new grant')
    process.stdout.write(`grants reported: ${reported.map((r) => `${r.phase}=${r.grantedQos}`).join(', ')}\n`)
    const beforeSuback = reported.filter((r) => r.phase === 'reconnecting' || r.phase === 'connected, SUBACK held')
    expect(beforeSuback.map((r) => r.phase)).toContain('reconnecting')
    expect(beforeSuback.map((r) => r.phase)).toContain('connected, SUBACK held')
    expect(beforeSuback).toEqual(beforeSuback.map((r) => ({ ...r, grantedQos: undefined })))
  })

  describe('every failure of publish() is a rejected promise, never a throw', () => {
    const cases: Array<{
      name: string
      topic?: string
      options?: PublishOptions<unknown>
      client?: ClientOptions
      ended?: boolean
      error: new (...args: never[]) => Error
      reasonCode?: number
    }> = [
      { name: 'a wildcard in the topic name (a/+)', topic: 'a/+', error: InvalidTopicError },
      { name: 'an empty topic name', topic: '', error: InvalidTopicError },
      { name: 'a NUL in the topic name', topic: 'a/\u0000/b', error: InvalidTopicError },
      { name: 'qos 3', options: { qos: 3 as QoS }, error: UnsupportedOptionError },
      {
        name: 'a codec that throws',
        options: { codec: { encode: () => { throw new Error('x') }, decode: (raw: Uint8Array) => raw } },
        error: PublishError,
      },
      { name: 'a QoS above maxQos', options: { qos: 2 }, client: { maxQos: 1 }, error: PublishError, reasonCode: 155 },
      { name: 'publish after end()', ended: true, error: ClientClosedError },
    ]

    it.each(cases)('$name', async ({ topic, options, client: clientOptions, ended, error, reasonCode }) => {
      const broker = await bed.broker()
      const client = await pool.connected(broker.tcpUrl, clientOptions)
      if (ended) await client.end()
      let p: Promise<void> | undefined
      expect(() => (p = client.publish(topic ?? `${uniquePrefix('fail')}/x`, 'payload', options))).not.toThrow()
      await expect(p).rejects.toBeInstanceOf(error)
      if (reasonCode !== undefined) await expect(p).rejects.toMatchObject({ reasonCode })
      // The client is still usable after a refused publish (unless it was ended on purpose).
      if (!ended) await expect(client.publish(`${uniquePrefix('fail')}/ok`, 'ok', { qos: 1 })).resolves.toBeUndefined()
    })
  })
})
