// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { DeviceStore } from '../../demo/src/devices.js'
import { Feed } from '../../demo/src/feed.js'
import { decodePayload } from '../../demo/src/payload.js'
import { RateMeter } from '../../demo/src/rate.js'
import { TopicTree } from '../../demo/src/topic-tree.js'
import { DevicesView } from '../../demo/src/ui/devices-view.js'
import { h } from '../../demo/src/ui/dom.js'
import { FeedView, feedRow } from '../../demo/src/ui/feed-view.js'
import { renderStatus } from '../../demo/src/ui/status-view.js'
import { SubscriptionsView, type SubscriptionRow } from '../../demo/src/ui/subscriptions-view.js'
import { TreeView } from '../../demo/src/ui/tree-view.js'

const payload = (text: string) => decodePayload(new TextEncoder().encode(text))
const push = (feed: Feed, topic: string, text: string, extra: { retain?: boolean; qos?: number } = {}) =>
  feed.push({ topic, payload: payload(text), qos: extra.qos ?? 0, retain: extra.retain ?? false, time: Date.UTC(2025, 0, 1, 12, 0, 0), via: '#' })
const topics = (list: HTMLElement) => [...list.querySelectorAll('.msg')].map((el) => el.getAttribute('data-topic'))

beforeEach(() => {
  document.body.replaceChildren()
})

describe('FeedView', () => {
  it('draws the newest first, pretty-prints JSON and never parses payloads as HTML', () => {
    const feed = new Feed()
    const list = h('ol')
    const view = new FeedView(feed, list, h('span'))
    push(feed, 'a', '{"temperature":21.5,"ok":true}', { qos: 1, retain: true })
    push(feed, 'b', '<img src=x onerror=alert(1)>')
    view.render()
    expect(topics(list)).toEqual(['b', 'a'])
    const [b, a] = [...list.children] as HTMLElement[]
    expect(b?.querySelector('img')).toBeNull()
    expect(b?.querySelector('.msg-payload')?.textContent).toBe('<img src=x onerror=alert(1)>')
    expect(a?.querySelector('.msg-payload')?.textContent).toBe('{"temperature": 21.5, "ok": true}')
    expect(a?.querySelector('.j-key')?.textContent).toBe('"temperature"')
    expect(a?.querySelector('.j-number')?.textContent).toBe('21.5')
    expect(a?.querySelector('.tag-retain')?.textContent).toBe('retained')
    expect(a?.textContent).toContain('QoS 1')
  })

  it('adds only new rows per render and trims to maxRows', () => {
    const feed = new Feed(1_000)
    const list = h('ol')
    const view = new FeedView(feed, list, h('span'), 5)
    push(feed, 't/0', '0')
    view.render()
    const first = list.firstElementChild
    for (let i = 1; i <= 3; i++) push(feed, `t/${i}`, String(i))
    view.render()
    expect(topics(list)).toEqual(['t/3', 't/2', 't/1', 't/0'])
    expect(list.lastElementChild).toBe(first) // kept, not redrawn
    for (let i = 4; i <= 2_000; i++) push(feed, `t/${i}`, String(i))
    view.render()
    expect(topics(list)).toEqual(['t/2000', 't/1999', 't/1998', 't/1997', 't/1996'])
  })

  it('stays still while paused, says how many arrived, and catches up on resume', () => {
    const feed = new Feed()
    const list = h('ol')
    const info = h('span')
    const view = new FeedView(feed, list, info)
    push(feed, 'a', '1')
    view.render()
    feed.pause()
    push(feed, 'b', '2')
    push(feed, 'c', '3')
    view.render()
    expect(topics(list)).toEqual(['a'])
    expect(info.textContent).toBe('Paused · 2 new')
    feed.resume()
    view.render()
    expect(topics(list)).toEqual(['c', 'b', 'a'])
    expect(info.textContent).toBe('3 received')
  })

  it('redraws when the filter changes', () => {
    const feed = new Feed()
    const list = h('ol')
    const info = h('span')
    const view = new FeedView(feed, list, info)
    push(feed, 'rooms/kitchen', '1')
    push(feed, 'rooms/hall', '2')
    view.render()
    feed.setFilter('kitchen')
    view.render()
    expect(topics(list)).toEqual(['rooms/kitchen'])
    expect(info.textContent).toBe('2 received · 1 shown')
    push(feed, 'rooms/hall', '3')
    push(feed, 'rooms/kitchen', '4')
    view.render()
    expect(topics(list)).toEqual(['rooms/kitchen', 'rooms/kitchen'])
  })

  it('marks long payloads so a click can open them', () => {
    const row = feedRow({ seq: 1, topic: 't', payload: payload(JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 'x'.repeat(60) })), qos: 0, retain: false, time: 0, via: '#' })
    expect(row.classList.contains('long')).toBe(true)
    expect(feedRow({ seq: 1, topic: 't', payload: payload(''), qos: 0, retain: false, time: 0, via: '#' }).textContent).toContain('(empty payload)')
  })
})

describe('TreeView', () => {
  it('draws levels with counts and latest values, expanded to the auto depth', () => {
    const tree = new TopicTree()
    const container = h('div')
    const view = new TreeView(tree, container, 1)
    tree.add('demo/devices/kitchen/status', payload('online'), 0, true)
    tree.add('demo/devices/kitchen/telemetry', payload('{"t":21}'), 0)
    tree.add('demo/hello', payload('hi'), 0)
    view.render()
    const names = () => [...container.querySelectorAll('.tree-name')].map((el) => el.textContent)
    expect(names()).toEqual(['demo', 'devices', 'hello'])
    const row = (path: string) => container.querySelector(`[data-path="${path}"] > .tree-row`) as HTMLElement
    expect(row('demo').querySelector('.tree-count')?.textContent).toBe('3 topics · 3 msgs')
    expect(row('demo/hello').querySelector('.tree-value')?.textContent).toBe('hi')
    expect(row('demo/hello').querySelector('.tree-count')?.textContent).toBe('1 msgs')

    row('demo/devices').click() // expand
    expect(names()).toEqual(['demo', 'devices', 'kitchen', 'hello'])
    row('demo/devices/kitchen').click()
    expect(names()).toContain('telemetry')
    expect(row('demo/devices/kitchen/status').querySelector('.tree-value')?.classList.contains('retained')).toBe(true)

    tree.add('demo/devices/kitchen/telemetry', payload('{"t":22}'), 1)
    view.render()
    expect(row('demo/devices/kitchen/telemetry').querySelector('.tree-value')?.textContent).toBe('{"t":22}')
    expect(row('demo/devices/kitchen/telemetry').querySelector('.tree-count')?.textContent).toBe('2 msgs')

    row('demo/devices').click() // collapse: the rows below go away
    expect(names()).toEqual(['demo', 'devices', 'hello'])
    tree.add('demo/devices/hall/status', payload('online'), 2)
    view.render()
    expect(names()).toEqual(['demo', 'devices', 'hello'])
    expect(row('demo/devices').querySelector('.tree-count')?.textContent).toBe('3 topics · 4 msgs')
  })

  it('inserts new topics in sorted order and summarises overly wide levels', () => {
    const tree = new TopicTree()
    const container = h('div')
    const view = new TreeView(tree, container, 3, 3)
    for (const name of ['s-3', 's-1', 's-10', 's-2', 's-5']) {
      tree.add(`load/${name}`, payload('1'), 0)
      view.render()
    }
    const names = [...container.querySelectorAll('[data-path="load"] .tree-children .tree-name')].map((el) => el.textContent)
    expect(names).toEqual(['s-1', 's-2', 's-3'])
    expect(container.querySelector('.tree-more')?.textContent).toBe('… 2 more')
  })
})

describe('DevicesView', () => {
  it('draws a card per device with readings, sparklines, status and command buttons', () => {
    const store = new DeviceStore()
    const container = h('div')
    const sent: unknown[] = []
    const view = new DevicesView(store, container, { command: (...args) => sent.push(args) })
    store.meta('kitchen', { name: 'Kitchen', kind: 'room sensor', location: 'Ground floor', fields: { temperature: { label: 'Temperature', unit: '°C', decimals: 1 } }, commands: ['blink', 'set-interval', 'reboot'] })
    store.status('kitchen', 'online')
    for (const t of [21, 21.4, 22]) store.telemetry('kitchen', { temperature: t, door: 'closed' }, 1_000)
    view.render(3_000)
    const card = container.querySelector('[data-device="kitchen"]') as HTMLElement
    expect(card.querySelector('.device-name')?.textContent).toBe('Kitchen')
    expect(card.querySelector('.device-kind')?.textContent).toBe('room sensor · Ground floor')
    expect(card.querySelector('.pill')?.getAttribute('data-state')).toBe('online')
    expect(card.querySelector('[data-metric="temperature"] .metric-value')?.textContent).toBe('22.0 °C')
    expect(card.querySelector('[data-metric="temperature"] polyline')?.getAttribute('points')?.split(' ')).toHaveLength(3)
    expect(card.querySelector('.facts')?.textContent).toBe('door: closed')
    expect(card.querySelector('.device-seen')?.textContent).toBe('updated 2 s ago · 3 msgs')

    ;(card.querySelector('button[data-command="blink"]') as HTMLButtonElement).click()
    const select = card.querySelector('select[data-command="set-interval"]') as HTMLSelectElement
    select.value = '500'
    select.dispatchEvent(new Event('change', { bubbles: true }))
    expect(sent).toEqual([['kitchen', 'blink'], ['kitchen', 'set-interval', 500]])

    store.commandSent('kitchen', 'c1', 'blink', 0)
    view.render(3_000)
    expect(card.querySelector('.device-reply')?.textContent).toBe('Sent blink, waiting for the reply…')
    store.reply('kitchen', { id: 'c1', ok: true, message: 'Blinked' }, 12)
    view.render(3_000)
    expect(card.querySelector('.device-reply')?.textContent).toBe('✓ blink: Blinked · 12 ms')
    expect(card.querySelector('.device-reply')?.getAttribute('data-state')).toBe('ok')

    store.status('kitchen', 'offline')
    view.render(3_000)
    expect(card.getAttribute('data-status')).toBe('offline')
    expect((card.querySelector('button[data-command="reboot"]') as HTMLButtonElement).disabled).toBe(true)
  })

  it('keeps cards in name order and reuses them', () => {
    const store = new DeviceStore()
    const container = h('div')
    const view = new DevicesView(store, container, { command: () => {} })
    store.status('b', 'online')
    view.render(0)
    const b = container.querySelector('[data-device="b"]')
    store.status('a', 'online')
    view.render(0)
    expect([...container.children].map((el) => el.getAttribute('data-device'))).toEqual(['a', 'b'])
    expect(container.querySelector('[data-device="b"]')).toBe(b)
    store.status('a', '')
    view.render(0)
    expect(container.querySelectorAll('[data-device]')).toHaveLength(1)
  })
})

describe('SubscriptionsView and status badge', () => {
  it('lists subscriptions with counts and rates and removes on click', () => {
    const list = h('ul')
    const removed: string[] = []
    const view = new SubscriptionsView(list, (f) => removed.push(f))
    const meter = new RateMeter()
    for (let i = 0; i < 50; i++) meter.mark(10_000 + i * 20)
    const rows: SubscriptionRow[] = [
      { filter: 'demo/#', qos: 1, meter, error: undefined, granted: 1 },
      { filter: 'x/+', qos: 0, meter: new RateMeter(), error: 'The broker refused the subscription', granted: undefined },
      { filter: 'y/#', qos: 2, meter: new RateMeter(), error: undefined, granted: undefined },
    ]
    view.render(rows, 11_000)
    const first = list.querySelector('[data-filter="demo/#"]') as HTMLElement
    expect(first.querySelector('.sub-count')?.textContent).toBe('50')
    expect(first.querySelector('.sub-rate')?.textContent).toBe('50/s')
    expect(first.textContent).toContain('QoS 1')
    expect(first.getAttribute('data-granted')).toBe('1')
    expect(list.querySelector('[data-filter="x/+"]')?.classList.contains('failed')).toBe(true)
    const pending = list.querySelector('[data-filter="y/#"]') as HTMLElement
    expect(pending.classList.contains('pending')).toBe(true)
    expect(pending.hasAttribute('data-granted')).toBe(false)
    ;(rows[2] as SubscriptionRow).granted = 1 // e.g. RabbitMQ grants QoS 2 as 1
    view.render(rows, 11_000)
    expect(pending.classList.contains('pending')).toBe(false)
    expect(pending.querySelector('.sub-qos')?.textContent).toBe('QoS 2→1')
    ;(first.querySelector('button[data-remove]') as HTMLButtonElement).click()
    expect(removed).toEqual(['demo/#'])
    view.render(rows.slice(1), 11_000)
    expect(list.children).toHaveLength(2)
  })

  it('shows status$ values on the badge', () => {
    const badge = h('span')
    const detail = h('p')
    renderStatus(badge, detail, { type: 'reconnecting', attempt: 2, delay: 800 })
    expect(badge.textContent).toBe('Reconnecting (attempt 2)')
    expect(badge.dataset.tone).toBe('warn')
    expect(detail.textContent).toBe('Trying again in 800 ms.')
    renderStatus(badge, detail, { type: 'connected', sessionPresent: false })
    expect(badge.dataset.status).toBe('connected')
  })
})
