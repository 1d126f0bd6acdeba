// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { DeviceStore } from '../../demo/src/devices.js'
import { Feed } from '../../demo/src/feed.js'
import { decodePayload } from '../../demo/src/payload.js'
import { ProtocolLog } from '../../demo/src/protocol-log.js'
import { RateMeter } from '../../demo/src/rate.js'
import { TopicTree } from '../../demo/src/topic-tree.js'
import { DevicesView } from '../../demo/src/ui/devices-view.js'
import { clockTime, h } from '../../demo/src/ui/dom.js'
import { FeedView, feedRow } from '../../demo/src/ui/feed-view.js'
import { LogView, logRow, type LogViewElements } from '../../demo/src/ui/log-view.js'
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
    // In the words of the page lifecycle (ConnectionStory), which `data-lifecycle` names.
    const offline = { type: 'reconnecting', attempt: 1, delay: 1_000 } as const
    renderStatus(badge, detail, offline, { label: 'Offline — reconnecting', detail: 'The browser went offline…', tone: 'warn', lifecycle: 'offline' })
    expect(badge.textContent).toBe('Offline — reconnecting')
    expect(badge.dataset.lifecycle).toBe('offline')
    expect(detail.textContent).toBe('The browser went offline…')
    renderStatus(badge, detail, { type: 'connected', sessionPresent: false })
    expect(badge.dataset.lifecycle).toBeUndefined()
  })
})

describe('LogView', () => {
  const panel = (): LogViewElements => {
    const tools = h('div')
    const els = {
      toggle: h('button', { attrs: { type: 'button', 'aria-expanded': 'true' } }),
      body: h('div'),
      tools,
      list: h('ol'),
      info: h('span'),
      empty: h('p'),
      level: h('select'),
      event: h('select'),
      clear: h('button', { attrs: { type: 'button' } }),
      alert: h('p', { attrs: { 'aria-live': 'polite' } }),
    }
    els.body.append(els.list, els.empty)
    tools.append(els.level, els.event, els.clear)
    document.body.append(els.toggle, els.info, tools, els.body, els.alert)
    return els
  }
  const at = Date.UTC(2025, 0, 1, 12, 0, 0)
  const events = (els: LogViewElements) => [...els.list.querySelectorAll('.log-line')].map((el) => el.getAttribute('data-event'))
  const change = (select: HTMLSelectElement, value: string) => {
    select.value = value
    select.dispatchEvent(new Event('change', { bubbles: true }))
  }
  const startup = (log: ProtocolLog) => {
    log.logger.info({ event: 'attempt', clientId: 'dash-1', url: 'ws://b:9001', attempt: 1, protocolVersion: 5 }, 'iotpubsub: connecting to ws://b:9001 (MQTT 5)')
    log.logger.warn({ event: 'closed', clientId: 'dash-1', action: 'fall-back', reasonCode: 1 }, 'iotpubsub: the attempt to ws://b:9001 ended: unacceptable protocol version (fall-back)')
    log.logger.info({ event: 'connack', clientId: 'dash-1', sessionPresent: false, protocolVersion: 4 }, 'iotpubsub: connected to ws://b:9001 (MQTT 3.1.1, session new)')
    log.logger.debug({ event: 'subscribe', clientId: 'dash-1', filter: 'demo/#', qos: 0, id: undefined }, 'iotpubsub: SUBSCRIBE demo/# (QoS 0)')
    log.logger.debug({ event: 'suback', clientId: 'dash-1', filter: 'demo/#', granted: 0 }, 'iotpubsub: SUBACK demo/# (granted QoS 0)')
  }

  it('draws each line with time, level, event and message, newest first, and its fields in a <details>', () => {
    const log = new ProtocolLog(200, undefined, () => at)
    const els = panel()
    const view = new LogView(log, els)
    view.render()
    expect(els.empty.hidden).toBe(false)
    expect(els.empty.textContent).toBe('No protocol events yet.')
    startup(log)
    view.render()
    expect(events(els)).toEqual(['suback', 'subscribe', 'connack', 'closed', 'attempt'])
    expect(els.empty.hidden).toBe(true)
    const attempt = els.list.querySelector('[data-event="attempt"]') as HTMLElement
    expect(attempt.getAttribute('data-level')).toBe('info')
    expect(attempt.querySelector('.log-time')?.textContent).toBe(clockTime(at))
    expect(attempt.querySelector('.log-level')?.textContent).toBe('info')
    expect(attempt.querySelector('.log-event')?.textContent).toBe('attempt')
    expect(attempt.querySelector('.log-message')?.textContent).toBe('connecting to ws://b:9001 (MQTT 5)')
    // The fields: closed until the line is opened, then name/value pairs (undefined ones left out).
    const details = attempt.querySelector('details') as HTMLDetailsElement
    expect(details.open).toBe(false)
    expect(details.querySelector('summary')?.textContent).toContain('connecting to')
    ;(details.querySelector('summary') as HTMLElement).click()
    expect(details.open).toBe(true)
    const pairs = (row: Element) => [...row.querySelectorAll('dt')].map((dt) => `${dt.textContent}=${dt.nextElementSibling?.textContent}`)
    expect(pairs(attempt)).toEqual(['clientId=dash-1', 'url=ws://b:9001', 'attempt=1', 'protocolVersion=5'])
    expect(pairs(els.list.querySelector('[data-event="subscribe"]') as Element)).toEqual(['clientId=dash-1', 'filter=demo/#', 'qos=0'])
    expect(els.list.querySelector('[data-event="closed"]')?.getAttribute('data-level')).toBe('warn')
    expect(els.info.textContent).toBe('5 events · 1 warning')
    expect(els.info.dataset.level).toBe('warn')
    // Incremental: old rows stay as they are (an opened line stays open).
    log.logger.info({ event: 'reconnecting', clientId: 'dash-1', attempt: 1, delay: 800 }, 'iotpubsub: next attempt to ws://b:9001 in 800 ms')
    view.render()
    expect(events(els)[0]).toBe('reconnecting')
    expect(els.list.querySelector('[data-event="attempt"]')).toBe(attempt)
    expect(details.open).toBe(true)
  })

  it('never parses a message or a field as HTML', () => {
    const row = logRow({ seq: 1, level: 'warn', time: 0, event: 'decode-error', message: 'iotpubsub: <img src=x onerror=alert(1)>', fields: { event: 'decode-error', clientId: 'c', topic: '<b>t</b>' } })
    expect(row.querySelector('img, b')).toBeNull()
    expect(row.querySelector('.log-message')?.textContent).toBe('<img src=x onerror=alert(1)>')
    expect(row.querySelector('dd:last-of-type')?.textContent).toBe('<b>t</b>')
  })

  it('filters by level and by event from its selects', () => {
    const log = new ProtocolLog()
    const els = panel()
    const view = new LogView(log, els)
    startup(log)
    view.render()
    expect([...els.level.options].map((o) => o.value)).toEqual(['debug', 'info', 'warn', 'error'])
    expect([...els.event.options].map((o) => o.value)).toContain('reconnecting')
    change(els.level, 'info')
    expect(events(els)).toEqual(['connack', 'closed', 'attempt'])
    expect(els.info.textContent).toBe('5 events · 1 warning · 3 shown')
    change(els.level, 'warn')
    expect(events(els)).toEqual(['closed'])
    // New lines that do not match stay out; ones that do come in on top.
    log.logger.debug({ event: 'suback', clientId: 'dash-1' }, 'iotpubsub: SUBACK x')
    log.logger.error({ event: 'stopped', clientId: 'dash-1' }, 'iotpubsub: stopped for good: not authorised')
    view.render()
    expect(events(els)).toEqual(['stopped', 'closed'])
    expect(els.list.querySelector('[data-event="stopped"]')?.getAttribute('data-level')).toBe('error')
    change(els.level, 'debug')
    change(els.event, 'suback')
    expect(events(els)).toEqual(['suback', 'suback'])
    change(els.event, 'fallback')
    expect(events(els)).toEqual([])
    expect(els.empty.hidden).toBe(false)
    expect(els.empty.textContent).toBe('No events match the filter.')
    change(els.event, '')
    expect(events(els)).toHaveLength(7)
  })

  it('clears the log and the list with its button', () => {
    const log = new ProtocolLog()
    const els = panel()
    const view = new LogView(log, els)
    startup(log)
    view.render()
    els.clear.click()
    expect(log.size).toBe(0)
    expect(events(els)).toEqual([])
    expect(els.info.textContent).toBe('0 events')
    expect(els.info.dataset.level).toBe('')
    expect(els.empty.hidden).toBe(false)
    log.logger.info({ event: 'attempt', clientId: 'dash-1' }, 'iotpubsub: connecting to ws://b:9001 (MQTT 3.1.1)')
    view.render()
    expect(events(els)).toEqual(['attempt'])
  })

  it('collapses and expands from the heading button; collapsed, it only counts', () => {
    const log = new ProtocolLog()
    const els = panel()
    const view = new LogView(log, els, { open: false })
    expect(els.toggle.getAttribute('aria-expanded')).toBe('false')
    expect(els.body.hidden).toBe(true)
    expect(els.tools?.hidden).toBe(true)
    startup(log)
    view.render()
    expect(events(els)).toEqual([]) // nothing drawn while collapsed
    expect(els.info.textContent).toBe('5 events · 1 warning')
    els.toggle.click()
    expect(view.isOpen).toBe(true)
    expect(els.toggle.getAttribute('aria-expanded')).toBe('true')
    expect(els.body.hidden).toBe(false)
    expect(events(els)).toEqual(['suback', 'subscribe', 'connack', 'closed', 'attempt'])
    els.toggle.click()
    expect(els.body.hidden).toBe(true)
  })

  it('announces new error lines, politely, even while collapsed; other levels are not announced', () => {
    const log = new ProtocolLog()
    const els = panel()
    const view = new LogView(log, els, { open: false })
    startup(log)
    view.render()
    expect(els.alert.textContent).toBe('')
    log.logger.error({ event: 'stopped', clientId: 'dash-1' }, 'iotpubsub: stopped for good: not authorised')
    log.logger.info({ event: 'stopped', clientId: 'dash-1' }, 'iotpubsub: ended')
    view.render()
    expect(els.alert.textContent).toBe('Protocol error, stopped: stopped for good: not authorised')
    expect(els.info.dataset.level).toBe('error')
    expect(els.info.textContent).toBe('7 events · 1 warning · 1 error')
  })

  it('keeps no more rows than the ring keeps, and renders through the page\'s scheduler', () => {
    const log = new ProtocolLog(4)
    const els = panel()
    const scheduled: (() => void)[] = []
    const view = new LogView(log, els, { schedule: (render) => scheduled.push(render) })
    for (let i = 1; i <= 3; i++) log.logger.info({ event: 'attempt', clientId: 'c', attempt: i }, `iotpubsub: a${i}`)
    view.render()
    for (let i = 4; i <= 10; i++) log.logger.info({ event: 'attempt', clientId: 'c', attempt: i }, `iotpubsub: a${i}`)
    view.render()
    expect([...els.list.querySelectorAll('.log-message')].map((el) => el.textContent)).toEqual(['a10', 'a9', 'a8', 'a7'])
    // And no more than maxRows, when that is less than the ring holds.
    const few = panel()
    const short = new LogView(log, few, { maxRows: 2 })
    short.render()
    log.logger.info({ event: 'attempt', clientId: 'c', attempt: 11 }, 'iotpubsub: a11')
    short.render()
    expect([...few.list.querySelectorAll('.log-message')].map((el) => el.textContent)).toEqual(['a11', 'a10'])
    change(els.level, 'warn')
    expect(events(els)).toHaveLength(4) // not yet: the page decides when
    expect(scheduled).toHaveLength(1)
    scheduled[0]?.()
    expect(events(els)).toEqual([])
  })
})
