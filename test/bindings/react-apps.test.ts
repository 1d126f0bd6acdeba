// iotpubsub/react as apps use it (React 19), against a private Mosquitto: StrictMode,
// quick filter changes, unmount while a retained value is in flight, many readers of one filter, the
// provider's client replaced or ended.
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
const React = await import('react')
const { createRoot } = await import('react-dom/client')
const { MqttProvider, useTopic, useMessages, useStatus } = await import('../../lib/react/index.js')
const { createElement: h, StrictMode } = React
const act = React.act
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

describe.skipIf(noMosquitto())('iotpubsub/react in apps', () => {
  let broker: Mosquitto
  const pool = new ClientPool('apps-react')
  const roots: { unmount(): void }[] = []
  const unhandled: unknown[] = []
  const consoleErrors: unknown[][] = []
  let spy: ReturnType<typeof vi.spyOn> | undefined

  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
  })
  afterEach(async () => {
    for (const root of roots.splice(0)) await act(async () => root.unmount())
    dom.document.body.replaceChildren()
    await pool.endAll()
    config.onUnhandledError = null
    spy?.mockRestore()
  })
  afterAll(async () => {
    await broker?.dispose()
    await dom.dispose()
  })

  const setup = async (name: string) => {
    unhandled.length = 0
    consoleErrors.length = 0
    config.onUnhandledError = (e) => unhandled.push(e)
    spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleErrors.push(args))
    const prefix = uniquePrefix(`apps-react-${name}`)
    const [client, publisher] = await Promise.all([pool.connected(broker.tcpUrl), pool.connected(broker.tcpUrl)])
    return { prefix, client, publisher }
  }

  async function mount(element: React.ReactNode) {
    const container = dom.document.createElement('div')
    dom.document.body.appendChild(container)
    const root = createRoot(container as unknown as Element)
    roots.push(root)
    await act(async () => root.render(element))
    return {
      root,
      text: () => container.textContent,
      render: (el: React.ReactNode) => act(async () => root.render(el)),
      unmount: async () => {
        roots.splice(roots.indexOf(root), 1)
        await act(async () => root.unmount())
      },
    }
  }

  const during = <T,>(wait: () => Promise<T>): Promise<T> => {
    let result!: T
    return Promise.resolve(act(async () => void (result = await wait()))).then(() => result)
  }
  const arrival = (client: MQTTClient, filter: string, payload: string) =>
    next(client.observe(filter, { codec: 'text' }), `${payload} on ${filter}`, (m) => m.payload === payload)
  const subscribed = (client: MQTTClient, filter: string) =>
    next(client.subscriptions$, `the SUBACK for ${filter}`, (list) => list.some((s) => s.filter === filter && s.grantedQos !== undefined))
  const onlyFilters = (client: MQTTClient, filters: string[], observers = 1) =>
    next(client.subscriptions$, `subscriptions exactly ${filters.join(',')}`, (list) =>
      list.length === filters.length && filters.every((f) => list.some((s) => s.filter === f && s.observers === observers)),
    )
  const none = (client: MQTTClient) => next(client.subscriptions$, 'no subscription left', (list) => list.length === 0)

  function Latest(props: { client?: MQTTClient; filter: string; codec?: 'text' | 'json'; log?: (string | undefined)[] }) {
    const message = props.client
      ? useTopic(props.client, props.filter, { codec: 'text', throttle: false })
      : useTopic(props.filter, { codec: (props.codec ?? 'text') as 'text', throttle: false })
    props.log?.push(message === undefined ? undefined : String(message.payload))
    return h('span', null, message === undefined ? 'none' : typeof message.payload === 'string' ? message.payload : JSON.stringify(message.payload))
  }

  it('StrictMode, several filters under a provider: one SUBSCRIBE per filter while mounted, one UNSUBSCRIBE each after the last unmount', async () => {
    const { prefix, client } = await setup('strict-many')
    const [a, b] = [`${prefix}/a`, `${prefix}/b`]
    const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Latest, { filter: a }), h(Latest, { filter: a }), h(Latest, { filter: b }), h(Latest, { client, filter: b }))))
    await subscribed(client, a)
    await subscribed(client, b)
    const list = await next(client.subscriptions$, 'a and b', (l) => l.length === 2)
    expect(list.find((s) => s.filter === a)!.observers).toBe(1) // one shared store
    // useTopic(client, …) with the provider's own client reads the provider's store too.
    expect(list.find((s) => s.filter === b)!.observers).toBe(1)
    await view.unmount()
    await none(client)
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes.flat().sort()).toEqual([a, b])
    expect(packets.unsubscribes.flat().sort()).toEqual([a, b])
    expect(unhandled).toEqual([])
  })

  for (const form of ['provider', 'client argument'] as const) {
    it(`a filter prop changing a → b → a in quick renders: a wins, b is released, no packet storm (${form}, StrictMode)`, async () => {
      const { prefix, client, publisher } = await setup(`aba-${form === 'provider' ? 'p' : 'c'}`)
      const [a, b] = [`${prefix}/a`, `${prefix}/b`]
      await publisher.publish(a, 'a-retained', { qos: 1, retain: true })
      await publisher.publish(b, 'b-retained', { qos: 1, retain: true })
      const tree = (filter: string) => h(StrictMode, null, form === 'provider' ? h(MqttProvider, { client }, h(Latest, { filter })) : h(Latest, { client, filter }))
      const view = await mount(tree(a))
      await during(() => arrival(client, a, 'a-retained'))
      expect(view.text()).toBe('a-retained')
      // Two commits in a row, with no macrotask between them (as two quick state changes).
      act(() => view.root.render(tree(b)))
      act(() => view.root.render(tree(a)))
      await onlyFilters(client, [a])
      expect(view.text()).toBe('a-retained')
      await during(async () => {
        const arrived = arrival(client, a, 'a-live')
        await publisher.publish(b, 'b-live', { qos: 1 })
        await publisher.publish(a, 'a-live', { qos: 1 })
        await arrived
      })
      expect(view.text()).toBe('a-live')
      const packets = await settledPackets(broker, client, prefix)
      // a was never released: its one SUBSCRIBE; b at most subscribed and released once.
      expect(packets.subscribes.flat().filter((f) => f === a)).toEqual([a])
      expect(packets.unsubscribes.flat().filter((f) => f === a)).toEqual([])
      expect(packets.subscribes.flat().filter((f) => f === b).length).toBe(packets.unsubscribes.flat().filter((f) => f === b).length)
      await view.unmount()
      await none(client)
      expect(unhandled).toEqual([])
    })
  }

  it('unmounting while the first (retained) message is in flight: no update after unmount, no subscription left', async () => {
    const { prefix, client, publisher } = await setup('inflight')
    const filter = `${prefix}/state`
    await publisher.publish(filter, 'stored', { qos: 1, retain: true })
    const log: (string | undefined)[] = []
    const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Latest, { filter, log }))))
    // Unmounted before the SUBACK and the retained value can have come back.
    await view.unmount()
    const seenAtUnmount = log.length
    await none(client)
    // The broker has handled the SUBSCRIBE and UNSUBSCRIBE; a message after that reaches nobody.
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes.length).toBe(packets.unsubscribes.length)
    await publisher.publish(filter, 'later', { qos: 1 })
    await settledPackets(broker, client, prefix)
    expect(log.length).toBe(seenAtUnmount)
    expect(consoleErrors).toEqual([])
    expect(unhandled).toEqual([])
  })

  it('many readers of one filter: one unmounting leaves the others receiving; a clear empties them; a DecodeError skips the message', async () => {
    const { prefix, client, publisher } = await setup('many')
    const filter = `${prefix}/lamp`
    const errors: unknown[] = []
    const errSub = client.errors$.subscribe((e) => errors.push(e))
    const tree = (n: number) =>
      h(
        MqttProvider,
        { client },
        ...Array.from({ length: n }, (_, i) => h(Latest, { key: `p${i}`, filter, codec: 'json' })),
        ...Array.from({ length: n }, (_, i) => h(Latest, { key: `c${i}`, client, filter })),
      )
    const view = await mount(h(StrictMode, null, tree(3)))
    await subscribed(client, filter)
    await during(async () => {
      const arrived = arrival(client, filter, '1')
      await publisher.publish(filter, '1', { qos: 1, retain: true })
      await arrived
    })
    expect(view.text()).toBe('111111')
    await view.render(h(StrictMode, null, tree(2)))
    await during(async () => {
      const arrived = arrival(client, filter, '2')
      await publisher.publish(filter, '2', { qos: 1, retain: true })
      await arrived
    })
    expect(view.text()).toBe('2222')
    // Not JSON: the json readers keep 2 and a DecodeError goes to errors$; the text readers show it.
    await during(async () => {
      const arrived = arrival(client, filter, 'oops')
      await publisher.publish(filter, 'oops', { qos: 1 })
      await arrived
    })
    await waitFor(() => errors.some((e) => e instanceof DecodeError), 'the DecodeError')
    expect(view.text()).toBe('22oopsoops')
    // A clear: every reader shows undefined.
    await during(async () => {
      const arrived = next(client.observe(filter, { cleared: true }), 'the clear', (m) => m.cleared === true)
      await publisher.publish(filter, '', { qos: 1, retain: true })
      await arrived
    })
    expect(view.text()).toBe('nonenonenonenone')
    errSub.unsubscribe()
    expect(unhandled).toEqual([])
  })

  it('the provider gets a new client: components move to it, the old one is released; ending the old one changes nothing', async () => {
    const { prefix, client, publisher } = await setup('swap')
    const other = await pool.connected(broker.tcpUrl)
    const filter = `${prefix}/temp`
    function Both() {
      const status = useStatus()
      const m = useTopic(filter, { codec: 'text', throttle: false })
      const all = useMessages(filter, { codec: 'text', throttle: false })
      return h('span', null, `${status.type}:${m?.payload ?? 'none'}:${all.length}`)
    }
    const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Both))))
    await subscribed(client, filter)
    await during(async () => {
      const arrived = arrival(client, filter, 'old')
      await publisher.publish(filter, 'old', { qos: 1 })
      await arrived
    })
    expect(view.text()).toBe('connected:old:1')
    await view.render(h(StrictMode, null, h(MqttProvider, { client: other }, h(Both))))
    await subscribed(other, filter)
    await none(client)
    await during(async () => {
      const arrived = arrival(other, filter, 'new')
      await publisher.publish(filter, 'new', { qos: 1 })
      await arrived
    })
    expect(view.text()).toBe('connected:new:1')
    await during(() => client.end())
    expect(view.text()).toBe('connected:new:1')
    expect(unhandled).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('the provider’s client ends: the last value stays, also for a new sibling reading the same filter', async () => {
    const { prefix, client, publisher } = await setup('ended')
    const filter = `${prefix}/temp`
    const tree = (key: string, extra = false) =>
      h(MqttProvider, { client }, h(Latest, { key: 'stay', filter }), h(Latest, { key, filter }), extra ? h(Latest, { key: 'extra', filter }) : null)
    const view = await mount(tree('k1'))
    await subscribed(client, filter)
    await during(async () => {
      const arrived = arrival(client, filter, 'last')
      await publisher.publish(filter, 'last', { qos: 1 })
      await arrived
    })
    expect(view.text()).toBe('lastlast')
    await during(() => client.end())
    await waitForStatus(client, 'closed')
    expect(view.text()).toBe('lastlast')
    // A new sibling of the same filter: the shared store still has the last value.
    let thrown: unknown
    try {
      await view.render(tree('k1', true))
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeUndefined()
    expect(view.text()).toBe('lastlastlast')
  })

  it('the provider’s client ends, then a reader is re-keyed (its only component unmounts and mounts in one commit): no exception, the last value stays', async () => {
    const { prefix, client, publisher } = await setup('ended-rekey')
    const filter = `${prefix}/temp`
    const tree = (key: string) => h(MqttProvider, { client }, h(Latest, { key, filter }))
    const view = await mount(tree('k1'))
    await subscribed(client, filter)
    await during(async () => {
      const arrived = arrival(client, filter, 'last')
      await publisher.publish(filter, 'last', { qos: 1 })
      await arrived
    })
    expect(view.text()).toBe('last')
    await during(() => client.end())
    await waitForStatus(client, 'closed')
    let thrown: unknown
    try {
      await view.render(tree('k2'))
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeUndefined()
    expect(consoleErrors.flat().map(String).filter((s) => /ClientClosedError|ended/.test(s))).toEqual([])
    expect(view.text()).toBe('last')
  })

  it('the client ends, then a reader’s filter prop changes (client argument, no provider): no exception out of render', async () => {
    const { prefix, client } = await setup('ended-switch')
    const [a, b] = [`${prefix}/a`, `${prefix}/b`]
    const view = await mount(h(Latest, { client, filter: a }))
    await subscribed(client, a)
    await during(() => client.end())
    await waitForStatus(client, 'closed')
    let thrown: unknown
    try {
      await view.render(h(Latest, { client, filter: b }))
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeUndefined()
    expect(view.text()).toBe('none')
  })

  it('StrictMode mount before the client has connected: one SUBSCRIBE after the CONNACK, the retained value shown, one UNSUBSCRIBE on unmount', async () => {
    const { prefix, publisher } = await setup('connecting')
    const filter = `${prefix}/state`
    await publisher.publish(filter, 'stored', { qos: 1, retain: true })
    const client = pool.connect(broker.tcpUrl)
    function Both() {
      const status = useStatus()
      const m = useTopic(filter, { codec: 'text', throttle: false })
      return h('span', null, `${status.type}:${m?.payload ?? 'none'}`)
    }
    const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Both))))
    await during(() => arrival(client, filter, 'stored'))
    await waitFor(() => view.text() === 'connected:stored', 'connected and the stored value')
    const packets = await settledPackets(broker, client, prefix)
    expect(packets.subscribes).toEqual([[filter]])
    await view.unmount()
    await none(client)
    expect((await settledPackets(broker, client, prefix)).unsubscribes).toEqual([[filter]])
    expect(unhandled).toEqual([])
  })
})
