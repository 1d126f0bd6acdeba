// client.request() at its edges: late and duplicate replies, reply subscription QoS, requests across a cut.
import type { MqttClient } from 'mqtt'
import { firstValueFrom, filter as rxFilter, timeout as rxTimeout } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { ClientClosedError, ConnectionLostError, RequestTimeoutError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { reconnected } from '../support/clients.js'
import { escapes } from '../support/escapes.js'
import { rawClient } from '../support/raw.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

interface Captured { responseTopic: string; correlation: Buffer; qos: number }

/** A raw MQTT 5 responder that only records the requests; the test answers them when it wants. */
async function capturingResponder(url: string, filter: string): Promise<{ raw: MqttClient; requests: Captured[] }> {
  const raw = await rawClient(url, { protocolVersion: 5 })
  const requests: Captured[] = []
  raw.on('message', (_topic, _payload, packet) => {
    const props = packet.properties
    if (props?.responseTopic && props.correlationData) requests.push({ responseTopic: props.responseTopic, correlation: props.correlationData, qos: packet.qos })
  })
  await raw.subscribeAsync(filter, { qos: 1 })
  return { raw, requests }
}

const answer = (raw: MqttClient, to: Captured, payload: string, qos: 0 | 1 | 2 = 1) =>
  raw.publishAsync(to.responseTopic, payload, { qos, properties: { correlationData: to.correlation } })

describe.skipIf(noMosquitto())('request(): edges', () => {
  const bed = testBed('edge-request')
  const { thrown } = escapes()

  it('a reply arriving after the timeout is ignored: the request rejected once, a later request is matched to its own reply', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-late')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      let settled = 0
      const first = client.request(`${p}/x`, 'one', { timeout: 300, codec: 'text' }).finally(() => (settled += 1))
      await expect(first).rejects.toBeInstanceOf(RequestTimeoutError)
      await waitFor(() => requests.length === 1, 'the first request at the responder')
      const second = client.request(`${p}/x`, 'two', { timeout: 10_000, codec: 'text' })
      await waitFor(() => requests.length === 2, 'the second request at the responder')
      // The late reply to the first request, then the right one to the second.
      await answer(raw, requests[0] as Captured, 'late')
      await answer(raw, requests[1] as Captured, 'reply-two')
      expect((await second).payload).toBe('reply-two')
      expect(settled).toBe(1)
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('a responder that answers twice: the request resolves with the first reply, the second is ignored', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-twice')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const pending = client.request(`${p}/x`, 'q', { timeout: 10_000, codec: 'text' })
      await waitFor(() => requests.length === 1, 'the request at the responder')
      await answer(raw, requests[0] as Captured, 'first')
      await answer(raw, requests[0] as Captured, 'second')
      expect((await pending).payload).toBe('first')
      // The client still works and matches the next request correctly.
      const next = client.request(`${p}/x`, 'q2', { timeout: 10_000, codec: 'text' })
      await waitFor(() => requests.length === 2, 'the next request at the responder')
      await answer(raw, requests[1] as Captured, 'third')
      expect((await next).payload).toBe('third')
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('concurrent requests answered in reverse order by a raw responder: each gets its own reply, never crossed', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-cross')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const n = 50
      const pending = Array.from({ length: n }, (_, i) => client.request(`${p}/x/${i}`, String(i), { timeout: 20_000, codec: 'text' }))
      await waitFor(() => requests.length === n, 'every request at the responder')
      // Answer each with the index in its own topic: the reply payload names which request it answers.
      const byCorrelation = new Map<string, number>()
      raw.removeAllListeners('message')
      for (const [i, r] of requests.entries()) byCorrelation.set(r.correlation.toString('hex'), i)
      for (const r of [...requests].reverse()) await answer(raw, r, `for-${r.correlation.toString('hex')}`)
      const replies = await Promise.all(pending)
      for (const reply of replies) expect(reply.payload).toBe(`for-${Buffer.from(reply.properties?.correlationData ?? []).toString('hex')}`)
      // And each request i got the reply to the request published on topic .../i.
      expect(new Set(replies.map((r) => r.payload)).size).toBe(n)
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  })

  it('the reply subscription takes the QoS of the request (documented: "QoS of the request and of the reply subscription"), also for a later request with a higher QoS', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-qos')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const first = client.request(`${p}/x`, 'q0', { timeout: 10_000, qos: 0, codec: 'text' })
      await waitFor(() => requests.length === 1, 'the QoS 0 request at the responder')
      await answer(raw, requests[0] as Captured, 'a', 2)
      await first
      const second = client.request(`${p}/x`, 'q2', { timeout: 10_000, qos: 2, codec: 'text' })
      await waitFor(() => requests.length === 2, 'the QoS 2 request at the responder')
      await answer(raw, requests[1] as Captured, 'b', 2)
      const reply = await second
      // A QoS 2 request's reply, published at QoS 2, comes at QoS 2 only if the reply subscription is QoS 2.
      const replyTopic = `iotpubsub/reply/${client.clientId}`
      const subscriptions = await firstValueFrom(client.subscriptions$)
      expect(subscriptions.find((s) => s.filter === replyTopic)?.grantedQos).toBe(2)
      expect(reply.qos).toBe(2)
    } finally {
      raw.end(true)
    }
  })

  it('the reply subscription is kept while no request is pending (kept until the client closes), and released by end()', async () => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix('edge-keep')
    const server = await bed.pool.connected(broker.tcpUrl)
    server.serve(`${p}/echo`, (m) => m.payload)
    await broker.waitForSubscription(server.clientId, `${p}/echo`, 1)
    const client = await bed.pool.connected(broker.tcpUrl)
    await client.request(`${p}/echo`, 'x', { timeout: 10_000 })
    const replyTopic = `iotpubsub/reply/${client.clientId}`
    const subscriptions = await firstValueFrom(client.subscriptions$)
    expect(subscriptions.some((s) => s.filter === replyTopic)).toBe(true)
    await client.end()
    await expect(client.request(`${p}/echo`, 'x')).rejects.toBeInstanceOf(ClientClosedError)
    expect(thrown).toEqual([])
  })

  it('a request published before a cut: ConnectionLostError once; one made while reconnecting is sent after the reconnect and answered', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('edge-cut')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(proxy.url, { reconnect: { initialDelay: 50, maxDelay: 200 } })
      let settled = 0
      const inFlight = client.request(`${p}/x`, 'before', { timeout: 20_000, codec: 'text' })
      inFlight.then(() => (settled += 1), () => (settled += 1))
      await waitFor(() => requests.length === 1, 'the first request at the responder')
      const back = reconnected(client)
      proxy.cut()
      await expect(inFlight).rejects.toBeInstanceOf(ConnectionLostError)
      const during = client.request(`${p}/x`, 'during', { timeout: 20_000, codec: 'text' })
      await back
      await waitFor(() => requests.length === 2, 'the request made while reconnecting at the responder')
      // The late reply to the failed request, then the reply to the new one.
      await answer(raw, requests[0] as Captured, 'late')
      await answer(raw, requests[1] as Captured, 'after')
      expect((await during).payload).toBe('after')
      expect(settled).toBe(1)
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  }, 30_000)

  it('with a persistent session (clean: false), a request made while reconnecting is still sent after the reconnect and answered', async () => {
    const broker = await bed.broker()
    const proxy = await bed.proxy(broker)
    const p = uniquePrefix('edge-cut-persist')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(proxy.url, { clean: false, sessionExpiryInterval: 300, reconnect: { initialDelay: 50, maxDelay: 200 } })
      const first = client.request(`${p}/x`, 'first', { timeout: 20_000, codec: 'text' })
      await waitFor(() => requests.length === 1, 'the first request at the responder')
      await answer(raw, requests[0] as Captured, 'r1')
      expect((await first).payload).toBe('r1')
      const back = reconnected(client)
      // The request is made in the `reconnecting` callback itself: it must wait for the next connection.
      let during: Promise<{ payload: string }> | undefined
      const watch = client.status$.subscribe((s) => {
        if (s.type === 'reconnecting' && !during) during = client.request(`${p}/x`, 'during', { timeout: 20_000, codec: 'text' })
      })
      proxy.cut()
      await back
      watch.unsubscribe()
      await waitFor(() => requests.length === 2, 'the request made while reconnecting at the responder', 15_000)
      await answer(raw, requests[1] as Captured, 'after')
      expect((await during)?.payload).toBe('after')
      expect(thrown).toEqual([])
    } finally {
      raw.end(true)
    }
  }, 30_000)

  it('request() with a NaN timeout rejects with UnsupportedOptionError, as publish() does for a bad timeout', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-opts')
    const { raw } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      const client = await bed.pool.connected(broker.tcpUrl)
      const nan = await client.request(`${p}/x`, 'nan', { timeout: Number.NaN }).catch((e: unknown) => e)
      // publish() says a bad timeout is UnsupportedOptionError; request() is expected to say the same.
      expect((nan as Error).name).toBe('UnsupportedOptionError')
    } finally {
      raw.end(true)
    }
  })

  it('clientId "" (broker-assigned id): a request made before the CONNACK replies to a topic of its own (anonymous-<random>), not "<prefix>/"', async () => {
    const broker = await bed.broker()
    const p = uniquePrefix('edge-assigned')
    const { raw, requests } = await capturingResponder(broker.tcpUrl, `${p}/#`)
    try {
      // The CONNACK is held until the request has been handed to the loaded services module.
      const proxy = await bed.proxy(broker)
      proxy.holdServer(0)
      const client = bed.pool.connect(proxy.url, { clientId: '' })
      const pending = client.request(`${p}/x`, 'early', { timeout: 10_000, codec: 'text' })
      // A route that is not one errors once the services are loaded: the request above has gone past its load by then.
      await new Promise((resolve) => client.route('a/{x}y').subscribe({ error: resolve }))
      expect(client.clientId).toBe('')
      proxy.release()
      await waitFor(() => requests.length === 1, 'the early request at the responder')
      expect(client.clientId).not.toBe('')
      // Documented (replyTopicPrefix): the client's own topic, whose id the broker had not assigned yet.
      expect(requests[0]?.responseTopic).toMatch(/^iotpubsub\/reply\/anonymous-[0-9a-z]+$/)
      await answer(raw, requests[0] as Captured, 'r')
      await pending
    } finally {
      raw.end(true)
    }
  })
})
