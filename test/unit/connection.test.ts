// The connection lifecycle against a FakeLink, with fake timers: backoff, nodes, statuses, credentials, protocol.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { CHECK_TIMEOUT_MS, Connection, type ConnectionListener } from '../../lib/connection/connection.js'
import { ClientIdConflictError, ConnectionLostError, ConnectionRefusedError, NotAuthorizedError } from '../../lib/errors.js'
import type { Credentials, MQTTClientOptions } from '../../lib/options/client-options.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'
import type { ReconnectingStatus, Status } from '../../lib/status.js'
import { FakeLink } from '../support/fake-link.js'

function setup(options: Partial<MQTTClientOptions> = {}) {
  const resolved = resolveOptions({ url: 'mqtt://a', clientId: 'dev-1', ...options }, nodePlatform)
  const listener = {
    connected: vi.fn<ConnectionListener['connected']>(),
    ready: vi.fn<ConnectionListener['ready']>(),
    drained: vi.fn<ConnectionListener['drained']>(),
    lost: vi.fn<ConnectionListener['lost']>(),
    blamePublish: vi.fn<ConnectionListener['blamePublish']>(() => false),
    subscribesInFlight: vi.fn<ConnectionListener['subscribesInFlight']>(() => []),
    stopped: vi.fn<ConnectionListener['stopped']>(),
  }
  let connection: Connection | undefined
  const target = (): Connection => connection as Connection
  const link = new FakeLink({
    connected: (connack) => target().onConnected(connack),
    drained: () => target().onDrained(),
    message: () => undefined,
    failed: (failure) => target().onFailed(failure),
    closed: () => target().onClosed(),
  })
  connection = new Connection(resolved, link, listener, () => Date.now())
  const statuses: Status[] = []
  connection.status$.subscribe((s) => statuses.push(s))
  connection.start()
  const reconnecting = (): ReconnectingStatus[] => statuses.filter((s): s is ReconnectingStatus => s.type === 'reconnecting')
  /** A socket error, then the close: the common lost attempt. */
  const refusedSocket = (): void => {
    link.fail({ type: 'socket', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })
    link.closed()
  }
  return { connection, link, listener, statuses, reconnecting, refusedSocket }
}

const lastDelay = (list: readonly ReconnectingStatus[]): number => (list.at(-1) as ReconnectingStatus).delay

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

describe('Connection: backoff and nodes', () => {
  it('delays grow with each attempt and stay within the equal-jitter bounds', () => {
    const { link, reconnecting, refusedSocket } = setup({ reconnect: { initialDelay: 1_000, maxDelay: 8_000 } })
    const ceilings = [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]
    ceilings.forEach((ceiling, i) => {
      refusedSocket()
      const status = reconnecting().at(-1) as ReconnectingStatus
      expect(status.attempt).toBe(i + 1)
      expect(status.delay).toBeGreaterThanOrEqual(ceiling / 2)
      expect(status.delay).toBeLessThanOrEqual(ceiling)
      vi.advanceTimersByTime(status.delay - 1)
      expect(link.opens).toHaveLength(i + 1) // not a millisecond early
      vi.advanceTimersByTime(1)
      expect(link.opens).toHaveLength(i + 2)
    })
  })

  it('a stable connection resets the backoff; a short one keeps counting', () => {
    const { link, reconnecting, refusedSocket } = setup({ reconnect: { initialDelay: 1_000, maxDelay: 30_000 } })
    for (let i = 0; i < 3; i++) {
      refusedSocket()
      vi.advanceTimersByTime(lastDelay(reconnecting()))
    }
    link.accept()
    vi.advanceTimersByTime(9_999)
    link.closed()
    expect(reconnecting().at(-1)).toMatchObject({ attempt: 4 })
    expect(lastDelay(reconnecting())).toBeGreaterThanOrEqual(4_000)
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    link.accept()
    vi.advanceTimersByTime(10_000)
    link.closed()
    expect(reconnecting().at(-1)).toMatchObject({ attempt: 1 })
    expect(lastDelay(reconnecting())).toBeLessThanOrEqual(1_000)
  })

  it('cluster endpoints rotate with each attempt, and the statuses name the node', () => {
    const { link, statuses, reconnecting, refusedSocket } = setup({ url: ['mqtt://a', 'mqtt://b:1884', 'ws://c/mqtt'] })
    for (let i = 0; i < 3; i++) {
      refusedSocket()
      vi.advanceTimersByTime(lastDelay(reconnecting()))
    }
    expect(link.opens.map((o) => `${o.endpoint.hostname}:${o.endpoint.port}`)).toEqual(['a:1883', 'b:1884', 'c:80', 'a:1883'])
    expect(reconnecting().map((s) => s.url)).toEqual(['mqtt://b:1884', 'ws://c/mqtt', 'mqtt://a'])
    link.accept()
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', url: 'mqtt://a' })
  })
})

describe('Connection: statuses', () => {
  it('connecting → connected → reconnecting → connected → closed, and the listener follows', async () => {
    const { connection, link, listener, statuses } = setup()
    expect(statuses).toEqual([{ type: 'connecting', url: 'mqtt://a' }])
    link.accept({ sessionPresent: true })
    expect(listener.connected).toHaveBeenCalledWith(expect.objectContaining({ sessionPresent: true }), 5)
    expect(listener.ready).toHaveBeenCalledTimes(1)
    expect(connection.writable).toBe(true)
    link.closed()
    expect(listener.lost).toHaveBeenCalledTimes(1)
    expect(connection.connected).toBe(false)
    const reconnecting = statuses[2] as ReconnectingStatus
    expect(reconnecting).toMatchObject({ type: 'reconnecting', url: 'mqtt://a', attempt: 1 })
    expect(reconnecting.error).toBeInstanceOf(ConnectionLostError)
    vi.advanceTimersByTime(reconnecting.delay)
    link.accept()
    expect(listener.connected).toHaveBeenCalledTimes(2)
    let completed = false
    connection.status$.subscribe({ complete: () => (completed = true) })
    await connection.stop({ force: false, timeout: 1_000 })
    expect(link.closes).toEqual([{ force: false, timeout: 1_000 }])
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected', 'reconnecting', 'connected', 'closed'])
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(listener.stopped).toHaveBeenCalledWith(undefined)
    expect(completed).toBe(true)
  })

  it('one epoch: new for each attempt (handed to the link with it) and at each close of an accepted connection', () => {
    const { connection, link, reconnecting, refusedSocket } = setup()
    const epochs: number[] = [connection.epoch]
    expect(link.opens.map((o) => o.epoch)).toEqual([connection.epoch])
    refusedSocket() // an attempt that failed: the next attempt's epoch is new
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    epochs.push(connection.epoch)
    link.accept() // accepted: the epoch of its attempt, unchanged
    epochs.push(connection.epoch)
    link.closed() // what belonged to that connection is stale from now on
    epochs.push(connection.epoch)
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    epochs.push(connection.epoch)
    expect(link.opens.map((o) => o.epoch)).toEqual([epochs[0], epochs[1], epochs[4]])
    expect(epochs[2]).toBe(epochs[1])
    // Each later value is new: nothing keyed to an earlier one is taken for current.
    for (const [i, epoch] of epochs.entries()) if (i !== 2) expect(epochs.slice(0, i).filter((e) => e >= epoch)).toEqual([])
  })

  it('reconnect: false closes on the first loss', () => {
    const { link, listener, statuses } = setup({ reconnect: false })
    link.accept()
    link.closed()
    vi.advanceTimersByTime(60_000)
    expect(statuses.map((s) => s.type)).toEqual(['connecting', 'connected', 'closed'])
    const closed = statuses.at(-1)
    expect(closed?.type === 'closed' && closed.error).toBeInstanceOf(ConnectionLostError)
    expect(listener.stopped).toHaveBeenCalledWith(expect.any(ConnectionLostError))
    expect(link.opens).toHaveLength(1)
    expect(link.closes).toEqual([{ force: true, timeout: 0 }])
  })

  it('a close the publisher takes the blame for reconnects at once', () => {
    const { link, listener, reconnecting } = setup()
    link.accept()
    listener.blamePublish.mockReturnValueOnce(true)
    link.closed()
    expect(listener.blamePublish).toHaveBeenCalledWith([], true)
    expect(reconnecting().at(-1)).toMatchObject({ delay: 0 })
    vi.advanceTimersByTime(0)
    expect(link.opens).toHaveLength(2)
  })
})

describe('Connection: credentials', () => {
  it('asks the provider before every attempt; the same refused credentials twice end with NotAuthorizedError', async () => {
    const provider = vi.fn<() => Promise<Credentials>>(async () => ({ username: 'u', password: 'p' }))
    const { link, statuses, reconnecting } = setup({ credentials: provider })
    await vi.advanceTimersByTimeAsync(0)
    expect(link.opens[0]).toMatchObject({ username: 'u', password: 'p' })
    link.refuse(135)
    expect(reconnecting().at(-1)?.error).toBeInstanceOf(NotAuthorizedError)
    await vi.advanceTimersByTimeAsync(lastDelay(reconnecting()))
    expect(provider).toHaveBeenCalledTimes(2)
    link.refuse(135)
    const closed = statuses.at(-1)
    expect(closed?.type === 'closed' && closed.error).toBeInstanceOf(NotAuthorizedError)
    expect(link.opens).toHaveLength(2)
  })

  it('keeps retrying while the provider brings new credentials', async () => {
    let n = 0
    const { link, statuses, reconnecting } = setup({ credentials: () => ({ username: 'u', password: `p${++n}` }) })
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(i === 0 ? 0 : lastDelay(reconnecting()))
      link.refuse(135)
    }
    expect(link.opens.map((o) => o.password)).toEqual(['p1', 'p2', 'p3', 'p4'])
    expect(statuses.at(-1)?.type).toBe('reconnecting')
  })

  it('a failing provider is a failed attempt: it backs off, opens nothing, and is asked again', async () => {
    const provider = vi.fn<() => Promise<Credentials>>().mockRejectedValueOnce(new Error('vault down')).mockResolvedValue({ username: 'u', password: 'p' })
    const { link, reconnecting } = setup({ credentials: provider, reconnect: { initialDelay: 1_000, maxDelay: 1_000 } })
    await vi.advanceTimersByTimeAsync(0)
    expect(link.opens).toHaveLength(0)
    const status = reconnecting()[0] as ReconnectingStatus
    expect(status).toMatchObject({ attempt: 1 })
    expect(status.delay).toBeGreaterThanOrEqual(500)
    expect(status.error).toBeInstanceOf(ConnectionRefusedError)
    expect(status.error.message).toBe('the credentials provider failed')
    await vi.advanceTimersByTimeAsync(status.delay)
    expect(provider).toHaveBeenCalledTimes(2)
    expect(link.opens).toHaveLength(1)
  })

  it('a provider still pending at stop() opens nothing, and stop() resolves', async () => {
    let give: ((c: Credentials) => void) | undefined
    const { connection, link, statuses } = setup({ credentials: () => new Promise<Credentials>((resolve) => (give = resolve)) })
    await connection.stop({ force: false, timeout: 5_000 })
    expect(statuses.at(-1)).toEqual({ type: 'closed', error: undefined })
    expect(link.closes).toEqual([{ force: true, timeout: 5_000 }])
    give?.({ username: 'late', password: 'late' })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(link.opens).toHaveLength(0)
  })
})

describe('Connection: protocol negotiation (auto)', () => {
  const versions = (link: FakeLink): number[] => link.opens.map((o) => o.protocolVersion)

  it('CONNACK 1 under 5: the next attempt is 3.1.1, at once, with no reconnecting status', () => {
    const { link, reconnecting, statuses } = setup()
    link.refuse(1)
    vi.advanceTimersByTime(0)
    expect(versions(link)).toEqual([5, 4])
    expect(reconnecting()).toHaveLength(0)
    link.accept()
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', protocolVersion: 4 })
  })

  it('one stray silent close keeps 5; a second one moves to 4; 4 also silent goes back to 5', () => {
    const { link, reconnecting } = setup()
    link.closed()
    vi.advanceTimersByTime(0)
    expect(versions(link)).toEqual([5, 5])
    expect(reconnecting()).toHaveLength(0)
    link.closed()
    vi.advanceTimersByTime(0)
    expect(versions(link)).toEqual([5, 5, 4])
    expect(reconnecting()).toHaveLength(0)
    link.closed()
    expect(reconnecting()).toHaveLength(1) // 3.1.1 fared no better: a lost attempt, with backoff
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    expect(versions(link)).toEqual([5, 5, 4, 5])
  })

  // Regression: silentCloses must start over when closedUnanswered() goes back to 5 (once it did not, and after
  // one outage a single stray close downgraded the client for good).
  it('after 3.1.1 fared no better, one stray silent close under 5 again does not downgrade', () => {
    const { link, reconnecting, statuses } = setup()
    link.closed()
    vi.advanceTimersByTime(0)
    link.closed()
    vi.advanceTimersByTime(0)
    link.closed() // 4 silent too: back to 5, the silence was no protocol sign
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    link.closed() // the broker is back; one stray close (a proxy hanging up)
    vi.advanceTimersByTime(0)
    expect(versions(link)).toEqual([5, 5, 4, 5, 5])
    link.accept()
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', protocolVersion: 5 })
  })

  it('once a broker accepted MQTT 5, silent closes never downgrade', () => {
    const { link, reconnecting } = setup()
    link.accept()
    link.closed()
    for (let i = 0; i < 4; i++) {
      vi.advanceTimersByTime(lastDelay(reconnecting()))
      link.closed()
    }
    expect(versions(link)).toEqual([5, 5, 5, 5, 5])
    expect(reconnecting()).toHaveLength(5)
  })
})

describe('Connection: takeover', () => {
  it('3 accepted connections closed soon after, without a reason, are a client-id conflict', () => {
    const { link, reconnecting } = setup()
    for (let i = 0; i < 3; i++) {
      if (i > 0) vi.advanceTimersByTime(lastDelay(reconnecting()))
      link.accept()
      vi.advanceTimersByTime(200)
      link.closed()
    }
    const errors = reconnecting().map((s) => s.error)
    expect(errors[0]).not.toBeInstanceOf(ClientIdConflictError)
    expect(errors[1]).not.toBeInstanceOf(ClientIdConflictError)
    expect(errors[2]).toBeInstanceOf(ClientIdConflictError)
    expect(errors[2]?.message).toContain('"dev-1"')
  })
})

describe('Connection: the page lifecycle', () => {
  /** A FakeLink with the MQTT.js link's liveness probe: the test answers each probe. */
  function withProbe(link: FakeLink) {
    const probes: { timeout: number; answer: (alive: boolean) => void }[] = []
    Object.assign(link, { probe: (timeout: number, answer: (alive: boolean) => void) => probes.push({ timeout, answer }) })
    return probes
  }
  const lostReason = (list: readonly ReconnectingStatus[]): string | undefined => list.at(-1)?.error.message

  it('online during a backoff wait: the attempt starts at once and the delays start over', () => {
    const { connection, link, reconnecting, refusedSocket } = setup({ reconnect: { initialDelay: 20_000, maxDelay: 30_000 } })
    for (let i = 0; i < 3; i++) {
      refusedSocket()
      vi.advanceTimersByTime(lastDelay(reconnecting()))
    }
    refusedSocket()
    expect(lastDelay(reconnecting())).toBeGreaterThanOrEqual(15_000)
    expect(link.opens).toHaveLength(4)
    connection.online()
    expect(link.opens).toHaveLength(5) // no timer had to fire
    refusedSocket()
    expect(reconnecting().at(-1)).toMatchObject({ attempt: 1 })
    expect(lastDelay(reconnecting())).toBeLessThanOrEqual(20_000)
    // The skipped wait's timer is gone: no second attempt from it.
    vi.advanceTimersByTime(lastDelay(reconnecting()) - 1)
    expect(link.opens).toHaveLength(5)
  })

  it('offline while connected: the connection is dropped at once and the status is reconnecting, with the backoff', () => {
    const { connection, link, reconnecting, listener } = setup({ keepalive: 60, reconnect: { initialDelay: 20_000, maxDelay: 30_000 } })
    link.accept()
    vi.advanceTimersByTime(60_000)
    connection.offline()
    expect(link.drops).toBe(1)
    link.closed() // what the dropped socket reports
    expect(listener.lost).toHaveBeenCalledTimes(1)
    expect(lostReason(reconnecting())).toBe('the browser went offline')
    // Not a retry at once: a browser offline, if it is right, would have the attempt fail.
    vi.advanceTimersByTime(lastDelay(reconnecting()) - 1)
    expect(link.opens).toHaveLength(1)
    connection.online()
    expect(link.opens).toHaveLength(2)
  })

  it('offline while not connected changes nothing; online while connected checks the connection', () => {
    const { connection, link, refusedSocket, reconnecting } = setup()
    const probes = withProbe(link)
    connection.offline() // the first attempt is under way
    refusedSocket()
    connection.offline() // waiting
    expect(link.drops).toBe(0)
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    link.accept()
    connection.online()
    expect(probes).toHaveLength(1)
    expect(link.opens).toHaveLength(2)
  })

  it('the page is back and the broker answers: nothing happens', () => {
    const { connection, link, statuses } = setup()
    const probes = withProbe(link)
    link.accept()
    const before = statuses.length
    connection.check('visible')
    expect(probes).toEqual([{ timeout: CHECK_TIMEOUT_MS, answer: expect.any(Function) }])
    probes[0]?.answer(true)
    expect(link.drops).toBe(0)
    expect(statuses).toHaveLength(before)
  })

  it('the page is back and the broker does not answer: the connection is dropped and the status says why', () => {
    const { connection, link, reconnecting } = setup({ keepalive: 60 })
    const probes = withProbe(link)
    link.accept()
    connection.check('resume')
    connection.check('visible') // one probe at a time
    expect(probes).toHaveLength(1)
    probes[0]?.answer(false)
    expect(link.drops).toBe(1)
    link.closed()
    expect(lostReason(reconnecting())).toBe(`the broker did not answer a PINGREQ within ${CHECK_TIMEOUT_MS} ms after the page came back (resume)`)
    // The user is looking at the page: the next attempt goes at once, not after a backoff.
    expect(lastDelay(reconnecting())).toBe(0)
    vi.advanceTimersByTime(0)
    expect(link.opens).toHaveLength(2)
    link.accept()
    // The close after that one has the backoff again.
    link.closed()
    expect(lastDelay(reconnecting())).toBeGreaterThan(0)
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    link.accept()
    // The next check after the answer probes again.
    connection.check('visible')
    expect(probes).toHaveLength(2)
  })

  it('an answer about a connection that has closed since is ignored', () => {
    const { connection, link, reconnecting } = setup()
    const probes = withProbe(link)
    link.accept()
    connection.check('visible')
    link.closed()
    vi.advanceTimersByTime(lastDelay(reconnecting()))
    link.accept()
    probes[0]?.answer(false)
    expect(link.drops).toBe(0)
    expect(connection.connected).toBe(true)
  })

  it('the page is back during a backoff wait: the attempt starts at once, the backoff keeps counting', () => {
    const { connection, link, reconnecting, refusedSocket } = setup({ reconnect: { initialDelay: 1_000, maxDelay: 30_000 } })
    for (let i = 0; i < 3; i++) {
      refusedSocket()
      vi.advanceTimersByTime(lastDelay(reconnecting()))
    }
    refusedSocket()
    connection.check('visible')
    expect(link.opens).toHaveLength(5)
    refusedSocket()
    expect(reconnecting().at(-1)).toMatchObject({ attempt: 5 })
  })

  it('a link without a probe, an attempt under way, a stopped client: the page events do nothing', async () => {
    const { connection, link } = setup()
    connection.check('visible')
    connection.online()
    link.accept()
    connection.check('visible') // the FakeLink has no probe
    expect(link.drops).toBe(0)
    const probes = withProbe(link)
    await connection.stop({ force: true, timeout: 0 })
    connection.online()
    connection.offline()
    connection.check('resume')
    expect(probes).toHaveLength(0)
    expect(link.opens).toHaveLength(1)
    expect(link.drops).toBe(0)
  })
})
