import type { LogFields } from 'iotpubsub'
import { describe, expect, it } from 'vitest'
import { ALL_LINES, LOG_EVENTS, ProtocolLog, consoleSwitch, fieldEntries, formatFieldValue, matchesLog, shortMessage, teeLogger, type LogLine } from '../../demo/src/protocol-log.js'

const fields = (event: LogFields['event'], extra: Record<string, unknown> = {}): LogFields => ({ event, clientId: 'dash-1', ...extra })
const seqs = (lines: LogLine[]) => lines.map((line) => line.seq)

describe('ProtocolLog', () => {
  it('records what its logger is given, with level, time, event, message and fields, newest first', () => {
    let now = 1_000
    const log = new ProtocolLog(10, undefined, () => now++)
    log.logger.info(fields('attempt', { url: 'ws://b:9001', attempt: 1 }), 'iotpubsub: connecting to ws://b:9001 (MQTT 5)')
    log.logger.warn(fields('closed', { action: 'fall-back' }), 'iotpubsub: the attempt ended')
    log.logger.debug(fields('subscribe', { filter: 'a/#', qos: 1 }), 'iotpubsub: SUBSCRIBE a/# (QoS 1)')
    log.logger.error(fields('stopped', { error: 'NotAuthorizedError' }), 'iotpubsub: stopped for good')
    const lines = log.lines()
    expect(lines.map((l) => [l.seq, l.level, l.event, l.time])).toEqual([
      [4, 'error', 'stopped', 1_003],
      [3, 'debug', 'subscribe', 1_002],
      [2, 'warn', 'closed', 1_001],
      [1, 'info', 'attempt', 1_000],
    ])
    expect(lines[3]?.message).toBe('iotpubsub: connecting to ws://b:9001 (MQTT 5)')
    expect(lines[3]?.fields).toEqual({ event: 'attempt', clientId: 'dash-1', url: 'ws://b:9001', attempt: 1 })
    expect([log.count('debug'), log.count('info'), log.count('warn'), log.count('error'), log.total]).toEqual([1, 1, 1, 1, 4])
  })

  it('keeps only the latest `capacity` lines, in order, however many arrive', () => {
    const log = new ProtocolLog(5)
    for (let i = 1; i <= 3; i++) log.push('info', fields('attempt', { attempt: i }), `a${i}`)
    expect(seqs(log.lines())).toEqual([3, 2, 1])
    for (let i = 4; i <= 1_003; i++) log.push(i % 2 ? 'info' : 'warn', fields('attempt', { attempt: i }), `a${i}`)
    expect(log.size).toBe(5)
    expect(seqs(log.lines())).toEqual([1_003, 1_002, 1_001, 1_000, 999])
    expect(log.lines().map((l) => l.message)).toEqual(['a1003', 'a1002', 'a1001', 'a1000', 'a999'])
    expect([log.firstSeq, log.lastSeq]).toEqual([999, 1_003])
    // Counts are of everything logged, not only what the ring still holds.
    expect(log.total).toBe(1_003)
    expect(log.count('warn')).toBe(500)
  })

  it('reads newer than a seq, up to a limit, and filters by level and event', () => {
    const log = new ProtocolLog(50)
    log.push('info', fields('attempt'), 'attempt')
    log.push('info', fields('connack'), 'connack')
    log.push('debug', fields('subscribe'), 'subscribe')
    log.push('debug', fields('suback'), 'suback')
    log.push('warn', fields('closed'), 'closed')
    log.push('info', fields('reconnecting'), 'reconnecting')
    log.push('error', fields('stopped'), 'stopped')
    expect(seqs(log.lines(ALL_LINES, 50, 4))).toEqual([7, 6, 5])
    expect(seqs(log.lines(ALL_LINES, 2))).toEqual([7, 6])
    expect(log.lines({ minLevel: 'info', event: '' }).map((l) => l.event)).toEqual(['stopped', 'reconnecting', 'closed', 'connack', 'attempt'])
    expect(log.lines({ minLevel: 'warn', event: '' }).map((l) => l.level)).toEqual(['error', 'warn'])
    expect(log.lines({ minLevel: 'error', event: '' }).map((l) => l.event)).toEqual(['stopped'])
    expect(log.lines({ minLevel: 'debug', event: 'suback' }).map((l) => l.event)).toEqual(['suback'])
    expect(log.lines({ minLevel: 'info', event: 'suback' })).toEqual([]) // SUBACKs are debug
    const line = log.lines()[0] as LogLine
    expect(matchesLog(line, { minLevel: 'error', event: 'stopped' })).toBe(true)
    expect(matchesLog(line, { minLevel: 'error', event: 'attempt' })).toBe(false)
  })

  it('clears: nothing held, counts from zero, seqs keep increasing; tells the page every time', () => {
    let changes = 0
    const log = new ProtocolLog(3, () => changes++)
    for (let i = 0; i < 4; i++) log.push('warn', fields('closed'), 'closed')
    log.clear()
    expect([log.size, log.total, log.count('warn'), log.lines().length]).toEqual([0, 0, 0, 0])
    log.push('info', fields('attempt'), 'again')
    expect(seqs(log.lines())).toEqual([5])
    expect(changes).toBe(6)
  })

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new ProtocolLog(0)).toThrow(RangeError)
    expect(() => new ProtocolLog(1.5)).toThrow(RangeError)
  })

  it('lists every event the SDK logs', () => {
    expect(new Set(LOG_EVENTS).size).toBe(18)
    expect(LOG_EVENTS).toContain('reconnecting')
  })
})

describe('log formatting', () => {
  it('drops the iotpubsub prefix for the panel', () => {
    expect(shortMessage('iotpubsub: connecting to ws://b:9001')).toBe('connecting to ws://b:9001')
    expect(shortMessage('something else')).toBe('something else')
  })

  it('shows fields as text: all but the event and undefined ones, values as JSON, never throwing', () => {
    const circular: Record<string, unknown> = {}
    circular.self = circular
    expect(
      fieldEntries({ event: 'connack', clientId: 'dash-1', sessionPresent: false, id: undefined, properties: { topicAliasMaximum: 10, reasonString: 'ok' }, failures: ['socket'] }),
    ).toEqual([
      ['clientId', 'dash-1'],
      ['sessionPresent', 'false'],
      ['properties', '{"topicAliasMaximum":10,"reasonString":"ok"}'],
      ['failures', '["socket"]'],
    ])
    expect(formatFieldValue({ data: new Uint8Array(3), big: 12n })).toBe('{"data":"<3 bytes>","big":12}')
    expect(formatFieldValue(circular)).toBe('[object Object]')
    expect(formatFieldValue(new TypeError('bad'))).toBe('TypeError: bad')
    expect(formatFieldValue('x'.repeat(5_000))).toHaveLength(2_001)
  })
})

describe('the console switch and the tee', () => {
  it('reads iotpubsub:debug as the SDK does: set and not "0"; storage that throws means off', () => {
    const storage = (value: string | null) => () => ({ getItem: () => value })
    expect(consoleSwitch(storage('1'))).toBe(true)
    expect(consoleSwitch(storage('true'))).toBe(true)
    expect(consoleSwitch(storage('0'))).toBe(false)
    expect(consoleSwitch(storage(null))).toBe(false)
    expect(consoleSwitch(() => undefined)).toBe(false)
    expect(consoleSwitch(() => ({ getItem: () => { throw new Error('SecurityError') } }))).toBe(false)
    expect(consoleSwitch(() => { throw new Error('SecurityError') })).toBe(false)
  })

  it('writes every line to each logger, even when one throws', () => {
    const log = new ProtocolLog()
    const seen: string[] = []
    const broken = { debug: () => { throw new Error('x') }, info: () => { throw new Error('x') }, warn: () => { throw new Error('x') }, error: () => { throw new Error('x') } }
    const spy = { debug: (_f: LogFields, m: string) => seen.push(`debug ${m}`), info: (_f: LogFields, m: string) => seen.push(`info ${m}`), warn: (_f: LogFields, m: string) => seen.push(`warn ${m}`), error: (_f: LogFields, m: string) => seen.push(`error ${m}`) }
    const tee = teeLogger(broken, log.logger, spy)
    tee.debug(fields('subscribe'), 's')
    tee.error(fields('stopped'), 'e')
    expect(seen).toEqual(['debug s', 'error e'])
    expect(log.lines().map((l) => `${l.level} ${l.message}`)).toEqual(['error e', 'debug s'])
  })
})

describe('ProtocolLog as the logger of a real client', () => {
  it('receives the attempt line from a real connect()', async () => {
    const { connect } = await import('iotpubsub')
    const log = new ProtocolLog()
    // Nothing listens on port 1 of loopback: the attempt is logged at once, then the client is ended.
    const client = connect('mqtt://127.0.0.1:1', { logger: log.logger, clientId: 'log-test', reconnect: false })
    await client.end({ force: true }).catch(() => {})
    const attempt = log.lines().find((l) => l.event === 'attempt')
    expect(attempt?.message).toBe('iotpubsub: connecting to mqtt://127.0.0.1:1 (MQTT 5)')
    expect(attempt?.fields.clientId).toBe('log-test')
    expect(attempt?.level).toBe('info')
  })
})
