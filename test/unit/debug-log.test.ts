// The debug log: what a logger receives from a client over a fake link, and the switches that turn it on
// without code (IOTPUBSUB_DEBUG in Node). The library prints nothing unless asked.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Client } from '../../lib/client/client.js'
import { UnsupportedOptionError } from '../../lib/errors.js'
import type { LogFields, Logger } from '../../lib/log/logger.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'
import { connect } from '../../lib/node.js'
import { FakeLinks } from '../support/fake-link.js'

interface Line {
  readonly level: 'debug' | 'info' | 'warn' | 'error'
  readonly fields: LogFields
  readonly message: string
}

function recorder(): { logger: Logger; lines: Line[]; events: () => string[] } {
  const lines: Line[] = []
  const at = (level: Line['level']) => (fields: LogFields, message: string) => void lines.push({ level, fields, message })
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines, events: () => lines.map((l) => l.fields.event) }
}

function setup(options: Partial<MQTTClientOptions>, debugLogger: () => Logger | undefined = () => undefined) {
  const links = new FakeLinks()
  const client = new Client({ url: 'mqtt://broker.test:1883', clientId: 'log-1', ...options }, { platform: nodePlatform, links: links.create, defer: (f) => f(), debugLogger })
  return { client, links }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('the debug log', () => {
  it('tells the story of a connection: attempt, CONNACK with its properties, SUBSCRIBE/SUBACK, UNSUBSCRIBE, a close with its diagnosis, the backoff', async () => {
    vi.useFakeTimers()
    const { logger, lines, events } = recorder()
    const { client, links } = setup({ logger, reconnect: { initialDelay: 1_000, maxDelay: 2_000 } })
    links.link.accept({ sessionPresent: false, properties: { maximumQoS: 1, topicAliasMaximum: 10 } })
    const subscription = client.observe('rooms/+/temp', { qos: 1 }).subscribe()
    links.link.suback('rooms/+/temp', { granted: 1 })
    subscription.unsubscribe()
    links.link.fail({ type: 'keepalive' })
    links.link.closed()
    expect(events()).toEqual(['attempt', 'connack', 'subscribe', 'suback', 'unsubscribe', 'closed', 'reconnecting'])
    const byEvent = (event: string) => lines.find((l) => l.fields.event === event) as Line
    expect(byEvent('attempt')).toMatchObject({ level: 'info', fields: { clientId: 'log-1', url: 'mqtt://broker.test:1883', protocolVersion: 5 } })
    expect(byEvent('attempt').message).toBe('iotpubsub: connecting to mqtt://broker.test:1883 (MQTT 5)')
    expect(byEvent('connack').fields).toMatchObject({ sessionPresent: false, properties: { maximumQoS: 1, topicAliasMaximum: 10 } })
    expect(byEvent('subscribe').fields).toMatchObject({ filter: 'rooms/+/temp', qos: 1 })
    expect(byEvent('suback').fields).toMatchObject({ filter: 'rooms/+/temp', granted: 1 })
    expect(byEvent('closed')).toMatchObject({ level: 'warn', fields: { action: 'retry', error: 'ConnectionLostError', failures: ['keepalive'] } })
    expect(byEvent('closed').message).toMatch(/keepalive timeout/)
    const delay = byEvent('reconnecting').fields.delay as number
    expect(delay).toBeGreaterThanOrEqual(500)
    expect(delay).toBeLessThanOrEqual(1_000)
    await client.end({ force: true })
    expect(events().at(-1)).toBe('stopped')
  })

  it('logs refused publishes, refused subscriptions, refused logins and undecodable payloads', async () => {
    vi.useFakeTimers()
    const { logger, lines, events } = recorder()
    const { client, links } = setup({ logger, username: 'u' })
    links.link.accept()
    await expect(client.publish('a/+', 'x')).rejects.toThrow()
    const refusedSub = client.observe('secret/#').subscribe({ error: () => undefined })
    links.link.suback('secret/#', { refused: 135 })
    const decoded = client.observe('j', { codec: 'json' }).subscribe()
    links.link.suback('j', { granted: 0 })
    links.link.deliver({ topic: 'j', payload: new TextEncoder().encode('{not json') })
    expect(events()).toEqual(expect.arrayContaining(['publish-refused', 'suback', 'decode-error']))
    expect(lines.find((l) => l.fields.event === 'publish-refused')?.fields).toMatchObject({ topic: 'a/+', error: 'InvalidTopicError' })
    expect(lines.find((l) => l.fields.event === 'suback' && l.level === 'warn')?.fields).toMatchObject({ filter: 'secret/#', refused: 135 })
    expect(lines.find((l) => l.fields.event === 'decode-error')?.fields).toMatchObject({ topic: 'j', bytes: 9 })
    links.link.closed()
    await vi.advanceTimersByTimeAsync(1_000) // the backoff before the next attempt
    links.link.refuse(135)
    expect(lines.find((l) => l.fields.event === 'refused')?.fields).toMatchObject({ code: 135 })
    expect(lines.at(-1)).toMatchObject({ level: 'error', fields: { event: 'stopped', error: 'NotAuthorizedError', reasonCode: 135 } })
    refusedSub.unsubscribe()
    decoded.unsubscribe()
  })

  it("is off without a logger, takes the platform's switch when there is one, and refuses a logger without the four methods", async () => {
    const { logger, events } = recorder()
    const off = setup({})
    off.links.link.accept()
    await off.client.end({ force: true })
    const switched = setup({}, () => logger)
    switched.links.link.accept()
    await switched.client.end({ force: true })
    expect(events()).toEqual(['attempt', 'connack', 'stopped'])
    expect(() => setup({ logger: { debug() {}, info() {} } as unknown as Logger })).toThrow(UnsupportedOptionError)
    expect(() => setup({ logger: { debug() {}, info() {} } as unknown as Logger })).toThrow(/lacks warn, error/)
  })

  it("logs each publish and its outcome only to a logger with trace, never to console's own trace", async () => {
    vi.useFakeTimers()
    const { logger, lines, events } = recorder()
    const traced: Line[] = []
    const withTrace: Logger = { ...logger, trace: (fields, message) => void traced.push({ level: 'debug', fields, message }) }
    const { client, links } = setup({ logger: withTrace })
    links.link.accept()
    const qos0 = client.publish('a/0', 'x')
    const qos1 = client.publish('a/1', 'y', { qos: 1 })
    const refused = client.publish('a/2', 'z', { qos: 1 })
    links.link.ack(links.link.publishes[1]?.packetId ?? 0)
    links.link.ack(links.link.publishes[2]?.packetId ?? 0, { code: 0x87, message: 'not authorized' })
    await qos0
    await qos1
    await expect(refused).rejects.toThrow()
    expect(traced.map((l) => `${l.fields.event} ${String(l.fields.topic)} ${String(l.fields.outcome ?? '')}`)).toEqual([
      'publish a/0 ',
      'published a/0 written',
      'publish a/1 ',
      'publish a/2 ',
      'published a/1 acknowledged',
      'published a/2 PublishError',
    ])
    expect(traced.find((l) => l.fields.event === 'published' && l.fields.topic === 'a/1')?.fields).toMatchObject({ qos: 1, packetId: links.link.publishes[1]?.packetId })
    expect(traced.find((l) => l.fields.event === 'published' && l.fields.topic === 'a/2')?.fields).toMatchObject({ reasonCode: 0x87 })
    // The four levels never carry them.
    expect(events()).not.toContain('publish')
    expect(lines.some((l) => l.fields.event === 'published')).toBe(false)
    await client.end({ force: true })
    // console has a trace method of its own (it prints a stack): a client logging to console does not use it.
    const trace = vi.spyOn(console, 'trace').mockImplementation(() => undefined)
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined)
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => undefined)
    const plain = setup({ logger: console })
    plain.links.link.accept()
    void plain.client.publish('b', 'x')
    await plain.client.end({ force: true })
    expect(trace).not.toHaveBeenCalled()
    trace.mockRestore()
    info.mockRestore()
    debug.mockRestore()
  })

  it('a logger that throws does not break the client', async () => {
    const throwing: Logger = { debug: () => { throw new Error('disk full') }, info: () => { throw new Error('disk full') }, warn: () => { throw new Error('disk full') }, error: () => { throw new Error('disk full') } }
    const { client, links } = setup({ logger: throwing })
    links.link.accept()
    const statuses: string[] = []
    client.status$.subscribe((s) => statuses.push(s.type))
    await client.end({ force: true })
    expect(statuses).toEqual(['connected', 'closed'])
  })
})

describe('IOTPUBSUB_DEBUG in Node', () => {
  const entry = fileURLToPath(new URL('../../lib/node.ts', import.meta.url))
  // A client on a loopback port nothing listens on: refused at once, no broker needed.
  const script = `import { connect } from ${JSON.stringify(entry)}; const c = connect('mqtt://127.0.0.1:1', { reconnect: false }); c.status$.subscribe({ complete: () => undefined })`
  const run = (env: Record<string, string>): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
      child.on('error', reject)
      child.on('exit', (code) => resolve({ code, out }))
    })

  it('=1 logs to the console; unset, the library prints nothing', async () => {
    const on = await run({ IOTPUBSUB_DEBUG: '1' })
    expect(on.code).toBe(0)
    expect(on.out).toContain('iotpubsub: connecting to mqtt://127.0.0.1:1 (MQTT 5)')
    expect(on.out).toMatch(/iotpubsub: stopped for good: .*ECONNREFUSED/)
    const traced = await run({ IOTPUBSUB_DEBUG: 'trace' })
    expect(traced.out).toContain('iotpubsub: connecting to mqtt://127.0.0.1:1 (MQTT 5)')
    const off = await run({ IOTPUBSUB_DEBUG: '' })
    expect(off.code).toBe(0)
    expect(off.out).toBe('')
  }, 30_000)
})

// The client is a Client: the type test that the public entry's connect() gives the same (kept honest here).
expect(typeof connect).toBe('function')
