import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../demo/src/config.js'
import { DeviceStore, formatReading, humanize, timeAgo } from '../../demo/src/devices.js'
import { Feed, matchesFilter, type FeedEntry } from '../../demo/src/feed.js'
import { FrameScheduler } from '../../demo/src/frame.js'
import { decodePayload, formatBytes, formatJson, jsonTokens, prettyPayload, previewPayload } from '../../demo/src/payload.js'
import { RateMeter, formatCount, formatRate } from '../../demo/src/rate.js'
import { Series, sparklineArea, sparklinePoints } from '../../demo/src/sparkline.js'
import { TopicTree, sortedChildren } from '../../demo/src/topic-tree.js'
import { describeError, describeStatus } from '../../demo/src/words.js'

const bytes = (text: string) => new TextEncoder().encode(text)

describe('RateMeter', () => {
  it('reports messages per second over the window and forgets old buckets', () => {
    const meter = new RateMeter(5_000, 250)
    for (let t = 0; t < 5_000; t += 10) meter.mark(10_000 + t) // 100 msg/s for 5 s
    expect(meter.rate(15_000)).toBeCloseTo(100, -1)
    expect(meter.total).toBe(500)
    expect(meter.rate(30_000)).toBe(0) // nothing in the last window
    expect(meter.total).toBe(500)
  })

  it('does not dilute a fresh burst with empty history', () => {
    const meter = new RateMeter()
    for (let i = 0; i < 2_000; i++) meter.mark(1_000 + i / 2) // 2,000 messages in one second
    expect(meter.rate(2_000)).toBeGreaterThan(1_500)
  })

  it('is zero before the first message', () => {
    expect(new RateMeter().rate(123)).toBe(0)
  })

  it('formats rates and counts briefly', () => {
    expect(formatRate(0)).toBe('0/s')
    expect(formatRate(0.44)).toBe('0.4/s')
    expect(formatRate(12.4)).toBe('12/s')
    expect(formatRate(2_140)).toBe('2.1k/s')
    expect(formatCount(999)).toBe('999')
    expect(formatCount(1_234)).toBe('1.2k')
    expect(formatCount(34_567)).toBe('35k')
    expect(formatCount(1_250_000)).toBe('1.3M')
  })
})

describe('payload decoding and layout', () => {
  it('recognises JSON, text and binary payloads', () => {
    expect(decodePayload(bytes('{"a":1}'))).toMatchObject({ isJson: true, json: { a: 1 }, binary: false, size: 7 })
    expect(decodePayload(bytes('online'))).toMatchObject({ isJson: false, text: 'online' })
    expect(decodePayload(bytes('21.5'))).toMatchObject({ isJson: true, json: 21.5 })
    expect(decodePayload(bytes('{not json'))).toMatchObject({ isJson: false, text: '{not json' })
    const binary = decodePayload(new Uint8Array([0xff, 0x00, 0x10]))
    expect(binary).toMatchObject({ binary: true, text: 'ff 00 10', size: 3 })
    expect(decodePayload(new Uint8Array())).toMatchObject({ text: '', isJson: false })
  })

  it('keeps short JSON on one line and breaks long objects one entry per line', () => {
    expect(formatJson({ a: 1, b: [1, 2] }, 40)).toBe('{"a": 1, "b": [1, 2]}')
    expect(formatJson({ temperature: 21.5, humidity: 40, nested: { deep: true } }, 30)).toBe(
      '{\n  "temperature": 21.5,\n  "humidity": 40,\n  "nested": {"deep": true}\n}',
    )
    expect(formatJson([], 1)).toBe('[]')
    expect(formatJson({}, 1)).toBe('{}')
    expect(prettyPayload(decodePayload(bytes('plain text')))).toBe('plain text')
    expect(prettyPayload(decodePayload(bytes(JSON.stringify({ long: 'x'.repeat(100) }))), 20)).toHaveLength(21)
  })

  it('tokenises JSON for colouring without losing a character', () => {
    const text = formatJson({ key: 'va"l', n: -1.5e3, ok: true, none: null }, 80)
    const tokens = jsonTokens(text)
    expect(tokens.map((t) => t.text).join('')).toBe(text)
    expect(tokens.filter((t) => t.kind === 'key').map((t) => t.text)).toEqual(['"key"', '"n"', '"ok"', '"none"'])
    expect(tokens.find((t) => t.kind === 'string')?.text).toBe('"va\\"l"')
    expect(tokens.find((t) => t.kind === 'number')?.text).toBe('-1500')
    expect(tokens.filter((t) => t.kind === 'literal').map((t) => t.text)).toEqual(['true', 'null'])
  })

  it('previews payloads on one line', () => {
    expect(previewPayload(decodePayload(bytes('{ "a": 1 }')))).toBe('{"a":1}')
    expect(previewPayload(decodePayload(bytes('line 1\nline 2')))).toBe('line 1 ⏎ line 2')
    expect(previewPayload(decodePayload(bytes('')))).toBe('(empty)')
    expect(previewPayload(decodePayload(bytes('x'.repeat(200))), 10)).toBe(`${'x'.repeat(10)}…`)
    expect(formatBytes(12)).toBe('12 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
  })
})

function entry(topic: string, text: string): Omit<FeedEntry, 'seq'> {
  return { topic, payload: decodePayload(bytes(text)), qos: 0, retain: false, time: 0, via: '#' }
}

describe('Feed', () => {
  it('returns the newest first and keeps at most its capacity', () => {
    const feed = new Feed(10)
    for (let i = 1; i <= 100; i++) feed.push(entry(`t/${i}`, String(i)))
    const view = feed.view()
    expect(view).toHaveLength(10)
    expect(view[0]?.topic).toBe('t/100')
    expect(view[9]?.topic).toBe('t/91')
    expect(feed.received).toBe(100)
    expect(feed.view(3).map((e) => e.topic)).toEqual(['t/100', 't/99', 't/98'])
  })

  it('gives only entries newer than a seq, for incremental drawing', () => {
    const feed = new Feed(10)
    feed.push(entry('a', '1'))
    const seen = feed.lastSeq
    feed.push(entry('b', '2'))
    feed.push(entry('c', '3'))
    expect(feed.view(10, seen).map((e) => e.topic)).toEqual(['c', 'b'])
  })

  it('filters by topic or payload text, case-insensitively', () => {
    const feed = new Feed()
    feed.push(entry('rooms/kitchen/temp', '21'))
    feed.push(entry('rooms/hall/temp', '{"note":"Kitchen door open"}'))
    feed.push(entry('rooms/hall/hum', '40'))
    feed.setFilter('  KITCHEN ')
    expect(feed.view().map((e) => e.topic)).toEqual(['rooms/hall/temp', 'rooms/kitchen/temp'])
    expect(matchesFilter(feed.view()[0] as FeedEntry, '')).toBe(true)
  })

  it('freezes the view while paused, counts arrivals, and shows the present on resume', () => {
    const feed = new Feed()
    feed.push(entry('a', '1'))
    feed.pause()
    feed.push(entry('b', '2'))
    feed.push(entry('c', '3'))
    expect(feed.paused).toBe(true)
    expect(feed.arrivedWhilePaused).toBe(2)
    expect(feed.view().map((e) => e.topic)).toEqual(['a'])
    feed.resume()
    expect(feed.arrivedWhilePaused).toBe(0)
    expect(feed.view().map((e) => e.topic)).toEqual(['c', 'b', 'a'])
    feed.clear()
    expect(feed.view()).toEqual([])
    expect(feed.received).toBe(0)
  })
})

describe('TopicTree', () => {
  const p = decodePayload(bytes('1'))

  it('counts messages per topic, totals and distinct topics per branch', () => {
    const tree = new TopicTree()
    tree.add('demo/devices/kitchen/telemetry', p, 1)
    tree.add('demo/devices/kitchen/telemetry', decodePayload(bytes('{"t":2}')), 2, false, 1)
    tree.add('demo/devices/kitchen/status', decodePayload(bytes('online')), 3, true)
    tree.add('demo/devices/hall/status', p, 4)
    expect(tree.size).toBe(3)
    const kitchen = tree.find('demo/devices/kitchen')
    expect(kitchen).toMatchObject({ name: 'kitchen', path: 'demo/devices/kitchen', depth: 3, messages: 0, total: 3, topics: 2 })
    const telemetry = tree.find('demo/devices/kitchen/telemetry')
    expect(telemetry?.messages).toBe(2)
    expect(telemetry?.last).toMatchObject({ time: 2, qos: 1, retain: false })
    expect(telemetry?.last?.payload.json).toEqual({ t: 2 })
    expect(tree.find('demo/devices/kitchen/status')?.last?.retain).toBe(true)
    expect(tree.find('')).toBe(tree.root)
    expect(tree.find('nope')).toBeUndefined()
    expect(tree.root.total).toBe(4)
  })

  it('treats a topic that is also a branch as both', () => {
    const tree = new TopicTree()
    tree.add('a', p, 1)
    tree.add('a/b', p, 1)
    expect(tree.find('a')).toMatchObject({ messages: 1, total: 2, topics: 2 })
  })

  it('keeps empty levels (leading, trailing and double slashes)', () => {
    const tree = new TopicTree()
    tree.add('/a//b/', p, 1)
    expect(tree.find('/a//b/')?.messages).toBe(1)
    expect(tree.find('/a//b/')?.path).toBe('/a//b/')
  })

  it('reports what changed since the last frame', () => {
    const tree = new TopicTree()
    tree.add('a/b', p, 1)
    let changes = tree.takeChanges()
    expect([...changes.grown].map((n) => n.path)).toEqual(['', 'a'])
    expect([...changes.changed].map((n) => n.path)).toEqual(['', 'a', 'a/b'])
    tree.add('a/b', p, 2)
    changes = tree.takeChanges()
    expect(changes.grown.size).toBe(0)
    expect(changes.changed.size).toBe(3)
    expect(tree.takeChanges().changed.size).toBe(0)
  })

  it('stops adding topics at its limit and counts what it dropped', () => {
    const tree = new TopicTree(3)
    for (let i = 0; i < 10; i++) tree.add(`t/${i}`, p, i)
    tree.add('t/0', p, 11)
    expect(tree.size).toBe(3)
    expect(tree.dropped).toBe(7)
    expect(tree.find('t/0')?.messages).toBe(2)
  })

  it('sorts children naturally', () => {
    const tree = new TopicTree()
    for (const name of ['sensor-10', 'sensor-2', 'Alpha', 'sensor-1']) tree.add(`x/${name}`, p, 0)
    expect(sortedChildren(tree.find('x')!).map((n) => n.name)).toEqual(['Alpha', 'sensor-1', 'sensor-2', 'sensor-10'])
  })
})

describe('sparklines', () => {
  it('scales values into the box, highest at the top', () => {
    expect(sparklinePoints([1, 3, 2], 60, 20)).toBe('2,18 30,2 58,10')
    expect(sparklineArea('2,18 30,2 58,10', 60, 20)).toBe('2,20 2,18 30,2 58,10 58,20')
  })

  it('draws a flat series through the middle and nothing for fewer than two values', () => {
    expect(sparklinePoints([5, 5], 10, 10)).toBe('2,5 8,5')
    expect(sparklinePoints([5], 10, 10)).toBe('')
    expect(sparklineArea('', 10, 10)).toBe('')
  })

  it('keeps a fixed-size history', () => {
    const series = new Series(3)
    for (const v of [1, 2, 3, 4]) series.push(v)
    expect(series.values).toEqual([2, 3, 4])
    expect(series.last).toBe(4)
  })
})

describe('DeviceStore', () => {
  it('builds devices from meta, status and telemetry, with history per numeric field', () => {
    const store = new DeviceStore(5)
    store.meta('kitchen', { name: 'Kitchen', kind: 'room sensor', location: 'Ground floor', fields: { temperature: { label: 'Temperature', unit: '°C', decimals: 1 } }, commands: ['blink'] })
    store.status('kitchen', 'online')
    for (let i = 0; i < 7; i++) store.telemetry('kitchen', { ts: i, temperature: 20 + i, batteryLevel: 90, door: 'closed', flag: true, bad: 'x' }, 1_000 + i)
    const kitchen = store.get('kitchen')!
    expect(kitchen).toMatchObject({ name: 'Kitchen', kind: 'room sensor', status: 'online', lastSeen: 1_006, messages: 7, commands: ['blink'] })
    expect([...kitchen.metrics.keys()]).toEqual(['temperature', 'batteryLevel'])
    expect(kitchen.metrics.get('temperature')).toMatchObject({ label: 'Temperature', unit: '°C', decimals: 1, value: 26 })
    expect(kitchen.metrics.get('temperature')?.history.values).toEqual([22, 23, 24, 25, 26])
    expect(kitchen.metrics.get('batteryLevel')?.label).toBe('Battery level')
    expect(Object.fromEntries(kitchen.facts)).toEqual({ door: 'closed', flag: 'true', bad: 'x' })
  })

  it('reads status words loosely and removes a device whose retained status is cleared', () => {
    const store = new DeviceStore()
    store.status('a', 'OFFLINE\n')
    expect(store.get('a')?.status).toBe('offline')
    store.status('a', 'rebooting')
    expect(store.get('a')?.status).toBe('unknown')
    store.takeChanges()
    store.status('a', '')
    expect(store.get('a')).toBeUndefined()
    expect(store.takeChanges().structure).toBe(true)
  })

  it('ignores telemetry that is not an object', () => {
    const store = new DeviceStore()
    store.telemetry('a', [1, 2], 0)
    store.telemetry('a', 'x', 0)
    store.telemetry('a', null, 0)
    expect(store.size).toBe(0)
  })

  it('matches a reply to the command it answers and times it', () => {
    const store = new DeviceStore()
    store.commandSent('a', 'c1', 'ping', 100)
    expect(store.get('a')?.pending).toEqual({ id: 'c1', command: 'ping', time: 100 })
    store.reply('a', { id: 'other', ok: true, message: 'not mine' }, 120)
    expect(store.get('a')?.pending?.id).toBe('c1')
    store.reply('a', { id: 'c1', ok: true, message: 'pong' }, 142)
    expect(store.get('a')).toMatchObject({ pending: undefined, lastReply: { id: 'c1', ok: true, message: 'pong', command: 'ping', rtt: 42 } })
    store.commandSent('a', 'c2', 'blink', 200)
    store.commandFailed('a', 'c2', 'Not connected', 201)
    expect(store.get('a')).toMatchObject({ pending: undefined, lastReply: { ok: false, message: 'Not connected' } })
  })

  it('lists devices by name and reports changes once', () => {
    const store = new DeviceStore()
    store.meta('z', { name: 'Zeta' })
    store.meta('a', { name: 'Press 10' })
    store.meta('b', { name: 'Press 2' })
    expect(store.list().map((d) => d.name)).toEqual(['Press 2', 'Press 10', 'Zeta'])
    const changes = store.takeChanges()
    expect(changes.structure).toBe(true)
    expect([...changes.changed].sort()).toEqual(['a', 'b', 'z'])
    expect(store.takeChanges()).toEqual({ changed: new Set(), structure: false })
  })

  it('formats readings, labels and ages', () => {
    expect(formatReading(21.456, '°C', 1)).toBe('21.5 °C')
    expect(formatReading(1450.2, 'rpm')).toBe('1,450 rpm')
    expect(formatReading(45, '%', 0)).toBe('45%')
    expect(formatReading(2.345)).toBe('2.35')
    expect(formatReading(NaN, 'x')).toBe('–')
    expect(humanize('oil_temperature')).toBe('Oil temperature')
    expect(timeAgo(undefined, 0)).toBe('never')
    expect(timeAgo(9_500, 10_000)).toBe('just now')
    expect(timeAgo(0, 12_000)).toBe('12 s ago')
    expect(timeAgo(0, 180_000)).toBe('3 min ago')
    expect(timeAgo(0, 7_200_000)).toBe('2 h ago')
  })
})

describe('plain words', () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name })

  it('describes every status', () => {
    expect(describeStatus({ type: 'connecting' })).toMatchObject({ label: 'Connecting…', tone: 'busy' })
    expect(describeStatus({ type: 'connected', sessionPresent: true })).toMatchObject({ label: 'Connected', tone: 'ok', detail: expect.stringContaining('resumed') })
    expect(describeStatus({ type: 'reconnecting', attempt: 3, delay: 2_500, error: named('ConnectionLostError', 'socket hang up') })).toEqual({
      label: 'Reconnecting (attempt 3)',
      detail: 'Trying again in 2.5 s. Last error: The connection was lost: socket hang up',
      tone: 'warn',
    })
    expect(describeStatus({ type: 'closed' })).toMatchObject({ label: 'Disconnected', tone: 'off' })
    expect(describeStatus({ type: 'closed', error: named('NotAuthorizedError', 'x') })).toMatchObject({ label: 'Closed', detail: expect.stringContaining('username or password') })
  })

  it('turns SDK errors into sentences', () => {
    expect(describeError(named('InvalidTopicError', 'Invalid topic "a/+": a topic name must not contain the wildcards + or #'))).toBe(
      'That topic is not valid: a topic name must not contain the wildcards + or #.',
    )
    expect(describeError(named('PublishError', 'Publish to "x" failed: not authorised'))).toContain('did not accept')
    expect(describeError(named('PublishTimeoutError', 'x'))).toContain('in time')
    expect(describeError(named('ClientClosedError', 'x'))).toContain('Not connected')
    expect(describeError(new Error('plain'))).toBe('plain')
    expect(describeError('text')).toBe('text')
  })
})

describe('page configuration', () => {
  const loc = (search = '', hostname = 'example.test', protocol = 'http:') => ({ search, hostname, protocol })

  it('defaults to port 9001 on the page host and subscribes to the prefix', () => {
    expect(resolveConfig(loc(), undefined)).toEqual({
      url: 'ws://example.test:9001',
      username: '',
      password: '',
      protocolVersion: 'auto',
      prefix: 'demo',
      subscriptions: ['demo/#'],
      simulator: true,
    })
    expect(resolveConfig(loc('', 'h', 'https:'), undefined).url).toBe('wss://h:9001')
  })

  it('takes the served config, and the query string over it', () => {
    const served = { url: 'ws://127.0.0.1:1234', username: 'u', protocolVersion: 4, prefix: 'plant', simulator: false, junk: 1 }
    expect(resolveConfig(loc(), served)).toMatchObject({ url: 'ws://127.0.0.1:1234', username: 'u', protocolVersion: 4, prefix: 'plant', subscriptions: ['plant/#'], simulator: false })
    const config = resolveConfig(loc('?url=ws://other:1&protocol=5&sub=a/%23&sub=b/%2B'), served)
    expect(config).toMatchObject({ url: 'ws://other:1', protocolVersion: 5, subscriptions: ['a/#', 'b/+'] })
  })
})

describe('FrameScheduler', () => {
  it('renders each view at most once per frame, however often it is asked', () => {
    const frames: Array<() => void> = []
    const scheduler = new FrameScheduler((cb) => frames.push(cb))
    let feed = 0
    let tree = 0
    for (let i = 0; i < 2_000; i++) {
      scheduler.request('feed', () => feed++)
      scheduler.request('tree', () => tree++)
    }
    expect(frames).toHaveLength(1)
    frames.shift()?.()
    expect({ feed, tree, frames: scheduler.frames }).toEqual({ feed: 1, tree: 1, frames: 1 })
    scheduler.request('feed', () => feed++)
    expect(frames).toHaveLength(1)
  })

  it('keeps rendering the other views when one throws', () => {
    const errors: unknown[] = []
    const scheduler = new FrameScheduler((cb) => cb(), (e) => errors.push(e))
    let ran = false
    scheduler.request('a', () => {
      throw new Error('boom')
    })
    expect(errors).toHaveLength(1)
    scheduler.request('b', () => (ran = true))
    expect(ran).toBe(true)
  })
})
