// The iotpubsub/react suite, run once per React version (react-19.test.ts, react-18.test.ts): the hooks
// render real messages from a private Mosquitto through the SDK's Node entry, in a happy-dom document.
// SUBSCRIBE and UNSUBSCRIBE are counted in the broker's own log.
import type * as ReactModule from 'react'
import type { createRoot as CreateRoot, Root } from 'react-dom/client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type * as Hooks from '../../lib/react/index.js'
import { asapScheduler, BehaviorSubject, defer, delay, EMPTY, Observable, observeOn, of, Subject } from 'rxjs'
import { InvalidTopicError, SubscriptionRejectedError, type Message, type MQTTClient, type Status, type SubscriptionInfo } from '../../lib/node.js'
import { noMosquitto } from '../support/binaries.js'
import { ClientPool, waitForStatus } from '../support/clients.js'
import { Mosquitto } from '../support/mosquitto.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'
import { settledPackets } from './broker-log.js'
import type { Dom } from './dom.js'

export interface ReactKit {
  readonly React: typeof ReactModule
  readonly createRoot: typeof CreateRoot
  readonly hooks: typeof Hooks
  readonly dom: Dom
}

type ActGlobal = typeof globalThis & { IS_REACT_ACT_ENVIRONMENT?: boolean }

export function reactSuite({ React, createRoot, hooks, dom }: ReactKit): void {
  const { createElement: h, StrictMode, Component, useLayoutEffect, useState } = React
  const { MqttProvider, useClient, useMessages, useStatus, useTopic } = hooks
  const act = React.act
  const actGlobal = globalThis as ActGlobal

  describe.skipIf(noMosquitto())(`iotpubsub/react on React ${React.version}`, () => {
    let broker: Mosquitto
    const pool = new ClientPool('react-hooks')
    const roots: Root[] = []

    beforeAll(async () => {
      actGlobal.IS_REACT_ACT_ENVIRONMENT = true
      broker = await Mosquitto.start({ persistence: false, extra: ['log_type all'] })
    })
    afterEach(async () => {
      actGlobal.IS_REACT_ACT_ENVIRONMENT = true
      for (const root of roots.splice(0)) await act(async () => root.unmount())
      dom.document.body.replaceChildren()
      await pool.endAll()
    })
    afterAll(async () => {
      await broker?.dispose()
    })

    async function mount(element: ReactModule.ReactNode) {
      const container = dom.document.createElement('div')
      dom.document.body.appendChild(container)
      const root = createRoot(container as unknown as Element)
      roots.push(root)
      await act(async () => root.render(element))
      return {
        container,
        text: () => container.textContent,
        render: (next: ReactModule.ReactNode) => act(async () => root.render(next)),
        unmount: async () => {
          roots.splice(roots.indexOf(root), 1)
          await act(async () => root.unmount())
        },
      }
    }

    /**
     * Runs `wait` inside act, so that the renders the awaited messages cause are flushed when it resolves.
     * `wait` must wait for the client (a message's arrival), not for a render: React 18's act holds renders
     * back until its callback is done.
     */
    const during = <T>(wait: () => Promise<T>): Promise<T> => {
      let result!: T
      return Promise.resolve(act(async () => void (result = await wait()))).then(() => result)
    }

    /** A message on `topic` reaching `client` (through an observer of its own, so the hooks' share it). */
    const arrival = (client: MQTTClient, filter: string, payload: string) =>
      next(client.observe(filter, { codec: 'text' }), `${payload} on ${filter}`, (m) => m.payload === payload)

    /** The broker has confirmed the client's subscription to `filter`: a publish from another client now reaches it. */
    const subscribed = (client: MQTTClient, filter: string) =>
      next(client.subscriptions$, `the SUBACK for ${filter}`, (list) => list.some((s) => s.filter === filter && s.grantedQos !== undefined))

    const setup = async (name: string) => {
      const prefix = uniquePrefix(`react${React.version.split('.')[0]}-${name}`)
      const [client, publisher] = await Promise.all([pool.connected(broker.tcpUrl), pool.connected(broker.tcpUrl)])
      return { prefix, client, publisher }
    }

    /** React reports the render errors a boundary caught on the console; those the test expects are kept quiet. */
    async function withQuietConsole<T>(run: () => Promise<T>): Promise<T> {
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
      try {
        return await run()
      } finally {
        quiet.mockRestore()
      }
    }

    /** Shows the latest text payload; `renders` gets what each render saw. */
    function Latest(props: { client?: MQTTClient; filter: string; renders?: (string | undefined)[]; tick?: number; qos?: 0 | 1 }) {
      const message = props.client
        ? useTopic(props.client, props.filter, { codec: 'text', qos: props.qos ?? 0 })
        : useTopic(props.filter, { codec: 'text', qos: props.qos ?? 0 })
      props.renders?.push(message?.payload)
      return h('span', { className: 'latest' }, message ? message.payload : 'none')
    }

    describe('the retained value on the first render', () => {
      for (const form of ['client argument', 'provider'] as const) {
        it(`shows it on the very first render when the client already observes the filter (${form}, StrictMode)`, async () => {
          const { prefix, client, publisher } = await setup('retained')
          const filter = `${prefix}/temp`
          await publisher.publish(filter, '21.5', { qos: 1, retain: true })
          // Another part of the app observes the filter, and the client has its retained message.
          const held: Message<string>[] = []
          const sub = client.observe(filter, { codec: 'text' }).subscribe((m) => held.push(m))
          await waitFor(() => held.length === 1, 'the retained message')

          const renders: (string | undefined)[] = []
          const latest = form === 'provider' ? h(MqttProvider, { client }, h(Latest, { filter, renders })) : h(Latest, { client, filter, renders })
          const view = await mount(h(StrictMode, null, latest))
          expect(renders[0]).toBe('21.5')
          expect(renders.every((r) => r === '21.5')).toBe(true)
          expect(view.text()).toBe('21.5')
          // Taking the value cost no packet: the client's one SUBSCRIBE is the first observer's.
          const packets = await settledPackets(broker, client, prefix)
          expect(packets.subscribes).toEqual([[filter]])
          expect(packets.unsubscribes).toEqual([])
          sub.unsubscribe()
        })
      }

      it('under a provider, shows a component mounted later the latest value, live or retained, on its first render', async () => {
        const { prefix, client, publisher } = await setup('later')
        const filter = `${prefix}/state`
        const view = await mount(h(MqttProvider, { client }, h(Latest, { filter })))
        await subscribed(client, filter)
        await during(async () => {
          const arrived = arrival(client, filter, 'on')
          await publisher.publish(filter, 'on', { qos: 1 })
          await arrived
        })
        expect(view.text()).toBe('on')
        const renders: (string | undefined)[] = []
        await view.render(h(MqttProvider, { client }, h(Latest, { filter }), h(StrictMode, null, h(Latest, { filter, renders }))))
        expect(renders[0]).toBe('on')
        expect(view.text()).toBe('onon')
      })

      it('without a provider, shows a component mounted later the retained value the client holds, on its first render', async () => {
        const { prefix, client, publisher } = await setup('later-own')
        const filter = `${prefix}/state`
        await publisher.publish(filter, 'off', { qos: 1, retain: true })
        await mount(h(Latest, { client, filter }))
        await during(() => arrival(client, filter, 'off'))
        const renders: (string | undefined)[] = []
        const late = await mount(h(StrictMode, null, h(Latest, { client, filter, renders })))
        expect(renders[0]).toBe('off')
        expect(late.text()).toBe('off')
        const packets = await settledPackets(broker, client, prefix)
        expect(packets.subscribes).toEqual([[filter]])
      })

      it('without a provider, shows a component mounted after a live retained update the new stored value, asked of the broker', async () => {
        const { prefix, client, publisher } = await setup('later-live')
        const filter = `${prefix}/state`
        await publisher.publish(filter, 'off', { qos: 1, retain: true })
        await mount(h(Latest, { client, filter }))
        await during(() => arrival(client, filter, 'off'))
        await during(async () => {
          const arrived = arrival(client, filter, 'on')
          await publisher.publish(filter, 'on', { qos: 1, retain: true })
          await arrived
        })
        // Forwarded live, `retain: false`: the client cannot know it is the stored value, and asks the broker.
        const renders: (string | undefined)[] = []
        const late = await mount(h(StrictMode, null, h(Latest, { client, filter, renders })))
        await during(() => arrival(client, filter, 'on'))
        expect(late.text()).toBe('on')
        expect(renders.filter((r) => r !== undefined)).toEqual(renders.filter((r) => r === 'on'))
      })

      it('renders undefined first when the client does not observe the filter yet, then the retained value', async () => {
        const { prefix, client, publisher } = await setup('cold')
        const filter = `${prefix}/temp`
        await publisher.publish(filter, '19', { qos: 1, retain: true })
        const renders: (string | undefined)[] = []
        const view = await mount(h(StrictMode, null, h(Latest, { client, filter, renders })))
        expect(renders[0]).toBeUndefined()
        await during(() => arrival(client, filter, '19'))
        expect(renders).toContain('19')
        expect(view.text()).toBe('19')
      })
    })

    describe('one broker subscription per component, whatever React does', () => {
      for (const form of ['client argument', 'provider'] as const) {
        it(`sends exactly one SUBSCRIBE under StrictMode and none again over 200 re-renders with inline options (${form})`, async () => {
          const { prefix, client, publisher } = await setup('strict')
          const filter = `${prefix}/level`
          const tree = (tick: number) =>
            h(StrictMode, null, form === 'provider' ? h(MqttProvider, { client }, h(Latest, { filter, tick, qos: 1 })) : h(Latest, { client, filter, tick, qos: 1 }))
          const view = await mount(tree(0))
          await subscribed(client, filter)
          for (let tick = 1; tick <= 200; tick++) {
            await view.render(tree(tick))
            if (tick % 50 === 0) {
              await during(async () => {
                const arrived = arrival(client, filter, `v${tick}`)
                await publisher.publish(filter, `v${tick}`, { qos: 1 })
                await arrived
              })
              expect(view.text()).toBe(`v${tick}`)
            }
          }
          const info = await next(client.subscriptions$, 'the subscription', (list) => list.length === 1)
          expect(info).toEqual([expect.objectContaining({ filter, requestedQos: 1, observers: 1 })])
          let packets = await settledPackets(broker, client, prefix)
          expect(packets.subscribes).toEqual([[filter]])
          expect(packets.unsubscribes).toEqual([])

          await view.unmount()
          await next(client.subscriptions$, 'the release', (list) => list.length === 0)
          packets = await settledPackets(broker, client, prefix)
          expect(packets.subscribes).toEqual([[filter]])
          expect(packets.unsubscribes).toEqual([[filter]])
        })
      }

      it('releases the old filter exactly once when the filter prop changes, and shows only the new one', async () => {
        const { prefix, client, publisher } = await setup('switch')
        const [a, b] = [`${prefix}/a`, `${prefix}/b`]
        await publisher.publish(b, 'b1', { qos: 1, retain: true })
        const view = await mount(h(StrictMode, null, h(Latest, { client, filter: a })))
        await subscribed(client, a)
        await during(async () => {
          const arrived = arrival(client, a, 'a1')
          await publisher.publish(a, 'a1', { qos: 1 })
          await arrived
        })
        expect(view.text()).toBe('a1')
        await view.render(h(StrictMode, null, h(Latest, { client, filter: b })))
        await during(() => arrival(client, b, 'b1'))
        expect(view.text()).toBe('b1')
        await next(client.subscriptions$, 'only the new filter', (list) => list.length === 1 && list[0]!.filter === b)
        // A message on the old filter no longer reaches the component.
        await publisher.publish(a, 'a2', { qos: 1 })
        await during(async () => {
          const arrived = arrival(client, b, 'b2')
          await publisher.publish(b, 'b2', { qos: 1 })
          await arrived
        })
        expect(view.text()).toBe('b2')
        const packets = await settledPackets(broker, client, prefix)
        expect(packets.subscribes).toEqual([[a], [b]])
        expect(packets.unsubscribes).toEqual([[a]])
      })

      it('shares one observer between components under a provider, one each without', async () => {
        const { prefix, client } = await setup('share')
        const filter = `${prefix}/shared`
        const shared = await mount(h(MqttProvider, { client }, h(Latest, { filter }), h(Latest, { filter }), h(Latest, { filter })))
        expect((await next(client.subscriptions$, 'the subscription', (l) => l.length === 1))[0]!.observers).toBe(1)
        await shared.unmount()
        await mount(h('div', null, h(Latest, { client, filter }), h(Latest, { client, filter })))
        expect((await next(client.subscriptions$, 'two observers', (l) => l[0]?.observers === 2))[0]!.filter).toBe(filter)
        const packets = await settledPackets(broker, client, prefix)
        expect(packets.subscribes.length).toBe(packets.unsubscribes.length + 1)
      })
    })

    it('never tears: two components reading one topic render the same value in every commit of a 1,000-message burst', async () => {
      const { prefix, client, publisher } = await setup('burst')
      const filter = `${prefix}/counter`
      for (const form of ['client argument', 'provider'] as const) {
        const torn: string[] = []
        const commits = new Set<string>()
        function Reader(props: { id: string }) {
          const message = form === 'provider' ? useTopic(filter, { codec: 'text', qos: 1 }) : useTopic(client, filter, { codec: 'text', qos: 1 })
          const value = message?.payload ?? 'none'
          // Layout effects run after every DOM change of the commit: the other reader's text is final here.
          useLayoutEffect(() => {
            const texts = [...dom.document.querySelectorAll('.reader')].map((el) => el.textContent)
            if (new Set(texts).size !== 1) torn.push(texts.join(' ≠ '))
            commits.add(value)
          })
          return h('b', { className: 'reader', 'data-id': props.id }, value)
        }
        const readers = h('div', null, h(Reader, { id: 'a' }), h(Reader, { id: 'b' }))
        const view = await mount(form === 'provider' ? h(MqttProvider, { client }, readers) : readers)
        await subscribed(client, filter)
        // Outside act: React schedules the renders itself while the burst arrives, as in a browser.
        actGlobal.IS_REACT_ACT_ENVIRONMENT = false
        await Promise.all(Array.from({ length: 1000 }, (_, i) => publisher.publish(filter, `${form}-${i}`, { qos: 1 })))
        await waitFor(() => view.text() === `${form}-999${form}-999`, `both readers at ${form}-999`, 20_000)
        actGlobal.IS_REACT_ACT_ENVIRONMENT = true
        expect(torn).toEqual([])
        expect(commits.size).toBeGreaterThan(1)
        await view.unmount()
      }
    }, 40_000)

    it('a hot topic re-renders at most once per frame (or throttle interval), ending on the latest message', async () => {
      const { prefix, client, publisher } = await setup('hot')
      const filter = `${prefix}/counter`
      const renders: number[] = []
      function Reader() {
        const message = useTopic(client, filter, { codec: 'text', qos: 1, throttle: 20 })
        if (message) renders.push(performance.now())
        return h('b', null, message?.payload ?? 'none')
      }
      const view = await mount(h(Reader))
      await subscribed(client, filter)
      actGlobal.IS_REACT_ACT_ENVIRONMENT = false
      await Promise.all(Array.from({ length: 1000 }, (_, i) => publisher.publish(filter, `m${i}`, { qos: 1 })))
      await waitFor(() => view.text() === 'm999', 'the reader at m999', 20_000)
      actGlobal.IS_REACT_ACT_ENVIRONMENT = true
      // One render opens a window of at least 20 ms; changes within it render once at its end.
      const span = (renders.at(-1) ?? 0) - (renders[0] ?? 0)
      expect(renders.length).toBeLessThanOrEqual(Math.ceil(span / 20) + 2)
      expect(renders.length).toBeLessThan(1000)
      await view.unmount()
    }, 40_000)

    it('useMessages keeps the last N messages, oldest first, with inline options', async () => {
      const { prefix, client, publisher } = await setup('messages')
      const filter = `${prefix}/events/+`
      function Feed() {
        const messages = useMessages(client, filter, { codec: 'text', limit: 5, qos: 1 })
        return h('ol', null, messages.map((m, i) => h('li', { key: i }, `${m.params[0]}:${m.payload}`)))
      }
      const view = await mount(h(StrictMode, null, h(Feed)))
      await subscribed(client, filter)
      await during(async () => {
        const arrived = arrival(client, filter, 'e19')
        for (let i = 0; i < 20; i++) await publisher.publish(`${prefix}/events/d${i % 2}`, `e${i}`, { qos: 1 })
        await arrived
      })
      // The last render may wait for the end of the frame the hook coalesces into (after act has returned).
      const items = () => [...view.container.querySelectorAll('li')].map((li) => li.textContent).join(' ')
      await waitFor(() => items() === 'd1:e15 d0:e16 d1:e17 d0:e18 d1:e19', 'the feed at e19', 5_000).catch(() => undefined)
      expect([...view.container.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['d1:e15', 'd0:e16', 'd1:e17', 'd0:e18', 'd1:e19'])
      expect(() => useMessagesWithBadLimit()).toThrow(RangeError)
      const packets = await settledPackets(broker, client, prefix)
      expect(packets.subscribes).toEqual([[filter]])
    })

    it('a cleared retained value (an empty retained publish) makes useTopic undefined; useMessages leaves it out', async () => {
      const { prefix, client, publisher } = await setup('cleared')
      const exact = `${prefix}/lamp/a`
      const wildcard = `${prefix}/lamp/+`
      await publisher.publish(exact, 'on', { qos: 1, retain: true })
      function Feed() {
        const messages = useMessages(client, wildcard, { codec: 'text', qos: 1 })
        return h('ol', null, messages.map((m, i) => h('li', { key: i }, `${m.params[0]}:${m.payload}`)))
      }
      const one = await mount(h(StrictMode, null, h(Latest, { client, filter: exact, qos: 1 })))
      const any = await mount(h(StrictMode, null, h(Latest, { client, filter: wildcard, qos: 1 })))
      const feed = await mount(h(StrictMode, null, h(Feed)))
      await during(() => arrival(client, exact, 'on'))
      await subscribed(client, wildcard)
      // The wildcard's retained value comes after its SUBACK, and renders after act has returned.
      await waitFor(() => any.text() === 'on', 'the retained value at the wildcard', 5_000).catch(() => undefined)
      expect([one.text(), any.text()]).toEqual(['on', 'on'])
      // A clear of another topic than the one shown leaves the wildcard's value.
      await during(async () => {
        const arrived = arrival(client, wildcard, '')
        await publisher.publish(`${prefix}/lamp/b`, '', { qos: 1, retain: true })
        await arrived
      })
      expect([one.text(), any.text()]).toEqual(['on', 'on'])
      await during(async () => {
        const arrived = Promise.all([arrival(client, exact, ''), arrival(client, wildcard, '')])
        await publisher.publish(exact, '', { qos: 1, retain: true })
        await arrived
      })
      // The exact and the wildcard subscription each get the clear, maybe in two reads: the second one's render
      // then waits for the end of the frame the first one opened (after act has returned).
      await waitFor(() => one.text() === 'none' && any.text() === 'none', 'both readers cleared', 5_000).catch(() => undefined)
      expect([one.text(), any.text()]).toEqual(['none', 'none'])
      expect([...feed.container.querySelectorAll('li')].map((li) => li.textContent)).toEqual(['a:on'])
    })

    /** A limit of 0 is refused before any hook runs, so it can be called outside a component. */
    const useMessagesWithBadLimit = () => useMessages({} as MQTTClient, 'x', { limit: 0 })

    it('useStatus has the current status on the first render and follows it to closed', async () => {
      const { client } = await setup('status')
      const renders: string[] = []
      function Badge(props: { own?: boolean }) {
        const status = props.own ? useStatus(client) : useStatus()
        renders.push(status.type)
        return h('i', null, status.type)
      }
      const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Badge), h(Badge, { own: true }))))
      expect(renders[0]).toBe('connected')
      expect(view.text()).toBe('connectedconnected')
      await during(() => client.end())
      expect(view.text()).toBe('closedclosed')
    })

    it('takes the client from the provider: useClient publishes, useTopic(filter) reads', async () => {
      const { prefix, client } = await setup('provider')
      const filter = `${prefix}/lamp`
      let publish: (() => Promise<void>) | undefined
      function Lamp() {
        const own = useClient()
        const [count, setCount] = useState(0)
        publish = () => own.publish(filter, `on-${count}`, { qos: 1 }).then(() => setCount((c) => c + 1))
        return h(Latest, { filter })
      }
      const view = await mount(h(StrictMode, null, h(MqttProvider, { client }, h(Lamp))))
      await during(async () => {
        const arrived = arrival(client, filter, 'on-0')
        await publish!()
        await arrived
      })
      expect(view.text()).toBe('on-0')
    })

    it('keeps the last value when the client ends, and throws a malformed filter to the error boundary', async () => {
      const { prefix, client, publisher } = await setup('errors')
      const filter = `${prefix}/last`
      const view = await mount(h(Latest, { client, filter }))
      await subscribed(client, filter)
      await during(async () => {
        const arrived = arrival(client, filter, 'final')
        await publisher.publish(filter, 'final', { qos: 1 })
        await arrived
      })
      await during(() => client.end())
      await waitForStatus(client, 'closed')
      expect(view.text()).toBe('final')

      const caught: unknown[] = []
      class Boundary extends Component<{ children?: ReactModule.ReactNode }, { failed: boolean }> {
        override state = { failed: false }
        static getDerivedStateFromError() {
          return { failed: true }
        }
        override componentDidCatch(error: unknown) {
          caught.push(error)
        }
        override render() {
          return this.state.failed ? h('em', null, 'failed') : this.props.children
        }
      }
      const other = await setup('errors-b')
      const failed = await withQuietConsole(() => mount(h(Boundary, null, h(Latest, { client: other.client, filter: `${prefix}/bad/#/filter` }))))
      expect(failed.text()).toBe('failed')
      expect(caught[0]).toBeInstanceOf(InvalidTopicError)
      const alone = await withQuietConsole(() => mount(h(Boundary, null, h(Latest, { filter }))))
      expect(alone.text()).toBe('failed')
      expect(String(caught[1])).toMatch(/MqttProvider/)
    })
  })

  describe(`iotpubsub/react on React ${React.version} with another implementation of MQTTClient`, () => {
    const roots: Root[] = []
    afterEach(async () => {
      for (const root of roots.splice(0)) await act(async () => root.unmount())
      dom.document.body.replaceChildren()
    })

    /**
     * A client of the public interface only, in memory: its status$ and subscriptions$ answer asynchronously
     * (no synchronous replay to lean on), and a filter named `refused` is refused as a broker would.
     */
    function memoryClient() {
      const topics = new Map<string, Subject<Message<unknown>>>()
      let refusals = new Subject<Message<unknown>>()
      const calls: string[] = []
      const status$ = new BehaviorSubject<Status>({ type: 'connected', url: 'memory://', sessionPresent: false, protocolVersion: 5 })
      const client = {
        url: 'memory://',
        urls: ['memory://'],
        clientId: 'memory',
        status$: status$.pipe(observeOn(asapScheduler)),
        errors$: EMPTY,
        subscriptions$: of<readonly SubscriptionInfo[]>([]).pipe(delay(0)),
        observe: (filter: string) => {
          calls.push(filter)
          if (filter === 'refused') return defer(() => refusals)
          return new Observable<Message<unknown>>((subscriber) => {
            let topic = topics.get(filter)
            if (!topic) topics.set(filter, (topic = new Subject()))
            return topic.subscribe(subscriber)
          })
        },
      } as unknown as MQTTClient
      const send = (filter: string, text: string) => {
        const raw = new TextEncoder().encode(text)
        topics.get(filter)?.next({ topic: filter, payload: text, raw, qos: 0, retain: false, params: [], ack: () => undefined, nack: () => undefined })
      }
      // As the client does on a refused SUBACK: every observer of the filter errors.
      const refuse = () => {
        const refused = refusals
        refusals = new Subject()
        refused.error(new SubscriptionRejectedError('refused', 135))
      }
      return { client, calls, send, refuse, status$ }
    }

    async function mountHere(element: ReactModule.ReactNode) {
      const container = dom.document.createElement('div')
      dom.document.body.appendChild(container)
      const root = createRoot(container as unknown as Element)
      roots.push(root)
      await act(async () => root.render(element))
      return { text: () => container.textContent, render: (next: ReactModule.ReactNode) => act(async () => root.render(next)) }
    }

    function Show(props: { filter: string }) {
      const message = useTopic(props.filter, { codec: 'text' })
      const status = useStatus()
      return h('span', null, `${status.type}:${message?.payload ?? 'none'}`)
    }

    it('renders what it delivers, and its status once it answers', async () => {
      const memory = memoryClient()
      const view = await mountHere(h(StrictMode, null, h(MqttProvider, { client: memory.client }, h(Show, { filter: 'a/b' }))))
      await act(async () => memory.send('a/b', 'hello'))
      expect(view.text()).toBe('connected:hello')
      await act(async () => memory.status$.next({ type: 'closed', error: undefined }))
      await act(() => new Promise<void>((resolve) => asapScheduler.schedule(() => resolve())))
      expect(view.text()).toBe('closed:hello')
      expect(memory.calls).toEqual(['a/b'])
    })

    it('throws a refused subscription to the error boundary, and a remount observes again', async () => {
      const memory = memoryClient()
      const caught: unknown[] = []
      class Boundary extends Component<{ children?: ReactModule.ReactNode; attempt: number }, { failed: boolean; attempt: number }> {
        override state = { failed: false, attempt: this.props.attempt }
        static getDerivedStateFromProps(props: { attempt: number }, state: { failed: boolean; attempt: number }) {
          return props.attempt === state.attempt ? null : { failed: false, attempt: props.attempt }
        }
        static getDerivedStateFromError() {
          return { failed: true }
        }
        override componentDidCatch(error: unknown) {
          caught.push(error)
        }
        override render() {
          return this.state.failed ? h('em', null, 'refused') : this.props.children
        }
      }
      const tree = (attempt: number) => h(MqttProvider, { client: memory.client }, h(Boundary, { attempt }, h(Show, { filter: 'refused' })))
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined)
      try {
        const view = await mountHere(tree(1))
        expect(view.text()).toBe('connected:none')
        await act(async () => memory.refuse())
        expect(view.text()).toBe('refused')
        expect(caught[0]).toBeInstanceOf(SubscriptionRejectedError)
        // A new attempt (the boundary reset) mounts the component again: a new store, a new observer.
        await view.render(tree(2))
        expect(memory.calls).toEqual(['refused', 'refused'])
        expect(view.text()).toBe('connected:none')
      } finally {
        quiet.mockRestore()
      }
    })
  })
}
