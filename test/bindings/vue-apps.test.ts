// iotpubsub/vue as apps use it, against a private Mosquitto: composables in effectScope()s,
// a reactive filter changing a → b → a, scopes disposed while a retained value is in flight, many scopes on
// one filter, the client ended under them.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { config } from 'rxjs'
import { DecodeError, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'
import { settledPackets } from './broker-log.js'
import { installDom } from './dom.js'

const dom = installDom()
const { createApp, defineComponent, effectScope, h, nextTick, ref } = await import('vue')
const { MQTT_CLIENT, useMessages, useTopic } = await import('../../lib/vue/index.js')

describe.skipIf(noMosquitto())('iotpubsub/vue in apps', () => {
  let broker: Mosquitto
  const pool = new ClientPool('apps-vue')
  const unhandled: unknown[] = []
  const apps: { unmount(): void }[] = []
  let warn: ReturnType<typeof vi.spyOn> | undefined

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
  })
  afterEach(async () => {
    for (const app of apps.splice(0)) app.unmount()
    dom.document.body.replaceChildren()
    await pool.endAll()
    config.onUnhandledError = null
    warn?.mockRestore()
  })
  afterAll(async () => {
    await broker?.dispose()
    await dom.dispose()
  })

  const setup = async (name: string) => {
    unhandled.length = 0
    config.onUnhandledError = (e) => unhandled.push(e)
    warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const prefix = uniquePrefix(`apps-vue-${name}`)
    const [client, publisher] = await Promise.all([pool.connected(broker.tcpUrl), pool.connected(broker.tcpUrl)])
    return { prefix, client, publisher }
  }
  const arrival = (client: MQTTClient, filter: string, payload: string) =>
    next(client.observe(filter, { codec: 'text' }), `${payload} on ${filter}`, (m) => m.payload === payload)
  const delivered = async (client: MQTTClient, publisher: MQTTClient, topic: string, payload: string, retain = false) => {
    const arrived = arrival(client, topic, payload)
    await publisher.publish(topic, payload, { qos: 1, retain })
    return arrived
  }
  const subscribed = (client: MQTTClient, filter: string) =>
    next(client.subscriptions$, `the SUBACK for ${filter}`, (list) => list.some((s) => s.filter === filter && s.grantedQos !== undefined))
  const onlyFilters = (client: MQTTClient, filters: string[], observers = 1) =>
    next(client.subscriptions$, `subscriptions exactly ${filters.join(',')}`, (list) =>
      list.length === filters.length && filters.every((f) => list.some((s) => s.filter === f && s.observers === observers)),
    )
  const none = (client: MQTTClient) => next(client.subscriptions$, 'no subscription left', (list) => list.length === 0)

  it('a ref filter a → b → a within one tick: nothing is sent, the value stays', async () => {
    const { prefix, client, publisher } = await setup('aba-tick')
    const [a, b] = [`${prefix}/a`, `${prefix}/b`]
    await publisher.publish(a, 'a1', { qos: 1, retain: true })
    const filter = ref(a)
    const scope = effectScope()
    const latest = scope.run(() => useTopic(client, filter, { codec: 'text', throttle: false }))!
    await arrival(client, a, 'a1')
    expect(latest.value?.payload).toBe('a1')
    filter.value = b
    filter.value = a
    await nextTick()
    expect(latest.value?.payload).toBe('a1')
    scope.stop()
    await none(client)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[a]])
    expect(packets.unsubscribes).toEqual([[a]])
    expect(unhandled).toEqual([])
  })

  it('a ref filter a → b → a across ticks, before any SUBACK: a wins with its retained value, b is released', async () => {
    const { prefix, client, publisher } = await setup('aba')
    const [a, b] = [`${prefix}/a`, `${prefix}/b`]
    await publisher.publish(a, 'a-stored', { qos: 1, retain: true })
    await publisher.publish(b, 'b-stored', { qos: 1, retain: true })
    const filter = ref(a)
    const scope = effectScope()
    const [latest, all] = scope.run(() => [useTopic(client, filter, { codec: 'text', throttle: false }), useMessages(client, filter, { codec: 'text', throttle: false })] as const)!
    filter.value = b
    await nextTick()
    filter.value = a
    await nextTick()
    await onlyFilters(client, [a], 2)
    await waitFor(() => latest.value?.payload === 'a-stored', 'a’s retained value')
    // b is no longer observed by `client`: the publisher's own SUBSCRIBE, on its connection, comes first.
    await delivered(publisher, publisher, b, 'b-live')
    await delivered(client, publisher, a, 'a-live')
    expect(latest.value?.payload).toBe('a-live')
    expect(all.value.map((m) => m.payload)).toEqual(['a-stored', 'a-live'])
    scope.stop()
    await none(client)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes.length).toBe(packets.unsubscribes.length)
    expect(unhandled).toEqual([])
  })

  it('a scope stopped while its first (retained) message is in flight: the ref is not updated after, no subscription left', async () => {
    const { prefix, client, publisher } = await setup('inflight')
    const filter = `${prefix}/state`
    await publisher.publish(filter, 'stored', { qos: 1, retain: true })
    const scope = effectScope()
    const [latest, all] = scope.run(() => [useTopic(client, filter, { codec: 'text' }), useMessages(client, filter, { codec: 'text' })] as const)!
    scope.stop()
    await none(client)
    await settledPackets(broker, client, prefix)
    await delivered(publisher, publisher, filter, 'later')
    await settledPackets(broker, client, prefix)
    expect(latest.value).toBeUndefined()
    expect(all.value).toEqual([])
    expect(unhandled).toEqual([])
  })

  it('many scopes on one filter: one stopped, the others keep receiving; a clear empties useTopic; a DecodeError skips the message', async () => {
    const { prefix, client, publisher } = await setup('many')
    const filter = `${prefix}/lamp`
    const errors: unknown[] = []
    const errSub = client.errors$.subscribe((e) => errors.push(e))
    const scopes = [effectScope(), effectScope(), effectScope()]
    const refs = scopes.map((s) => s.run(() => useTopic<number>(client, filter, { codec: 'json', throttle: false }))!)
    await subscribed(client, filter)
    await delivered(client, publisher, filter, '1', true)
    expect(refs.map((r) => r.value?.payload)).toEqual([1, 1, 1])
    scopes[1]!.stop()
    await next(client.subscriptions$, 'two observers', (l) => l[0]?.observers === 2)
    await delivered(client, publisher, filter, '2', true)
    expect(refs.map((r) => r.value?.payload)).toEqual([2, 1, 2])
    await delivered(client, publisher, filter, 'oops')
    await waitFor(() => errors.filter((e) => e instanceof DecodeError).length >= 2, 'a DecodeError per live observer')
    expect([refs[0]!.value?.payload, refs[2]!.value?.payload]).toEqual([2, 2])
    const cleared = next(client.observe(filter, { cleared: true }), 'the clear', (m) => m.cleared === true)
    await publisher.publish(filter, '', { qos: 1, retain: true })
    await cleared
    expect([refs[0]!.value, refs[2]!.value]).toEqual([undefined, undefined])
    expect(refs[1]!.value?.payload).toBe(1)
    scopes.forEach((s) => s.stop())
    await none(client)
    errSub.unsubscribe()
    expect(unhandled).toEqual([])
  })

  it('the client ends, then a component’s reactive filter changes: no error reaches the app, nothing thrown', async () => {
    const { prefix, client, publisher } = await setup('ended-component')
    const room = ref('kitchen')
    const captured: unknown[] = []
    const Temp = defineComponent({
      setup() {
        const temp = useTopic(() => `${prefix}/${room.value}/temp`, { codec: 'text' })
        return () => h('span', temp.value?.payload ?? 'none')
      },
    })
    const container = dom.document.createElement('div')
    dom.document.body.appendChild(container)
    const app = createApp(Temp)
    app.provide(MQTT_CLIENT, client)
    app.config.errorHandler = (error) => void captured.push(error)
    app.mount(container as unknown as Element)
    apps.push(app)
    await subscribed(client, `${prefix}/kitchen/temp`)
    await delivered(client, publisher, `${prefix}/kitchen/temp`, '21')
    await client.end()
    await waitForStatus(client, 'closed')
    room.value = 'hall'
    await nextTick()
    await nextTick()
    expect(captured.map(String)).toEqual([])
    expect(unhandled).toEqual([])
  })

  it('the client ends, then a reactive filter in a bare effectScope changes: nothing is thrown out of the callback', async () => {
    const { prefix, client } = await setup('ended-scope')
    const filter = ref(`${prefix}/a`)
    const scope = effectScope()
    scope.run(() => useTopic(client, filter, { codec: 'text' }))
    await subscribed(client, `${prefix}/a`)
    await client.end()
    await waitForStatus(client, 'closed')
    filter.value = `${prefix}/b`
    let thrown: unknown
    try {
      await nextTick()
    } catch (e) {
      thrown = e
    }
    // What report() would throw on a timer (an uncaught exception in Node) goes to onUnhandledError here.
    await new Promise((r) => setTimeout(r, 0)) // let a report() timer that is already queued run (not a sync wait)
    expect(thrown).toBeUndefined()
    expect(unhandled.map(String)).toEqual([])
    scope.stop()
  })

  it('a reactive filter that becomes malformed and then valid again: the error goes to Vue, nothing leaks, the valid filter is observed', async () => {
    const { prefix, client, publisher } = await setup('invalid')
    const a = `${prefix}/a`
    await publisher.publish(a, 'a1', { qos: 1, retain: true })
    const filter = ref(a)
    const captured: unknown[] = []
    const Temp = defineComponent({
      setup() {
        const temp = useTopic(client, filter, { codec: 'text', throttle: false })
        return () => h('span', temp.value?.payload ?? 'none')
      },
    })
    const container = dom.document.createElement('div')
    dom.document.body.appendChild(container)
    const app = createApp(Temp)
    app.config.errorHandler = (error) => void captured.push(error)
    app.mount(container as unknown as Element)
    apps.push(app)
    await arrival(client, a, 'a1')
    filter.value = `${prefix}/bad/#/x`
    await nextTick()
    expect(captured.map((e) => (e as Error).name)).toEqual(['InvalidTopicError'])
    await none(client)
    filter.value = a
    await nextTick()
    await arrival(client, a, 'a1')
    await nextTick()
    expect(container.textContent).toBe('a1')
    await onlyFilters(client, [a])
    expect(unhandled).toEqual([])
  })
})
