// iotpubsub/vue against a private Mosquitto through the SDK's Node entry: the composables' refs follow real
// messages, let go of their subscription when their effect scope ends (a scope.stop(), a component's
// unmount), and switch filters when a ref or getter changes, releasing the old one once. SUBSCRIBE and
// UNSUBSCRIBE are counted in the broker's log. Components render into a happy-dom document (see dom.ts:
// the SDK is imported before the DOM exists, vue after).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { InvalidTopicError, type MQTTClient } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'
import { settledPackets } from './broker-log.js'
import { installDom } from './dom.js'

const dom = installDom()
const { createApp, defineComponent, effectScope, h, nextTick, ref } = await import('vue')
const { MQTT_CLIENT, provideClient, useClient, useMessages, useStatus, useTopic } = await import('../../lib/vue/index.js')

describe.skipIf(noMosquitto())('iotpubsub/vue', () => {
  let broker: Mosquitto
  const pool = new ClientPool('vue-composables')
  const apps: { unmount(): void }[] = []

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
  })
  afterEach(async () => {
    for (const app of apps.splice(0)) app.unmount()
    dom.document.body.replaceChildren()
    await pool.endAll()
  })
  afterAll(async () => {
    await broker?.dispose()
    await dom.dispose()
  })

  const setup = async (name: string) => {
    const prefix = uniquePrefix(`vue-${name}`)
    const [client, publisher] = await Promise.all([pool.connected(broker.tcpUrl), pool.connected(broker.tcpUrl)])
    return { prefix, client, publisher }
  }
  const arrival = (client: MQTTClient, filter: string, payload: string) =>
    next(client.observe(filter, { codec: 'text' }), `${payload} on ${filter}`, (m) => m.payload === payload)
  /** Publishes from `publisher` and resolves once `client` has received the message (through a filter it observes). */
  const delivered = async (client: MQTTClient, publisher: MQTTClient, topic: string, payload: string, filter = topic) => {
    const arrived = arrival(client, filter, payload)
    await publisher.publish(topic, payload, { qos: 1 })
    return arrived
  }
  const subscribed = (client: MQTTClient, filter: string) =>
    next(client.subscriptions$, `the SUBACK for ${filter}`, (list) => list.some((s) => s.filter === filter && s.grantedQos !== undefined))
  const released = (client: MQTTClient, filter: string) =>
    next(client.subscriptions$, `the release of ${filter}`, (list) => !list.some((s) => s.filter === filter))

  function mount(component: Parameters<typeof createApp>[0], provide?: MQTTClient) {
    const container = dom.document.createElement('div')
    dom.document.body.appendChild(container)
    const app = createApp(component)
    if (provide) app.provide(MQTT_CLIENT, provide)
    app.mount(container as unknown as Element)
    apps.push(app)
    return {
      text: () => container.textContent,
      unmount: () => {
        apps.splice(apps.indexOf(app), 1)
        app.unmount()
      },
    }
  }

  it('holds the retained value at once when the client already observes the filter, and releases it once when the scope ends', async () => {
    const { prefix, client, publisher } = await setup('scope')
    const filter = `${prefix}/temp`
    await publisher.publish(filter, '21.5', { qos: 1, retain: true })
    const other = client.observe(filter, { codec: 'text' }).subscribe()
    await arrival(client, filter, '21.5')

    const scope = effectScope()
    const temp = scope.run(() => useTopic(client, filter, { codec: 'text' }))!
    expect(temp.value?.payload).toBe('21.5')
    expect(temp.value?.retain).toBe(true)
    other.unsubscribe()
    await next(client.subscriptions$, 'one observer left', (l) => l[0]?.observers === 1)
    const live = await delivered(client, publisher, filter, '22')
    expect(temp.value?.payload).toBe(live.payload)

    scope.stop()
    await released(client, filter)
    await publisher.publish(filter, '23', { qos: 1 })
    expect(temp.value?.payload).toBe('22')
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[filter]])
    expect(packets.unsubscribes).toEqual([[filter]])
  })

  it('starts undefined for a filter the client does not observe, then gets the broker’s retained value', async () => {
    const { prefix, client, publisher } = await setup('cold')
    const filter = `${prefix}/temp`
    await publisher.publish(filter, '19', { qos: 1, retain: true })
    const scope = effectScope()
    const temp = scope.run(() => useTopic<{ c: number }>(client, filter, { codec: 'json' }))!
    expect(temp.value).toBeUndefined()
    await arrival(client, filter, '19')
    expect(temp.value?.payload).toEqual(19)
    scope.stop()
  })

  it('a cleared retained value (an empty retained publish) makes useTopic undefined; useMessages leaves it out', async () => {
    const { prefix, client, publisher } = await setup('cleared')
    const exact = `${prefix}/lamp/a`
    const wildcard = `${prefix}/lamp/+`
    await publisher.publish(exact, '{"on":true}', { qos: 1, retain: true })
    const scope = effectScope()
    const [one, any, all] = scope.run(() => [
      useTopic<{ on: boolean }>(client, exact, { codec: 'json' }),
      useTopic<{ on: boolean }>(client, wildcard, { codec: 'json' }),
      useMessages<{ on: boolean }>(client, wildcard, { codec: 'json' }),
    ] as const)!
    await arrival(client, exact, '{"on":true}')
    await subscribed(client, wildcard)
    await waitFor(() => any.value !== undefined, 'the retained value at the wildcard')
    expect([one.value?.payload, any.value?.payload]).toEqual([{ on: true }, { on: true }])
    // A clear of another topic than the one shown leaves the wildcard's value.
    const otherCleared = arrival(client, wildcard, '')
    await publisher.publish(`${prefix}/lamp/b`, '', { qos: 1, retain: true })
    await otherCleared
    expect(any.value?.payload).toEqual({ on: true })
    const cleared = Promise.all([arrival(client, exact, ''), arrival(client, wildcard, '')])
    await publisher.publish(exact, '', { qos: 1, retain: true })
    await cleared
    // Each subscription gets the clear, maybe in two reads: the second one's update waits for the frame's end.
    await waitFor(() => one.value === undefined && any.value === undefined, 'both refs cleared', 5_000).catch(() => undefined)
    expect([one.value, any.value]).toEqual([undefined, undefined])
    expect(all.value.map((m) => m.payload)).toEqual([{ on: true }])
    scope.stop()
  })

  it('switches filters when a ref changes: the old one released exactly once, the new one observed', async () => {
    const { prefix, client, publisher } = await setup('ref')
    const [a, b] = [`${prefix}/a`, `${prefix}/b`]
    await publisher.publish(b, 'b1', { qos: 1, retain: true })
    const filter = ref(a)
    const scope = effectScope()
    const latest = scope.run(() => useTopic(client, filter, { codec: 'text' }))!
    await subscribed(client, a)
    await delivered(client, publisher, a, 'a1')
    expect(latest.value?.payload).toBe('a1')

    filter.value = b
    await nextTick()
    expect(latest.value).toBeUndefined() // the old filter's value is gone with it
    await arrival(client, b, 'b1')
    expect(latest.value?.payload).toBe('b1')
    await released(client, a)
    await publisher.publish(a, 'a2', { qos: 1 })
    await delivered(client, publisher, b, 'b2')
    expect(latest.value?.payload).toBe('b2')
    scope.stop()
    await released(client, b)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[a], [b]])
    expect(packets.unsubscribes).toEqual([[a], [b]])
  })

  it('in components: a provided client, a getter on a prop, re-rendered on each message, released on unmount', async () => {
    const { prefix, client, publisher } = await setup('component')
    const room = ref('kitchen')
    const Temp = defineComponent({
      props: { room: { type: String, required: true } },
      setup(props) {
        const temp = useTopic(() => `${prefix}/${props.room}/temp`, { codec: 'text' })
        return () => h('span', `${props.room}:${temp.value?.payload ?? 'none'}`)
      },
    })
    const Status = defineComponent({
      setup() {
        const status = useStatus()
        return () => h('i', status.value.type)
      },
    })
    const Root = defineComponent({
      setup() {
        provideClient(client)
        return () => h('div', [h(Status), h(Temp, { room: room.value })])
      },
    })
    const view = mount(Root)
    expect(view.text()).toBe('connectedkitchen:none')
    await subscribed(client, `${prefix}/kitchen/temp`)
    await delivered(client, publisher, `${prefix}/kitchen/temp`, '21')
    await nextTick()
    expect(view.text()).toBe('connectedkitchen:21')

    room.value = 'hall'
    await nextTick()
    await released(client, `${prefix}/kitchen/temp`)
    await subscribed(client, `${prefix}/hall/temp`)
    await delivered(client, publisher, `${prefix}/hall/temp`, '18')
    await nextTick()
    expect(view.text()).toBe('connectedhall:18')

    view.unmount()
    await released(client, `${prefix}/hall/temp`)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[`${prefix}/kitchen/temp`], [`${prefix}/hall/temp`]])
    expect(packets.unsubscribes).toEqual([[`${prefix}/kitchen/temp`], [`${prefix}/hall/temp`]])
  })

  it('useMessages keeps the last N; useStatus follows the client to closed; useClient gives the app’s client', async () => {
    const { prefix, client, publisher } = await setup('messages')
    const filter = `${prefix}/events/+`
    let own: MQTTClient | undefined
    const Feed = defineComponent({
      setup() {
        own = useClient()
        const events = useMessages(filter, { codec: 'text', limit: 3 })
        const status = useStatus()
        return () => h('p', [status.value.type, ...events.value.map((m) => `|${m.params[0]}:${m.payload}`)])
      },
    })
    const view = mount(Feed, client)
    expect(own).toBe(client)
    await subscribed(client, filter)
    const last = arrival(client, filter, 'e9')
    for (let i = 0; i < 10; i++) await publisher.publish(`${prefix}/events/d${i % 2}`, `e${i}`, { qos: 1 })
    await last
    await nextTick()
    expect(view.text()).toBe('connected|d1:e7|d0:e8|d1:e9')
    await client.end()
    await waitForStatus(client, 'closed')
    await nextTick()
    expect(view.text()).toBe('closed|d1:e7|d0:e8|d1:e9')
    expect(() => effectScope().run(() => useMessages(client, filter, { limit: 0 }))).toThrow(RangeError)
  })

  it('sends a malformed filter to Vue’s error handling, and needs a client when none is provided', async () => {
    const { client } = await setup('errors')
    const captured: unknown[] = []
    const Bad = defineComponent({
      setup() {
        const topic = useTopic(client, 'bad/#/filter')
        return () => h('span', String(topic.value))
      },
    })
    const Parent = defineComponent({
      errorCaptured(error: unknown) {
        captured.push(error)
        return false
      },
      setup() {
        return () => h(Bad)
      },
    })
    mount(Parent)
    expect(captured[0]).toBeInstanceOf(InvalidTopicError)
    expect(() => effectScope().run(() => useTopic('a/b'))).toThrow(/provideClient/)
  })
})
